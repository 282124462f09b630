/**
 * Importing the published semi-supervised partition lists (U2PL, ST++, UniMatch) exactly as
 * they are distributed: bare ids (`2007_000033`), two columns (`JPEGImages/x.jpg
 * SegmentationClass/x.png`) or Cityscapes paths (`leftImg8bit/train/aachen/aachen_…_leftImg8bit.png`).
 * Every line maps to a prepared id; ids the data set lacks are an error that names them.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SsssegError } from '../errors.ts';
import { readDatasetMeta } from './format.ts';
import { LABELED_FILE, UNLABELED_FILE, readList, savePartition, trainSplitOf } from './split.ts';
import type { PartitionMeta } from './format.ts';

export const IMPORT_ORIGINS = ['u2pl', 'stpp', 'unimatch'] as const;
export type ImportOrigin = (typeof IMPORT_ORIGINS)[number];

/** One published line → the prepared id (VOC: the image id; Cityscapes: the frame name). */
export function officialLineToId(line: string, where: string): string {
  const cols = line.trim().split(/\s+/);
  if (cols.length > 2) throw new SsssegError('split.badLine', `${where}: expected an id or "image label" paths, got "${line}"`);
  const base = path.posix.basename(cols[0]!.replace(/\\/g, '/'));
  return base.replace(/\.(jpe?g|png)$/i, '').replace(/_leftImg8bit$/, '');
}

export async function readOfficialList(file: string): Promise<string[]> {
  const lines = await readList(file);
  return lines.map((l, i) => officialLineToId(l, `${file}:${i + 1}`));
}

/** `…/pascal/1_8/split_0/labeled.txt` → `1_8/split_0`; `…/pascal/92` → `92`. */
export function officialPartitionName(source: string): string {
  const parts = path.resolve(source).split(path.sep).filter((p) => p.length > 0);
  if (parts.at(-1)?.endsWith('.txt')) parts.pop();
  let ds = -1;
  parts.forEach((p, i) => {
    if (p === 'pascal' || p === 'cityscapes') ds = i;
  });
  const tail = ds >= 0 ? parts.slice(ds + 1) : parts.slice(-1);
  return tail.length > 0 ? tail.join('/') : parts.at(-1)!;
}

export interface ImportOptions {
  origin: ImportOrigin;
  /** a folder with labeled.txt (+ unlabeled.txt), or one list file */
  source: string;
  name?: string;
  /** for a single list without unlabeled.txt beside it: the unlabeled ids are the rest of this split */
  from?: string;
  force: boolean;
}

export async function importPartition(dataDir: string, opts: ImportOptions): Promise<{ name: string; entry: PartitionMeta }> {
  const stat = await fs.stat(opts.source).catch(() => undefined);
  if (!stat) throw new SsssegError('data.missingFile', `partition list ${opts.source} not found`);
  const labeledFile = stat.isDirectory() ? path.join(opts.source, LABELED_FILE) : opts.source;
  const unlabeledFile = path.join(path.dirname(labeledFile), UNLABELED_FILE);
  const labeled = await readOfficialList(labeledFile);
  if (labeled.length === 0) {
    throw new SsssegError('split.empty', `${labeledFile} is empty`, 'some published partitions (e.g. ST++ 183/split_1) are empty placeholders: pick another');
  }
  const meta = await readDatasetMeta(dataDir);
  const hasUnlabeled = path.basename(labeledFile) === LABELED_FILE && (await fs.stat(unlabeledFile).then(() => true, () => false));
  let unlabeled: string[];
  if (hasUnlabeled) {
    unlabeled = await readOfficialList(unlabeledFile);
  } else {
    const taken = new Set(labeled);
    unlabeled = (meta.splits[opts.from ?? largestTrainSplit(meta.splits)] ?? []).filter((id) => !taken.has(id));
  }
  const name = opts.name ?? `${opts.origin}/${officialPartitionName(opts.source)}`;
  const entry = await savePartition(dataDir, {
    name,
    labeled,
    unlabeled,
    info: { from: containingSplit(meta.splits, labeled) ?? trainSplitOf(meta), origin: opts.origin, source: path.resolve(opts.source) },
    force: opts.force,
  });
  return { name, entry };
}

/** VOC's unlabeled pool is train_aug when prepared with --aug. */
function largestTrainSplit(splits: Record<string, string[]>): string {
  return 'train_aug' in splits ? 'train_aug' : 'train' in splits ? 'train' : Object.keys(splits)[0]!;
}

function containingSplit(splits: Record<string, string[]>, ids: string[]): string | undefined {
  for (const [name, list] of Object.entries(splits)) {
    const set = new Set(list);
    if (ids.every((id) => set.has(id))) return name;
  }
  return undefined;
}
