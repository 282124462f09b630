/**
 * `sssseg sweep <configs or folders…>`: train every config that has no finished result yet (with
 * `--seeds`, once per seed), each in its own `sssseg train` process, then write the table. Runs execute here, N at a time (`local`),
 * or as one Slurm array job (`slurm`). Resumable by construction: a finished run has results.json
 * and is skipped; an interrupted one continues from its last checkpoint (ST/ST++ from their stage
 * markers).
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Io } from '../output.ts';
import { SsssegError } from '../errors.ts';
import { RUN_FILES } from '../train/run-dir.ts';
import type { SbatchOptions } from './sweep/job-script.ts';
import { runLocal } from './sweep/local.ts';
import { planSweep, sweepDir, sweepSize, type SweepEntry } from './sweep/plan.ts';
import { slurmCommands, submitSweep, waitSweep, type SlurmClient } from './sweep/slurm.ts';
import { printStatus, sweepStatus } from './sweep/status.ts';
import { runTable } from './table.ts';

export { planSweep, logFile, type SweepEntry } from './sweep/plan.ts';

export type Executor = 'local' | 'slurm';

export interface SweepOptions {
  targets: string[];
  /** runs go to `<runs>/<folder of the config>/<config name>` */
  runs: string;
  /** runs at a time (local default 1; Slurm: no throttle unless given) */
  jobs?: number;
  executor?: Executor;
  /** only list what would run (Slurm: print the job script) */
  dryRun?: boolean;
  /** print each run's state and exit */
  status?: boolean;
  /** Slurm: poll until every run has ended, then write the table */
  wait?: boolean;
  pollSeconds?: number;
  sbatch?: SbatchOptions;
  /** global CLI flags passed on to every run (e.g. --backend native) */
  childFlags?: string[];
  /** `train` options added to every run (--set, --pretrained); a resumed run keeps its saved config */
  trainFlags?: string[];
  /** run every config once per seed, into `<name>-s<seed>` */
  seeds?: number[];
  /** where the table goes (default `<runs>/<folder>/table` for the first target's folder) */
  table?: string;
}

/** The table over every finished run of the sweep. */
async function writeTable(entries: SweepEntry[], table: string, io: Io): Promise<void> {
  const dirs = entries.map((e) => e.outDir).filter((d) => existsSync(path.join(d, RUN_FILES.results)));
  if (dirs.length === 0) return;
  try {
    await runTable({ runs: dirs, out: table }, io);
  } catch (err) {
    // a folder of several settings of one method (an ablation) has no method × split table; the runs stand
    if (!(err instanceof SsssegError) || err.code !== 'table.sameSeed') throw err;
    io.err(`no table written: ${err.message}`);
  }
}

function failure(failed: string[]): SsssegError {
  return new SsssegError('sweep.failed', `${failed.length} run(s) failed: ${failed.join(', ')}`, 'run the same sweep again to retry them');
}

async function local(entries: SweepEntry[], opts: SweepOptions, table: string, io: Io): Promise<void> {
  const jobs = opts.jobs ?? 1;
  const todo = entries.filter((e) => e.state !== 'done');
  io.out(`sweep: ${sweepSize(entries)}, ${entries.length - todo.length} finished, ${todo.length} to run (${jobs} at a time)`);
  for (const e of todo) io.out(`  ${e.state === 'resume' ? 'continue' : 'run     '} sssseg ${e.argv.join(' ')}`);
  if (opts.dryRun) return;
  const failed = await runLocal(todo, jobs, opts.childFlags ?? [], io);
  await writeTable(entries, table, io);
  if (failed.length) throw failure(failed);
}

async function slurm(entries: SweepEntry[], opts: SweepOptions, table: string, io: Io, client: SlurmClient): Promise<void> {
  await submitSweep(
    entries,
    { jobs: opts.jobs, sbatch: opts.sbatch ?? {}, childFlags: opts.childFlags ?? [], table, dryRun: opts.dryRun },
    io,
    client,
  );
  if (opts.dryRun) return;
  if (!opts.wait) {
    io.out(`follow it with: sssseg sweep ${opts.targets.join(' ')} --runs ${opts.runs}${seedsFlag(opts.seeds)} --status`);
    return;
  }
  io.out(`waiting for the runs to end (polling every ${opts.pollSeconds ?? 30} s; Ctrl-C stops waiting, not the jobs)…`);
  const statuses = await waitSweep(entries, client, io, opts.pollSeconds ?? 30);
  await writeTable(entries, table, io);
  const failed = statuses.filter((s) => s.state === 'failed');
  if (failed.length) throw failure(failed.map((s) => s.entry.config));
}

const seedsFlag = (seeds: number[] | undefined): string => (seeds ? ` --seeds ${seeds.join(',')}` : '');

/** A sweep run with --seeds has its runs in `<name>-s<k>`: say so when --status was asked without. */
async function hintSeeds(entries: SweepEntry[], io: Io): Promise<void> {
  const names = new Set(entries.map((e) => path.basename(e.outDir)));
  const seeds = new Set<number>();
  for (const f of await fs.readdir(sweepDir(entries)).catch(() => [] as string[])) {
    const m = /^(.+)-s(\d+)$/.exec(f);
    if (m && names.has(m[1]!)) seeds.add(Number(m[2]));
  }
  if (seeds.size) io.out(`(these configs also have runs per seed here: add${seedsFlag([...seeds].sort((a, b) => a - b))} to see them)`);
}

export async function runSweep(opts: SweepOptions, io: Io, client: SlurmClient = slurmCommands): Promise<{ entries: SweepEntry[] }> {
  const executor = opts.executor ?? 'local';
  // a Slurm job runs elsewhere and later: every path in it is absolute
  const abs = executor === 'slurm' || opts.status;
  const targets = abs ? opts.targets.map((t) => path.resolve(t)) : opts.targets;
  const runs = abs ? path.resolve(opts.runs) : opts.runs;
  const entries = await planSweep({ targets, runs, trainFlags: opts.trainFlags, seeds: opts.seeds });
  const table = opts.table ? path.resolve(opts.table) : path.join(sweepDir(entries), 'table');
  if (opts.status) {
    await printStatus(await sweepStatus(entries, sweepDir(entries), client.queue), sweepDir(entries), io);
    if (!opts.seeds) await hintSeeds(entries, io);
  } else if (executor === 'slurm') await slurm(entries, opts, table, io, client);
  else await local(entries, opts, table, io);
  return { entries };
}
