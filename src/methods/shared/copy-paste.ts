import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../util/rng.ts';
import { IGNORE } from '../../losses/ce.ts';
import { masksToTensor } from './mix.ts';

/**
 * Class-aware copy-paste from labeled onto unlabeled images (UCC's DCSCP, docs/methods.md §7, whose
 * exact sampling is unpublished): for each unlabeled image, with probability `p`, take labeled
 * image i mod n_l, draw up to `maxClasses` of the classes in its ground truth (without replacement,
 * probability ∝ `classWeights`), and paste the pixels of those classes.
 */
export interface PastePlan {
  /** NHW 0/1: 1 where the labeled pixel is pasted */
  mask: tf.Tensor3D;
  /** labeled index pasted into each unlabeled image */
  source: number[];
}

export function planCopyPaste(labels: tf.Tensor3D, nUnlabeled: number, rng: Rng, o: { p: number; maxClasses: number; classWeights: ArrayLike<number> }): PastePlan {
  const [nl, h, w] = labels.shape;
  const y = labels.dataSync();
  const masks: Uint8Array[] = [];
  const source: number[] = [];
  for (let i = 0; i < nUnlabeled; i++) {
    const j = i % nl;
    source.push(j);
    const m = new Uint8Array(h * w);
    masks.push(m);
    if (rng.next() >= o.p) continue;
    const img = y.subarray(j * h * w, (j + 1) * h * w);
    const present = [...new Set(img)].filter((c) => c !== IGNORE && c < o.classWeights.length);
    const chosen = new Set(weightedPick(present, present.map((c) => o.classWeights[c]!), o.maxClasses, rng));
    for (let k = 0; k < img.length; k++) if (chosen.has(img[k]!)) m[k] = 1;
  }
  return { mask: masksToTensor(masks, h, w), source };
}

/** Up to `k` distinct items, each draw ∝ its weight among those left. */
export function weightedPick(items: number[], weights: number[], k: number, rng: Rng): number[] {
  const left = items.map((v, i) => ({ v, w: Math.max(weights[i]!, 0) }));
  const out: number[] = [];
  while (out.length < k && left.length > 0) {
    const total = left.reduce((a, e) => a + e.w, 0);
    let r = rng.next() * total;
    let idx = left.length - 1;
    if (total > 0) {
      for (let i = 0; i < left.length; i++) {
        r -= left[i]!.w;
        if (r < 0) {
          idx = i;
          break;
        }
      }
    } else idx = Math.floor(rng.next() * left.length);
    out.push(left[idx]!.v);
    left.splice(idx, 1);
  }
  return out;
}

/**
 * Per-class running confidence of pseudo-labels (EMA over steps), the "dynamic" part of the
 * sampling: classes the model is unsure about get pasted more often (weight 1 − confidence).
 */
export function updateClassConfidence(state: Float32Array, labels: ArrayLike<number>, conf: ArrayLike<number>, momentum: number): void {
  const c = state.length;
  const sum = new Float64Array(c);
  const count = new Float64Array(c);
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i]!;
    if (k >= 0 && k < c) {
      sum[k] = sum[k]! + conf[i]!;
      count[k] = count[k]! + 1;
    }
  }
  for (let k = 0; k < c; k++) if (count[k]! > 0) state[k] = momentum * state[k]! + (1 - momentum) * (sum[k]! / count[k]!);
}
