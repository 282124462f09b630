/**
 * wasm Conv2D that sends stride-1 dilated convs through atrous.ts (space-to-batch + undilated
 * XNNPACK conv, ~3× faster than XNNPACK's dilated conv here) and everything else to tfjs's kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { atrousConv2d, atrousPlan } from './atrous.ts';
import { asTensor4D } from './wasm-conv-backprop.ts';

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

export function wasmAtrousConv2D(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const a = args.attrs as unknown as tf.Conv2DAttrs;
    const [sh, sw] = pair(a.strides);
    const [dh, dw] = pair(a.dilations);
    if (dh === 1 || dh !== dw || sh !== 1 || sw !== 1 || a.dataFormat === 'NCHW') return original.kernelFunc(args);
    return tf.tidy(() => {
      const x = asTensor4D(args.inputs['x'], args.backend, 'x');
      const w = asTensor4D(args.inputs['filter'], args.backend, 'filter');
      return atrousConv2d(x, w, atrousPlan(x.shape, w.shape, a.pad, dh, a.dimRoundingMode));
    });
  };
  const config: tf.KernelConfig = { kernelName: tf.Conv2D, backendName: 'wasm', kernelFunc };
  if (original.setupFunc) config.setupFunc = original.setupFunc;
  return config;
}
