import * as tf from '@tensorflow/tfjs-core';
import { IGNORE } from './ce.ts';

/**
 * Per-pixel prediction entropy −Σ_c p·log(p + 1e-10), p = softmax(logits) over the last axis
 * (NHWC). The 1e-10 inside the log is U2PL's; it keeps p = 0 finite and shifts values by < 1e-9.
 */
export function pixelEntropy(logits: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const p = tf.softmax(logits, -1);
    return tf.neg(tf.sum(tf.mul(p, tf.log(tf.add(p, 1e-10))), -1)) as tf.Tensor3D;
  });
}

/** The entries of `values` whose label is not `ignore` (the population U2PL takes percentiles of). */
export function validValues(values: ArrayLike<number>, labels: ArrayLike<number>, ignore = IGNORE): Float32Array {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignore) n++;
  const out = new Float32Array(n);
  let k = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignore) out[k++] = values[i]!;
  return out;
}

/**
 * numpy's default `np.percentile(a, q)` (method 'linear'): rank = q/100·(n−1) on the sorted data,
 * interpolated between its two neighbours. numpy takes the difference b − a in the data's dtype
 * (float32 for our entropies), then lerps in float64 from the nearer end (b − d·(1−t) when
 * t ≥ 0.5); we mirror both so thresholds agree with upstream to the last bit.
 * NaN for an empty population, which the callers treat as "no pixel is valid".
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = (Math.min(Math.max(q, 0), 100) / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  const t = rank - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const d = values instanceof Float32Array ? Math.fround(b - a) : b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}
