/**
 * Photometric transforms of the strong view, in place on HWC RGB uint8 pixels. They follow
 * torchvision's PIL semantics (the reference repos apply them to PIL images): each step rounds
 * and clamps to 0..255, grey is ITU-R 601 luma, ColorJitter applies its four parts in a random
 * order. Every random draw comes from the Rng passed in.
 */
import type { Rng } from '../../util/rng.ts';

export interface JitterParams {
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

function luma(r: number, g: number, b: number): number {
  return (r * 299 + g * 587 + b * 114) / 1000;
}

/** Blend every channel towards `degenerate(pixel)`: PIL ImageEnhance's formula. */
function blend(px: Uint8ClampedArray, factor: number, degenerate: (i: number) => number): void {
  for (let i = 0; i < px.length; i += 3) {
    const d = degenerate(i);
    px[i] = d + (px[i]! - d) * factor;
    px[i + 1] = d + (px[i + 1]! - d) * factor;
    px[i + 2] = d + (px[i + 2]! - d) * factor;
  }
}

export function adjustBrightness(px: Uint8ClampedArray, f: number): void {
  blend(px, f, () => 0);
}

export function adjustContrast(px: Uint8ClampedArray, f: number): void {
  let sum = 0;
  for (let i = 0; i < px.length; i += 3) sum += Math.round(luma(px[i]!, px[i + 1]!, px[i + 2]!));
  const mean = Math.round(sum / (px.length / 3));
  blend(px, f, () => mean);
}

export function adjustSaturation(px: Uint8ClampedArray, f: number): void {
  blend(px, f, (i) => Math.round(luma(px[i]!, px[i + 1]!, px[i + 2]!)));
}

/** Rotate hue by `shift` turns (−0.5..0.5) through HSV. */
export function adjustHue(px: Uint8ClampedArray, shift: number): void {
  for (let i = 0; i < px.length; i += 3) {
    const r = px[i]! / 255;
    const g = px[i + 1]! / 255;
    const b = px[i + 2]! / 255;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const delta = max - min;
    if (delta === 0) continue; // grey pixels have no hue to rotate
    let h = max === r ? (g - b) / delta : max === g ? 2 + (b - r) / delta : 4 + (r - g) / delta;
    h = (((h / 6 + shift) % 1) + 1) % 1;
    const s = delta / max;
    const sector = Math.floor(h * 6);
    const frac = h * 6 - sector;
    const p = max * (1 - s);
    const q = max * (1 - s * frac);
    const t = max * (1 - s * (1 - frac));
    let nr: number, ng: number, nb: number;
    switch (sector % 6) {
      case 0: [nr, ng, nb] = [max, t, p]; break;
      case 1: [nr, ng, nb] = [q, max, p]; break;
      case 2: [nr, ng, nb] = [p, max, t]; break;
      case 3: [nr, ng, nb] = [p, q, max]; break;
      case 4: [nr, ng, nb] = [t, p, max]; break;
      default: [nr, ng, nb] = [max, p, q];
    }
    px[i] = nr * 255;
    px[i + 1] = ng * 255;
    px[i + 2] = nb * 255;
  }
}

/** torchvision ColorJitter: factors U[max(0,1−v), 1+v], hue U[−v, v], the four in random order. */
export function colorJitter(px: Uint8ClampedArray, p: JitterParams, rng: Rng): void {
  const order = rng.shuffle([0, 1, 2, 3]);
  const factor = (v: number) => rng.uniform(Math.max(0, 1 - v), 1 + v);
  const b = factor(p.brightness);
  const c = factor(p.contrast);
  const s = factor(p.saturation);
  const h = rng.uniform(-p.hue, p.hue);
  for (const op of order) {
    if (op === 0 && p.brightness > 0) adjustBrightness(px, b);
    if (op === 1 && p.contrast > 0) adjustContrast(px, c);
    if (op === 2 && p.saturation > 0) adjustSaturation(px, s);
    if (op === 3 && p.hue > 0) adjustHue(px, h);
  }
}

export function grayscale(px: Uint8ClampedArray): void {
  for (let i = 0; i < px.length; i += 3) {
    const l = luma(px[i]!, px[i + 1]!, px[i + 2]!);
    px[i] = l;
    px[i + 1] = l;
    px[i + 2] = l;
  }
}

function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/**
 * Separable Gaussian blur with standard deviation `sigma` px, edges extended. Both passes run
 * along contiguous rows (the vertical one adds whole shifted rows) so V8 keeps them tight.
 */
export function gaussianBlur(px: Uint8ClampedArray, h: number, w: number, sigma: number): void {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const rowLen = w * 3;
  const tmp = new Float32Array(px.length);
  const padded = new Float32Array((w + 2 * r) * 3);
  for (let y = 0; y < h; y++) {
    const row = y * rowLen;
    // edge-extended copy of the row, then a plain 1-D convolution
    for (let x = -r; x < w + r; x++) {
      const sx = x < 0 ? 0 : x >= w ? w - 1 : x;
      const o = (x + r) * 3;
      padded[o] = px[row + sx * 3]!;
      padded[o + 1] = px[row + sx * 3 + 1]!;
      padded[o + 2] = px[row + sx * 3 + 2]!;
    }
    for (let t = 0; t < k.length; t++) {
      const kt = k[t]!;
      const off = t * 3;
      for (let i = 0; i < rowLen; i++) tmp[row + i]! += kt * padded[off + i]!;
    }
  }
  const acc = new Float32Array(rowLen);
  for (let y = 0; y < h; y++) {
    acc.fill(0);
    for (let t = -r; t <= r; t++) {
      const yy = y + t < 0 ? 0 : y + t >= h ? h - 1 : y + t;
      const kt = k[t + r]!;
      const src = yy * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i]! += kt * tmp[src + i]!;
    }
    px.set(acc, y * rowLen);
  }
}

