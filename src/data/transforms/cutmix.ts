/**
 * CutMix box masks (HW, 1 = "take this pixel from the mix partner", 0 = keep own). Three
 * generators, one per reference method; docs/methods.md §1.2 (U2PL), §3.2 (UniMatch), §5.2 (CPS).
 */
import type { Rng } from '../../util/rng.ts';
import { fittingRect, type Rect } from './photometric.ts';

/** numpy's round(): halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * U2PL: one box of area exactly H·W/ratio; width uniform int in [W/ratio+1, W), height
 * round(area/width), position uniform.
 */
export function u2plBox(rng: Rng, h: number, w: number, ratio = 2): Rect {
  const area = (h * w) / ratio;
  const bw = rng.int(Math.floor(w / ratio + 1), w);
  const bh = Math.min(h, roundHalfEven(area / bw));
  const x = rng.int(0, w - bw + 1);
  const y = rng.int(0, h - bh + 1);
  return { y, x, h: bh, w: bw };
}

/** UniMatch: area fraction U(area) (drawn once), aspect U(aspect), redrawn until it fits. */
export function unimatchBox(rng: Rng, h: number, w: number, area: readonly [number, number], aspect: readonly [number, number]): Rect {
  return fittingRect(rng, h, w, area, aspect, false);
}

/**
 * CPS (TorchSemiSeg's box mask generator): `n` boxes, each with its own area proportion
 * U(prop) split evenly over the n boxes, a random aspect (log-uniform side split), placed
 * inside the image. Overlapping boxes toggle, as in the reference.
 */
export function cpsBoxes(rng: Rng, h: number, w: number, prop: readonly [number, number], n: number): Rect[] {
  const fac = Math.sqrt(1 / n);
  const boxes: Rect[] = [];
  for (let b = 0; b < n; b++) {
    const p = rng.uniform(prop[0], prop[1]);
    const yProp = p > 0 ? Math.exp(rng.next() * Math.log(p)) : 0;
    const xProp = p > 0 ? p / yProp : 0;
    const bh = Math.round(yProp * fac * h);
    const bw = Math.round(xProp * fac * w);
    const y = Math.round((h - bh) * rng.next());
    const x = Math.round((w - bw) * rng.next());
    boxes.push({ y, x, h: bh, w: bw });
  }
  return boxes;
}

/** Rasterise boxes; with `toggle`, overlaps flip back to 0 (CPS), else they union. */
export function boxMask(h: number, w: number, boxes: readonly Rect[], toggle = false): Uint8Array {
  const m = new Uint8Array(h * w);
  for (const r of boxes) {
    for (let y = r.y; y < Math.min(h, r.y + r.h); y++) {
      for (let x = r.x; x < Math.min(w, r.x + r.w); x++) m[y * w + x] = toggle ? 1 - m[y * w + x]! : 1;
    }
  }
  return m;
}
