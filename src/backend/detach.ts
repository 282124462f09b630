import * as tf from '@tensorflow/tfjs-core';

/**
 * The value of `t` with no gradient path (PyTorch `.detach()`): a second tensor on the same data,
 * made without an op, so the tape sees no connection and the comparison/argmax ops that build
 * pseudo-labels from it (which have no gradients in tfjs) never enter backprop. Zero-copy; the
 * data lives until both tensors are disposed. It uses tfjs engine internals
 * (`makeTensorFromTensorInfo`, the backend's `incRef`), valid for the pinned tfjs 4.22.0, so it
 * lives here with the other code that knows the engine.
 */
export function detach<T extends tf.Tensor>(t: T): T {
  const engine = tf.engine();
  const out = engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }) as T;
  // the backend frees the data when its reference count drops to 0: count this alias too
  engine.backend.incRef(t.dataId);
  return out;
}
