import * as tf from '@tensorflow/tfjs-core';
import { detach } from '../backend/detach.ts';

export const IGNORE = 255;

/** Bilinear resize of NHWC logits to h×w with align_corners=true, as all anchor repos do. */
export function upsampleLogits(logits: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  if (logits.shape[1] === h && logits.shape[2] === w) return logits;
  return tf.image.resizeBilinear(logits, [h, w], true);
}

/**
 * Per-pixel cross-entropy and the valid mask. Ignored labels are clamped to class 0 for the
 * gather and then masked out, so they contribute neither loss nor gradient.
 */
export function pixelCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, ignore = IGNORE): { loss: tf.Tensor3D; valid: tf.Tensor3D; safe: tf.Tensor3D } {
  return tf.tidy(() => {
    const c = logits.shape[3];
    const valid = tf.cast(tf.notEqual(labels, ignore), 'float32') as tf.Tensor3D;
    const safe = tf.cast(tf.where(tf.notEqual(labels, ignore), labels, tf.zerosLike(labels)), 'int32') as tf.Tensor3D;
    const logp = tf.logSoftmax(logits, -1);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(safe, c)), -1);
    const loss = tf.mul(tf.neg(picked), valid) as tf.Tensor3D;
    return { loss, valid, safe };
  });
}

/**
 * Each valid pixel's class weight (`train.loss.class_weights`), 0 on ignored pixels. PyTorch's
 * CrossEntropyLoss(weight=w) divides by the sum of these, so the loss stays a mean.
 */
function classWeightMap(weights: readonly number[], safe: tf.Tensor3D, valid: tf.Tensor3D): tf.Tensor3D {
  return tf.mul(tf.gather(tf.tensor1d([...weights], 'float32'), safe), valid) as tf.Tensor3D;
}

/** Weighted mean of a masked per-pixel loss; a weight sum below 1 is legitimate with class weights. */
function weightedMean(loss: tf.Tensor3D, w: tf.Tensor, weighted: boolean): tf.Scalar {
  return tf.div(tf.sum(tf.mul(loss, w)), tf.maximum(tf.sum(w), weighted ? 1e-12 : 1)) as tf.Scalar;
}

/** Mean CE over non-ignored pixels (PyTorch CrossEntropyLoss(ignore_index=255, weight)); logits are upsampled to the label size. */
export function crossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, ignore = IGNORE, weights?: readonly number[]): tf.Scalar {
  return tf.tidy(() => {
    const up = upsampleLogits(logits, labels.shape[1], labels.shape[2]);
    const { loss, valid, safe } = pixelCrossEntropy(up, labels, ignore);
    // loss is already 0 on ignored pixels: unweighted, its sum over the valid count is the mean
    if (!weights) return tf.div(tf.sum(loss), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
    return weightedMean(loss, classWeightMap(weights, safe, valid), true);
  });
}

/**
 * OHEM CE (U2PL/UniMatch `OhemCrossEntropy2dTensor`): keep pixels whose ground-truth probability
 * is ≤ max(thresh, p of the min_kept-th hardest pixel); keep all when fewer than min_kept are valid.
 * The threshold is found on the CPU and the mask is built from detached probabilities: the
 * comparison has no gradient in tfjs, and in upstream the mask is a constant of the graph too.
 */
export function ohemCrossEntropy(
  logits: tf.Tensor4D, labels: tf.Tensor3D, thresh = 0.7, minKept = 100000, ignore = IGNORE, weights?: readonly number[],
): tf.Scalar {
  return tf.tidy(() => {
    const up = upsampleLogits(logits, labels.shape[1], labels.shape[2]);
    const { loss, valid, safe } = pixelCrossEntropy(up, labels, ignore);
    const gtProb = tf.exp(tf.neg(loss));
    const probs = gtProb.dataSync();
    const validData = valid.dataSync();
    const vals: number[] = [];
    for (let i = 0; i < probs.length; i++) if (validData[i]! > 0) vals.push(probs[i]!);
    let keep: tf.Tensor = valid;
    if (vals.length > minKept && minKept > 0) {
      vals.sort((a, b) => a - b);
      const kth = vals[Math.min(minKept, vals.length) - 1]!;
      const threshold = Math.max(thresh, kth);
      keep = tf.mul(valid, tf.cast(tf.lessEqual(detach(gtProb), threshold), 'float32'));
    }
    return weightedMean(loss, weights ? tf.mul(keep, classWeightMap(weights, safe, valid)) : keep, weights !== undefined);
  });
}
