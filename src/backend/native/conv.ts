/**
 * Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter on oneDNN (NHWC activations, HWIO filters,
 * any stride, padding and dilation). Anything oneDNN is not given (NCHW, non-float32, empty
 * tensors) goes to the wasm kernel the native backend copied.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.ts';
import { asHeapBackend, heapBuffer, offsetOf, sizeOf } from './heap.ts';
import { precisionField } from './precision-field.ts';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Pair = [number, number];
type Shape4 = [number, number, number, number];

interface Geometry {
  strides: number | Pair;
  pad: Pad;
  dilations?: number | Pair;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
  /** 'bf16': bf16 operands, fp32 accumulation (src/backend/precision.ts); absent: fp32 */
  precision?: string;
}

/** The 18 shape fields of native/src/kernels.h ConvShape, from tfjs's own geometry and the precision. */
export function convFields(xShape: Shape4, wShape: Shape4, g: Geometry): { fields: Int32Array; outShape: Shape4 } {
  const info = tf.backend_util.computeConv2DInfo(
    xShape, wShape, g.strides, g.dilations ?? 1, g.pad, g.dimRoundingMode, false, 'channelsLast',
  );
  const p = info.padInfo;
  // oneDNN wants (in - span + padBefore + padAfter) / stride + 1 == out exactly; tfjs's pads may
  // leave the trailing rows unread, so the after-pads are derived from the output size
  const span = (k: number, d: number): number => (k - 1) * d + 1;
  const after = (out: number, s: number, k: number, d: number, inSize: number, before: number): number =>
    Math.max(0, (out - 1) * s + span(k, d) - inSize - before);
  const pb = after(info.outHeight, info.strideHeight, info.filterHeight, info.dilationHeight, info.inHeight, p.top);
  const pr = after(info.outWidth, info.strideWidth, info.filterWidth, info.dilationWidth, info.inWidth, p.left);
  const fields = Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outChannels,
    info.filterHeight, info.filterWidth, info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    p.top, p.left, pb, pr, precisionField(g.precision),
  ]);
  return { fields, outShape: info.outShape as Shape4 };
}

const usable = (g: Geometry, ...ts: tf.TensorInfo[]): boolean =>
  g.dataFormat !== 'NCHW' && ts.every((t) => t.dtype === 'float32' && sizeOf(t.shape) > 0);

function need(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t == null) throw new Error(`native conv kernel: missing input "${name}"`);
  return t;
}

/** Kernels for backend 'native'; `fallback(name)` is the copied wasm kernel of that name. */
export function nativeConvKernels(addon: NativeAddon, fallback: (name: string) => tf.KernelFunc): tf.KernelConfig[] {
  const conv2D: tf.KernelFunc = (args) => {
    const a = args.attrs as unknown as tf.Conv2DAttrs;
    const x = need(args.inputs, 'x');
    const w = need(args.inputs, 'filter');
    if (!usable(a, x, w)) return fallback(tf.Conv2D)(args);
    const backend = asHeapBackend(args.backend);
    const { fields, outShape } = convFields(x.shape as Shape4, w.shape as Shape4, a);
    const out = backend.makeOutput(outShape, 'float32');
    addon.conv(0, heapBuffer(backend), offsetOf(backend, x), offsetOf(backend, w), offsetOf(backend, out), fields);
    return out;
  };
  const backpropInput: tf.KernelFunc = (args) => {
    // `dilations` is not a tfjs attr of this kernel; native's Conv2D gradient passes it
    const a = args.attrs as unknown as tf.Conv2DBackpropInputAttrs & { dilations?: number | Pair };
    const dy = need(args.inputs, 'dy');
    const w = need(args.inputs, 'filter');
    if (!usable(a, dy, w)) return fallback(tf.Conv2DBackpropInput)(args);
    const backend = asHeapBackend(args.backend);
    const xShape = [...a.inputShape] as Shape4;
    const { fields } = convFields(xShape, w.shape as Shape4, a);
    const out = backend.makeOutput(xShape, 'float32');
    addon.conv(1, heapBuffer(backend), offsetOf(backend, dy), offsetOf(backend, w), offsetOf(backend, out), fields);
    return out;
  };
  const backpropFilter: tf.KernelFunc = (args) => {
    const a = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs & { dilations?: number | Pair };
    const x = need(args.inputs, 'x');
    const dy = need(args.inputs, 'dy');
    if (!usable(a, x, dy)) return fallback(tf.Conv2DBackpropFilter)(args);
    const backend = asHeapBackend(args.backend);
    const wShape = [...a.filterShape] as Shape4;
    const { fields } = convFields(x.shape as Shape4, wShape, a);
    const out = backend.makeOutput(wShape, 'float32');
    addon.conv(2, heapBuffer(backend), offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, out), fields);
    return out;
  };
  return [
    { kernelName: tf.Conv2D, backendName: 'native', kernelFunc: conv2D },
    { kernelName: tf.Conv2DBackpropInput, backendName: 'native', kernelFunc: backpropInput },
    { kernelName: tf.Conv2DBackpropFilter, backendName: 'native', kernelFunc: backpropFilter },
  ];
}
