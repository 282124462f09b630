/**
 * PASCAL VOC 2012 (+ SBD SegmentationClassAug). Labels are palette PNGs whose *index* is the
 * class id (255 = void); grey PNGs (SegmentationClassAug) hold the same values; RGB colour masks
 * are mapped back through the VOC colour map. Splits come from ImageSets/Segmentation.
 */
import path from 'node:path';
import { SsssegError } from '../../errors.ts';
import { makeLut, type SourceItem, type SourceSpec } from '../prepare.ts';
import { readList } from '../split.ts';
import { exists, listDir, requireDir } from './common.ts';

export const VOC_CLASSES = [
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
];

/** The standard VOC bit-shuffle colour map (entry 255 = the cream void colour 224,224,192). */
export function vocColourMap(n = 256): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    let [r, g, b, c] = [0, 0, 0, i];
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    out.push([r, g, b]);
  }
  return out;
}

export interface VocOptions {
  voc: string;
  aug?: string;
}

export async function vocSource(opts: VocOptions): Promise<SourceSpec> {
  const root = opts.voc;
  await requireDir(root, 'VOC folder', 'pass --voc <VOCdevkit/VOC2012>');
  const lists = path.join(root, 'ImageSets', 'Segmentation');
  await requireDir(lists, 'VOC split lists');
  if (opts.aug) await requireDir(opts.aug, '--aug folder');
  const item = (id: string, labelDir: string): SourceItem => ({
    id,
    image: path.join(root, 'JPEGImages', `${id}.jpg`),
    label: path.join(labelDir, `${id}.png`),
  });
  const splits: SourceSpec['splits'] = [];
  for (const name of ['train', 'val']) {
    const file = path.join(lists, `${name}.txt`);
    if (!(await exists(file))) continue;
    splits.push({ name, items: (await readList(file)).map((id) => item(id, path.join(root, 'SegmentationClass'))) });
  }
  if (opts.aug) splits.push({ name: 'train_aug', items: await trainAug(opts.aug, splits, item) });
  if (splits.length === 0) throw new SsssegError('data.missingFile', `${lists} has neither train.txt nor val.txt`);
  const colourMap = vocColourMap();
  const colours = new Map<number, number>();
  for (const i of [...VOC_CLASSES.keys(), 255]) colours.set((colourMap[i]![0] << 16) | (colourMap[i]![1] << 8) | colourMap[i]![2], i);
  return {
    name: 'voc',
    classes: VOC_CLASSES,
    palette: colourMap.slice(0, VOC_CLASSES.length),
    splits,
    lut: makeLut(VOC_CLASSES.length, { 255: 255 }),
    colours,
    imageExt: 'jpg',
    source: { command: 'prepare-voc', voc: path.resolve(root), aug: opts.aug ? path.resolve(opts.aug) : null },
  };
}

/**
 * train_aug = every SegmentationClassAug mask minus the val ids (12031 − 1449 = 10582). Ids of the
 * 1464 train set keep their own SegmentationClass mask; the rest use the SBD-derived one.
 */
async function trainAug(aug: string, splits: SourceSpec['splits'], item: (id: string, dir: string) => SourceItem): Promise<SourceItem[]> {
  const val = new Set(splits.find((s) => s.name === 'val')?.items.map((it) => it.id) ?? []);
  const train = new Map((splits.find((s) => s.name === 'train')?.items ?? []).map((it) => [it.id, it]));
  const ids = (await listDir(aug)).filter((f) => f.endsWith('.png')).map((f) => f.slice(0, -4)).filter((id) => !val.has(id));
  if (ids.length === 0) throw new SsssegError('data.empty', `--aug folder ${aug} holds no .png masks outside val`);
  return ids.map((id) => train.get(id) ?? item(id, aug));
}
