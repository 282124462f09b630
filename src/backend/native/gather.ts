/**
 * GatherV2 (batchDims 0, float32 data, int32 indices) as row copies on both cores; U2PL's
 * contrastive loss gathers feature rows with it. An out-of-range index throws, as on tfjs-cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.ts';
import { asHeapBackend, heapBuffer, offsetOf, sizeOf } from './heap.ts';

export function nativeGatherKernel(addon: NativeAddon, fallback: (name: string) => tf.KernelFunc): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x, indices } = args.inputs;
    const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
    if (x == null || indices == null) throw new Error('native GatherV2: missing input');
    const ax = tf.util.parseAxisParam(axis, x.shape)[0] ?? 0;
    const nIdx = sizeOf(indices.shape);
    if (x.dtype !== 'float32' || indices.dtype !== 'int32' || (batchDims ?? 0) !== 0 || nIdx === 0 || sizeOf(x.shape) === 0) {
      return fallback(tf.GatherV2)(args);
    }
    const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
    const backend = asHeapBackend(args.backend);
    const out = backend.makeOutput(outShape, 'float32');
    const fields = Int32Array.from([sizeOf(x.shape.slice(0, ax)), x.shape[ax]!, nIdx, sizeOf(x.shape.slice(ax + 1))]);
    addon.gather(heapBuffer(backend), offsetOf(backend, x), offsetOf(backend, indices), offsetOf(backend, out), fields);
    return out;
  };
  return { kernelName: tf.GatherV2, backendName: 'native', kernelFunc };
}
