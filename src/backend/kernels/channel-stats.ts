/**
 * Per-channel reductions and the affine combination that training-mode BatchNorm needs, over a
 * [M, C] view of an NHWC tensor. On wasm they are single passes over views of the heap (custom
 * kernels below); tfjs-wasm would otherwise reduce over non-innermost axes by transposing first,
 * and a ones-row matMul makes XNNPACK pack (and cache, for the tensor's lifetime) a copy of the
 * activation. Other backends use ordinary ops.
 */
import * as tf from '@tensorflow/tfjs-core';

const MOMENTS = 'SsssegChannelMoments';
const SUMS = 'SsssegChannelDySums';
const AFFINE = 'SsssegChannelAffine2';

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

const channels = (t: tf.TensorInfo): number => t.shape[t.shape.length - 1]!;

/**
 * [2, C]: batch mean and biased variance in one pass. Σx and Σx² accumulate in float64, where
 * E[x²] − E[x]² loses nothing that matters for float32 activations (it would take |mean|/std
 * beyond ~1e6 to cancel float32 precision).
 */
const momentsKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const b = backend as unknown as HeapBackend;
  const x = inputs['x']!;
  const c = channels(x);
  const out = b.makeOutput([2, c], 'float32');
  const xv = b.typedArrayFromHeap(x);
  const o = b.typedArrayFromHeap(out);
  const m = xv.length / c;
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let i = 0; i < xv.length; i += c) {
    for (let j = 0; j < c; j++) {
      const v = xv[i + j]!;
      s1[j]! += v;
      s2[j]! += v * v;
    }
  }
  for (let j = 0; j < c; j++) {
    const mean = s1[j]! / m;
    o[j] = mean;
    o[c + j] = Math.max(0, s2[j]! / m - mean * mean);
  }
  return out;
};

/** [2, C]: Σ dy and Σ dy·x per channel. */
const sumsKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const b = backend as unknown as HeapBackend;
  const dy = inputs['dy']!;
  const c = channels(dy);
  const out = b.makeOutput([2, c], 'float32');
  const dv = b.typedArrayFromHeap(dy);
  const xv = b.typedArrayFromHeap(inputs['x']!);
  const o = b.typedArrayFromHeap(out);
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let i = 0; i < dv.length; i += c) {
    for (let j = 0; j < c; j++) {
      const d = dv[i + j]!;
      s1[j]! += d;
      s2[j]! += d * xv[i + j]!;
    }
  }
  for (let j = 0; j < c; j++) {
    o[j] = s1[j]!;
    o[c + j] = s2[j]!;
  }
  return out;
};

/** out = a·dy + b·x + k with per-channel a, b, k given as one [3, C] tensor. */
const affineKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const b = backend as unknown as HeapBackend;
  const dy = inputs['dy']!;
  const c = channels(dy);
  const out = b.makeOutput([...dy.shape], 'float32');
  const dv = b.typedArrayFromHeap(dy);
  const xv = b.typedArrayFromHeap(inputs['x']!);
  const cv = b.typedArrayFromHeap(inputs['coef']!);
  const o = b.typedArrayFromHeap(out);
  const a = cv.slice(0, c);
  const bb = cv.slice(c, 2 * c);
  const k = cv.slice(2 * c, 3 * c);
  for (let i = 0; i < dv.length; i += c) {
    for (let j = 0; j < c; j++) o[i + j] = a[j]! * dv[i + j]! + bb[j]! * xv[i + j]! + k[j]!;
  }
  return out;
};

export const wasmChannelKernels: readonly tf.KernelConfig[] = [
  { kernelName: MOMENTS, backendName: 'wasm', kernelFunc: momentsKernel },
  { kernelName: SUMS, backendName: 'wasm', kernelFunc: sumsKernel },
  { kernelName: AFFINE, backendName: 'wasm', kernelFunc: affineKernel },
];

const has = (name: string): boolean => tf.getKernel(name, tf.getBackend()) != null;

/** Batch mean and biased variance over all but the last axis: [mean, variance], each [C]. */
export function channelMoments(x: tf.Tensor): [tf.Tensor1D, tf.Tensor1D] {
  const c = x.shape[x.rank - 1]!;
  return tf.tidy(() => {
    if (has(MOMENTS)) {
      const mv = tf.engine().runKernel(MOMENTS, { x }) as tf.Tensor2D;
      return tf.unstack(mv) as [tf.Tensor1D, tf.Tensor1D];
    }
    const { mean, variance } = tf.moments(tf.reshape(x, [-1, c]), 0);
    return [mean as tf.Tensor1D, variance as tf.Tensor1D];
  });
}

/** Σ dy and Σ dy·x over all but the last axis, each [C]. */
export function channelDySums(dy: tf.Tensor, x: tf.Tensor): [tf.Tensor1D, tf.Tensor1D] {
  const c = dy.shape[dy.rank - 1]!;
  return tf.tidy(() => {
    if (has(SUMS)) return tf.unstack(tf.engine().runKernel(SUMS, { dy, x }) as tf.Tensor2D) as [tf.Tensor1D, tf.Tensor1D];
    const d = tf.reshape(dy, [-1, c]);
    return [tf.sum(d, 0) as tf.Tensor1D, tf.sum(tf.mul(d, tf.reshape(x, [-1, c])), 0) as tf.Tensor1D];
  });
}

/** a·dy + b·x + k with per-channel [C] vectors a, b, k. */
export function channelAffine2(dy: tf.Tensor, x: tf.Tensor, a: tf.Tensor1D, b: tf.Tensor1D, k: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    if (has(AFFINE)) return tf.engine().runKernel(AFFINE, { dy, x, coef: tf.stack([a, b, k]) }) as tf.Tensor;
    return tf.add(tf.add(tf.mul(dy, a), tf.mul(x, b)), k);
  });
}
