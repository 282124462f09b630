/**
 * Opening a prepared data folder and reading samples from it: the one place the trainer and the
 * evaluator get pixels from. Samples are plain typed arrays; nothing here touches tfjs.
 */
import path from 'node:path';
import { SsssegError } from '../errors.ts';
import { imageRelPath, labelRelPath, readDatasetMeta, type DatasetMeta } from './format.ts';
import { decodeImage, readLabelMap } from './image-io.ts';

export interface PreparedDataset {
  dir: string;
  meta: DatasetMeta;
  name: string;
  classes: string[];
  palette: [number, number, number][];
  /** every split's id list, as stored in dataset.json */
  splits: Record<string, string[]>;
  numClasses: number;
  ignoreIndex: number;
  /** the id list of a split (train, val, train_aug, …); a missing split is an SsssegError */
  split(name: string): string[];
  imagePath(id: string): string;
  labelPath(id: string): string;
  /** decoded samples by id when opened with `cache` */
  cache?: SampleCache;
}

export interface OpenOptions {
  /**
   * keep decoded samples in memory, least recently used evicted first: `true` = up to
   * DEFAULT_CACHE_MIB, a number = that many MiB (the whole of CamVid 360x480 is ~250 MiB)
   */
  cache?: boolean | number;
}

/** One decoded sample. Cached samples are shared: treat the arrays as read-only. */
export interface Sample {
  id: string;
  /** HWC RGB */
  image: Uint8Array;
  /** HW class ids, 255 = ignore */
  label: Uint8Array;
  h: number;
  w: number;
}

export async function openDataset(dir: string, opts: OpenOptions = {}): Promise<PreparedDataset> {
  const meta = await readDatasetMeta(dir);
  return {
    dir,
    meta,
    name: meta.name,
    classes: meta.classes,
    palette: meta.palette,
    splits: meta.splits,
    numClasses: meta.classes.length,
    ignoreIndex: meta.ignoreIndex,
    split(name) {
      const ids = meta.splits[name];
      if (!ids) {
        throw new SsssegError(
          'data.missingSplit',
          `${path.join(dir, 'dataset.json')} has no split "${name}" (it has: ${Object.keys(meta.splits).join(', ') || 'none'})`,
        );
      }
      return ids;
    },
    imagePath: (id) => path.join(dir, imageRelPath(meta, id)),
    labelPath: (id) => path.join(dir, labelRelPath(id)),
    cache: opts.cache ? new SampleCache(opts.cache === true ? DEFAULT_CACHE_MIB : opts.cache) : undefined,
  };
}

/** Decode one sample, checking that image and label agree in size and the label holds class ids. */
export function readSample(data: PreparedDataset, id: string): Promise<Sample> {
  const cached = data.cache?.get(id);
  if (cached) return cached;
  const pending = decodeSample(data, id);
  data.cache?.add(id, pending);
  return pending;
}

export const DEFAULT_CACHE_MIB = 1024;

/** A byte-bounded LRU of decoded samples (Map keeps insertion order: first key = least recent). */
export class SampleCache {
  private readonly entries = new Map<string, { sample: Promise<Sample>; bytes: number }>();
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(maxMiB: number) {
    this.maxBytes = maxMiB * 1024 * 1024;
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): Promise<Sample> | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    return e.sample;
  }

  add(id: string, sample: Promise<Sample>): void {
    const entry = { sample, bytes: 0 };
    this.entries.set(id, entry);
    sample.then(
      (s) => {
        if (this.entries.get(id) !== entry) return;
        entry.bytes = s.image.length + s.label.length;
        this.bytes += entry.bytes;
        this.evict();
      },
      // a failed read must not stay cached: the next attempt should report (or succeed) afresh
      () => {
        if (this.entries.get(id) === entry) this.entries.delete(id);
      },
    );
  }

  private evict(): void {
    for (const [key, e] of this.entries) {
      if (this.bytes <= this.maxBytes || this.entries.size <= 1) break;
      this.entries.delete(key);
      this.bytes -= e.bytes;
    }
  }
}

const REPREPARE = 'rerun the prepare command that wrote this folder';

async function decodeSample(data: PreparedDataset, id: string): Promise<Sample> {
  const imageFile = data.imagePath(id);
  const labelFile = data.labelPath(id);
  const [image, label] = await Promise.all([decodeImage(imageFile), readLabelMap(labelFile)]);
  if (image.h !== label.h || image.w !== label.w) {
    throw new SsssegError('data.sizeMismatch', `${labelFile} is ${label.w}x${label.h} but ${imageFile} is ${image.w}x${image.h}`, REPREPARE);
  }
  const bad = findBadLabel(label.data, data.numClasses, data.ignoreIndex);
  if (bad !== undefined) {
    throw new SsssegError('data.badLabel', `${labelFile} holds value ${bad}, not a class id (0..${data.numClasses - 1}) or ${data.ignoreIndex}`, REPREPARE);
  }
  return { id, image: image.data, label: label.data, h: image.h, w: image.w };
}

function findBadLabel(label: Uint8Array, numClasses: number, ignore: number): number | undefined {
  for (let i = 0; i < label.length; i++) {
    const v = label[i]!;
    if (v >= numClasses && v !== ignore) return v;
  }
  return undefined;
}

/** ImageNet statistics on the 0..255 scale (= torchvision's 0..1 mean/std × 255). */
export const IMAGENET_MEAN: readonly [number, number, number] = [123.675, 116.28, 103.53];
export const IMAGENET_STD: readonly [number, number, number] = [58.395, 57.12, 57.375];

/**
 * HWC RGB uint8 → HWC float32 normalised with ImageNet mean/std, written into `out` at `offset`
 * (for batch assembly without a copy). Pixels where `zeroWhere` is nonzero become 0, i.e. the
 * mean colour: that is how crop padding is filled after normalisation.
 */
export function normalizeInto(image: Uint8Array, out: Float32Array, offset = 0, zeroWhere?: Uint8Array): void {
  const [m0, m1, m2] = IMAGENET_MEAN;
  const s0 = 1 / IMAGENET_STD[0];
  const s1 = 1 / IMAGENET_STD[1];
  const s2 = 1 / IMAGENET_STD[2];
  const n = image.length / 3;
  for (let p = 0; p < n; p++) {
    const o = offset + p * 3;
    if (zeroWhere && zeroWhere[p]) {
      out[o] = 0;
      out[o + 1] = 0;
      out[o + 2] = 0;
      continue;
    }
    out[o] = (image[p * 3]! - m0) * s0;
    out[o + 1] = (image[p * 3 + 1]! - m1) * s1;
    out[o + 2] = (image[p * 3 + 2]! - m2) * s2;
  }
}

/** HWC RGB uint8 → new HWC float32 array, ImageNet-normalised. */
export function normalize(image: Uint8Array): Float32Array {
  const out = new Float32Array(image.length);
  normalizeInto(image, out);
  return out;
}
