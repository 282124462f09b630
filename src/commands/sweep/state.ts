/**
 * A Slurm sweep's state, all in files under the sweep folder: `sweep.json` (every submission: job
 * id, array index ↔ run, submit time, job script) and one exit record per finished task
 * (`slurm/<job>_<index>.exit`, written by the task itself), so that done and failed runs are told
 * apart without Slurm accounting. The queue (squeue) says only what is pending or running.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SsssegError } from '../../errors.ts';
import { writeFileAtomic } from '../../io/atomic.ts';

export const SWEEP_FILE = 'sweep.json';
/** Slurm's output and the tasks' start and exit records, under the sweep folder */
export const RECORD_DIR = 'slurm';

const submissionSchema = z.strictObject({
  job_id: z.string().regex(/^\d+$/),
  submitted: z.string(),
  script: z.string(),
  runs: z.array(z.strictObject({ index: z.number().int().nonnegative(), config: z.string(), out_dir: z.string(), method: z.string() })),
});
const sweepFileSchema = z.strictObject({
  format: z.literal('sssseg-sweep/1'),
  executor: z.literal('slurm'),
  submissions: z.array(submissionSchema),
});
export type Submission = z.infer<typeof submissionSchema>;
export type SweepFile = z.infer<typeof sweepFileSchema>;

const issues = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');

/** The sweep's submissions; none when it was never submitted to Slurm. */
export async function readSweepFile(dir: string): Promise<SweepFile> {
  const file = path.join(dir, SWEEP_FILE);
  if (!existsSync(file)) return { format: 'sssseg-sweep/1', executor: 'slurm', submissions: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new SsssegError('sweep.badState', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = sweepFileSchema.safeParse(raw);
  if (!parsed.success) throw new SsssegError('sweep.badState', `${file}: ${issues(parsed.error)}`);
  return parsed.data;
}

export async function addSubmission(dir: string, sub: Submission): Promise<void> {
  const state = await readSweepFile(dir);
  state.submissions.push(sub);
  await writeFileAtomic(path.join(dir, SWEEP_FILE), JSON.stringify(state, null, 2) + '\n');
}

/** The task that last took on each run folder: `<job>_<index>`. */
export function latestTasks(state: SweepFile): Map<string, { task: string; submission: Submission }> {
  const tasks = new Map<string, { task: string; submission: Submission }>();
  for (const submission of state.submissions) {
    for (const r of submission.runs) tasks.set(r.out_dir, { task: `${submission.job_id}_${r.index}`, submission });
  }
  return tasks;
}

const exitRecordSchema = z.object({
  task: z.string(),
  code: z.number().int(),
  host: z.string(),
  restarts: z.number().int(),
  ended: z.string(),
});
export type ExitRecord = z.infer<typeof exitRecordSchema>;

/** A task's exit record, undefined while it has none (not started, running, or killed before writing it). */
export async function readExitRecord(dir: string, task: string): Promise<ExitRecord | undefined> {
  const file = path.join(dir, RECORD_DIR, `${task}.exit`);
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return parseExitRecord(text, file);
}

export function parseExitRecord(text: string, file: string): ExitRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SsssegError('sweep.badRecord', `exit record ${file} is not valid JSON`);
  }
  const parsed = exitRecordSchema.safeParse(raw);
  if (!parsed.success) throw new SsssegError('sweep.badRecord', `exit record ${file}: ${issues(parsed.error)}`);
  return parsed.data;
}

export interface QueueEntry {
  /** Slurm's state: PENDING, RUNNING, COMPLETING, SUSPENDED, … */
  state: string;
  /** why it pends (Priority, Resources, BeginTime, …) */
  reason: string;
  /** where it runs (empty while pending) */
  node: string;
}

/** `squeue -h -r -o '%i|%T|%r|%N'` → array task `<job>_<index>` → its queue state (other jobs are left out). */
export function parseSqueue(stdout: string): Map<string, QueueEntry> {
  const queue = new Map<string, QueueEntry>();
  for (const line of stdout.split('\n')) {
    const [id, state, reason, node] = line.trim().split('|');
    if (!id || !state || !/^\d+_\d+$/.test(id)) continue;
    queue.set(id, { state, reason: reason ?? '', node: node ?? '' });
  }
  return queue;
}
