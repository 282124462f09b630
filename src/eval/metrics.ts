/**
 * Confusion-matrix segmentation metrics (rows = ground truth, columns = prediction).
 *
 * Two upstream conventions differ only for a class that appears in neither the GT nor the
 * (non-ignored) prediction of the whole evaluated set:
 * - ST++ `meanIOU`: its IoU is 0/0 = NaN and `np.nanmean` leaves it out of the mean (default);
 * - U2PL `intersectionAndUnion`: IoU = I/(U+1e-10) = 0 and it lowers the mean (`absentAsZero`).
 * A pure false-positive class (union > 0, intersection 0) is 0 in both.
 */
import { SsssegError } from '../errors.ts';

export const IGNORE_INDEX = 255;

/** U2PL adds this to every union/target so that 0/0 becomes 0 (and keeps it in float64). */
const U2PL_EPS = 1e-10;

export interface MetricOptions {
  /** U2PL rule: classes absent from GT and prediction count as IoU 0 (default: ST++ rule, excluded). */
  absentAsZero?: boolean;
}

export interface SegMetrics {
  /** mean of `iou` over the counted classes */
  miou: number;
  /** per-class IoU; NaN for a class left out of the mean */
  iou: number[];
  /** correctly labelled / all non-ignored pixels */
  pixelAcc: number;
  /** mean over classes of diag / GT pixels of the class (same absent-class rule as IoU) */
  meanAcc: number;
  /** per-class accuracy (recall); NaN for a class without GT pixels under the default rule */
  acc: number[];
  /** indices of the classes that entered the mean IoU */
  classesCounted: number[];
}

/**
 * Accumulates (gt, pred) label maps over a data set. Pixels whose GT is the ignore value (or any
 * value outside [0, K), as in ST++'s mask) are skipped, so predictions there never count.
 */
export class ConfusionMatrix {
  readonly numClasses: number;
  /** K×K counts, row-major, rows = GT. Float64 keeps counts exact far beyond 2^32 pixels. */
  readonly counts: Float64Array;

  constructor(numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > IGNORE_INDEX) {
      throw new SsssegError('eval.numClasses', `number of classes must be an integer in 1..${IGNORE_INDEX - 1}, got ${numClasses}`);
    }
    this.numClasses = numClasses;
    this.counts = new Float64Array(numClasses * numClasses);
  }

  add(gt: Uint8Array, pred: Uint8Array): void {
    if (gt.length !== pred.length) {
      throw new SsssegError('eval.shapeMismatch', `label has ${gt.length} pixels but the prediction has ${pred.length}`);
    }
    const k = this.numClasses;
    const counts = this.counts;
    for (let i = 0; i < gt.length; i++) {
      const g = gt[i]!;
      if (g >= k) continue;
      const p = pred[i]!;
      if (p >= k) {
        throw new SsssegError('eval.predOutOfRange', `prediction class ${p} at pixel ${i} is outside 0..${k - 1}`);
      }
      counts[g * k + p]! += 1;
    }
  }

  /** Add another matrix's counts (e.g. from a parallel worker). */
  merge(other: ConfusionMatrix): void {
    if (other.numClasses !== this.numClasses) {
      throw new SsssegError('eval.numClasses', `cannot merge a ${other.numClasses}-class matrix into a ${this.numClasses}-class one`);
    }
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
  }

  reset(): void {
    this.counts.fill(0);
  }

  toArray(): number[][] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, r) => Array.from(this.counts.subarray(r * k, (r + 1) * k)));
  }

  /** Per-class intersection (diagonal), U2PL's `area_intersection`. */
  intersection(): number[] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, c) => this.counts[c * k + c]!);
  }

  /** Per-class GT pixel count (row sums), U2PL's `area_target`. */
  target(): number[] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, r) => sum(this.counts.subarray(r * k, (r + 1) * k)));
  }

  /** Per-class predicted pixel count on non-ignored pixels (column sums). */
  predicted(): number[] {
    const k = this.numClasses;
    const out = new Array<number>(k).fill(0);
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) out[c]! += this.counts[r * k + c]!;
    return out;
  }

  /** Per-class union = target + predicted − intersection, U2PL's `area_union`. */
  union(): number[] {
    const inter = this.intersection();
    const pred = this.predicted();
    return this.target().map((t, c) => t + pred[c]! - inter[c]!);
  }

  total(): number {
    return sum(this.counts);
  }

  metrics(options: MetricOptions = {}): SegMetrics {
    return computeMetrics(this, options);
  }
}

export function computeMetrics(cm: ConfusionMatrix, options: MetricOptions = {}): SegMetrics {
  const inter = cm.intersection();
  const union = cm.union();
  const target = cm.target();
  const ratio = options.absentAsZero
    ? (num: number, den: number) => num / (den + U2PL_EPS)
    : (num: number, den: number) => (den === 0 ? Number.NaN : num / den);
  const iou = inter.map((i, c) => ratio(i, union[c]!));
  const acc = inter.map((i, c) => ratio(i, target[c]!));
  const total = cm.total();
  return {
    miou: nanMean(iou),
    iou,
    pixelAcc: total === 0 ? Number.NaN : sum(inter) / total,
    meanAcc: nanMean(acc),
    acc,
    classesCounted: iou.flatMap((v, c) => (Number.isNaN(v) ? [] : [c])),
  };
}

/** Mean of the non-NaN entries (numpy's nanmean); NaN when there are none. */
export function nanMean(values: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    s += v;
    n++;
  }
  return n === 0 ? Number.NaN : s / n;
}

function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
}
