/**
 * `sssseg sweep <configs or folders…>`: train every config that has no finished result yet, each in
 * its own `sssseg train` process (so a crash or an out-of-memory stays in one run), N at a time,
 * then write the table. Resumable by construction: a finished run has results.json and is skipped;
 * an interrupted one continues from its last checkpoint (ST/ST++ from their stage markers).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Io } from '../output.ts';
import { loadConfig } from '../config/load.ts';
import { SsssegError } from '../errors.ts';
import { ensureWritableDir } from '../io/writable.ts';
import { RUN_FILES } from '../train/run-dir.ts';
import { isPipelineName } from '../methods/index.ts';
import { runTable } from './table.ts';

export interface SweepOptions {
  targets: string[];
  /** runs go to `<runs>/<folder of the config>/<config name>` */
  runs: string;
  jobs: number;
  /** only list what would run */
  dryRun?: boolean;
  /** global CLI flags passed on to every run (e.g. --backend native) */
  childFlags?: string[];
  /** `train` options added to every run (--set, --pretrained); a resumed run keeps its saved config */
  trainFlags?: string[];
  /** where the table goes (default `<runs>/<folder>/table` for the first target's folder) */
  table?: string;
}

export interface SweepEntry {
  config: string;
  outDir: string;
  method: string;
  state: 'done' | 'resume' | 'new';
  /** the `sssseg` arguments that run (or continue) it */
  argv: string[];
}

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/sssseg.js');

async function configFiles(targets: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const t of targets) {
    const st = await fs.stat(t).catch(() => null);
    if (!st) throw new SsssegError('sweep.missing', `${t} does not exist`);
    if (st.isDirectory()) {
      const names = (await fs.readdir(t)).filter((n) => /\.ya?ml$/.test(n)).sort();
      files.push(...names.map((n) => path.join(t, n)));
    } else files.push(t);
  }
  return [...new Set(files)];
}

/** Configs with a `run` section (data + split) are runs; the rest (base.yaml, fragments) are skipped. */
async function isRunConfig(file: string): Promise<boolean> {
  const text = await fs.readFile(file, 'utf8');
  return /^run:/m.test(text);
}

const setFlags = (flags: string[] = []): string[] => flags.filter((_, i) => flags[i - 1] === '--set');

export async function planSweep(opts: Pick<SweepOptions, 'targets' | 'runs' | 'trainFlags'>): Promise<SweepEntry[]> {
  const entries: SweepEntry[] = [];
  for (const file of await configFiles(opts.targets)) {
    if (!(await isRunConfig(file))) continue;
    const cfg = await loadConfig(file, setFlags(opts.trainFlags));
    if (!cfg.run?.data || !cfg.run.split) {
      throw new SsssegError('sweep.noRun', `${file}: a sweep config needs run.data and run.split`);
    }
    const outDir = path.join(opts.runs, path.basename(path.dirname(path.resolve(file))), path.basename(file).replace(/\.ya?ml$/, ''));
    const has = (f: string) => existsSync(path.join(outDir, f));
    const started = existsSync(outDir) && (await fs.readdir(outDir)).length > 0;
    const state = has(RUN_FILES.results) ? 'done' : started ? 'resume' : 'new';
    // a pipeline continues from its stage markers when run again; a training loop from last.bin
    const argv = ['train', '--config', file, '--out', outDir, ...(opts.trainFlags ?? [])];
    if (state === 'resume' && !isPipelineName(cfg.method)) argv.push(...(has(RUN_FILES.last) ? ['--resume', outDir] : ['--force']));
    entries.push({ config: file, outDir, method: cfg.method, state, argv });
  }
  if (entries.length === 0) throw new SsssegError('sweep.empty', `no run configs (with a run: section) in ${opts.targets.join(', ')}`);
  return entries;
}

/** The child's output: beside the run folder, since a new run refuses a non-empty folder. */
export const logFile = (e: SweepEntry): string => `${e.outDir}.log`;

/** One `sssseg train` child, output appended to its log. Resolves to its exit code. */
function runChild(e: SweepEntry, flags: string[], threads: number): Promise<number> {
  return new Promise((resolve) => {
    const log = createWriteStream(logFile(e), { flags: 'a' });
    const env = { ...process.env, OMP_NUM_THREADS: process.env['OMP_NUM_THREADS'] ?? String(threads) };
    const child = spawn(process.execPath, [BIN, ...flags, ...e.argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('close', (code) => log.end(() => resolve(code ?? 1)));
  });
}

export async function runSweep(opts: SweepOptions, io: Io): Promise<{ entries: SweepEntry[]; failed: string[] }> {
  const entries = await planSweep(opts);
  const todo = entries.filter((e) => e.state !== 'done');
  io.out(`sweep: ${entries.length} configs, ${entries.length - todo.length} finished, ${todo.length} to run (${opts.jobs} at a time)`);
  for (const e of todo) io.out(`  ${e.state === 'resume' ? 'continue' : 'run     '} sssseg ${e.argv.join(' ')}`);
  if (opts.dryRun) return { entries, failed: [] };
  const threads = Math.max(1, Math.floor(os.availableParallelism() / opts.jobs));
  const failed: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const index = next++;
      const e = todo[index]!;
      await ensureWritableDir(path.dirname(e.outDir));
      const t0 = Date.now();
      io.out(`[${index + 1}/${todo.length}] ${e.config} → ${e.outDir} (log: ${logFile(e)})`);
      const code = await runChild(e, opts.childFlags ?? [], threads);
      const secs = ((Date.now() - t0) / 1000).toFixed(0);
      if (code === 0 && existsSync(path.join(e.outDir, RUN_FILES.results))) io.out(`  done ${e.config} in ${secs} s`);
      else {
        failed.push(e.config);
        io.err(`  failed ${e.config} (exit ${code}) after ${secs} s: see ${logFile(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.jobs, todo.length) }, worker));
  const dirs = entries.map((e) => e.outDir).filter((d) => existsSync(path.join(d, RUN_FILES.results)));
  if (dirs.length > 0) {
    const table = opts.table ?? path.join(path.dirname(entries[0]!.outDir), 'table');
    await runTable({ runs: dirs, out: table }, io);
  }
  if (failed.length) throw new SsssegError('sweep.failed', `${failed.length} run(s) failed: ${failed.join(', ')}`, 'run the same sweep again to retry them');
  return { entries, failed };
}
