/**
 * What a sweep runs: every config with a `run:` section, each into `<runs>/<config folder>/<name>`
 * (with `--seeds`, once per seed into `<name>-s<seed>`), and the one `sssseg` command line that
 * runs (or continues) it. Both executors (local processes and Slurm jobs) run exactly the argv
 * built here.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/load.ts';
import { SsssegError } from '../../errors.ts';
import { RUN_FILES } from '../../train/run-dir.ts';
import { isPipelineName } from '../../methods/index.ts';

export interface SweepEntry {
  config: string;
  outDir: string;
  method: string;
  /** the seed of this run when the sweep expands configs over `--seeds` */
  seed?: number;
  state: 'done' | 'resume' | 'new';
  /** the `sssseg` arguments that run (or continue) it now */
  argv: string[];
  /** what builds its argv for any start mode (the Slurm job decides the mode when it starts) */
  spec: RunSpec;
}

/** How a run starts: fresh, from its last.bin, or over a folder that has no checkpoint. */
export type StartMode = 'new' | 'resume' | 'force';

export interface RunSpec {
  config: string;
  outDir: string;
  /** ST / ST++ continue from their stage markers when simply run again: no --resume / --force */
  pipeline: boolean;
  /** `train` options added to every run (--set, --pretrained) */
  trainFlags?: string[];
}

/** The one command line of a run, for each way it can start. */
export function trainArgv(run: RunSpec, mode: StartMode): string[] {
  const argv = ['train', '--config', run.config, '--out', run.outDir, ...(run.trainFlags ?? [])];
  if (run.pipeline || mode === 'new') return argv;
  return [...argv, ...(mode === 'resume' ? ['--resume', run.outDir] : ['--force'])];
}

/** The start mode a run folder calls for now (the Slurm job script decides the same way, in bash). */
export async function startMode(outDir: string): Promise<StartMode> {
  if (existsSync(path.join(outDir, RUN_FILES.last))) return 'resume';
  const started = existsSync(outDir) && (await fs.readdir(outDir)).length > 0;
  return started ? 'force' : 'new';
}

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

export interface PlanOptions {
  targets: string[];
  /** runs go to `<runs>/<folder of the config>/<config name>` */
  runs: string;
  /** `train` options added to every run (--set, --pretrained); a resumed run keeps its saved config */
  trainFlags?: string[];
  /** run every config once per seed (`--set seed=<k>`, folder `<name>-s<k>`) */
  seeds?: number[];
}

/** The run of `file` (with `seed`, when the sweep has seeds): its folder, state and command line. */
async function planRun(file: string, method: string, opts: PlanOptions, seed: number | undefined): Promise<SweepEntry> {
  const name = path.basename(file).replace(/\.ya?ml$/, '') + (seed === undefined ? '' : `-s${seed}`);
  const outDir = path.join(opts.runs, path.basename(path.dirname(path.resolve(file))), name);
  const trainFlags = seed === undefined ? opts.trainFlags : [...(opts.trainFlags ?? []), '--set', `seed=${seed}`];
  return runEntry({ config: file, outDir, pipeline: isPipelineName(method), trainFlags }, method, seed);
}

/** A run as its folder stands now: done, to continue, or new, and the command line for that. */
export async function runEntry(spec: RunSpec, method: string, seed?: number): Promise<SweepEntry> {
  const mode = await startMode(spec.outDir);
  const state = existsSync(path.join(spec.outDir, RUN_FILES.results)) ? 'done' : mode === 'new' ? 'new' : 'resume';
  return { config: spec.config, outDir: spec.outDir, method, seed, state, argv: trainArgv(spec, state === 'done' ? 'new' : mode), spec };
}

export async function planSweep(opts: PlanOptions): Promise<SweepEntry[]> {
  const sets = setFlags(opts.trainFlags);
  if (opts.seeds && sets.some((kv) => /^\s*seed\s*=/.test(kv))) {
    throw new SsssegError('sweep.seeds', '--seeds and --set seed=… both set the seed: give one of them');
  }
  const entries: SweepEntry[] = [];
  for (const file of await configFiles(opts.targets)) {
    if (!(await isRunConfig(file))) continue;
    const cfg = await loadConfig(file, sets);
    if (!cfg.run?.data || !cfg.run.split) {
      throw new SsssegError('sweep.noRun', `${file}: a sweep config needs run.data and run.split`);
    }
    for (const seed of opts.seeds ?? [undefined]) entries.push(await planRun(file, cfg.method, opts, seed));
  }
  if (entries.length === 0) throw new SsssegError('sweep.empty', `no run configs (with a run: section) in ${opts.targets.join(', ')}`);
  return entries;
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** "2 configs", or with seeds "6 runs (2 configs × 3 seeds)". */
export function sweepSize(entries: SweepEntry[]): string {
  const configs = count(new Set(entries.map((e) => e.config)).size, 'config');
  if (entries[0]?.seed === undefined) return configs;
  return `${count(entries.length, 'run')} (${configs} × ${count(new Set(entries.map((e) => e.seed)).size, 'seed')})`;
}

/** The child's output: beside the run folder, since a new run refuses a non-empty folder. */
export const logFile = (e: Pick<SweepEntry, 'outDir'>): string => `${e.outDir}.log`;

/** The sweep's own folder (table, sweep.json, job scripts): the first config's runs folder. */
export const sweepDir = (entries: SweepEntry[]): string => path.dirname(entries[0]!.outDir);
