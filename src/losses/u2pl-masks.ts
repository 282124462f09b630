import { IGNORE } from './ce.ts';
import { percentile, validValues } from './entropy.ts';

/**
 * Pixel selection for U2PL's contrastive loss (docs/methods.md §1.3 step 8): the
 * reliable/unreliable entropy partition, the probability-rank window (PRT) and the per-class
 * anchor, prototype and negative pixels. Everything here is plain JS over flat arrays: the
 * percentiles need the CPU anyway, and index lists let the loss gather only the rows it uses.
 *
 * Layout: pixel p indexes [n, h, w] row-major; per-class arrays are class-minor ([n, h, w, C]),
 * i.e. NHWC. The batch is cat(labeled, unlabeled): the first `numLabeled·h·w` pixels are labeled.
 */

export interface EntropyPartition {
  /** reliable: entropy ≤ the α-th percentile (and label valid) */
  low: Uint8Array;
  /** unreliable: entropy ≥ the (100−α)-th percentile (and label valid) */
  high: Uint8Array;
  lowThresh: number;
  highThresh: number;
}

/**
 * Split valid pixels by entropy percentiles α and 100−α (α in percent). torch compares the
 * float32 entropy with the numpy float64 threshold in float32, hence the fround.
 */
export function entropyPartition(entropy: ArrayLike<number>, labels: ArrayLike<number>, alpha: number): EntropyPartition {
  const valid = validValues(entropy, labels);
  const lowThresh = percentile(valid, alpha);
  const highThresh = percentile(valid, 100 - alpha);
  const lo = Math.fround(lowThresh);
  const hi = Math.fround(highThresh);
  const low = new Uint8Array(labels.length);
  const high = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === IGNORE) continue;
    low[i] = entropy[i]! <= lo ? 1 : 0;
    high[i] = entropy[i]! >= hi ? 1 : 0;
  }
  return { low, high, lowThresh, highThresh };
}

/**
 * Nearest-neighbour resize of [n, H, W] maps to [n, h, w] with PyTorch's legacy 'nearest'
 * (src = floor(dst · H/h), scale and product in float32, as `F.interpolate` computes them).
 */
export function resizeNearest<T extends Int32Array | Uint8Array>(src: T, n: number, H: number, W: number, h: number, w: number): T {
  if (H === h && W === w) return src;
  const out = new (src.constructor as new (len: number) => T)(n * h * w);
  const sy = Math.fround(H / h);
  const sx = Math.fround(W / w);
  const xs = new Int32Array(w);
  for (let x = 0; x < w; x++) xs[x] = Math.min(Math.floor(Math.fround(x * sx)), W - 1);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const iy = Math.min(Math.floor(Math.fround(y * sy)), H - 1);
      const row = (b * H + iy) * W;
      const orow = (b * h + y) * w;
      for (let x = 0; x < w; x++) out[orow + x] = src[row + xs[x]!]!;
    }
  }
  return out;
}

/**
 * The per-pixel inputs of the selection, already at the representation's resolution. Class
 * membership is a one-hot map, as upstream (`label_onehot`): an ignored pixel has no class.
 */
export interface PixelMaps {
  numClasses: number;
  /** pixels belonging to labeled images (they come first) */
  labeledPixels: number;
  /** one-hot of the GT (labeled) or the (CutMixed) pseudo-label (unlabeled), class-minor */
  onehot: Uint8Array;
  /** reliable pixels; for labeled pixels: label valid */
  low: Uint8Array;
  /** negative candidates ("unreliable" by default); for labeled pixels: label valid */
  high: Uint8Array;
  /** teacher softmax, class-minor */
  prob: Float32Array;
}

/** Class-minor one-hot of a label map; ignored (or out-of-range) labels give an all-zero row. */
export function labelOnehot(labels: Int32Array, numClasses: number): Uint8Array {
  const out = new Uint8Array(labels.length * numClasses);
  for (let p = 0; p < labels.length; p++) {
    const c = labels[p]!;
    if (c >= 0 && c < numClasses) out[p * numClasses + c] = 1;
  }
  return out;
}

/** Concatenate labeled and unlabeled maps the way upstream does (labeled masks = label ≠ 255). */
export function concatPixelMaps(
  labelsL: Int32Array,
  labelsU: Int32Array,
  lowU: Uint8Array,
  highU: Uint8Array,
  prob: Float32Array,
  numClasses: number,
): PixelMaps {
  const nl = labelsL.length;
  const labels = new Int32Array(nl + labelsU.length);
  labels.set(labelsL);
  labels.set(labelsU, nl);
  const low = new Uint8Array(labels.length);
  const high = new Uint8Array(labels.length);
  for (let i = 0; i < nl; i++) low[i] = high[i] = labelsL[i] === IGNORE ? 0 : 1;
  low.set(lowU, nl);
  high.set(highU, nl);
  return { numClasses, labeledPixels: nl, onehot: labelOnehot(labels, numClasses), low, high, prob };
}

