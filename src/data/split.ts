/**
 * Labeled/unlabeled partitions of a prepared data set. A partition is two id lists stored inside
 * the data folder (`splits/<dir>/{labeled,unlabeled}.txt`) and registered by name in
 * dataset.json's `partitions`; training names one (`--split 1/8`, `--split u2pl/92`), or a folder
 * holding the two files, or `all` (every training image labeled).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SsssegError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { Rng } from '../util/rng.ts';
import { duplicates, isPlainId, listIds, readDatasetMeta, writeDatasetMeta, type DatasetMeta, type PartitionMeta } from './format.ts';
import type { PreparedDataset } from './dataset.ts';

export interface ResolvedSplit {
  /** e.g. '1/8', 'u2pl/92', 'all', or the folder given */
  name: string;
  labeled: string[];
  unlabeled: string[];
}

export const LABELED_FILE = 'labeled.txt';
export const UNLABELED_FILE = 'unlabeled.txt';

/** `1/8` → fraction, `92` → count. */
export type LabeledSpec = { kind: 'fraction'; den: number } | { kind: 'count'; n: number };

export function parseLabeledSpec(spec: string): LabeledSpec {
  const frac = /^1\/(\d+)$/.exec(spec);
  if (frac && Number(frac[1]) >= 1) return { kind: 'fraction', den: Number(frac[1]) };
  if (/^\d+$/.test(spec) && Number(spec) > 0) return { kind: 'count', n: Number(spec) };
  throw new SsssegError('split.badSpec', `--labeled ${spec}: expected a fraction 1/N (1/16, 1/8, 1/4, 1/2) or a count`);
}

/** How many labeled ids a spec takes from `total` (fractions round up, as U2PL's 662 = ⌈10582/16⌉). */
export function labeledCount(spec: LabeledSpec, total: number): number {
  const n = spec.kind === 'fraction' ? Math.ceil(total / spec.den) : spec.n;
  if (n > total) throw new SsssegError('split.tooMany', `asked for ${n} labeled images but the split has only ${total}`);
  return n;
}

/** Partition name → folder under the data root: `1/8` → `splits/1_8`, `u2pl/92` → `splits/u2pl/92`. */
export function partitionDir(name: string): string {
  const flat = /^\d+\/\d+/.test(name) ? name.replace('/', '_') : name;
  return path.posix.join('splits', flat);
}

/**
 * Draw `spec` labeled ids from split `from` with a seeded shuffle; the unlabeled ids are the rest
 * of `unlabeledFrom` (default `from`). Both lists keep the split's order, so equal seeds give
 * equal files.
 */
export function randomPartition(
  meta: DatasetMeta,
  spec: LabeledSpec,
  seed: number,
  from: string,
  unlabeledFrom = from,
): { labeled: string[]; unlabeled: string[] } {
  const pool = splitIds(meta, from);
  const rest = splitIds(meta, unlabeledFrom);
  const n = labeledCount(spec, pool.length);
  const chosen = new Set(new Rng(seed).shuffle([...pool]).slice(0, n));
  return { labeled: pool.filter((id) => chosen.has(id)), unlabeled: rest.filter((id) => !chosen.has(id)) };
}

function splitIds(meta: DatasetMeta, name: string): string[] {
  const ids = meta.splits[name];
  if (!ids) {
    throw new SsssegError('data.missingSplit', `the data set has no split "${name}" (it has: ${Object.keys(meta.splits).join(', ')})`);
  }
  return ids;
}

/** The default name of a random partition: `1/8` for seed 0, `1/8-s<seed>` otherwise. */
export function randomPartitionName(specText: string, seed: number): string {
  return seed === 0 ? specText : `${specText}-s${seed}`;
}

export interface SavePartitionOptions {
  name: string;
  labeled: string[];
  unlabeled: string[];
  info: Omit<PartitionMeta, 'dir' | 'labeled' | 'unlabeled'>;
  force: boolean;
}

/** Write the two lists and register the partition in dataset.json; a different existing one needs force. */
export async function savePartition(dataDir: string, opts: SavePartitionOptions): Promise<PartitionMeta> {
  // the name becomes a folder under splits/: it must stay there
  if (!isPlainId(opts.name)) {
    throw new SsssegError('split.badName', `partition name "${opts.name}" is not a plain relative name (letters, digits, _ . - in /-separated parts, no ..)`, 'pick another --name');
  }
  const meta = await readDatasetMeta(dataDir);
  checkIdsExist(meta, [...opts.labeled, ...opts.unlabeled], `partition ${opts.name}`);
  checkDisjoint(opts.labeled, opts.unlabeled, `partition ${opts.name}`);
  await checkImagesExist(dataDir, meta, [...opts.labeled, ...opts.unlabeled], `partition ${opts.name}`);
  const dir = partitionDir(opts.name);
  const entry: PartitionMeta = { dir, ...opts.info, labeled: opts.labeled.length, unlabeled: opts.unlabeled.length };
  const old = meta.partitions[opts.name];
  if (old && !opts.force) {
    const same = await readPartitionFiles(path.join(dataDir, old.dir)).then(
      (p) => sameList(p.labeled, opts.labeled) && sameList(p.unlabeled, opts.unlabeled),
      () => false,
    );
    if (!same) {
      throw new SsssegError('split.exists', `partition ${opts.name} already exists in ${dataDir} with other ids`, 'pass --force to replace it, or --name to keep both');
    }
  }
  const full = path.join(dataDir, dir);
  await writeFileAtomic(path.join(full, LABELED_FILE), listText(opts.labeled));
  await writeFileAtomic(path.join(full, UNLABELED_FILE), listText(opts.unlabeled));
  meta.partitions[opts.name] = entry;
  await writeDatasetMeta(dataDir, meta);
  return entry;
}

