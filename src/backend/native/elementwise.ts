/**
 * Add, Sub, Multiply and FusedBatchNorm on both cores. These are memory-bound, so the gain over
 * single-threaded wasm is the second core and AVX2; the batch-norm forward and the per-channel
 * products of its gradient (src/backend/kernels/batch-norm.ts) are the main users. Only float32
 * with same-shape, scalar or trailing-dims broadcasting runs natively; the rest goes to wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.ts';
import { asHeapBackend, heapBuffer, offsetOf, sizeOf } from './heap.ts';

type Fallback = (name: string) => tf.KernelFunc;

/** True when `small` repeats along the leading dims of `out` (leading 1s dropped, it is a suffix). */
export function trailingBroadcast(small: readonly number[], out: readonly number[]): boolean {
  const s = small.slice(small.findIndex((d) => d !== 1));
  if (sizeOf(small) === 1) return true;
  if (s.length > out.length) return false;
  return s.every((d, i) => d === out[out.length - s.length + i]);
}

const OPS: Record<string, 0 | 1 | 2> = { [tf.Add]: 0, [tf.Sub]: 1, [tf.Multiply]: 2 };

function binaryKernel(name: string, addon: NativeAddon, fallback: Fallback): tf.KernelConfig {
  const op = OPS[name]!;
  const kernelFunc: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs;
    if (a == null || b == null) throw new Error(`native ${name}: missing input`);
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(name)(args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = sizeOf(outShape);
    if (n === 0 || !trailingBroadcast(a.shape, outShape) || !trailingBroadcast(b.shape, outShape)) return fallback(name)(args);
    const na = sizeOf(a.shape);
    const nb = sizeOf(b.shape);
    if (na < n && nb < n && na > 1 && nb > 1) return fallback(name)(args);
    const backend = asHeapBackend(args.backend);
    const out = backend.makeOutput(outShape, 'float32');
    addon.binary(op, heapBuffer(backend), offsetOf(backend, a), na, offsetOf(backend, b), nb, offsetOf(backend, out), n);
    return out;
  };
  return { kernelName: name, backendName: 'native', kernelFunc };
}

function batchNormKernel(addon: NativeAddon, fallback: Fallback): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x, mean, variance, offset, scale } = args.inputs;
    const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
    if (x == null || mean == null || variance == null) throw new Error('native FusedBatchNorm: missing input');
    const c = x.shape[x.shape.length - 1] ?? 1;
    const stats = [mean, variance, offset, scale].filter((t): t is tf.TensorInfo => t != null);
    const perChannel = (t: tf.TensorInfo): boolean => sizeOf(t.shape) === 1 || trailingBroadcast(t.shape, [c]);
    if (x.dtype !== 'float32' || sizeOf(x.shape) === 0 || !stats.every((t) => t.dtype === 'float32' && perChannel(t))) {
      return fallback(tf.FusedBatchNorm)(args);
    }
    const backend = asHeapBackend(args.backend);
    const out = backend.makeOutput([...x.shape], 'float32');
    const count = (t: tf.TensorInfo | undefined): number => (t == null ? 0 : sizeOf(t.shape));
    const off = (t: tf.TensorInfo | undefined): number => (t == null ? 0 : offsetOf(backend, t));
    const fields = Int32Array.from([sizeOf(x.shape) / c, c, count(mean), count(variance), count(offset), count(scale)]);
    addon.batchNorm(
      heapBuffer(backend), offsetOf(backend, x), offsetOf(backend, mean), offsetOf(backend, variance),
      off(offset), off(scale), offsetOf(backend, out), fields, varianceEpsilon,
    );
    return out;
  };
  return { kernelName: tf.FusedBatchNorm, backendName: 'native', kernelFunc };
}

export function nativeElementwiseKernels(addon: NativeAddon, fallback: Fallback): tf.KernelConfig[] {
  return [
    binaryKernel(tf.Add, addon, fallback),
    binaryKernel(tf.Sub, addon, fallback),
    binaryKernel(tf.Multiply, addon, fallback),
    batchNormKernel(addon, fallback),
  ];
}
