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
import type { Shape4 } from './conv-geometry.ts';

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
 * Σ over taps of `part(sh, sw)` (a block of sh.len × sw.len pixels) placed at rows/cols `at(s)` of
 * a result with spatial size `size`, spatial axes 1, 2 (NHWC) or 2, 3 (channels first, `cf`).
 */
function placeSum(
  plan: TapPlan,
  size: [number, number],
  cf: boolean,
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
        const ph: [number, number] = [top, size[0] - top - sh.len];
        const pw: [number, number] = [left, size[1] - left - sw.len];
        const whole = ph[0] + ph[1] + pw[0] + pw[1] === 0;
        const full = whole ? block : tf.pad(block, cf ? [[0, 0], [0, 0], ph, pw] : [[0, 0], ph, pw, [0, 0]]);
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
  return placeSum(plan, [plan.outH, plan.outW], false, (s) => s.out, (sh, sw) => {
    const xs = tf.reshape(region(x, sh.inp, sh.len, sw.inp, sw.len), [n * sh.len * sw.len, ci]);
    const wt = tf.reshape(tf.slice(w, [sh.tap, sw.tap, 0, 0], [1, 1, ci, co]), [ci, co]);
    return tf.reshape(tf.matMul(xs, wt), [n, sh.len, sw.len, co]);
  });
}

/**
 * dL/dx: each tap's dy block times Wᵀ, placed back at the input rows it read. Wᵀ needs the filter
 * transposed ([kh, kw, co, ci]; wasm's matMul is a naive loop with transposed operands); when the
 * filter is larger than the activations (deep layers on small maps), dxᵀ = W·dyᵀ is computed
 * channels-first instead, which transposes dy and dx rather than the filter.
 */
export function tapSumInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: Shape4, plan: TapPlan): tf.Tensor4D {
  const [n, oh, ow, co] = dy.shape;
  const [kh, kw, ci] = w.shape;
  if (plan.h.length === 0 || plan.w.length === 0) return tf.zeros(xShape);
  const size: [number, number] = [xShape[1], xShape[2]];
  if (n * (oh * ow * co + xShape[1] * xShape[2] * ci) < kh * kw * ci * co) {
    return tf.tidy(() => {
      const dyT = tf.transpose(dy, [3, 0, 1, 2]);
      const dxT = placeSum(plan, size, true, (s) => s.inp, (sh, sw) => {
        const d = tf.reshape(tf.slice(dyT, [0, 0, sh.out, sw.out], [co, n, sh.len, sw.len]), [co, n * sh.len * sw.len]);
        const wt = tf.reshape(tf.slice(w, [sh.tap, sw.tap, 0, 0], [1, 1, ci, co]), [ci, co]);
        return tf.reshape(tf.matMul(wt, d), [ci, n, sh.len, sw.len]);
      });
      return tf.transpose(dxT, [1, 2, 3, 0]);
    });
  }
  return tf.tidy(() => {
    const wT = tf.transpose(w, [0, 1, 3, 2]);
    return placeSum(plan, size, false, (s) => s.inp, (sh, sw) => {
      const d = tf.reshape(region(dy, sh.out, sh.len, sw.out, sw.len), [n * sh.len * sw.len, co]);
      const wt = tf.reshape(tf.slice(wT, [sh.tap, sw.tap, 0, 0], [1, 1, co, ci]), [co, ci]);
      return tf.reshape(tf.matMul(d, wt), [n, sh.len, sw.len, ci]);
    });
  });
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