export interface Rect {
  y: number;
  x: number;
  h: number;
  w: number;
}

/**
 * A rectangle of area fraction U(area) and aspect (h/w) U(aspect) at a uniform position,
 * redrawn until it fits: the box of ST++'s cutout and of UniMatch's CutMix. `resampleArea`
 * draws a new area on every retry (cutout) or keeps the first (UniMatch CutMix).
 */
export function fittingRect(
  rng: Rng,
  h: number,
  w: number,
  area: readonly [number, number],
  aspect: readonly [number, number],
  resampleArea: boolean,
): Rect {
  let size = rng.uniform(area[0], area[1]) * h * w;
  for (let tries = 0; ; tries++) {
    if (resampleArea && tries > 0) size = rng.uniform(area[0], area[1]) * h * w;
    const ratio = rng.uniform(aspect[0], aspect[1]);
    const bw = Math.floor(Math.sqrt(size / ratio));
    const bh = Math.floor(Math.sqrt(size * ratio));
    const x = rng.int(0, w);
    const y = rng.int(0, h);
    if (x + bw <= w && y + bh <= h) return { y, x, h: bh, w: bw };
    // a box that can never fit (tiny crops) would loop forever: clip after many tries
    if (tries > 1000) return { y: 0, x: 0, h: Math.min(bh, h), w: Math.min(bw, w) };
  }
}

/** ST++ cutout: fill a fitting rectangle with per-pixel uniform noise and mark it ignored. */
export function cutout(
  px: Uint8ClampedArray,
  label: Uint8Array,
  h: number,
  w: number,
  area: readonly [number, number],
  aspect: readonly [number, number],
  labelFill: number,
  rng: Rng,
): Rect {
  const r = fittingRect(rng, h, w, area, aspect, true);
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x; x < r.x + r.w; x++) {
      const o = y * w + x;
      for (let c = 0; c < 3; c++) px[o * 3 + c] = Math.floor(rng.uniform(0, 255));
      label[o] = labelFill;
    }
  }
  return r;
}
