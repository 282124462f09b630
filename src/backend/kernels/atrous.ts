/**
 * Atrous (dilated, stride-1) convolution as an undilated convolution on a space-to-batch
 * rearrangement, the way TensorFlow's atrous_conv2d does it: with dilation d, the d×d phases of
 * the (padded) input become d² batch entries in which the dilated taps are adjacent. XNNPACK's
 * dilated conv on wasm runs at ~1/4 of its undilated speed, and the gradients of the undilated
 * conv are the fast ones, so forward and both gradients go through this form.
 *
 * The rearrangements use only pad/slice, reshape and 4-D transposes: tfjs-wasm's own
 * SpaceToBatchND/BatchToSpaceND/DepthToSpace and 6-D transposes are an order of magnitude slower.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dInputGrad, type Shape4 } from './conv-backprop.ts';
import { batchToSpace, spaceToBatch } from './space-batch.ts';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Pair = [number, number];

export interface AtrousPlan {
  d: number;
  /** padding (negative: cropping) before/after per spatial axis ahead of space-to-batch */
  padH: Pair;
  padW: Pair;
  /**
   * padding of the undilated conv: the s2b rows/cols that would be all padding are left to the
   * conv's own zero padding, so that the input gradient is not computed for them (for small maps
   * with large d they are half of the s2b tensor)
   */
  convPad: tf.backend_util.ExplicitPadding;
  /** rows/cols to crop from the end after batch-to-space */
  cropH: number;
  cropW: number;
  /** shape of the space-to-batch input */
  s2bShape: Shape4;
}

interface AxisPlan {
  pad: Pair;
  conv: Pair;
  crop: number;
  len: number;
}

function axisPlan(size: number, before: number, out: number, k: number, d: number): AxisPlan {
  // rows read: out + (k-1)d from `before` rows ahead of x; round the total up to a multiple of d
  const need = out + (k - 1) * d;
  const total = Math.ceil(need / d) * d;
  const after = total - size - before;
  const convBefore = Math.floor(before / d);
  const convAfter = Math.max(0, Math.floor(after / d));
  return {
    pad: [before - convBefore * d, after - convAfter * d],
    conv: [convBefore, convAfter],
    crop: total - need,
    len: total / d - convBefore - convAfter,
  };
}

export function atrousPlan(xShape: Shape4, wShape: Shape4, pad: Pad, d: number, dimRoundingMode?: 'floor' | 'round' | 'ceil'): AtrousPlan {
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, 1, d, pad, dimRoundingMode, false, 'channelsLast');
  const [n, h, w, c] = xShape;
  const ah = axisPlan(h, info.padInfo.top, info.outHeight, wShape[0], d);
  const aw = axisPlan(w, info.padInfo.left, info.outWidth, wShape[1], d);
  return {
    d,
    padH: ah.pad,
    padW: aw.pad,
    convPad: [[0, 0], ah.conv, aw.conv, [0, 0]],
    cropH: ah.crop,
    cropW: aw.crop,
    s2bShape: [d * d * n, ah.len, aw.len, c],
  };
}

/** Pads (positive) or crops (negative amounts) the spatial axes. */
function padOrCrop(x: tf.Tensor4D, ph: Pair, pw: Pair): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const crop = (v: number): number => Math.max(0, -v);
  let y = x;
  if (ph.some((v) => v < 0) || pw.some((v) => v < 0)) {
    y = tf.slice(x, [0, crop(ph[0]), crop(pw[0]), 0], [n, h - crop(ph[0]) - crop(ph[1]), w - crop(pw[0]) - crop(pw[1]), c]);
  }
  const grow = (v: number): number => Math.max(0, v);
  if (ph.some((v) => v > 0) || pw.some((v) => v > 0)) {
    y = tf.pad(y, [[0, 0], [grow(ph[0]), grow(ph[1])], [grow(pw[0]), grow(pw[1])], [0, 0]]);
  }
  return y;
}

function toBatch(x: tf.Tensor4D, p: AtrousPlan): tf.Tensor4D {
  return spaceToBatch(padOrCrop(x, p.padH, p.padW), p.d);
}

function fromBatch(y: tf.Tensor4D, p: AtrousPlan, crop: [Pair, Pair]): tf.Tensor4D {
  return padOrCrop(batchToSpace(y, p.d), [-crop[0][0], -crop[0][1]], [-crop[1][0], -crop[1][1]]);
}

/** y = conv2d(x, w, 1, pad, 'NHWC', d) through an undilated conv. */
export function atrousConv2d(x: tf.Tensor4D, w: tf.Tensor4D, p: AtrousPlan): tf.Tensor4D {
  return tf.tidy(() => {
    const ys = tf.conv2d(toBatch(x, p), w, 1, p.convPad);
    return fromBatch(ys, p, [[0, p.cropH], [0, p.cropW]]);
  });
}

/** dL/dx of the atrous conv: the gradient of the undilated conv, mapped back through the rearrangement. */
export function atrousInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, p: AtrousPlan): tf.Tensor4D {
  return tf.tidy(() => {
    const dys = spaceToBatch(padOrCrop(dy, [0, p.cropH], [0, p.cropW]), p.d);
    const dxs = conv2dInputGrad(dys, w, p.s2bShape, { strides: 1, pad: p.convPad, dilations: 1 });
    return fromBatch(dxs, p, [p.padH, p.padW]);
  });
}

export function atrousFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, wShape: Shape4, p: AtrousPlan): tf.Tensor4D {
  return tf.tidy(() => {
    const dys = spaceToBatch(padOrCrop(dy, [0, p.cropH], [0, p.cropW]), p.d);
    return conv2dFilterGrad(toBatch(x, p), dys, wShape, { strides: 1, pad: p.convPad, dilations: 1 });
  });
}
