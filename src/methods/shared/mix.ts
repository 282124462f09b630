import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../util/rng.ts';
import { boxMask, cpsBoxes } from '../../data/transforms/cutmix.ts';

/**
 * Mixing with 0/1 box masks (NHW float, 1 = "take the partner's pixel"). The loader draws the
 * masks for strong views; CPS, CutMix-Seg and PS-MT draw their own here, from the step's Rng so a
 * resumed run draws the same boxes.
 */

/** a·(1−m) + b·m for NHWC tensors (images, logits, probabilities). */
export function mixNhwc(a: tf.Tensor4D, b: tf.Tensor4D, m: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const m4 = tf.expandDims(tf.cast(m, a.dtype), -1);
    return tf.add(tf.mul(a, tf.sub(1, m4)), tf.mul(b, m4)) as tf.Tensor4D;
  });
}

/** Per-pixel choice for NHW maps (labels, confidences, ignore masks): b where m = 1, else a. */
export function mixNhw<T extends tf.Tensor3D>(a: T, b: T, m: tf.Tensor3D): T {
  return tf.tidy(() => tf.where(tf.greater(m, 0.5), b, a)) as T;
}

/** Stack per-sample HW 0/1 masks into an NHW float tensor. */
export function masksToTensor(masks: Uint8Array[], h: number, w: number): tf.Tensor3D {
  const data = new Float32Array(masks.length * h * w);
  masks.forEach((m, i) => data.set(m, i * h * w));
  return tf.tensor3d(data, [masks.length, h, w]);
}

/** TorchSemiSeg's BoxMaskGenerator (CPS §5.2; CutMix-Seg): `boxes` boxes of total area U(prop), one mask per sample. */
export function drawCpsMasks(rng: Rng, n: number, h: number, w: number, prop: readonly [number, number], boxes: number): tf.Tensor3D {
  const masks = Array.from({ length: n }, () => boxMask(h, w, cpsBoxes(rng, h, w, prop, boxes), true));
  return masksToTensor(masks, h, w);
}

/**
 * PS-MT's `rand_bbox` (§4.2): one λ ~ Beta(α, α) per batch, box sides ⌊side·√(1−λ)⌋, centres
 * uniform-int in [side/8, side) per sample, clipped to the image.
 */
export function drawPsmtMasks(rng: Rng, n: number, h: number, w: number, alpha: number): tf.Tensor3D {
  const lam = betaSample(rng, alpha, alpha);
  const cut = Math.sqrt(1 - lam);
  const cw = Math.floor(w * cut);
  const ch = Math.floor(h * cut);
  const masks: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const cx = rng.int(Math.floor(w / 8), w);
    const cy = rng.int(Math.floor(h / 8), h);
    const x1 = clamp(cx - Math.floor(cw / 2), 0, w);
    const x2 = clamp(cx + Math.floor(cw / 2), 0, w);
    const y1 = clamp(cy - Math.floor(ch / 2), 0, h);
    const y2 = clamp(cy + Math.floor(ch / 2), 0, h);
    masks.push(boxMask(h, w, [{ y: y1, x: x1, h: y2 - y1, w: x2 - x1 }]));
  }
  return masksToTensor(masks, h, w);
}

/** Gather along the batch axis (a permutation or any index list). */
export function gatherBatch<T extends tf.Tensor>(t: T, index: number[]): T {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(index, 'int32'), 0)) as T;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** Beta(a, b) from two Gamma draws (Marsaglia–Tsang; a, b ≥ 1 here, PS-MT uses 4). */
export function betaSample(rng: Rng, a: number, b: number): number {
  const x = gammaSample(rng, a);
  const y = gammaSample(rng, b);
  return x / (x + y);
}

function gammaSample(rng: Rng, k: number): number {
  if (k < 1) return gammaSample(rng, k + 1) * Math.pow(1 - rng.next(), 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = rng.normal();
    const v = Math.pow(1 + c * z, 3);
    if (v <= 0) continue;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}