export interface SelectOptions {
  /** r_l: labeled negatives need the class among the teacher's top r_l; unlabeled ones rank ≥ r_l */
  lowRank: number;
  /** r_h: unlabeled negatives need rank < r_h */
  highRank: number;
  /** δ_p: anchors need teacher prob_c above it */
  anchorThreshold: number;
  /** δ_n: negatives need teacher prob_c below it (1 upstream, i.e. no condition) */
  negativeThreshold: number;
  /** multiply negatives by "label == c" as the released code does (U2PL issue #171) */
  codeFaithful: boolean;
  /** probability rank threshold; off → labeled: any class ≠ GT, unlabeled: any class but the top-1 */
  prt: boolean;
}

/** Rank windows [from, to) of sorted teacher classes that may give negatives for a pixel. */
function rankWindow(labeled: boolean, o: SelectOptions, numClasses: number): [number, number] {
  if (!o.prt) return labeled ? [0, numClasses] : [1, numClasses];
  return labeled ? [0, Math.min(o.lowRank, numClasses)] : [Math.min(o.lowRank, numClasses), Math.min(o.highRank, numClasses)];
}

/** Classes of pixel p sorted by descending prob (ties: lower class first), into `order`. */
function sortClasses(prob: Float32Array, p: number, numClasses: number, order: Int32Array): void {
  const base = p * numClasses;
  for (let c = 0; c < numClasses; c++) {
    let j = c;
    while (j > 0 && prob[base + order[j - 1]!]! < prob[base + c]!) {
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = c;
  }
}

/**
 * Call `fn(p, c)` for every (pixel, class) in the rank-based class mask: labeled pixels whose
 * class c is in the rank window and differs from the GT; unlabeled pixels whose class c is in the
 * window. Only pixels with `mask[p]` set are visited.
 */
export function forEachRankClass(maps: PixelMaps, o: SelectOptions, mask: Uint8Array | null, fn: (p: number, c: number) => void): void {
  const C = maps.numClasses;
  const order = new Int32Array(C);
  for (let p = 0; p < maps.low.length; p++) {
    if (mask && !mask[p]) continue;
    const labeled = p < maps.labeledPixels;
    const [from, to] = rankWindow(labeled, o, C);
    if (from >= to) continue;
    sortClasses(maps.prob, p, C, order);
    for (let r = from; r < to; r++) {
      const c = order[r]!;
      if (labeled && maps.onehot[p * C + c]) continue;
      fn(p, c);
    }
  }
}

export interface ContrastSelection {
  /** per class: label == c, reliable, prob_c > δ_p (anchor candidates, student features) */
  anchors: Int32Array[];
  /** per class: label == c, reliable (the prototype's teacher features) */
  lowValid: Int32Array[];
  /** per class: negative keys (teacher features) */
  negatives: Int32Array[];
}

/**
 * Pixel index lists per class for anchors, prototypes and negatives (upstream's first loop):
 * low-valid = onehot_c ∧ low; anchor = low-valid ∧ prob_c > δ_p; negative = high ∧ rank mask ∧
 * prob_c < δ_n (∧ onehot_c with `codeFaithful`).
 */
export function selectContrastPixels(maps: PixelMaps, o: SelectOptions): ContrastSelection {
  const C = maps.numClasses;
  const P = maps.low.length;
  const anchors: number[][] = Array.from({ length: C }, () => []);
  const lowValid: number[][] = Array.from({ length: C }, () => []);
  const negatives: number[][] = Array.from({ length: C }, () => []);
  for (let p = 0; p < P; p++) {
    if (!maps.low[p]) continue;
    for (let c = 0; c < C; c++) {
      if (!maps.onehot[p * C + c]) continue;
      lowValid[c]!.push(p);
      if (maps.prob[p * C + c]! > o.anchorThreshold) anchors[c]!.push(p);
    }
  }
  forEachRankClass(maps, o, maps.high, (p, c) => {
    if (o.codeFaithful && !maps.onehot[p * C + c]) return;
    if (!(maps.prob[p * C + c]! < o.negativeThreshold)) return;
    negatives[c]!.push(p);
  });
  const pack = (l: number[][]) => l.map((a) => Int32Array.from(a));
  return { anchors: pack(anchors), lowValid: pack(lowValid), negatives: pack(negatives) };
}
