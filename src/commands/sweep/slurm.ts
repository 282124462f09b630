/**
 * The Slurm executor: every run without results.json goes into one `sbatch --array` job (one index
 * per run, throttled to `--jobs` at a time), the job script and `sweep.json` into the sweep folder.
 * `--wait` then polls the queue and the tasks' exit records until every run has ended.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Io } from '../../output.ts';
import { SsssegError } from '../../errors.ts';
import { ensureWritableDir } from '../../io/writable.ts';
import { jobScript, type SbatchOptions } from './job-script.ts';
import { SSSSEG_BIN } from './local.ts';
import { sweepDir, sweepSize, type SweepEntry } from './plan.ts';
import { addSubmission, parseSqueue, readSweepFile, RECORD_DIR, type QueueEntry } from './state.ts';
import { countStates, sweepStatus, type QueueReader, type RunStatus } from './status.ts';

/** What the executor asks of Slurm; tests pass a fake. */
export interface SlurmClient {
  /** submit a job script; resolves to the job id */
  sbatch(script: string): Promise<string>;
  queue: QueueReader;
}

function exec(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: string | number }) | null;
      if (e && e.code === 'ENOENT') reject(new SsssegError('sweep.noSlurm', `${cmd} not found: is this a Slurm login node?`));
      else resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The real `sbatch` and `squeue` on PATH. */
export const slurmCommands: SlurmClient = {
  async sbatch(script) {
    const r = await exec('sbatch', ['--parsable', script]);
    const id = /^(\d+)/.exec(r.stdout.trim())?.[1];
    if (r.code !== 0 || !id) throw new SsssegError('sweep.sbatch', `sbatch ${script} failed: ${(r.stderr || r.stdout).trim().split('\n').join(' ')}`);
    return id;
  },
  async queue(jobIds) {
    const r = await exec('squeue', ['-h', '-r', '-j', jobIds.join(','), '-o', '%i|%T|%r|%N']);
    // squeue refuses a list of only jobs it has forgotten (all ended): then nothing is queued
    if (r.code !== 0 && /invalid job id/i.test(r.stderr)) return new Map<string, QueueEntry>();
    if (r.code !== 0) throw new SsssegError('sweep.squeue', `squeue failed: ${r.stderr.trim()}`);
    return parseSqueue(r.stdout);
  },
};

export interface SlurmSweepOptions {
  /** at most this many runs at a time (`--array …%N`) */
  jobs?: number;
  sbatch: SbatchOptions;
  /** global sssseg flags of every run (--backend …) */
  childFlags: string[];
  table: string;
  dryRun?: boolean;
  /** seconds before the time limit at which a task is told to checkpoint */
  warnSeconds?: number;
}

/** Submit what is neither finished nor already queued; resolves to the new job id, if any. */
export async function submitSweep(entries: SweepEntry[], opts: SlurmSweepOptions, io: Io, slurm: SlurmClient): Promise<string | undefined> {
  const dir = sweepDir(entries);
  const statuses = await sweepStatus(entries, dir, slurm.queue);
  const active = statuses.filter((s) => s.state === 'pending' || s.state === 'running');
  const todo = statuses.filter((s) => s.state !== 'done' && !active.includes(s)).map((s) => s.entry);
  io.out(`sweep: ${sweepSize(entries)}, ${countStates(statuses)}; submitting ${todo.length} to Slurm`);
  for (const s of active) io.out(`  ${s.state} already as task ${s.task}: ${s.entry.outDir}`);
  if (todo.length === 0) return undefined;
  const n = (await readSweepFile(dir)).submissions.length + 1;
  const file = path.join(dir, `sweep-${n}.sbatch`);
  const script = jobScript({
    runs: todo.map((e) => e.spec),
    allRuns: entries.map((e) => e.outDir),
    table: opts.table,
    recordDir: path.join(dir, RECORD_DIR),
    workdir: process.cwd(),
    node: process.execPath,
    bin: SSSSEG_BIN,
    childFlags: opts.childFlags,
    throttle: opts.jobs,
    name: `sssseg-${path.basename(dir)}`,
    sbatch: opts.sbatch,
    warnSeconds: opts.warnSeconds ?? 300,
    origin: `written by \`sssseg sweep --executor slurm\` on ${new Date().toISOString()}`,
  });
  todo.forEach((e, i) => io.out(`  ${`[${i}]`.padEnd(5)} ${e.state === 'new' ? 'run     ' : 'continue'} ${e.outDir}`));
  if (opts.dryRun) {
    io.out(`job script (not written, not submitted: --dry-run):`);
    for (const line of script.split('\n')) io.out(line);
    return undefined;
  }
  // before submitting: a task that cannot write its run folder fails on a node, later
  for (const d of new Set([dir, ...todo.map((e) => path.dirname(e.outDir))])) await ensureWritableDir(d, `runs folder ${d}`);
  await fs.mkdir(path.join(dir, RECORD_DIR), { recursive: true });
  await fs.writeFile(file, script, { mode: 0o755 });
  const jobId = await slurm.sbatch(file);
  await addSubmission(dir, {
    job_id: jobId,
    submitted: new Date().toISOString(),
    script: file,
    runs: todo.map((e, index) => ({ index, config: e.config, out_dir: e.outDir, method: e.method })),
  });
  io.out(`submitted job ${jobId}: ${todo.length} run(s) (${file}); output in ${path.join(dir, RECORD_DIR)}`);
  return jobId;
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** Poll until no run is pending or running, saying when each one ends; resolves to the final states. */
export async function waitSweep(entries: SweepEntry[], slurm: SlurmClient, io: Io, pollSeconds: number): Promise<RunStatus[]> {
  const dir = sweepDir(entries);
  const seen = new Map<string, string>();
  for (;;) {
    const statuses = await sweepStatus(entries, dir, slurm.queue);
    for (const s of statuses) {
      const was = seen.get(s.entry.outDir);
      if (was !== undefined && was !== s.state) io.out(`  ${s.state} ${s.entry.outDir}${s.detail ? `: ${s.detail}` : ''}`);
      seen.set(s.entry.outDir, s.state);
    }
    if (!statuses.some((s) => s.state === 'pending' || s.state === 'running')) return statuses;
    await sleep(pollSeconds);
  }
}
