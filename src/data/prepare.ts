/**
 * The shared half of every prepare command: a source reader (voc.ts, cityscapes.ts, camvid.ts)
 * lists samples and says how its label values map to class ids; this file checks, converts and
 * writes them into the prepared format, inside buildDirAtomic so a failure leaves nothing behind.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SsssegError } from '../errors.ts';
import { buildDirAtomic } from '../io/atomic.ts';
import { FORMAT_TAG, IGNORE_INDEX, checkId, imageRelPath, labelRelPath, writeDatasetMeta, type DatasetMeta } from './format.ts';
import { decodeImageBuffer, encodeImage, encodeLabel, readFileOrFail, readLabelPng, type LabelMap, type RgbImage } from './image-io.ts';
import { resizeArea, resizeBilinear, resizeNearest } from './transforms/geometric.ts';
import type { DecodedPng } from './png.ts';

export interface SourceItem {
  id: string;
  image: string;
  label: string;
  /** this item's own value table (Cityscapes frames that only have labelTrainIds) */
  lut?: Int16Array;
}

export interface SourceSpec {
  name: string;
  classes: string[];
  palette: [number, number, number][];
  /** splits in output order; an id may appear in several (VOC train ⊂ train_aug) and is written once */
  splits: { name: string; items: SourceItem[] }[];
  /** raw label value → class id or 255; -1 marks a value that must not occur */
  lut: Int16Array;
  /** for RGB label images: packed 0xRRGGBB → raw value; absent means RGB labels are an error */
  colours?: Map<number, number>;
  imageExt: 'png' | 'jpg';
  source: Record<string, string | number | boolean | null>;
}

export interface WriteOptions {
  out: string;
  force: boolean;
  skipBad: boolean;
  /** downscale (or upscale) every sample to h x w */
  size?: { h: number; w: number };
  interp?: 'area' | 'bilinear';
  warn: (line: string) => void;
  progress?: (done: number, total: number) => void;
}

export interface PrepareResult {
  out: string;
  /** ids per split that were written */
  splits: Record<string, number>;
  written: number;
  skipped: { id: string; reason: string }[];
}

const CONCURRENCY = 4;

export async function writePrepared(spec: SourceSpec, opts: WriteOptions): Promise<PrepareResult> {
  const unique = new Map<string, SourceItem>();
  for (const s of spec.splits) for (const it of s.items) if (!unique.has(it.id)) unique.set(checkId(it.id, it.image), it);
  if (unique.size === 0) throw new SsssegError('data.empty', `no samples found for ${spec.name}`, 'check the source folder and its list files');
  const items = [...unique.values()];
  const skipped: { id: string; reason: string }[] = [];
  return buildDirAtomic(opts.out, opts.force, async (tmp) => {
    let done = 0;
    await forEachLimited(items, CONCURRENCY, async (item) => {
      try {
        await convertItem(spec, item, tmp, opts);
      } catch (err) {
        if (!(opts.skipBad && err instanceof SsssegError && err.code.startsWith('data.'))) throw err;
        skipped.push({ id: item.id, reason: err.message });
        opts.warn(`warning: skipping ${item.id}: ${err.message}`);
      }
      opts.progress?.(++done, items.length);
    });
    if (skipped.length === items.length) throw new SsssegError('data.empty', `every sample of ${spec.name} was bad; nothing written`);
    const bad = new Set(skipped.map((s) => s.id));
    const splits: Record<string, string[]> = {};
    // a source list that names an id twice still gives each id once (dataset.json refuses repeats)
    for (const s of spec.splits) splits[s.name] = [...new Set(s.items.map((it) => it.id))].filter((id) => !bad.has(id));
    const meta: DatasetMeta = {
      format: FORMAT_TAG,
      name: spec.name,
      classes: spec.classes,
      palette: spec.palette,
      ignoreIndex: IGNORE_INDEX,
      imageExt: opts.size && spec.imageExt === 'jpg' ? 'png' : spec.imageExt,
      splits,
      partitions: {},
      source: { ...spec.source, size: opts.size ? `${opts.size.h}x${opts.size.w}` : null, skipped: skipped.length },
    };
    await writeDatasetMeta(tmp, meta);
    const counts = Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, v.length]));
    return { out: opts.out, splits: counts, written: items.length - skipped.length, skipped };
  });
}

