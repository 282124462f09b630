/**
 * Result files: the per-run `results.json` that `sssseg table` gathers, and the Markdown / CSV
 * text both `eval` and `table` print or write.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { SsssegError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';

export const RUN_RESULTS_FILE = 'results.json';

/** Final numbers of one training run, written into its run folder. */
export interface RunResults {
  method: string;
  split: string;
  dataset: string;
  /** fractions in [0, 1]; an `iou` entry is NaN for a class left out of the mean */
  metrics: { miou: number; pixel_acc: number; iou: number[] };
  protocol: string;
  wall_time_s: number;
  backend: string;
  iterations: number;
  checkpoint: string;
  /** CPU model and core count of the machine that trained it (tables state where times come from) */
  machine?: string;
  /** the config's seed (a table cell averages the runs of several seeds) */
  seed?: number;
}

/** This machine in a few words, e.g. "Intel(R) Xeon(R) … (2 cores)". */
export function machineName(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim() || os.arch();
  return `${model} (${os.availableParallelism()} cores)`;
}

// JSON has no NaN: per-class IoU of an excluded class is stored as null.
const runResultsSchema = z.object({
  method: z.string().min(1),
  split: z.string().min(1),
  dataset: z.string().min(1),
  metrics: z.object({
    miou: z.number(),
    pixel_acc: z.number(),
    iou: z.array(z.number().nullable()),
  }),
  protocol: z.string(),
  wall_time_s: z.number(),
  backend: z.string(),
  iterations: z.number(),
  checkpoint: z.string(),
  machine: z.string().optional(),
  seed: z.number().int().optional(),
});

/** JSON text with NaN/±Infinity written as null (JSON.stringify does that too, but say so). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

export async function writeRunResults(runDir: string, r: RunResults): Promise<string> {
  const file = path.join(runDir, RUN_RESULTS_FILE);
  await writeFileAtomic(file, toJson(r));
  return file;
}

/** Read and check `<runDir>/results.json`; errors name the folder and what is wrong. */
export async function readRunResults(runDir: string): Promise<RunResults> {
  const file = path.join(runDir, RUN_RESULTS_FILE);
  const stat = await fs.stat(runDir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new SsssegError('results.missing', `run folder ${runDir} does not exist`);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new SsssegError(
      'results.missing',
      `run folder ${runDir} has no ${RUN_RESULTS_FILE}`,
      'finish (or resume) the run with `sssseg train`, or pass --skip-missing',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SsssegError('results.malformed', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = runResultsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || '(top level)';
    throw new SsssegError('results.malformed', `${file}: key "${key}": ${issue.message}`);
  }
  const r = parsed.data;
  return { ...r, metrics: { ...r.metrics, iou: r.metrics.iou.map((v) => v ?? Number.NaN) } };
}

export type Align = 'left' | 'right';

/** A GitHub-flavoured Markdown table; `|` inside cells is escaped. */
export function markdownTable(header: string[], rows: string[][], align: Align[] = []): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = header.map((_, i) => ((align[i] ?? 'left') === 'right' ? '---:' : '---'));
  return [line(header), `|${rule.join('|')}|`, ...rows.map(line)].join('\n');
}

/** RFC 4180 CSV (quotes only where needed), with a trailing newline. */
export function toCsv(rows: (string | number)[][]): string {
  const cell = (v: string | number) => {
    const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/** A fraction as a percentage with `digits` decimals; "n/a" for NaN. */
export function percent(v: number, digits = 2): string {
  return Number.isFinite(v) ? (v * 100).toFixed(digits) : 'n/a';
}
