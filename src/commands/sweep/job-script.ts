/**
 * The Slurm job script of a sweep: one `sbatch --array` job, one index per run, each index running
 * the same `sssseg train` command line the local executor runs. Written into the sweep folder so
 * that a user can read it and resubmit it by hand; every path in it is absolute.
 *
 * The start mode (new / --resume / --force) is decided when a task starts, not when it is
 * submitted, so a requeued or resubmitted task continues from whatever its folder holds by then.
 */
import { readFileSync } from 'node:fs';
import { trainArgv, type RunSpec, type StartMode } from './plan.ts';

export interface SbatchOptions {
  partition?: string;
  /** Slurm time format: minutes, HH:MM:SS, D-HH… */
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  gres?: string;
  /** free `sbatch` options, one per `#SBATCH` line (e.g. --account=x, --qos=high) */
  extra?: string[];
}

export interface JobScriptOptions {
  /** runs of this job, array index = position */
  runs: RunSpec[];
  /** every run folder of the sweep: the last task to finish writes the table over all of them */
  allRuns: string[];
  table: string;
  /** where Slurm's output and the tasks' start and exit records go */
  recordDir: string;
  /** the folder the job starts in (relative paths in configs resolve from it, as in a local run) */
  workdir: string;
  /** node and the sssseg launcher, absolute */
  node: string;
  bin: string;
  /** global sssseg flags of every run (--backend …) */
  childFlags: string[];
  /** at most this many tasks at a time (`%N`) */
  throttle?: number;
  name: string;
  sbatch: SbatchOptions;
  /** seconds before the time limit at which the job is warned (SIGUSR1) to checkpoint */
  warnSeconds: number;
  /** a line saying who wrote it when */
  origin: string;
}

/** Quote for bash: everything literal. */
export const shq = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const words = (argv: string[]): string => argv.map(shq).join(' ');

function directives(o: JobScriptOptions): string[] {
  const s = o.sbatch;
  const lines = [
    `--job-name=${o.name}`,
    `--array=0-${o.runs.length - 1}${o.throttle ? `%${o.throttle}` : ''}`,
    `--output=${o.recordDir}/%A_%a.out`,
    '--open-mode=append',
    `--chdir=${o.workdir}`,
    '--requeue',
    `--signal=B:USR1@${o.warnSeconds}`,
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.time ? [`--time=${s.time}`] : []),
    ...(s.cpusPerTask ? [`--cpus-per-task=${s.cpusPerTask}`] : []),
    ...(s.mem ? [`--mem=${s.mem}`] : []),
    ...(s.gres ? [`--gres=${s.gres}`] : []),
    ...(s.extra ?? []),
  ];
  return lines.map((l) => `#SBATCH ${l}`);
}

function runCases(runs: RunSpec[]): string[] {
  const modes: StartMode[] = ['new', 'resume', 'force'];
  const lines = [`case "\${SLURM_ARRAY_TASK_ID:-}" in`];
  runs.forEach((r, i) => {
    lines.push(`  ${i}) RUN=${shq(r.outDir)}`);
    for (const m of modes) lines.push(`     ${m.toUpperCase()}=(${words(trainArgv(r, m))})`);
    lines.push('     ;;');
  });
  lines.push(`  *) echo "sssseg: this job has no run for array index '\${SLURM_ARRAY_TASK_ID:-}'" >&2; exit 2 ;;`, 'esac');
  return lines;
}

/** What every task does once RUN and its three command lines are set (a bash file beside this one). */
const TASK_BODY = readFileSync(new URL('./job-task.sh', import.meta.url), 'utf8').replace(/^(#[^\n]*\n)+/, '');

export function jobScript(o: JobScriptOptions): string {
  return [
    '#!/bin/bash',
    `# ${o.origin}`,
    `# ${o.runs.length} run(s) as one array job, one index per run. Resubmit by hand with \`sbatch <this file>\`:`,
    '# finished runs exit at once, interrupted ones continue from their last checkpoint.',
    ...directives(o),
    'set -u',
    `SSSSEG=(${words([o.node, o.bin, ...o.childFlags])})`,
    `RECORDS=${shq(o.recordDir)}`,
    `TABLE=${shq(o.table)}`,
    `ALL_RUNS=(${words(o.allRuns)})`,
    ...runCases(o.runs),
    TASK_BODY,
  ].join('\n');
}
