/**
 * Convolutions whose outer filter taps only ever read zero padding. A dilated 3×3 conv with
 * padding = dilation on a map no larger than the dilation (DeepLab's ASPP at rates 12-36 on a
 * 17×17 or 4×4 map) is in fact a 1×1 conv with the centre tap: XNNPACK would still multiply all
 * nine taps (eight of them by zeros) in the forward and in both gradients, and the dilated form
 * goes through space-to-batch with d² batch entries. Dropping those taps is exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Precision } from '../precision.ts';

export interface TapRange {
  /** first useful tap */
  first: number;
  /** number of useful taps */
  count: number;
  /** explicit padding of the pruned conv */
  pad: [number, number];
}

/**
 * Useful taps along one axis of a conv with `padBefore` zeros ahead of the input: tap t reads
 * rows o·s + t·d − padBefore for o < outSize. Null when every tap is useful or when pruning would
 * need a crop (negative padding), which the symmetric paddings of the models never do.
 */
export function usefulTaps(inSize: number, outSize: number, k: number, s: number, d: number, padBefore: number): TapRange | null {
  let first = -1;
  let last = -1;
  for (let t = 0; t < k; t++) {
    const lo = t * d - padBefore;
    const hi = (outSize - 1) * s + t * d - padBefore;
    if (hi >= 0 && lo < inSize) {
      if (first < 0) first = t;
      last = t;
    }
  }
  if (first < 0 || (first === 0 && last === k - 1)) return null;
  const count = last - first + 1;
  const before = padBefore - first * d;
  const after = (outSize - 1) * s + (count - 1) * d + 1 - inSize - before;
  return before < 0 || after < 0 ? null : { first, count, pad: [before, after] };
}

type Pair = [number, number];
const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

/**
 * tf.conv2d, with the project's `precision` attr when it is not fp32 (src/backend/precision.ts;
 * only the native backend reads it, and its Conv2D gradient passes it on).
 */
function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, strides: Pair, pad: 'valid' | tf.backend_util.ExplicitPadding, dilations: Pair, precision: Precision): tf.Tensor4D {
  if (precision === 'fp32') return tf.conv2d(x, w, strides, pad, 'NHWC', dilations);
  const attrs = { strides, pad, dataFormat: 'NHWC', dilations, precision };
  return tf.engine().runKernel(tf.Conv2D, { x, filter: w }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * tf.conv2d (NHWC, explicit symmetric padding `pad` per side) with taps that read only padding
 * removed from the filter first; the filter slice makes autodiff scatter the pruned gradient
 * back into the full filter.
 */
export function conv2dPruned(
  x: tf.Tensor4D, w: tf.Tensor4D, strides: number | Pair, pad: number, dilations: number | Pair, precision: Precision = 'fp32',
): tf.Tensor4D {
  const [sh, sw] = pair(strides);
  const [dh, dw] = pair(dilations);
  const [, h, wd] = x.shape;
  const [kh, kw] = w.shape;
  const outH = Math.floor((h + 2 * pad - dh * (kh - 1) - 1) / sh) + 1;
  const outW = Math.floor((wd + 2 * pad - dw * (kw - 1) - 1) / sw) + 1;
  const th = usefulTaps(h, outH, kh, sh, dh, pad);
  const tw = usefulTaps(wd, outW, kw, sw, dw, pad);
  const explicit = (ph: Pair, pw: Pair): tf.backend_util.ExplicitPadding => [[0, 0], ph, pw, [0, 0]];
  if (th == null && tw == null) {
    return conv2d(x, w, [sh, sw], pad === 0 ? 'valid' : explicit([pad, pad], [pad, pad]), [dh, dw], precision);
  }
  const rh = th ?? { first: 0, count: kh, pad: [pad, pad] as Pair };
  const rw = tw ?? { first: 0, count: kw, pad: [pad, pad] as Pair };
  const wp = tf.slice(w, [rh.first, rw.first, 0, 0], [rh.count, rw.count, w.shape[2], w.shape[3]]);
  // a single tap has no dilation; keeps the undilated (fast-gradient) path where possible
  const dil: Pair = [rh.count === 1 ? 1 : dh, rw.count === 1 ? 1 : dw];
  return conv2d(x, wp, [sh, sw], explicit(rh.pad, rw.pad), dil, precision);
}
