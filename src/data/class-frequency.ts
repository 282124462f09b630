/**
 * Class weights from label statistics, for `train.loss.class_weights: median_frequency` (SegNet's
 * median frequency balancing, the usual CamVid recipe): freq(c) = pixels of class c / pixels of the
 * images in which c appears, weight(c) = median over classes of freq / freq(c). Rare classes (pole,
 * sign, pedestrian on CamVid) would otherwise contribute almost nothing to the mean CE.
 */
import { readSample, type PreparedDataset } from './dataset.ts';

export interface ClassFrequency {
  /** per class: its pixels over the pixels of the images it appears in (0 where it never appears) */
  freq: number[];
  /** images read */
  images: number;
}

export async function classFrequency(data: PreparedDataset, ids: readonly string[]): Promise<ClassFrequency> {
  const n = data.numClasses;
  const pixels = new Array<number>(n).fill(0);
  const imagePixels = new Array<number>(n).fill(0);
  for (const id of ids) {
    const { label } = await readSample(data, id);
    const count = new Array<number>(n).fill(0);
    let valid = 0;
    for (const y of label) {
      if (y < n) {
        count[y]!++;
        valid++;
      }
    }
    for (let c = 0; c < n; c++) {
      if (count[c]! === 0) continue;
      pixels[c]! += count[c]!;
      imagePixels[c]! += valid;
    }
  }
  return { freq: pixels.map((p, c) => (p > 0 ? p / imagePixels[c]! : 0)), images: ids.length };
}

/**
 * Median frequency weights. A class absent from the images gets weight 0: it has no pixels to
 * weigh, and 0 keeps the weights finite.
 */
export function medianFrequencyWeights(freq: readonly number[]): number[] {
  const present = freq.filter((f) => f > 0).sort((a, b) => a - b);
  if (present.length === 0) return freq.map(() => 1);
  const mid = present.length >> 1;
  const median = present.length % 2 ? present[mid]! : (present[mid - 1]! + present[mid]!) / 2;
  return freq.map((f) => (f > 0 ? median / f : 0));
}