function listText(ids: string[]): string {
  return ids.length === 0 ? '' : ids.join('\n') + '\n';
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Non-empty trimmed lines of a list file. */
export async function readList(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new SsssegError(err.code === 'ENOENT' ? 'data.missingFile' : 'data.unreadable', `list file ${file} ${err.code === 'ENOENT' ? 'not found' : `unreadable (${err.code})`}`);
  });
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

async function readPartitionFiles(dir: string): Promise<{ labeled: string[]; unlabeled: string[] }> {
  const labeled = await readList(path.join(dir, LABELED_FILE));
  const unlabeledFile = path.join(dir, UNLABELED_FILE);
  const hasUnlabeled = await fs.stat(unlabeledFile).then(() => true, () => false);
  return { labeled, unlabeled: hasUnlabeled ? await readList(unlabeledFile) : [] };
}

/** Every id must be an image of the data set; the error names (up to 10 of) the missing ones. */
export function checkIdsExist(meta: DatasetMeta, ids: string[], where: string): void {
  const known = new Set(Object.values(meta.splits).flat());
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new SsssegError('split.unknownIds', `${where}: ${missing.length} id(s) not in the data set: ${listIds(missing)}`, 'prepare the data set that this partition was made for');
  }
}

/** No id twice in a list, none both labeled and unlabeled (it would be trained on twice, with and without its label). */
export function checkDisjoint(labeled: string[], unlabeled: string[], where: string): void {
  for (const [name, ids] of [['labeled', labeled], ['unlabeled', unlabeled]] as const) {
    const twice = duplicates(ids);
    if (twice.length > 0) throw new SsssegError('split.duplicateIds', `${where}: ${name} list names id(s) more than once: ${listIds(twice)}`);
  }
  const inLabeled = new Set(labeled);
  const both = unlabeled.filter((id) => inLabeled.has(id));
  if (both.length > 0) throw new SsssegError('split.overlap', `${where}: id(s) both labeled and unlabeled: ${listIds(both)}`);
}

/** Every id must have its image in the folder (dataset.json may list ids whose files are gone). */
async function checkImagesExist(dataDir: string, meta: DatasetMeta, ids: string[], where: string): Promise<void> {
  const files = await fs.readdir(path.join(dataDir, 'images'), { recursive: true }).catch(() => [] as string[]);
  const present = new Set(files.map((f) => f.split(path.sep).join('/')));
  const missing = ids.filter((id) => !present.has(`${id}.${meta.imageExt}`));
  if (missing.length > 0) {
    throw new SsssegError('split.missingImages', `${where}: ${missing.length} id(s) of ${path.join(dataDir, 'dataset.json')} have no image in ${path.join(dataDir, 'images')}: ${listIds(missing)}`, 'prepare the data set again');
  }
}

/**
 * Resolve `--split`: `all`, a registered partition name, a folder with labeled.txt (and
 * optionally unlabeled.txt, absolute or relative to the data folder).
 */
export async function resolveSplit(data: PreparedDataset, spec: string): Promise<ResolvedSplit> {
  // re-read: a partition may have been added since the data set was opened
  const meta = await readDatasetMeta(data.dir);
  if (spec === 'all') return { name: 'all', labeled: [...splitIds(meta, trainSplitOf(meta))], unlabeled: [] };
  const registered = meta.partitions[spec];
  if (registered) return loadPartition(meta, spec, path.join(data.dir, registered.dir));
  for (const dir of [spec, path.join(data.dir, spec)]) {
    const isDir = await fs.stat(path.join(dir, LABELED_FILE)).then((s) => s.isFile(), () => false);
    if (isDir) return loadPartition(meta, spec, dir);
  }
  const known = Object.keys(meta.partitions);
  const looksLikeSpec = /^(\d+\/\d+|\d+)(-s\d+)?$/.test(spec);
  throw new SsssegError(
    'split.notFound',
    `split "${spec}" is not a partition of ${data.dir} (it has: ${known.length > 0 ? known.join(', ') : 'none'}) nor a folder with ${LABELED_FILE}`,
    looksLikeSpec ? `run \`sssseg split --data ${data.dir} --labeled ${spec.replace(/-s\d+$/, '')}\` first` : 'use `sssseg split` to make or import one',
  );
}

async function loadPartition(meta: DatasetMeta, name: string, dir: string): Promise<ResolvedSplit> {
  const { labeled, unlabeled } = await readPartitionFiles(dir);
  if (labeled.length === 0) throw new SsssegError('split.empty', `${path.join(dir, LABELED_FILE)} lists no ids`);
  checkIdsExist(meta, [...labeled, ...unlabeled], dir);
  checkDisjoint(labeled, unlabeled, dir);
  return { name, labeled, unlabeled };
}

/** The split training draws from: `train` when present, else the first one listed. */
export function trainSplitOf(meta: Pick<DatasetMeta, 'splits'>): string {
  return 'train' in meta.splits ? 'train' : Object.keys(meta.splits)[0]!;
}
