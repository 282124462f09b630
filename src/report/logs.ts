/**
 * Reading a run's log.jsonl into plottable series. Loss terms differ per method (loss_sup,
 * loss_unsup, loss_contra, loss_cps, …), so they are discovered from the records rather than listed.
 */
import { promises as fs } from 'node:fs';
import { SsssegError } from '../errors.ts';

export interface Point {
  x: number;
  y: number;
}

export interface RunLog {
  /** loss term → points over iterations, in the order the terms first appear */
  losses: Map<string, Point[]>;
  lr: Point[];
  valMiou: Point[];
  /** the network validation ran on (student, teacher, …), from the last validation record */
  valNet?: string;
  /** 1-based numbers of lines that were not JSON objects (e.g. a line cut off by a kill) */
  badLines: number[];
}

type LogRecord = Record<string, unknown>;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export async function readLog(file: string): Promise<RunLog> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new SsssegError('report.noLog', `cannot read ${file}: ${(err as Error).message}`);
  }
  return parseLog(text);
}

/**
 * A resumed run repeats the iterations after its last checkpoint, so records are keyed by
 * iteration and the later one wins: the curve shows what the finished run actually did.
 */
export function parseLog(text: string): RunLog {
  const train = new Map<number, LogRecord>();
  const val = new Map<number, LogRecord>();
  const badLines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const rec = parseLine(line);
    if (!rec || !isNum(rec['it'])) {
      badLines.push(i + 1);
      return;
    }
    (isNum(rec['val_miou']) ? val : train).set(rec['it'], rec);
  });
  const trainRecs = sortedByIteration(train);
  const valRecs = sortedByIteration(val);
  const lastVal = valRecs[valRecs.length - 1];
  return {
    losses: lossSeries(trainRecs),
    lr: pointsOf(trainRecs, 'lr'),
    valMiou: pointsOf(valRecs, 'val_miou'),
    valNet: typeof lastVal?.['val_net'] === 'string' ? lastVal['val_net'] : undefined,
    badLines,
  };
}

function parseLine(line: string): LogRecord | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as LogRecord) : undefined;
  } catch {
    return undefined;
  }
}

function sortedByIteration(m: Map<number, LogRecord>): LogRecord[] {
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
}

/** Every numeric key starting with "loss"; a NaN loss is logged as null and left as a gap. */
function lossSeries(recs: LogRecord[]): Map<string, Point[]> {
  const out = new Map<string, Point[]>();
  for (const rec of recs) {
    for (const [key, v] of Object.entries(rec)) {
      if (!key.startsWith('loss')) continue;
      if (!out.has(key)) out.set(key, []);
      if (isNum(v)) out.get(key)!.push({ x: rec['it'] as number, y: v });
    }
  }
  return out;
}

function pointsOf(recs: LogRecord[], key: string): Point[] {
  const pts: Point[] = [];
  for (const rec of recs) {
    const v = rec[key];
    if (isNum(v)) pts.push({ x: rec['it'] as number, y: v });
  }
  return pts;
}
