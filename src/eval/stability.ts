/**
 * ST++ reliable-image selection (docs/methods.md §2.3 step 2): an unlabeled image is "stable" when
 * the predictions of the earlier supervised checkpoints agree with the final one.
 */
import { SsssegError } from '../errors.ts';
import { ConfusionMatrix } from './metrics.ts';

export interface ScoredId {
  id: string;
  score: number;
}

export interface ReliableSplit {
  /** ids of the top floor(n/2) scores, best first */
  reliable: string[];
  /** the remaining ids, in descending score order */
  unreliable: string[];
  /** all entries in the order used for the split */
  sorted: ScoredId[];
}

/**
 * ST++'s per-image `meanIOU`: the mean IoU of `pred` against `reference` over the classes present
 * in either map; classes present in neither are 0/0 = NaN and left out (nanmean).
 */
export function pairMiou(pred: Uint8Array, reference: Uint8Array, numClasses: number): number {
  const cm = new ConfusionMatrix(numClasses);
  cm.add(reference, pred);
  return cm.metrics().miou;
}

/**
 * Stability of one image: the mean over checkpoints 1..K−1 of mIoU(pred_j, pred_K), with the last
 * checkpoint's prediction playing the ground truth (ST++ `select_reliable`).
 */
export function stabilityScore(preds: Uint8Array[], numClasses: number): number {
  if (preds.length < 2) {
    throw new SsssegError('stpp.tooFewCheckpoints', `stability needs predictions from at least 2 checkpoints, got ${preds.length}`);
  }
  const last = preds[preds.length - 1]!;
  let total = 0;
  for (let j = 0; j < preds.length - 1; j++) total += pairMiou(preds[j]!, last, numClasses);
  return total / (preds.length - 1);
}

/**
 * Sort by score, highest first, keeping the input order among ties (Python's sort is stable and
 * ST++ relies on it), then put the first floor(n/2) in `reliable`: with an odd count the middle
 * image is unreliable.
 */
export function selectReliable(scores: readonly ScoredId[]): ReliableSplit {
  for (const s of scores) {
    if (Number.isNaN(s.score)) {
      throw new SsssegError('stpp.nanScore', `stability score of image "${s.id}" is NaN`);
    }
  }
  // Array.prototype.sort is stable since ES2019.
  const sorted = [...scores].sort((a, b) => b.score - a.score);
  const cut = Math.floor(sorted.length / 2);
  return {
    reliable: sorted.slice(0, cut).map((s) => s.id),
    unreliable: sorted.slice(cut).map((s) => s.id),
    sorted,
  };
}
