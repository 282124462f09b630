/**
 * Both gradients of a 2-D convolution (NHWC, filter [kh, kw, ci, co]) written as forward
 * convolutions and matrix products, using public tfjs ops only. Backends whose forward conv is
 * fast (XNNPACK on wasm) thereby get fast gradients, and dilated convs get gradients at all:
 * tfjs 4.22 refuses dilation > 1 in its own Conv2D gradient on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  convAxes,
  filterGradPads,
  inputGradPlan,
  type ConvAxis,
  type InputGradPhase,
  type Pads,
  type Shape4,
} from './conv-geometry.ts';
import { spaceToBatch } from './space-batch.ts';
import { tapPlan, tapSumInputGrad } from './atrous-taps.ts';

export type { Shape4 } from './conv-geometry.ts';

export interface ConvGeometry {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** 'conv': one forward conv with batch as channels; 'im2col': transposed patch matrix × dy. */
export type FilterGradMethod = 'auto' | 'conv' | 'im2col';

/**
 * Up to this many elements (64 MiB) the im2col filter gradient builds the whole patch matrix for
 * one product; above it, one tap's patch at a time (a copy of x, not kh·kw of them, in memory).
 */
const ONE_PRODUCT_MAX_ELEMENTS = 16 * 1024 * 1024;

function conv2dInfo(xShape: Shape4, filterShape: Shape4, g: ConvGeometry): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    g.strides,
    g.dilations,
    g.pad,
    g.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** Applies `pads` to the spatial axes: crops the input where negative, pads (in the conv) where positive. */
function cropForPads(x: tf.Tensor4D, ph: Pads, pw: Pads): { x: tf.Tensor4D; pad: tf.backend_util.ExplicitPadding } {
  const [n, h, w, c] = x.shape;
  const top = Math.max(0, -ph.before);
  const bottom = Math.max(0, -ph.after);
  const left = Math.max(0, -pw.before);
  const right = Math.max(0, -pw.after);
  const cropped =
    top + bottom + left + right > 0 ? tf.slice(x, [0, top, left, 0], [n, h - top - bottom, w - left - right, c]) : x;
  const pad: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [Math.max(0, ph.before), Math.max(0, ph.after)],
    [Math.max(0, pw.before), Math.max(0, pw.after)],
    [0, 0],
  ];
  return { x: cropped, pad };
}

/**
 * The taps of `w` along `axis`, in the given order, as slices + one concat: tfjs-wasm's Gather,
 * Reverse and StridedSlice are generic element loops, an order of magnitude slower than these.
 */
function pickTaps(w: tf.Tensor4D, taps: number[], axis: 0 | 1): tf.Tensor4D {
  const size = w.shape[axis];
  if (taps.length === size && taps.every((t, i) => t === i)) return w;
  const parts = taps.map((t) => {
    const begin = [0, 0, 0, 0];
    const extent: number[] = [...w.shape];
    begin[axis] = t;
    extent[axis] = 1;
    return tf.slice(w, begin, extent);
  });
  return parts.length === 1 ? parts[0]! : tf.concat(parts, axis);
}

/** Sub-filter [taps_h, taps_w, co, ci] of the in/out-transposed filter `wT` [kh, kw, co, ci]. */
function subFilter(wT: tf.Tensor4D, tapsH: number[], tapsW: number[]): tf.Tensor4D {
  return pickTaps(pickTaps(wT, tapsH, 0), tapsW, 1);
}

function phaseGrad(dy: tf.Tensor4D, wT: tf.Tensor4D, ph: InputGradPhase, pw: InputGradPhase, shape: Shape4): tf.Tensor4D {
  if (ph.taps.length === 0 || pw.taps.length === 0) return tf.zeros(shape);
  const { x, pad } = cropForPads(dy, ph.pads, pw.pads);
  return tf.conv2d(x, subFilter(wT, ph.taps, pw.taps), 1, pad, 'NHWC', [ph.dilation, pw.dilation]);
}

/**
 * Interleaves stride phases (row-major over (r_h, r_w)) into one tensor of phaseSize·stride.
 * Concatenating along channels then reshaping interleaves columns (and along width, rows) with no
 * transpose: tfjs-wasm's DepthToSpace and 6-D transposes are slow element loops.
 */
