/**
 * Geometric transforms on plain typed arrays (HWC uint8 images, HW uint8 label maps). Pixel
 * centres are at +0.5 (PIL/OpenCV convention), images interpolate bilinearly or by area, labels
 * always by nearest neighbour so no new class ids appear.
 */

/** One output coordinate's source taps along an axis: bilinear pair and nearest index. */
interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  f: Float32Array;
  nearest: Int32Array;
  /** 0 where the output coordinate falls in padding */
  inside: Uint8Array;
}

/**
 * Taps for `n` output positions at resized coordinates start, start±1, … (−1 when `reverse`),
 * in an axis of `resized` pixels sampled from `src` source pixels.
 */
function axisTaps(n: number, start: number, reverse: boolean, resized: number, src: number): AxisTaps {
  const t: AxisTaps = {
    i0: new Int32Array(n),
    i1: new Int32Array(n),
    f: new Float32Array(n),
    nearest: new Int32Array(n),
    inside: new Uint8Array(n),
  };
  const scale = src / resized;
  for (let k = 0; k < n; k++) {
    const X = reverse ? start - k : start + k;
    if (X < 0 || X >= resized) continue;
    t.inside[k] = 1;
    const s = Math.min(Math.max((X + 0.5) * scale - 0.5, 0), src - 1);
    const i0 = Math.floor(s);
    t.i0[k] = i0;
    t.i1[k] = Math.min(i0 + 1, src - 1);
    t.f[k] = s - i0;
    t.nearest[k] = Math.min(Math.floor((X + 0.5) * scale), src - 1);
  }
  return t;
}

export interface CropSpec {
  /** the size the image is (virtually) resized to */
  rh: number;
  rw: number;
  /** output size */
  ch: number;
  cw: number;
  /** top-left of the output window in resized coordinates (negative or overhanging = padding) */
  top: number;
  left: number;
  /** mirror the output horizontally */
  flip: boolean;
  /** label value written where the window leaves the image */
  labelPad: number;
}

export interface CropResult {
  image: Uint8Array;
  label: Uint8Array;
  /** 1 where the output pixel is padding */
  pad: Uint8Array;
}

/**
 * Resize + pad + crop + flip in one pass: only the pixels of the output window are computed, so
 * a 2x upscale of a large image costs no more than the crop itself. Padding is image 0, label
 * `labelPad`.
 */
export function resizedCrop(image: Uint8Array, label: Uint8Array, h: number, w: number, spec: CropSpec): CropResult {
  const { ch, cw } = spec;
  const rows = axisTaps(ch, spec.top, false, spec.rh, h);
  const cols = spec.flip ? axisTaps(cw, spec.left + cw - 1, true, spec.rw, w) : axisTaps(cw, spec.left, false, spec.rw, w);
  const out = new Uint8Array(ch * cw * 3);
  const lab = new Uint8Array(ch * cw).fill(spec.labelPad);
  const pad = new Uint8Array(ch * cw).fill(1);
  for (let y = 0; y < ch; y++) {
    if (!rows.inside[y]) continue;
    const r0 = rows.i0[y]! * w;
    const r1 = rows.i1[y]! * w;
    const fy = rows.f[y]!;
    const rn = rows.nearest[y]! * w;
    for (let x = 0; x < cw; x++) {
      if (!cols.inside[x]) continue;
      const o = y * cw + x;
      pad[o] = 0;
      lab[o] = label[rn + cols.nearest[x]!]!;
      const a = (r0 + cols.i0[x]!) * 3;
      const b = (r0 + cols.i1[x]!) * 3;
      const c = (r1 + cols.i0[x]!) * 3;
      const d = (r1 + cols.i1[x]!) * 3;
      const fx = cols.f[x]!;
      for (let k = 0; k < 3; k++) {
        const top = image[a + k]! + (image[b + k]! - image[a + k]!) * fx;
        const bot = image[c + k]! + (image[d + k]! - image[c + k]!) * fx;
        out[o * 3 + k] = Math.round(top + (bot - top) * fy);
      }
    }
  }
  return { image: out, label: lab, pad };
}

/** Bilinear resize of an HWC RGB image. */
export function resizeBilinear(src: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  const blank = new Uint8Array(h * w);
  return resizedCrop(src, blank, h, w, { rh: oh, rw: ow, ch: oh, cw: ow, top: 0, left: 0, flip: false, labelPad: 0 }).image;
}

/** Nearest-neighbour resize of a single-channel map (labels). */
export function resizeNearest(src: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  const out = new Uint8Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(Math.floor(((y + 0.5) * h) / oh), h - 1);
    for (let x = 0; x < ow; x++) {
      out[y * ow + x] = src[sy * w + Math.min(Math.floor(((x + 0.5) * w) / ow), w - 1)]!;
    }
  }
  return out;
}

/** Source spans covered by each output pixel, with overlap weights summing to 1 (box filter). */
function areaWeights(src: number, dst: number): { start: Int32Array; weights: Float32Array[] } {
  const start = new Int32Array(dst);
  const weights: Float32Array[] = [];
  const scale = src / dst;
  for (let o = 0; o < dst; o++) {
    const a = o * scale;
    const b = Math.min((o + 1) * scale, src);
    const first = Math.floor(a);
    const last = Math.min(Math.ceil(b) - 1, src - 1);
    const wts = new Float32Array(last - first + 1);
    for (let i = first; i <= last; i++) wts[i - first] = (Math.min(b, i + 1) - Math.max(a, i)) / (b - a);
    start[o] = first;
    weights.push(wts);
  }
  return { start, weights };
}

/** Area (box-filter) resize of an HWC image: the right downscale, it averages every source pixel. */
export function resizeArea(src: Uint8Array, h: number, w: number, c: number, oh: number, ow: number): Uint8Array {
  const cx = areaWeights(w, ow);
  const cy = areaWeights(h, oh);
  const tmp = new Float32Array(h * ow * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      const wts = cx.weights[x]!;
      const s0 = cx.start[x]!;
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let i = 0; i < wts.length; i++) acc += wts[i]! * src[(y * w + s0 + i) * c + k]!;
        tmp[(y * ow + x) * c + k] = acc;
      }
    }
  }
  const out = new Uint8Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    const wts = cy.weights[y]!;
    const s0 = cy.start[y]!;
    for (let x = 0; x < ow * c; x++) {
      let acc = 0;
      for (let i = 0; i < wts.length; i++) acc += wts[i]! * tmp[(s0 + i) * ow * c + x]!;
      out[y * ow * c + x] = Math.round(acc);
    }
  }
  return out;
}
