/**
 * Parameter updates as one kernel per tensor where the backend has one (native): the SGD step
 * and α·a + β·b (EMA of teacher weights, BN running statistics). Written as tfjs ops they cost
 * 4–7 kernel calls per parameter, each with its own JS dispatch and output allocation: ~2500
 * calls per U2PL iteration of a ResNet-50. Elsewhere they are those ops, in the same order.
 */
import * as tf from '@tensorflow/tfjs-core';

/** inputs a, b; attrs alpha, beta; output alpha·a + beta·b */
export const AXPBY = 'SsssegAxpby';
/** inputs p, g, m; attrs lr, momentum, weightDecay; outputs p', m' (PyTorch SGD) */
export const SGD_STEP = 'SsssegSgdStep';

export interface SgdStepAttrs {
  lr: number;
  momentum: number;
  weightDecay: number;
}

const has = (name: string): boolean => tf.getKernel(name, tf.getBackend()) != null;

/** alpha·a + beta·b (same shapes). */
export function axpby(a: tf.Tensor, alpha: number, b: tf.Tensor, beta: number): tf.Tensor {
  if (has(AXPBY) && a.dtype === 'float32' && b.dtype === 'float32' && tf.util.arraysEqual(a.shape, b.shape)) {
    return tf.engine().runKernel(AXPBY, { a, b }, { alpha, beta }) as tf.Tensor;
  }
  return tf.tidy(() => tf.add(tf.mul(a, alpha), tf.mul(b, beta)));
}

/** PyTorch SGD: d = g + wd·p; m' = μ·m + d; p' = p − lr·m'. Returns [p', m']. */
export function sgdStep(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, a: SgdStepAttrs): [tf.Tensor, tf.Tensor] {
  if (has(SGD_STEP) && [p, g, m].every((t) => t.dtype === 'float32' && tf.util.arraysEqual(t.shape, p.shape))) {
    return tf.engine().runKernel(SGD_STEP, { p, g, m }, a as unknown as tf.NamedAttrMap) as [tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const d = a.weightDecay > 0 ? tf.add(g, tf.mul(p, a.weightDecay)) : g;
    const buf = tf.add(tf.mul(m, a.momentum), d);
    return [tf.sub(p, tf.mul(buf, a.lr)), buf] as [tf.Tensor, tf.Tensor];
  });
}
