/**
 * Index arithmetic that turns the two gradients of a 2-D convolution into forward convolutions.
 * Pure numbers, no tensors, so every backend (and the tests) share one definition.
 *
 * Forward, along one spatial axis with padding P before the input:
 *   y[o] = sum_t xpad[o*s + t*d] * W[t],   xpad[j] = x[j - P]
 */
import type * as tf from '@tensorflow/tfjs-core';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** One spatial axis of a forward convolution. */
/** NHWC (inputs) or HWIO (filters) */
export type Shape4 = [number, number, number, number];

export interface ConvAxis {
  inSize: number;
  outSize: number;
  kernel: number;
  stride: number;
  dilation: number;
  padBefore: number;
}

/**
 * Padding of a 1-D correlation. A negative amount means: crop that many elements from that end
 * of the input instead (they provably do not contribute).
 */
export interface Pads {
  before: number;
  after: number;
}

export function convAxes(info: Conv2DInfo): [ConvAxis, ConvAxis] {
  return [
    {
      inSize: info.inHeight,
      outSize: info.outHeight,
      kernel: info.filterHeight,
      stride: info.strideHeight,
      dilation: info.dilationHeight,
      padBefore: info.padInfo.top,
    },
    {
      inSize: info.inWidth,
      outSize: info.outWidth,
      kernel: info.filterWidth,
      stride: info.strideWidth,
      dilation: info.dilationWidth,
      padBefore: info.padInfo.left,
    },
  ];
}

/** Input extent that the forward pass actually reads, counted from the start of xpad. */
function spanRead(a: ConvAxis): number {
  return (a.kernel - 1) * a.dilation + (a.outSize - 1) * a.stride + 1;
}

/**
 * dW[t] = sum_o xpad[o*s + t*d] * dy[o] is a correlation of x with dy as the filter, where the
 * forward dilation becomes the stride and the forward stride becomes the dilation. Padding after
 * is only added when x ends before the last tap reads; extra trailing input only yields surplus
 * outputs beyond `kernel`, which the caller crops.
 */
export function filterGradPads(a: ConvAxis): Pads {
  return { before: a.padBefore, after: Math.max(0, spanRead(a) - a.inSize - a.padBefore) };
}

/** One output residue class of the input gradient, computed as a stride-1 correlation of dy. */
export interface InputGradPhase {
  residue: number;
  /** filter taps in correlation order (already flipped); empty: this phase of dx is all zeros */
  taps: number[];
  /** dilation of the correlation */
  dilation: number;
  pads: Pads;
}

export interface InputGradPlan {
  phases: InputGradPhase[];
  /** every phase produces this many outputs; phases interleave to phaseSize*stride >= inSize */
  phaseSize: number;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * dx[i] = sum over (o, t) with o*s + t*d - P = i of dy[o] * W[t]. Splitting i = q*s + r by its
 * residue r leaves, per r, only the taps with t*d ≡ P + r (mod s); each phase is then an ordinary
 * correlation of dy with a flipped sub-filter, so no zeros are ever multiplied (unlike the
 * textbook "dilate dy by the stride" form, which costs s² times more for stride s).
 */
export function inputGradPlan(a: ConvAxis): InputGradPlan {
  const s = a.stride;
  const phaseSize = Math.ceil(a.inSize / s);
  const tapDilation = a.dilation / gcd(s, a.dilation);
  const phases: InputGradPhase[] = [];
  for (let r = 0; r < s; r++) {
    const ascending: number[] = [];
    for (let t = 0; t < a.kernel; t++) {
      if ((((t * a.dilation - a.padBefore - r) % s) + s) % s === 0) ascending.push(t);
    }
    if (ascending.length === 0) {
      phases.push({ residue: r, taps: [], dilation: 1, pads: { before: 0, after: 0 } });
      continue;
    }
    // dy index feeding q through tap t is q - e_t; the last tap has the largest e_t.
    const last = ascending[ascending.length - 1]!;
    const eLast = (last * a.dilation - a.padBefore - r) / s;
    const reach = (ascending.length - 1) * tapDilation;
    const pads = { before: eLast, after: phaseSize + reach - a.outSize - eLast };
    const kept = a.outSize - Math.max(0, -pads.before) - Math.max(0, -pads.after);
    const taps = kept > 0 ? ascending.slice().reverse() : [];
    phases.push({ residue: r, taps, dilation: tapDilation, pads });
  }
  return { phases, phaseSize };
}
