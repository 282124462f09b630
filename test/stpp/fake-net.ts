import * as tf from '@tensorflow/tfjs-core';
import type { PredictFn } from '../../src/eval/inference.ts';

/**
 * A predictor whose argmax is `mask(currentId)` at any input size: one-hot logits built at the
 * mask's own size and resized (nearest) to the input, so TTA scales and flips keep the mask.
 */
export function maskPredictor(numClasses: number, mask: () => { data: Uint8Array; h: number; w: number }): PredictFn {
  return (x) =>
    tf.tidy(() => {
      const m = mask();
      const logits = tf.reshape(tf.mul(tf.oneHot(tf.tensor2d(m.data, [m.h, m.w], 'int32'), numClasses), 10), [1, m.h, m.w, numClasses]) as tf.Tensor4D;
      return tf.image.resizeNearestNeighbor(logits, [x.shape[1], x.shape[2]]);
    });
}
