/**
 * `--resume` continues exactly or not at all: the checkpoint and the config must describe the same
 * run (checked before anything is written), and the log is cut back to the checkpoint, so that
 * iterations redone after a crash appear once.
 */
import { promises as fs } from 'node:fs';
import { SsssegError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { CheckpointMeta } from '../models/checkpoint.ts';

/** Config keys that may differ on resume: where the run reads data from and how it logs, not what it trains. */
const FREE_KEYS = ['run', 'eval', 'data.cache', 'data.prefetch', 'train.checkpoint_every', 'train.on_nonfinite'];

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Leaves that differ between two plain configs, as `key: before → now`. A key only one side has is
 * skipped: it comes from a newer or older version of this tool and holds its default.
 */
export function configChanges(before: unknown, now: unknown, prefix = ''): string[] {
  if (FREE_KEYS.includes(prefix)) return [];
  if (isPlain(before) && isPlain(now)) {
    return Object.keys(now).filter((k) => k in before).flatMap((k) => configChanges(before[k], now[k], prefix ? `${prefix}.${k}` : k));
  }
  const a = JSON.stringify(before);
  const b = JSON.stringify(now);
  return a === b ? [] : [`${prefix} ${a} → ${b}`];
}

/** Refuse a resume whose config would train something else than the checkpoint's run. */
export function checkResumable(dir: string, meta: CheckpointMeta, method: string, config: Plain): void {
  const hint = `resume with the run's own config (\`sssseg train --resume ${dir}\` without --config/--set), or start a new run with --out`;
  if (meta.method !== method) {
    throw new SsssegError('train.resumeMismatch', `cannot resume ${dir}: its checkpoint is a ${meta.method} run, the config trains ${method}`, hint);
  }
  const changes = configChanges(meta.config, config);
  if (changes.length > 0) {
    const shown = changes.slice(0, 4).join('; ') + (changes.length > 4 ? `; … (${changes.length} in all)` : '');
    throw new SsssegError('train.resumeMismatch', `cannot resume ${dir} with a different config: ${shown}`, hint);
  }
}

/** Training seconds the checkpoint's run had spent up to it (0 for checkpoints that predate this). */
export function wallTimeOf(meta: CheckpointMeta): number {
  const v = meta.extra['wall_time_s'];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/**
 * Cut log.jsonl back to the checkpoint: lines of later iterations were written by a process that
 * died before its next checkpoint, and the resumed run writes them again. Returns the iterations
 * with a validation line that remain.
 */
export async function truncateLog(file: string, iteration: number): Promise<{ removed: number; validated: Set<number> }> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const keep: string[] = [];
  const validated = new Set<number>();
  let removed = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const it = iterationOf(line);
    // a line that cannot be read (cut off by the crash) has no place in the log either
    if (it === undefined || it > iteration) {
      removed++;
      continue;
    }
    keep.push(line);
    if (line.includes('"val_miou"')) validated.add(it);
  }
  if (removed > 0) await writeFileAtomic(file, keep.map((l) => l + '\n').join(''));
  return { removed, validated };
}

function iterationOf(line: string): number | undefined {
  try {
    const it = (JSON.parse(line) as { it?: unknown }).it;
    return typeof it === 'number' ? it : undefined;
  } catch {
    return undefined;
  }
}
