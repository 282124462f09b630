/**
 * BatchMatMul on oneDNN. The batch dims of a and b are flattened; a side whose batch is 1
 * broadcasts. Batch shapes that only broadcast per axis (e.g. [2,1] with [1,2]) go to wasm. The
 * `precision` attr ('bf16') is this project's own (src/backend/precision.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.ts';
import { asHeapBackend, heapBuffer, offsetOf, sizeOf } from './heap.ts';
import { precisionField } from './precision-field.ts';

export function nativeMatMulKernel(addon: NativeAddon, fallback: (name: string) => tf.KernelFunc): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB, precision } = args.attrs as unknown as tf.BatchMatMulAttrs & { precision?: string };
    if (a == null || b == null) throw new Error('native BatchMatMul: missing input');
    const ra = a.shape.length;
    const rb = b.shape.length;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) return fallback(tf.BatchMatMul)(args);
    const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    if (k !== kb) throw new Error(`native BatchMatMul: inner dimensions ${k} and ${kb} differ`);
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = sizeOf(outer);
    const batchA = sizeOf(a.shape.slice(0, -2));
    const batchB = sizeOf(b.shape.slice(0, -2));
    const flat = (bs: number): boolean => bs === batch || bs === 1;
    if (!flat(batchA) || !flat(batchB) || batch * m * n === 0 || k === 0) return fallback(tf.BatchMatMul)(args);
    const backend = asHeapBackend(args.backend);
    const out = backend.makeOutput([...outer, m, n], 'float32');
    const fields = Int32Array.from([batchA, batchB, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0, precisionField(precision)]);
    addon.matmul(heapBuffer(backend), offsetOf(backend, a), offsetOf(backend, b), offsetOf(backend, out), fields);
    return out;
  };
  return { kernelName: tf.BatchMatMul, backendName: 'native', kernelFunc };
}
