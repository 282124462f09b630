/**
 * Stride-1 dilated convolution as a sum over filter taps of 1×1 convolutions (matrix products)
 * restricted to the rectangle where the tap reads real input:
 *   y[o] = Σ_t x[o + e_t] · W_t,  e_t = t·d − pad,  over the o with 0 ≤ o + e_t < H.
 * With dilation comparable to the map size (DeepLab's OS8 layer4 at rates 4/8/16 and ASPP at 12
 * on a 17×17 map), most of a tap's window lies in the padding: the space-to-batch form multiplies
 * those zeros (for rate 16 on 17×17, 7× the useful work), this form skips them. Both gradients
 * have the same structure, and only x and the filter are needed, so the tape keeps nothing else.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape4 } from './conv-backprop.ts';

/** One tap along one axis: the output rows [out, out + len) read input rows [inp, inp + len). */
export interface TapSpan {
  tap: number;
  out: number;
  inp: number;
  len: number;
}

export interface TapPlan {
  h: TapSpan[];
  w: TapSpan[];
  outH: number;
  outW: number;
}

/** Taps (with their valid spans) along one axis; taps that read only padding are left out. */
export function tapSpans(inSize: number, outSize: number, k: number, d: number, padBefore: number): TapSpan[] {
  const spans: TapSpan[] = [];
  for (let t = 0; t < k; t++) {
    const e = t * d - padBefore;
    const out = Math.max(0, -e);
    const end = Math.min(outSize, inSize - e);
    if (end > out) spans.push({ tap: t, out, inp: out + e, len: end - out });
  }
  return spans;
}

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

export function tapPlan(
  xShape: Shape4,
  wShape: Shape4,
  pad: Pad,
  dilations: number | [number, number],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TapPlan {
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, 1, dilations, pad, dimRoundingMode, false, 'channelsLast');
  return {
    h: tapSpans(xShape[1], info.outHeight, wShape[0], info.dilationHeight, info.padInfo.top),
    w: tapSpans(xShape[2], info.outWidth, wShape[1], info.dilationWidth, info.padInfo.left),
    outH: info.outHeight,
    outW: info.outWidth,
  };
}

function region(t: tf.Tensor4D, h0: number, hl: number, w0: number, wl: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  return h0 === 0 && w0 === 0 && hl === h && wl === w ? t : tf.slice(t, [0, h0, w0, 0], [n, hl, wl, c]);
}

/**
 * Σ over taps of `part(sh, sw)` (a [n, sh.len, sw.len, c] block) placed at rows `at(sh)` of a
 * [n, H, W, c] result. Blocks covering the whole result are summed first, the rest padded once.
 */
function placeSum(
  plan: TapPlan,
  size: [number, number],
  at: (s: TapSpan) => number,
  part: (sh: TapSpan, sw: TapSpan) => tf.Tensor4D,
): tf.Tensor4D {
  let acc: tf.Tensor4D | null = null;
  for (const sh of plan.h) {
    for (const sw of plan.w) {
      const p = tf.tidy(() => {
        const block = part(sh, sw);
        const top = at(sh);
        const left = at(sw);
        const full =
          top === 0 && left === 0 && sh.len === size[0] && sw.len === size[1]
            ? block
            : tf.pad(block, [[0, 0], [top, size[0] - top - sh.len], [left, size[1] - left - sw.len], [0, 0]]);
        return acc == null ? full : (tf.add(acc, full) as tf.Tensor4D);
      });
      acc?.dispose();
      acc = p;
    }
  }
  return acc!;
}

/** y = conv2d(x, w, 1, pad, d) for stride 1. */
export function tapSumConv(x: tf.Tensor4D, w: tf.Tensor4D, plan: TapPlan): tf.Tensor4D {
  const [n, , , ci] = x.shape;
  const co = w.shape[3];
  if (plan.h.length === 0 || plan.w.length === 0) return tf.zeros([n, plan.outH, plan.outW, co]);
  return placeSum(plan, [plan.outH, plan.outW], (s) => s.out, (sh, sw) => {
    const xs = tf.reshape(region(x, sh.inp, sh.len, sw.inp, sw.len), [n * sh.len * sw.len, ci]);
    const wt = tf.reshape(tf.slice(w, [sh.tap, sw.tap, 0, 0], [1, 1, ci, co]), [ci, co]);
    return tf.reshape(tf.matMul(xs, wt), [n, sh.len, sw.len, co]);
  });
}

/** dL/dx: each tap's dy block times Wᵀ, placed back at the input rows it read. */
export function tapSumInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: Shape4, plan: TapPlan): tf.Tensor4D {
  const [n, , , co] = dy.shape;
  const ci = w.shape[2];
  if (plan.h.length === 0 || plan.w.length === 0) return tf.zeros(xShape);
  // [kh, kw, co, ci]: plain (non-transposed) matMul operands are fast on wasm
  const wT = tf.transpose(w, [0, 1, 3, 2]);
  const dx = placeSum(plan, [xShape[1], xShape[2]], (s) => s.inp, (sh, sw) => {
    const d = tf.reshape(region(dy, sh.out, sh.len, sw.out, sw.len), [n * sh.len * sw.len, co]);
    const wt = tf.reshape(tf.slice(wT, [sh.tap, sw.tap, 0, 0], [1, 1, co, ci]), [co, ci]);
    return tf.reshape(tf.matMul(d, wt), [n, sh.len, sw.len, ci]);
  });
  wT.dispose();
  return dx;
}

/** dL/dW[t, u] = x-blockᵀ · dy-block, with x channels-first so the product needs no transposed operand. */
export function tapSumFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, wShape: Shape4, plan: TapPlan): tf.Tensor4D {
  const [kh, kw, ci, co] = wShape;
  const n = x.shape[0];
  const xT = tf.transpose(x, [3, 0, 1, 2]); // [ci, n, H, W]
  const taps = new Map<string, tf.Tensor2D>();
  for (const sh of plan.h) {
    for (const sw of plan.w) {
      const m = n * sh.len * sw.len;
      const g = tf.tidy(() => {
        const xs = tf.slice(xT, [0, 0, sh.inp, sw.inp], [ci, n, sh.len, sw.len]);
        const d = tf.reshape(region(dy, sh.out, sh.len, sw.out, sw.len), [m, co]);
        return tf.matMul(tf.reshape(xs, [ci, m]), d) as tf.Tensor2D;
      });
      taps.set(`${sh.tap},${sw.tap}`, g);
    }
  }
  xT.dispose();
  const all: tf.Tensor2D[] = [];
  for (let t = 0; t < kh; t++) for (let u = 0; u < kw; u++) all.push(taps.get(`${t},${u}`) ?? tf.zeros([ci, co]));
  const out = tf.reshape(tf.concat(all, 0), wShape) as tf.Tensor4D;
  tf.dispose(all);
  return out;
}