function interleave(phases: tf.Tensor4D[], sh: number, sw: number): tf.Tensor4D {
  if (phases.length === 1) return phases[0]!;
  const [n, qh, qw, c] = phases[0]!.shape;
  const rows: tf.Tensor4D[] = [];
  for (let rh = 0; rh < sh; rh++) {
    const cols = phases.slice(rh * sw, (rh + 1) * sw);
    rows.push(sw === 1 ? cols[0]! : tf.reshape(tf.concat(cols, 3), [n, qh, qw * sw, c]));
  }
  return sh === 1 ? rows[0]! : tf.reshape(tf.concat(rows, 2), [n, qh * sh, qw * sw, c]);
}

/**
 * dL/dx of y = conv2d(x, filter) given dy = dL/dy. Stride 1 with a filter larger than the
 * activations (deep layers on small maps) goes through tap sums, which avoid transposing and
 * flipping the filter; otherwise one forward conv per stride phase.
 */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, xShape: Shape4, g: ConvGeometry): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const [n, oh, ow] = dy.shape;
  const unitStride = g.strides === 1 || (Array.isArray(g.strides) && g.strides[0] === 1 && g.strides[1] === 1);
  if (unitStride && n * (oh * ow * co + xShape[1] * xShape[2] * ci) < kh * kw * ci * co) {
    return tapSumInputGrad(dy, filter, xShape, tapPlan(xShape, filter.shape, g.pad, g.dilations, g.dimRoundingMode));
  }
  return tf.tidy(() => {
    const [ah, aw] = convAxes(conv2dInfo(xShape, filter.shape, g));
    const planH = inputGradPlan(ah);
    const planW = inputGradPlan(aw);
    const wT = tf.transpose(filter, [0, 1, 3, 2]);
    const phaseShape: Shape4 = [xShape[0], planH.phaseSize, planW.phaseSize, xShape[3]];
    const phases: tf.Tensor4D[] = [];
    for (const ph of planH.phases) {
      for (const pw of planW.phases) phases.push(phaseGrad(dy, wT, ph, pw, phaseShape));
    }
    const full = interleave(phases, ah.stride, aw.stride);
    const [, h, w] = full.shape;
    if (h === xShape[1] && w === xShape[2]) return full;
    return tf.slice(full, [0, 0, 0, 0], xShape);
  });
}

/**
 * x laid out for the im2col filter gradient: channels first, [ci, phase·n + b, H', W'], where a
 * stride s is taken out first by splitting the padded x into its s×s phases (space-to-batch), so
 * that every tap reads one phase with a plain slice (tfjs-wasm's StridedSlice is an element loop).
 */
function channelFirstPhases(x: tf.Tensor4D, ah: ConvAxis, aw: ConvAxis): tf.Tensor4D {
  const s = ah.stride;
  if (aw.stride !== s) throw new Error('im2col filter gradient needs equal strides');
  const ph = filterGradPads(ah);
  const pw = filterGradPads(aw);
  // round the padded extent up to a multiple of s; the extra zeros are never read
  const afterH = Math.ceil((ah.inSize + ph.before + ph.after) / s) * s - ah.inSize - ph.before;
  const afterW = Math.ceil((aw.inSize + pw.before + pw.after) / s) * s - aw.inSize - pw.before;
  const padded =
    ph.before + afterH + pw.before + afterW > 0 ? tf.pad(x, [[0, 0], [ph.before, afterH], [pw.before, afterW], [0, 0]]) : x;
  return tf.transpose(s > 1 ? spaceToBatch(padded, s) : padded, [3, 0, 1, 2]);
}

/**
 * dW[t, u] = Σ_m patch_tu[c, m] · dy[m, co] with m in (n, oh, ow) order: dy's own NHWC layout, so
 * dy is neither transposed nor re-packed (XNNPACK caches the packed right operand per tensor), and
 * each [ci, co] product lands in filter order with no transpose afterwards. tfjs-wasm runs matMul
 * with transposeA/B as a naive loop (~0.7 GFLOP/s against 10-20), hence the explicit layouts.
 * One tap's patch is alive at a time, so the extra memory is one copy of x, not kh·kw.
 */
