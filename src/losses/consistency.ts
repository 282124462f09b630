import * as tf from '@tensorflow/tfjs-core';
import { pixelCrossEntropy, upsampleLogits } from './ce.ts';

/**
 * Unsupervised consistency terms shared by the semi-supervised methods. Targets are detached by
 * construction: they come from teachers outside the gradient's variable list, or from argmax and
 * threshold ops, whose gradients are zero.
 */

/**
 * Mean Teacher consistency (TorchSemiSeg `voc8.res50v3+.MeanTeacher`, docs/methods.md §6): the mean
 * over N·H·W·C of (softmax(student) − softmax(teacher))², both at the student's resolution.
 */
export function softmaxMse(student: tf.Tensor4D, teacher: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const t = upsampleLogits(teacher, student.shape[1], student.shape[2]);
    return tf.mean(tf.squaredDifference(tf.softmax(student, -1), tf.softmax(t, -1))) as tf.Scalar;
  });
}

export interface PseudoCeOptions {
  /** NHW max-probability of the target; pixels below `thresh` are dropped */
  conf: tf.Tensor3D;
  thresh: number;
  /** NHW 0/1: pixels that exist (not padding); all pixels when absent */
  valid?: tf.Tensor3D;
  /** NHW per-pixel weight applied to the kept pixels (PS-MT: conf; UCC: uncertainty weight) */
  weight?: tf.Tensor3D;
  /**
   * 'valid': sum over kept pixels divided by the number of valid pixels (FixMatch/UniMatch:
   * low-confidence pixels count in the denominator). 'kept': mean over kept pixels (PS-MT
   * `semi_ce_loss`: `loss[mask].mean()`).
   */
  normalise: 'valid' | 'kept';
}

/** Cross-entropy of `logits` (upsampled to the label size) against hard pseudo-labels, confidence-masked. */
export function pseudoCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, o: PseudoCeOptions): tf.Scalar {
  return tf.tidy(() => {
    const up = upsampleLogits(logits, labels.shape[1], labels.shape[2]);
    const { loss } = pixelCrossEntropy(up, labels);
    const valid = o.valid ?? tf.onesLike(o.conf);
    const kept = tf.mul(tf.cast(tf.greaterEqual(o.conf, o.thresh), 'float32'), valid);
    const weighted = o.weight ? tf.mul(kept, o.weight) : kept;
    const total = tf.sum(tf.mul(loss, weighted));
    // an empty mask gives 0, not PyTorch's NaN from mean() over nothing
    const denom = tf.maximum(tf.sum(o.normalise === 'valid' ? valid : kept), 1);
    return tf.div(total, denom) as tf.Scalar;
  });
}

/** NHW 0/1 float: 1 where `ignore` ≠ 255 (UniMatch's ignore mask marks padded crop pixels). */
export function validFromIgnore(ignore: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => tf.cast(tf.notEqual(ignore, 255), 'float32') as tf.Tensor3D);
}
