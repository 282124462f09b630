/**
 * Conv2D gradient for backend 'native': oneDNN's backward kernels take any dilation, so dilated
 * (atrous) convs use them directly instead of the space-to-batch composition that the project's
 * gradient (src/backend/kernels/conv-gradient.ts) uses on other backends. Gradients are global in
 * tfjs, so on every other backend, or for NCHW, this defers to the gradient it wraps.
 */
import * as tf from '@tensorflow/tfjs-core';

type Pair = [number, number];

export function nativeConv2DGrad(previous: tf.GradConfig | undefined): tf.GradConfig {
  return {
    kernelName: tf.Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as unknown as tf.Conv2DAttrs & { precision?: string };
      if (tf.getBackend() !== 'native' || a.dataFormat === 'NCHW') {
        if (previous?.gradFunc == null) throw new Error('no Conv2D gradient to defer to');
        return previous.gradFunc(dy, saved, attrs);
      }
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      // the gradients run in the forward's precision (bf16 operands, fp32 accumulation)
      const common = {
        strides: a.strides, pad: a.pad, dimRoundingMode: a.dimRoundingMode, dilations: a.dilations as number | Pair, precision: a.precision,
      };
      const run = (name: string, inputs: tf.NamedTensorMap, extra: Record<string, unknown>): tf.Tensor4D =>
        tf.engine().runKernel(name, inputs, { ...common, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
      return {
        x: () => run(tf.Conv2DBackpropInput, { dy: dy as tf.Tensor4D, filter }, { inputShape: x.shape }),
        filter: () => run(tf.Conv2DBackpropFilter, { x, dy: dy as tf.Tensor4D }, { filterShape: filter.shape }),
      };
    },
  };
}
