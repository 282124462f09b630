/**
 * Direct-loop (float64) reference for both conv2d gradients, NHWC, used to check the
 * forward-conv formulations for geometries tfjs's own kernels cannot differentiate (dilation > 1).
 */
import * as tf from '@tensorflow/tfjs-core';

export type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
export type Shape4 = [number, number, number, number];

export interface RefGrads {
  dx: Float64Array;
  dw: Float64Array;
}

/** dL/dx and dL/dw of L = sum(conv2d(x, w) * dy). */
export function referenceGrads(
  x: Float32Array,
  xShape: Shape4,
  w: Float32Array,
  wShape: Shape4,
  dy: Float32Array,
  strides: [number, number],
  pad: Pad,
  dilations: [number, number],
): RefGrads {
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, strides, dilations, pad, undefined, false, 'channelsLast');
  const [n, h, wd, ci] = xShape;
  const [kh, kw, , co] = wShape;
  const { outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < oh; o++)
      for (let p = 0; p < ow; p++)
        for (let t = 0; t < kh; t++) {
          const i = o * strides[0] + t * dilations[0] - top;
          if (i < 0 || i >= h) continue;
          for (let u = 0; u < kw; u++) {
            const j = p * strides[1] + u * dilations[1] - left;
            if (j < 0 || j >= wd) continue;
            const xBase = ((b * h + i) * wd + j) * ci;
            const dyBase = ((b * oh + o) * ow + p) * co;
            const wBase = (t * kw + u) * ci * co;
            for (let c = 0; c < ci; c++)
              for (let k = 0; k < co; k++) {
                const g = dy[dyBase + k]!;
                dx[xBase + c]! += g * w[wBase + c * co + k]!;
                dw[wBase + c * co + k]! += g * x[xBase + c]!;
              }
          }
        }
  return { dx, dw };
}

/** max |a - ref| / max |ref|: a norm-wise relative error that near-zero entries cannot blow up. */
export function relError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) throw new Error(`length ${a.length} != ${ref.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** conv2d(x, w) itself, NHWC, float64. */
export function referenceForward(
  x: Float32Array,
  xShape: Shape4,
  w: Float32Array,
  wShape: Shape4,
  strides: [number, number],
  pad: Pad,
  dilations: [number, number],
): Float64Array {
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, strides, dilations, pad, undefined, false, 'channelsLast');
  const [n, h, wd, ci] = xShape;
  const [kh, kw, , co] = wShape;
  const { outHeight: oh, outWidth: ow } = info;
  const y = new Float64Array(n * oh * ow * co);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < oh; o++)
      for (let p = 0; p < ow; p++)
        for (let t = 0; t < kh; t++) {
          const i = o * strides[0] + t * dilations[0] - info.padInfo.top;
          if (i < 0 || i >= h) continue;
          for (let u = 0; u < kw; u++) {
            const j = p * strides[1] + u * dilations[1] - info.padInfo.left;
            if (j < 0 || j >= wd) continue;
            for (let c = 0; c < ci; c++)
              for (let k = 0; k < co; k++)
                y[((b * oh + o) * ow + p) * co + k]! += x[((b * h + i) * wd + j) * ci + c]! * w[((t * kw + u) * ci + c) * co + k]!;
          }
        }
  return y;
}

/** Deterministic values in [-1, 1) so that failures reproduce. */
export function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
