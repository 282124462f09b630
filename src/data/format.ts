/**
 * The prepared data format: one folder per data set with `dataset.json`, `images/<id>.<ext>`,
 * `labels/<id>.png` (8-bit single-channel class ids, 255 = ignore) and `splits/<partition>/
 * {labeled,unlabeled}.txt`. This file owns the dataset.json schema; everything that reads the
 * file goes through `readDatasetMeta`, so a bad file is reported once, with its key.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SsssegError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';

export const FORMAT_TAG = 'sssseg-prepared/1';
export const IGNORE_INDEX = 255;
export const DATASET_JSON = 'dataset.json';

const rgb = z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]);

/** A stored labeled/unlabeled partition of one split; the id lists live in `splits/<name>/`. */
export const partitionSchema = z
  .object({
    /** folder of labeled.txt / unlabeled.txt, relative to the data folder */
    dir: z.string().min(1),
    /** the split the ids were drawn from */
    from: z.string(),
    labeled: z.number().int().nonnegative(),
    unlabeled: z.number().int().nonnegative(),
    /** how it was made: `random` (seeded) or the official list it was imported from */
    origin: z.string(),
    seed: z.number().int().optional(),
    source: z.string().optional(),
  })
  .strict();

export const datasetMetaSchema = z
  .object({
    format: z.literal(FORMAT_TAG),
    name: z.string().min(1),
    classes: z.array(z.string().min(1)).min(1).max(255),
    palette: z.array(rgb),
    ignoreIndex: z.literal(IGNORE_INDEX),
    /** every image is stored as `images/<id>.<imageExt>` */
    imageExt: z.enum(['png', 'jpg']),
    splits: z.record(z.string(), z.array(z.string().min(1))),
    partitions: z.record(z.string(), partitionSchema).default({}),
    /** provenance: the command and options that wrote the folder */
    source: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
  })
  .strict()
  .refine((m) => m.palette.length === m.classes.length, { message: 'needs one colour per class', path: ['palette'] });

export type DatasetMeta = z.infer<typeof datasetMetaSchema>;
export type PartitionMeta = z.infer<typeof partitionSchema>;

const PREPARE_HINT = 'run `sssseg prepare-voc|prepare-cityscapes|prepare-camvid|synthetic --out <dir>` first';

/** Read and validate `<dir>/dataset.json`. */
export async function readDatasetMeta(dir: string): Promise<DatasetMeta> {
  const file = path.join(dir, DATASET_JSON);
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new SsssegError('data.notFound', `data folder ${dir} does not exist`, PREPARE_HINT);
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new SsssegError('data.notPrepared', `${file} not found: ${dir} is not a prepared data folder`, PREPARE_HINT);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SsssegError('data.badDatasetJson', `${file}: invalid JSON (${(err as Error).message})`, PREPARE_HINT);
  }
  const parsed = datasetMetaSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new SsssegError('data.badDatasetJson', `${file}: key ${key}: ${issue.message}`, PREPARE_HINT);
  }
  checkSplitIds(parsed.data.splits, file);
  return parsed.data;
}

/** Ids become file paths and list entries: each must be a plain relative name, once per split. */
function checkSplitIds(splits: Record<string, string[]>, file: string): void {
  for (const [name, ids] of Object.entries(splits)) {
    const bad = ids.filter((id) => !isPlainId(id));
    if (bad.length > 0) {
      throw new SsssegError('data.badId', `${file}: split ${name}: id(s) that are not plain relative names: ${listIds(bad.map((id) => JSON.stringify(id)))}`, PREPARE_HINT);
    }
    const twice = duplicates(ids);
    if (twice.length > 0) throw new SsssegError('data.duplicateIds', `${file}: split ${name} lists id(s) more than once: ${listIds(twice)}`, PREPARE_HINT);
  }
}

/** Ids that occur more than once, each named once, in the order their repeats appear. */
export function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const id of ids) (seen.has(id) ? twice : seen).add(id);
  return [...twice];
}

/** Up to 10 ids for an error message, with the total when there are more. */
export function listIds(ids: readonly string[]): string {
  return ids.slice(0, 10).join(', ') + (ids.length > 10 ? `, … (${ids.length} in all)` : '');
}

/** Write `<dir>/dataset.json` (atomically; stable key order so equal data gives equal bytes). */
export async function writeDatasetMeta(dir: string, meta: DatasetMeta): Promise<void> {
  const checked = datasetMetaSchema.parse(meta);
  await writeFileAtomic(path.join(dir, DATASET_JSON), JSON.stringify(checked, null, 1) + '\n');
}

export function imageRelPath(meta: Pick<DatasetMeta, 'imageExt'>, id: string): string {
  return path.join('images', `${id}.${meta.imageExt}`);
}

export function labelRelPath(id: string): string {
  return path.join('labels', `${id}.png`);
}

/** Ids become file paths: keep them relative, without `..` or odd characters. */
export function checkId(id: string, where: string): string {
  if (!isPlainId(id)) throw new SsssegError('data.badId', `${where}: id "${id}" is not a plain relative name`);
  return id;
}

/** Letters, digits, `_ . -` in `/`-separated parts; no `.` or `..` part, not absolute. */
export function isPlainId(id: string): boolean {
  return /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(id) && !id.split('/').some((p) => p === '.' || p === '..');
}
