import * as tf from '@tensorflow/tfjs-core';
import { upsampleLogits } from '../../losses/ce.ts';

/** Hard pseudo-labels at label resolution: logits upsampled (align_corners), softmax, max and argmax. */
export interface PseudoLabels {
  /** NHW float, max softmax probability */
  conf: tf.Tensor3D;
  /** NHW int32, argmax class */
  label: tf.Tensor3D;
}

/** From logits (any resolution) to `h`×`w` pseudo-labels; no gradient flows through them. */
export function pseudoLabels(logits: tf.Tensor4D, h: number, w: number): PseudoLabels {
  return tf.tidy(() => {
    const prob = tf.softmax(upsampleLogits(logits, h, w), -1);
    return { conf: tf.max(prob, -1) as tf.Tensor3D, label: tf.cast(tf.argMax(prob, -1), 'int32') as tf.Tensor3D };
  });
}

export function disposePseudo(p: PseudoLabels): void {
  tf.dispose([p.conf, p.label]);
}

/**
 * The value of `t` with no gradient path (PyTorch `.detach()`): a second tensor on the same data,
 * made without an op, so the tape sees no connection and the comparison/argmax ops that build
 * pseudo-labels from it (which have no gradients in tfjs) never enter backprop. Zero-copy; the
 * data lives until both tensors are disposed.
 */
export function detach<T extends tf.Tensor>(t: T): T {
  const engine = tf.engine();
  const out = engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }) as T;
  // the backend frees the data when its reference count drops to 0: count this alias too
  engine.backend.incRef(t.dataId);
  return out;
}
