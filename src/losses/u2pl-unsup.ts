import * as tf from '@tensorflow/tfjs-core';
import { IGNORE, pixelCrossEntropy, upsampleLogits } from './ce.ts';
import { percentile, pixelEntropy, validValues } from './entropy.ts';

/**
 * U2PL's unsupervised loss with entropy-based dropping (docs/methods.md §1.3 step 7, upstream
 * `compute_unsupervised_loss`): pseudo-labelled pixels whose teacher entropy reaches the
 * `percent`-th percentile are set to ignore, and the CE mean over the kept pixels is rescaled by
 * N·H·W / kept.
 */

export interface DropResult {
  /** the target with dropped pixels set to ignore (a copy; the input is left alone) */
  target: Int32Array;
  /** the entropy percentile (float64, as np.percentile returns it); NaN when no pixel is valid */
  threshold: number;
  kept: number;
  dropped: number;
}

/**
 * Drop every valid pixel whose entropy is ≥ the `percent`-th percentile of the valid entropies.
 * `>=` (not `>`) is upstream's: at percent 100 the single most uncertain pixel is still dropped.
 * torch compares a float32 tensor with a Python float in float32, hence the fround.
 */
export function dropUnreliable(
  entropy: ArrayLike<number>,
  target: ArrayLike<number>,
  percent: number,
  ignore = IGNORE,
): DropResult {
  const threshold = percentile(validValues(entropy, target, ignore), percent);
  const t32 = Math.fround(threshold);
  const out = Int32Array.from(target);
  let kept = 0;
  let dropped = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === ignore) continue;
    if (entropy[i]! >= t32) {
      out[i] = ignore;
      dropped++;
    } else {
      kept++;
    }
  }
  return { target: out, threshold, kept, dropped };
}

/**
 * (N·H·W / kept) · CE_mean_over_kept = N·H·W · Σ_kept CE / kept². `target` already carries the
 * drop (ignore = 255); `kept` is its count of non-ignored pixels. Upstream divides 0 by 0 when
 * nothing is kept (NaN); we return 0 so one degenerate batch cannot poison the weights.
 */
export function unsupLossFromDropped(studentLogits: tf.Tensor4D, target: tf.Tensor3D, kept: number): tf.Scalar {
  if (kept === 0) return tf.scalar(0);
  return tf.tidy(() => {
    const [n, h, w] = target.shape;
    const up = upsampleLogits(studentLogits, h, w);
    const { loss } = pixelCrossEntropy(up, target);
    return tf.mul(tf.sum(loss), (n * h * w) / (kept * kept)) as tf.Scalar;
  });
}

/**
 * The whole upstream function: teacher logits (NHWC, softmax applied here) → entropy → drop →
 * rescaled CE of the student logits. Both logits are upsampled to the target size if needed.
 */
export function computeUnsupervisedLoss(
  studentLogits: tf.Tensor4D,
  teacherLogits: tf.Tensor4D,
  target: tf.Tensor3D,
  percent: number,
): { loss: tf.Scalar; drop: DropResult; entropy: Float32Array } {
  const [, h, w] = target.shape;
  const entropyT = tf.tidy(() => pixelEntropy(upsampleLogits(teacherLogits, h, w)));
  const entropy = entropyT.dataSync() as Float32Array;
  entropyT.dispose();
  const drop = dropUnreliable(entropy, target.dataSync(), percent);
  const dropped = tf.tensor3d(drop.target, target.shape, 'int32');
  const loss = unsupLossFromDropped(studentLogits, dropped, drop.kept);
  dropped.dispose();
  return { loss, drop, entropy };
}