/**
 * Run `fn` over items with at most `limit` in flight. The first error stops new work and is
 * thrown once the items already in flight have settled, so the caller can clean up safely.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}

async function convertItem(spec: SourceSpec, item: SourceItem, outDir: string, opts: WriteOptions): Promise<void> {
  const bytes = await readFileOrFail(item.image, 'image');
  let image = await decodeImageBuffer(bytes, item.image);
  let label = mapLabel(await readLabelPng(item.label), item.lut ? { ...spec, lut: item.lut } : spec, item.label);
  if (image.h !== label.h || image.w !== label.w) {
    throw new SsssegError('data.sizeMismatch', `${item.label} is ${label.w}x${label.h} but ${item.image} is ${image.w}x${image.h}`);
  }
  if (opts.size) [image, label] = resizeSample(image, label, opts.size, opts.interp ?? 'area');
  const ext = opts.size && spec.imageExt === 'jpg' ? 'png' : spec.imageExt;
  const imageOut = path.join(outDir, imageRelPath({ imageExt: ext }, item.id));
  const labelOut = path.join(outDir, labelRelPath(item.id));
  await fs.mkdir(path.dirname(imageOut), { recursive: true });
  await fs.mkdir(path.dirname(labelOut), { recursive: true });
  // an unchanged source in the stored format is copied byte for byte (no JPEG re-compression)
  const sameFormat = !opts.size && sourceExt(item.image) === ext;
  await fs.writeFile(imageOut, sameFormat ? bytes : await encodeImage(image, ext));
  await fs.writeFile(labelOut, encodeLabel(label));
}

function sourceExt(file: string): string {
  const ext = path.extname(file).slice(1).toLowerCase();
  return ext === 'jpeg' ? 'jpg' : ext;
}

function resizeSample(image: RgbImage, label: LabelMap, size: { h: number; w: number }, interp: 'area' | 'bilinear'): [RgbImage, LabelMap] {
  const data =
    interp === 'area' ? resizeArea(image.data, image.h, image.w, 3, size.h, size.w) : resizeBilinear(image.data, image.h, image.w, size.h, size.w);
  return [
    { data, h: size.h, w: size.w },
    { data: resizeNearest(label.data, label.h, label.w, size.h, size.w), h: size.h, w: size.w },
  ];
}

/** Raw label samples → class ids through the source's table; every unknown value is an error. */
export function mapLabel(png: DecodedPng, spec: Pick<SourceSpec, 'lut' | 'colours' | 'classes'>, file: string): LabelMap {
  const n = png.width * png.height;
  const raw = png.channels >= 3 ? coloursToRaw(png, spec.colours, file) : firstChannel(png);
  const out = new Uint8Array(n);
  const bad = new Set<number>();
  for (let i = 0; i < n; i++) {
    const v = spec.lut[raw[i]!]!;
    if (v < 0) bad.add(raw[i]!);
    else out[i] = v;
  }
  if (bad.size > 0) {
    const values = [...bad].sort((a, b) => a - b);
    throw new SsssegError(
      'data.badLabel',
      `${file}: label value${values.length > 1 ? 's' : ''} ${values.slice(0, 8).join(', ')}${values.length > 8 ? ', …' : ''} ` +
        `not among the ${spec.classes.length} class ids or ${IGNORE_INDEX}`,
    );
  }
  return { data: out, h: png.height, w: png.width };
}

function firstChannel(png: DecodedPng): Uint8Array {
  if (png.channels === 1) return png.data;
  const out = new Uint8Array(png.width * png.height);
  for (let i = 0; i < out.length; i++) out[i] = png.data[i * png.channels]!;
  return out;
}

/** RGB(A) colour masks → raw values through the dataset palette. */
function coloursToRaw(png: DecodedPng, colours: Map<number, number> | undefined, file: string): Uint8Array {
  if (!colours) {
    throw new SsssegError('data.badLabel', `${file}: is an RGB image; this data set needs single-channel label maps of class ids`);
  }
  const out = new Uint8Array(png.width * png.height);
  for (let i = 0; i < out.length; i++) {
    const o = i * png.channels;
    const key = (png.data[o]! << 16) | (png.data[o + 1]! << 8) | png.data[o + 2]!;
    const v = colours.get(key);
    if (v === undefined) {
      const rgb = `(${png.data[o]}, ${png.data[o + 1]}, ${png.data[o + 2]})`;
      throw new SsssegError('data.unknownColour', `${file}: colour ${rgb} at x=${i % png.width}, y=${Math.floor(i / png.width)} is not in the palette`);
    }
    out[i] = v;
  }
  return out;
}

/** A lookup table: identity for 0..n-1, `extra` overrides, everything else -1. */
export function makeLut(n: number, extra: Record<number, number> = {}): Int16Array {
  const lut = new Int16Array(256).fill(-1);
  for (let i = 0; i < n; i++) lut[i] = i;
  for (const [k, v] of Object.entries(extra)) lut[Number(k)] = v;
  return lut;
}