function filterGradByIm2col(x: tf.Tensor4D, dy: tf.Tensor4D, ah: ConvAxis, aw: ConvAxis, filterShape: Shape4): tf.Tensor4D {
  const [n, oh, ow, co] = dy.shape;
  const [kh, kw, ci] = filterShape;
  const s = ah.stride;
  const m = n * oh * ow;
  const dy2d = tf.reshape(dy, [m, co]);
  const xs = channelFirstPhases(x, ah, aw);
  const patch = (t: number, u: number): tf.Tensor2D => {
    const offH = t * ah.dilation;
    const offW = u * aw.dilation;
    const phase = (offH % s) * s + (offW % s);
    const begin = [0, phase * n, Math.floor(offH / s), Math.floor(offW / s)];
    const whole = xs.shape[1] === n && xs.shape[2] === oh && xs.shape[3] === ow;
    return tf.reshape(whole ? xs : tf.slice(xs, begin, [ci, n, oh, ow]), [ci, m]);
  };
  const taps: [number, number][] = [];
  for (let t = 0; t < kh; t++) for (let u = 0; u < kw; u++) taps.push([t, u]);
  if (taps.length > 1 && taps.length * ci * m <= ONE_PRODUCT_MAX_ELEMENTS) {
    // one [kh·kw·ci, m] × [m, co] product: XNNPACK packs dy once and runs a tall matrix
    const cols = tf.tidy(() => tf.concat(taps.map(([t, u]) => patch(t, u)), 0));
    return tf.reshape(tf.matMul(cols, dy2d), filterShape);
  }
  const perTap = taps.map(([t, u]) => tf.tidy(() => tf.matMul(patch(t, u), dy2d)));
  return tf.reshape(perTap.length === 1 ? perTap[0]! : tf.concat(perTap, 0), filterShape);
}

function filterGradByConv(x: tf.Tensor4D, dy: tf.Tensor4D, ah: ConvAxis, aw: ConvAxis, filterShape: Shape4): tf.Tensor4D {
  const [kh, kw, ci, co] = filterShape;
  // batch plays the channel role and dy the filter role; see filterGradPads
  const xT = tf.transpose(x, [3, 1, 2, 0]);
  const dyT = tf.transpose(dy, [1, 2, 0, 3]);
  const ph = filterGradPads(ah);
  const pw = filterGradPads(aw);
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [ph.before, ph.after], [pw.before, pw.after], [0, 0]];
  const r = tf.conv2d(xT, dyT, [ah.dilation, aw.dilation], pad, 'NHWC', [ah.stride, aw.stride]);
  const exact = r.shape[1] === kh && r.shape[2] === kw ? r : tf.slice(r, [0, 0, 0, 0], [ci, kh, kw, co]);
  return tf.transpose(exact, [1, 2, 0, 3]);
}

/**
 * Measured on wasm (bench/kernels.ts, ResNet-50 layers): the matMuls over the patch matrix beat
 * the batch-as-channels conv (whose inner dot products are only `batch` long) by 1.3-3× for every
 * layer kind, and large layers go one tap at a time, so the conv is only the way for unequal
 * strides.
 */
function pickFilterMethod(ah: ConvAxis, aw: ConvAxis): 'conv' | 'im2col' {
  return ah.stride === aw.stride ? 'im2col' : 'conv';
}

/** dL/dfilter of y = conv2d(x, filter) given dy = dL/dy. */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  g: ConvGeometry,
  method: FilterGradMethod = 'auto',
): tf.Tensor4D {
  return tf.tidy(() => {
    const [ah, aw] = convAxes(conv2dInfo(x.shape, filterShape, g));
    const chosen = method === 'auto' ? pickFilterMethod(ah, aw) : method;
    return chosen === 'im2col'
      ? filterGradByIm2col(x, dy, ah, aw, filterShape)
      : filterGradByConv(x, dy, ah, aw, filterShape);
  });
}
