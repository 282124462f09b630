/**
 * wasm Conv2D wrapper: sends stride-1 dilated convs through atrous-taps.ts (a sum of per-tap
 * matrix products over the valid region; 2-27× faster than the space-to-batch form for DeepLab's
 * rates on 17×17 maps, which itself was ~3× faster than XNNPACK's dilated conv), turns 'same'
 * padding into the equivalent explicit padding, and passes everything else to tfjs's kernel.
 *
 * The padding rewrite works around tfjs-wasm 4.22 returning all zeros for 'same' convs whose
 * stride exceeds the kernel (e.g. 3×3 at stride 4 or 8, 2×2 at stride 4): it hands XNNPACK its
 * TensorFlow-SAME flag, which XNNPACK rejects for such geometries, and the output stays zeroed.
 * Explicit pads (computed by tfjs exactly as for 'same') give identical results for every stride.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tapPlan, tapSumConv } from './atrous-taps.ts';
import { asTensor4D } from './wasm-conv-backprop.ts';

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** The explicit padding tfjs derives for `pad` ('same' or a number), or `pad` itself when explicit/valid. */
function explicitPad(x: tf.TensorInfo, filter: tf.TensorInfo, a: tf.Conv2DAttrs): tf.Conv2DAttrs['pad'] {
  if (a.pad !== 'same') return a.pad;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
  const p = info.padInfo;
  return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

export function wasmAtrousConv2D(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const a = args.attrs as unknown as tf.Conv2DAttrs;
    const [sh, sw] = pair(a.strides);
    const [dh, dw] = pair(a.dilations);
    if (a.dataFormat === 'NCHW') return original.kernelFunc(args);
    if ((dh === 1 && dw === 1) || sh !== 1 || sw !== 1) {
      if (a.pad !== 'same') return original.kernelFunc(args);
      const x = args.inputs['x']!;
      const filter = args.inputs['filter']!;
      const attrs = { ...a, pad: explicitPad(x, filter, a) } as unknown as tf.NamedAttrMap;
      return original.kernelFunc({ ...args, attrs });
    }
    return tf.tidy(() => {
      const x = asTensor4D(args.inputs['x'], args.backend, 'x');
      const w = asTensor4D(args.inputs['filter'], args.backend, 'filter');
      return tapSumConv(x, w, tapPlan(x.shape, w.shape, a.pad, [dh, dw], a.dimRoundingMode));
    });
  };
  const config: tf.KernelConfig = { kernelName: tf.Conv2D, backendName: 'wasm', kernelFunc };
  if (original.setupFunc) config.setupFunc = original.setupFunc;
  return config;
}
