/**
 * MaxPoolGrad in C++ (native/src/pooling.cc): tfjs-wasm's takes ~100 ms for the ResNet stem pool
 * at batch 4. Same tie rule as tfjs (first maximum of the window in row-major order).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.ts';
import { asHeapBackend, heapBuffer, offsetOf, sizeOf } from './heap.ts';

export function nativeMaxPoolGradKernel(addon: NativeAddon, fallback: (name: string) => tf.KernelFunc): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { dy, input } = args.inputs;
    const a = args.attrs as unknown as tf.MaxPoolGradAttrs;
    if (dy == null || input == null) throw new Error('native MaxPoolGrad: missing input');
    if (input.dtype !== 'float32' || dy.dtype !== 'float32' || input.shape.length !== 4 || sizeOf(input.shape) === 0) {
      return fallback(tf.MaxPoolGrad)(args);
    }
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode,
    );
    const backend = asHeapBackend(args.backend);
    const out = backend.makeOutput([...input.shape], 'float32');
    const fields = Int32Array.from([
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
      info.padInfo.top, info.padInfo.left,
    ]);
    addon.maxPoolGrad(heapBuffer(backend), offsetOf(backend, input), offsetOf(backend, dy), offsetOf(backend, out), fields);
    return out;
  };
  return { kernelName: tf.MaxPoolGrad, backendName: 'native', kernelFunc };
}
