/**
 * Prediction PNGs for `sssseg eval --save-pred`: an 8-bit single-channel map of class ids (what
 * tools and pseudo-label pipelines read) and an RGB rendering in the dataset palette (to look at).
 */
import path from 'node:path';
import { checkId } from '../data/format.ts';
import { encodePng } from '../data/png.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { IGNORE_INDEX } from './metrics.ts';

export type Rgb = [number, number, number];

/** Colour of ignore / not-predicted pixels (outside a center crop). */
export const IGNORE_COLOR: Rgb = [255, 255, 255];

export interface SavedPrediction {
  ids: string;
  color: string;
}

/** Class ids → RGB bytes; ids without a palette entry (255) get `ignore` (default IGNORE_COLOR). */
export function colorize(pred: Uint8Array, palette: readonly Rgb[], ignore: Readonly<Rgb> = IGNORE_COLOR): Uint8Array {
  const out = new Uint8Array(pred.length * 3);
  for (let i = 0; i < pred.length; i++) {
    const c = pred[i]! === IGNORE_INDEX ? ignore : (palette[pred[i]!] ?? ignore);
    out[i * 3] = c[0];
    out[i * 3 + 1] = c[1];
    out[i * 3 + 2] = c[2];
  }
  return out;
}

/** Writes `<dir>/ids/<id>.png` and `<dir>/color/<id>.png` (atomically; ids may contain `/`). */
export async function savePrediction(
  dir: string,
  id: string,
  pred: Uint8Array,
  h: number,
  w: number,
  palette: readonly Rgb[],
): Promise<SavedPrediction> {
  // ids become paths under `dir`: never let one climb out of it
  checkId(id, 'save-pred');
  const ids = path.join(dir, 'ids', `${id}.png`);
  const color = path.join(dir, 'color', `${id}.png`);
  await writeFileAtomic(ids, encodePng(pred, w, h, 1));
  await writeFileAtomic(color, encodePng(colorize(pred, palette), w, h, 3));
  return { ids, color };
}
