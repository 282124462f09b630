/**
 * Pseudo-masks with test-time augmentation (ST++ `label()`): softmax probabilities summed over
 * scales × {identity, hflip}, argmax, no confidence threshold. Each mask is one 8-bit class-id
 * PNG, written atomically, so an existing file is always complete and a rerun skips it.
 */
import { existsSync } from 'node:fs';
import { segment, type PredictFn } from '../eval/inference.ts';
import { colorize, type Rgb } from '../eval/save-pred.ts';
import { encodePng } from '../data/png.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { previewFile, pseudoFile } from './layout.ts';
import type { ReadImage } from './select.ts';

export interface PseudoOptions {
  scales: number[];
  flip: boolean;
  /** write pseudo-color/<id>.png too */
  palette?: readonly Rgb[];
  signal?: AbortSignal;
  onImage?: (done: number, total: number) => void;
}

/**
 * Write `<run>/pseudo/<id>.png` for each id not already there. Returns the number written, or
 * undefined when `signal` aborted (the files written so far stay: they are complete).
 */
export async function writePseudoMasks(
  run: string,
  ids: readonly string[],
  read: ReadImage,
  predict: PredictFn,
  opts: PseudoOptions,
): Promise<number | undefined> {
  let written = 0;
  for (const [i, id] of ids.entries()) {
    const file = pseudoFile(run, id);
    const preview = opts.palette ? previewFile(run, id) : undefined;
    if (existsSync(file) && (!preview || existsSync(preview))) {
      opts.onImage?.(i + 1, ids.length);
      continue;
    }
    if (opts.signal?.aborted) return undefined;
    const img = await read(id);
    const seg = await segment(img.image, img.h, img.w, predict, { mode: 'whole', scales: opts.scales, flip: opts.flip });
    await writeFileAtomic(file, encodePng(seg.pred, img.w, img.h, 1));
    if (preview && opts.palette) await writeFileAtomic(preview, encodePng(colorize(seg.pred, opts.palette), img.w, img.h, 3));
    written++;
    opts.onImage?.(i + 1, ids.length);
  }
  return written;
}
