/**
 * Space-to-batch with a square block, from reshapes and 4-D transposes only: tfjs-wasm's
 * SpaceToBatchND/BatchToSpaceND/DepthToSpace (6-D transposes) are slow generic element loops,
 * its 4-D Transpose is a fast one.
 */
import * as tf from '@tensorflow/tfjs-core';

/** [n, A·d, B·d, c] → [(i·d + j)·n + b, A, B, c] holding x[b, a·d + i, b·d + j]. */
export function spaceToBatch(x: tf.Tensor4D, d: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const a = h / d;
  const b = w / d;
  const t1 = tf.transpose(tf.reshape(x, [n, a, d, b * d * c]), [2, 0, 1, 3]); // [i, n, a, (b j c)]
  const t2 = tf.transpose(tf.reshape(t1, [d, n * a * b, d, c]), [0, 2, 1, 3]); // [i, j, (n a b), c]
  return tf.reshape(t2, [d * d * n, a, b, c]);
}
