/**
 * ST++ step 2: score every unlabeled image by how stable the teacher's prediction was during
 * training (docs/methods.md §2.3), and split the ids into reliable / unreliable.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { segment, type PredictFn } from '../eval/inference.ts';
import type { InferenceProtocol } from '../eval/protocol.ts';
import { selectReliable, stabilityScore, type ReliableSplit, type ScoredId } from '../eval/stability.ts';
import { SsssegError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { STPP_FILES, writeIdList } from './layout.ts';

/** An unlabeled image ready for the network: HWC ImageNet-normalised. */
export interface InputImage {
  image: Float32Array;
  h: number;
  w: number;
}
export type ReadImage = (id: string) => Promise<InputImage>;

/** ST++ select_reliable: single scale, no flip, whole image. */
const PLAIN: InferenceProtocol = { mode: 'whole', scales: [1], flip: false };

export interface ScoreOptions {
  /** append each score here and skip the ids already in it (resume after a kill) */
  partialFile?: string;
  signal?: AbortSignal;
  onImage?: (done: number, total: number) => void;
}

/**
 * Stability score of each id, in input order (ties keep it, as ST++'s stable sort). `predicts`
 * are the teacher checkpoints, oldest first; the last plays the ground truth. Returns undefined
 * when `signal` aborts.
 */
export async function scoreImages(
  ids: readonly string[],
  read: ReadImage,
  predicts: PredictFn[],
  numClasses: number,
  opts: ScoreOptions = {},
): Promise<ScoredId[] | undefined> {
  const known = opts.partialFile ? await readPartial(opts.partialFile) : new Map<string, number>();
  const out: ScoredId[] = [];
  for (const [i, id] of ids.entries()) {
    let score = known.get(id);
    if (score === undefined) {
      if (opts.signal?.aborted) return undefined;
      const img = await read(id);
      const preds: Uint8Array[] = [];
      for (const predict of predicts) preds.push((await segment(img.image, img.h, img.w, predict, PLAIN)).pred);
      score = stabilityScore(preds, numClasses);
      if (opts.partialFile) await fs.appendFile(opts.partialFile, JSON.stringify({ id, score }) + '\n');
    }
    out.push({ id, score });
    opts.onImage?.(i + 1, ids.length);
  }
  return out;
}

/** Scores from an interrupted run; a line cut short by the kill is ignored (and recomputed). */
async function readPartial(file: string): Promise<Map<string, number>> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const known = new Map<string, number>();
  for (const line of text.split('\n')) {
    try {
      const r = JSON.parse(line) as { id?: unknown; score?: unknown };
      if (typeof r.id === 'string' && typeof r.score === 'number') known.set(r.id, r.score);
    } catch {
      // partial last line
    }
  }
  return known;
}

/**
 * Highest scores first (stable among ties); the first floor(n·fraction) are reliable. With
 * fraction 0.5 this is exactly ST++'s `len // 2` (odd counts put the middle image in unreliable).
 */
export function splitReliable(scores: readonly ScoredId[], fraction: number): ReliableSplit {
  if (!(fraction > 0 && fraction < 1)) throw new SsssegError('stpp.fraction', `reliable fraction must be in (0, 1), got ${fraction}`);
  const { sorted } = selectReliable(scores);
  // the epsilon keeps e.g. 0.7·10 = 7 when floating point gives 6.999…
  const cut = Math.floor(sorted.length * fraction + 1e-9);
  return { reliable: sorted.slice(0, cut).map((s) => s.id), unreliable: sorted.slice(cut).map((s) => s.id), sorted };
}

export interface ReliabilityFile {
  /** teacher epochs whose checkpoints were compared (the last is the reference) */
  checkpoints: number[];
  fraction: number;
  /** every unlabeled image, highest score first */
  scores: { id: string; score: number; reliable: boolean }[];
}

/** reliability.json, reliable.txt, unreliable.txt (each written atomically). */
export async function writeSelection(run: string, split: ReliableSplit, checkpoints: number[], fraction: number): Promise<void> {
  const reliable = new Set(split.reliable);
  const file: ReliabilityFile = {
    checkpoints,
    fraction,
    scores: split.sorted.map((s) => ({ id: s.id, score: s.score, reliable: reliable.has(s.id) })),
  };
  await writeFileAtomic(path.join(run, STPP_FILES.reliability), JSON.stringify(file, null, 1) + '\n');
  await writeIdList(path.join(run, STPP_FILES.reliable), split.reliable);
  await writeIdList(path.join(run, STPP_FILES.unreliable), split.unreliable);
}
