/**
 * Replacement for tfjs-core's Conv2D gradient, which asserts dilation == 1 on every backend.
 * Undilated convs keep using the backend's Conv2DBackpropInput/Filter kernels (native on
 * tensorflow, ours on wasm); dilated (atrous) convs get both gradients as forward convolutions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tapPlan, tapSumFilterGrad, tapSumInputGrad } from './atrous-taps.ts';
import { conv2dFilterGrad, conv2dInputGrad, type ConvGeometry, type Shape4 } from './conv-backprop.ts';

type Pair = [number, number];
type GradMap = Record<string, () => tf.Tensor>;

function pair(v: number | Pair): Pair {
  return typeof v === 'number' ? [v, v] : v;
}

const toNHWC = (t: tf.Tensor4D): tf.Tensor4D => tf.transpose(t, [0, 2, 3, 1]);
const toNCHW = (t: tf.Tensor4D): tf.Tensor4D => tf.transpose(t, [0, 3, 1, 2]);

/** Gradients via the backend's own backprop kernels (same call tfjs-core makes). */
function kernelGrads(x: tf.Tensor4D, filter: tf.Tensor4D, dy: tf.Tensor4D, a: tf.Conv2DAttrs): GradMap {
  const common = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
  const attrs = (extra: Record<string, unknown>): tf.NamedAttrMap => ({ ...common, ...extra }) as unknown as tf.NamedAttrMap;
  return {
    x: () =>
      tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter }, attrs({ inputShape: x.shape })) as tf.Tensor4D,
    filter: () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs({ filterShape: filter.shape })) as tf.Tensor4D,
  };
}

/** Gradients composed from forward convs; handles any dilation. */
function composedGrads(x: tf.Tensor4D, filter: tf.Tensor4D, dy: tf.Tensor4D, a: tf.Conv2DAttrs): GradMap {
  const nchw = a.dataFormat === 'NCHW';
  const g: ConvGeometry = { strides: a.strides, pad: a.pad, dilations: a.dilations };
  if (a.dimRoundingMode != null) g.dimRoundingMode = a.dimRoundingMode;
  const xs = x.shape;
  const xShape: Shape4 = nchw ? [xs[0], xs[2], xs[3], xs[1]] : xs;
  const [sh, sw] = pair(a.strides);
  if (sh === 1 && sw === 1) {
    // the common atrous case: per-tap matrix products over the valid regions (see atrous-taps.ts)
    const p = tapPlan(xShape, filter.shape, a.pad, a.dilations, a.dimRoundingMode);
    return {
      x: () => {
        const dx = tapSumInputGrad(nchw ? toNHWC(dy) : dy, filter, xShape, p);
        return nchw ? toNCHW(dx) : dx;
      },
      filter: () => tapSumFilterGrad(nchw ? toNHWC(x) : x, nchw ? toNHWC(dy) : dy, filter.shape, p),
    };
  }
  return {
    x: () => {
      const dx = conv2dInputGrad(nchw ? toNHWC(dy) : dy, filter, xShape, g);
      return nchw ? toNCHW(dx) : dx;
    },
    filter: () => conv2dFilterGrad(nchw ? toNHWC(x) : x, nchw ? toNHWC(dy) : dy, filter.shape, g),
  };
}

export const conv2DGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as tf.Conv2DAttrs;
    const [dh, dw] = pair(a.dilations);
    const grads = dh === 1 && dw === 1 ? kernelGrads : composedGrads;
    return grads(x, filter, dy as tf.Tensor4D, a);
  },
};
