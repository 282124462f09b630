/**
 * Cityscapes: `leftImg8bit/<split>/<city>/<frame>_leftImg8bit.png` with
 * `gtFine/<split>/<city>/<frame>_gtFine_labelIds.png`. labelIds map to the 19 train ids with the
 * official table (cityscapesscripts labels.py), everything else 255. With `labels: 'auto'` a
 * frame that already has `_gtFine_labelTrainIds.png` (written by cityscapesscripts'
 * createTrainIdLabelImgs or mmseg's converter from the same labelIds) uses that file as is.
 * The prepared id is the frame name (it contains the city).
 */
import path from 'node:path';
import { SsssegError } from '../../errors.ts';
import type { SourceItem, SourceSpec } from '../prepare.ts';
import { exists, listDir, requireDir } from './common.ts';

export const CITYSCAPES_CLASSES = [
  'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation', 'terrain',
  'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle',
];
export const CITYSCAPES_PALETTE: [number, number, number][] = [
  [128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153], [153, 153, 153], [250, 170, 30],
  [220, 220, 0], [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142],
  [0, 0, 70], [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32],
];

/** labelId → trainId for the 19 evaluated classes. */
const TRAIN_IDS: Record<number, number> = {
  7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
};

/** Every byte value is legal in labelIds (-1 "license plate" is stored as 255): unknown → 255. */
export function labelIdLut(): Int16Array {
  const lut = new Int16Array(256).fill(255);
  for (const [k, v] of Object.entries(TRAIN_IDS)) lut[Number(k)] = v;
  return lut;
}

/** For frames that only have `_labelTrainIds.png`: those values are already class ids. */
function trainIdLut(): Int16Array {
  const lut = new Int16Array(256).fill(-1);
  for (let i = 0; i < CITYSCAPES_CLASSES.length; i++) lut[i] = i;
  lut[255] = 255;
  return lut;
}

/** Which gtFine file gives the labels: labelTrainIds when present (auto), or always one kind. */
export type CityLabels = 'auto' | 'labelIds' | 'labelTrainIds';

export async function cityscapesSource(root: string, labels: CityLabels = 'auto'): Promise<SourceSpec> {
  await requireDir(root, 'Cityscapes folder', 'pass --root <cityscapes> (holding leftImg8bit/ and gtFine/)');
  await requireDir(path.join(root, 'leftImg8bit'), 'Cityscapes images');
  await requireDir(path.join(root, 'gtFine'), 'Cityscapes labels');
  const splits: SourceSpec['splits'] = [];
  for (const name of ['train', 'val']) {
    const items = await citySplit(root, name, labels);
    if (items.length > 0) splits.push({ name, items });
  }
  if (splits.length === 0) throw new SsssegError('data.empty', `${root}: no frames under leftImg8bit/train or leftImg8bit/val`);
  return {
    name: 'cityscapes',
    classes: CITYSCAPES_CLASSES,
    palette: CITYSCAPES_PALETTE,
    splits,
    lut: labelIdLut(),
    imageExt: 'png',
    source: { command: 'prepare-cityscapes', root: path.resolve(root), labels },
  };
}

async function citySplit(root: string, split: string, labels: CityLabels): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  const trainLut = trainIdLut();
  const imgRoot = path.join(root, 'leftImg8bit', split);
  for (const city of await listDir(imgRoot)) {
    for (const file of await listDir(path.join(imgRoot, city))) {
      if (!file.endsWith('_leftImg8bit.png')) continue;
      const id = file.slice(0, -'_leftImg8bit.png'.length);
      const gt = path.join(root, 'gtFine', split, city, `${id}_gtFine_`);
      // a missing file is reported under the name of the one that was expected
      const useTrainIds = labels === 'labelTrainIds' || (labels === 'auto' && (await exists(`${gt}labelTrainIds.png`)));
      const image = path.join(imgRoot, city, file);
      items.push(useTrainIds ? { id, image, label: `${gt}labelTrainIds.png`, lut: trainLut } : { id, image, label: `${gt}labelIds.png` });
    }
  }
  return items;
}
