/**
 * `sssseg sweep … --status` and `--wait`: each run as done / pending / running / failed, from its
 * folder (results.json), the queue, and the exit record its task wrote.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Io } from '../../output.ts';
import { RUN_FILES } from '../../train/run-dir.ts';
import { logFile, type SweepEntry } from './plan.ts';
import { latestTasks, readExitRecord, readSweepFile, RECORD_DIR, type ExitRecord, type QueueEntry } from './state.ts';

export type RunState = 'done' | 'pending' | 'running' | 'failed' | 'interrupted' | 'not started';

export interface RunStatus {
  entry: SweepEntry;
  state: RunState;
  /** `<job>_<index>` of the Slurm task that last took it on */
  task?: string;
  /** exit code from the task's exit record */
  code?: number;
  detail: string;
}

/** The queue of the sweep's jobs; undefined when there is no Slurm to ask. */
export type QueueReader = (jobIds: string[]) => Promise<Map<string, QueueEntry>>;

/** What an exit code means for the run. */
export function describeExit(code: number, outDir: string): string {
  const resumable = existsSync(path.join(outDir, RUN_FILES.last)) ? `; the next sweep resumes it from ${RUN_FILES.last}` : '';
  if (code === 0) return `exit 0 without ${RUN_FILES.results}${resumable}`;
  if (code > 128) {
    const name = Object.entries(os.constants.signals).find(([, n]) => n === code - 128)?.[0];
    return `exit ${code}: stopped by ${name ?? `signal ${code - 128}`}${resumable}`;
  }
  return `exit ${code}${resumable}`;
}

const finished = (entry: SweepEntry): boolean => existsSync(path.join(entry.outDir, RUN_FILES.results));

function localStatus(entry: SweepEntry): RunStatus {
  if (finished(entry)) return { entry, state: 'done', detail: '' };
  if (entry.state === 'resume') return { entry, state: 'interrupted', detail: 'the next sweep continues it' };
  return { entry, state: 'not started', detail: '' };
}

function taskStatus(entry: SweepEntry, task: string, queued: QueueEntry | undefined, record: ExitRecord | undefined, dir: string): RunStatus {
  if (finished(entry)) return { entry, state: 'done', task, code: record?.code, detail: '' };
  if (queued) {
    const running = queued.state !== 'PENDING';
    const where = queued.node ? ` on ${queued.node}` : '';
    const detail = running ? `${queued.state === 'RUNNING' ? 'running' : queued.state.toLowerCase()}${where}` : `waiting: ${queued.reason}`;
    return { entry, state: running ? 'running' : 'pending', task, detail };
  }
  if (record) return { entry, state: 'failed', task, code: record.code, detail: `${describeExit(record.code, entry.outDir)} (on ${record.host})` };
  const out = path.join(dir, RECORD_DIR, `${task}.out`);
  return { entry, state: 'failed', task, detail: `left the queue without an exit record (killed, or cancelled before it started): see ${out}` };
}

/** Each run's state; runs never submitted to Slurm are judged from their folders alone. */
export async function sweepStatus(entries: SweepEntry[], dir: string, queue: QueueReader): Promise<RunStatus[]> {
  const tasks = latestTasks(await readSweepFile(dir));
  const jobIds = [...new Set([...tasks.values()].map((t) => t.submission.job_id))];
  const queued = jobIds.length > 0 ? await queue(jobIds) : new Map<string, QueueEntry>();
  return Promise.all(
    entries.map(async (entry) => {
      const t = tasks.get(path.resolve(entry.outDir));
      if (!t) return localStatus(entry);
      return taskStatus(entry, t.task, queued.get(t.task), await readExitRecord(dir, t.task), dir);
    }),
  );
}

async function logTail(entry: SweepEntry, lines: number): Promise<string[]> {
  const text = await fs.readFile(logFile(entry), 'utf8').catch(() => '');
  return text.split(/\r?\n|\r/).filter((l) => l.trim()).slice(-lines).map((l) => (l.length > 200 ? `${l.slice(0, 197)}…` : l));
}

const ORDER: RunState[] = ['done', 'running', 'pending', 'failed', 'interrupted', 'not started'];

/** "1 done, 1 failed": the states present, always in one order. */
export const countStates = (statuses: RunStatus[]): string =>
  ORDER.map((state) => [state, statuses.filter((s) => s.state === state).length] as const)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');

/** One line per run; failed runs add the last lines of their log. */
export async function printStatus(statuses: RunStatus[], dir: string, io: Io, tail = 5): Promise<void> {
  io.out(`sweep ${dir}: ${statuses.length} runs, ${countStates(statuses)}`);
  const name = (s: RunStatus) => path.relative(dir, s.entry.outDir) || s.entry.outDir;
  const w = Math.max(...statuses.map((s) => name(s).length));
  for (const s of statuses) {
    const cols = [s.state.padEnd(11), name(s).padEnd(w), (s.task ?? '').padEnd(8), s.detail];
    io.out(`  ${cols.join('  ').trimEnd()}`);
    if (s.state === 'failed') for (const l of await logTail(s.entry, tail)) io.out(`      | ${l}`);
  }
}
