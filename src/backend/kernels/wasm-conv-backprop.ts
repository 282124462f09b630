/**
 * wasm kernels Conv2DBackpropInput (replacing tfjs's, ~20x slower than a forward conv) and
 * Conv2DBackpropFilter (which tfjs-backend-wasm 4.22 lacks, so tfjs fell back to nothing) built
 * on XNNPACK forward convolutions via conv-backprop.ts.
 *
 * A kernelFunc may run ops: the engine has raised its kernel depth, so nothing is taped, and a
 * returned Tensor is adopted as the kernel output as is. `tidy` frees every intermediate.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dInputGrad, type ConvGeometry, type Shape4 } from './conv-backprop.ts';

interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

function hasIncRef(backend: unknown): backend is RefCountingBackend {
  return typeof (backend as Partial<RefCountingBackend> | null)?.incRef === 'function';
}

/**
 * Inputs arrive as Tensors when the kernel runs through `engine.runKernel`; a bare TensorInfo is
 * wrapped with its own reference so that disposing the wrapper cannot free the caller's data.
 */
export function asTensor4D(info: tf.TensorInfo | undefined, backend: unknown, name: string): tf.Tensor4D {
  if (info == null) throw new Error(`conv backprop kernel: missing input "${name}"`);
  if (info instanceof tf.Tensor) return info as tf.Tensor4D;
  if (!hasIncRef(backend)) throw new Error(`conv backprop kernel: input "${name}" is not a Tensor`);
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor4D;
}

const toNHWC = (t: tf.Tensor4D): tf.Tensor4D => tf.transpose(t, [0, 2, 3, 1]);
const toNCHW = (t: tf.Tensor4D): tf.Tensor4D => tf.transpose(t, [0, 3, 1, 2]);
const nhwcShape = (s: Shape4): Shape4 => [s[0], s[2], s[3], s[1]];

function geometry(attrs: tf.Conv2DBackpropInputAttrs | tf.Conv2DBackpropFilterAttrs): ConvGeometry {
  const g: ConvGeometry = { strides: attrs.strides, pad: attrs.pad, dilations: 1 };
  if (attrs.dimRoundingMode != null) g.dimRoundingMode = attrs.dimRoundingMode;
  return g;
}

const backpropInput: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const nchw = a.dataFormat === 'NCHW';
  return tf.tidy(() => {
    const dy = asTensor4D(inputs['dy'], backend, 'dy');
    const filter = asTensor4D(inputs['filter'], backend, 'filter');
    const xShape = nchw ? nhwcShape(a.inputShape) : a.inputShape;
    const dx = conv2dInputGrad(nchw ? toNHWC(dy) : dy, filter, xShape, geometry(a));
    return nchw ? toNCHW(dx) : dx;
  });
};

const backpropFilter: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const nchw = a.dataFormat === 'NCHW';
  return tf.tidy(() => {
    const x = asTensor4D(inputs['x'], backend, 'x');
    const dy = asTensor4D(inputs['dy'], backend, 'dy');
    return conv2dFilterGrad(nchw ? toNHWC(x) : x, nchw ? toNHWC(dy) : dy, a.filterShape, geometry(a));
  });
};

export const wasmConvBackpropKernels: readonly tf.KernelConfig[] = [
  { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', kernelFunc: backpropInput },
  { kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: backpropFilter },
];
