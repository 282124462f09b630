/**
 * `npm run bench -- loader [--json] [--data <prepared dir>] [--images N] [--crop 321]`: images/s
 * of the data pipeline on CamVid (360x480) crops: decode (sharp + our PNG reader), the weak
 * view (rescale 0.5-2, crop, flip, normalise) and the strong view (weak + colour jitter,
 * grayscale, blur, CutMix box, normalise). One thread, decoded samples cached as in training.
 * Without --data it prepares 16 CamVid train frames from ../shared/data/camvid into a temp folder,
 * or, without that, uses the prepared data/camvid-180x240 (smaller frames); with neither it skips
 * (one line, no failure).
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cutmixMask, normalizeInto, openDataset, readSample, resolveCutmix, strongAugSchema, strongAugment, weakAugSchema, weakAugment } from '../src/data/index.ts';
import { writePrepared } from '../src/data/prepare.ts';
import { camvidSource } from '../src/data/sources/camvid.ts';
import { Rng } from '../src/util/rng.ts';
import type { Benchmark } from './types.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RAW_CAMVID = path.resolve(REPO, '..', 'shared', 'data', 'camvid');
const PREPARED_CAMVID = path.join(REPO, 'data', 'camvid-180x240');

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function prepareSubset(dir: string, n: number): Promise<void> {
  const spec = await camvidSource(RAW_CAMVID);
  spec.splits = [{ name: 'train', items: spec.splits.find((s) => s.name === 'train')!.items.slice(0, n) }];
  await writePrepared(spec, { out: dir, force: true, skipBad: false, warn: () => {} });
}

function rate(count: number, ms: number): number {
  return Math.round((count / (ms / 1000)) * 10) / 10;
}

export const benchmark: Benchmark = {
  async run(args, progress) {
    const images = Number(option(args, '--images') ?? 64);
    const crop = Number(option(args, '--crop') ?? 321);
    let dataDir = option(args, '--data');
    let tmp: string | undefined;
    if (!dataDir && !(await exists(RAW_CAMVID))) {
      if (await exists(path.join(PREPARED_CAMVID, 'dataset.json'))) dataDir = PREPARED_CAMVID;
      else {
        const skipped = `no CamVid: neither ${RAW_CAMVID} nor ${PREPARED_CAMVID} exists (pass --data <prepared dir>)`;
        return { table: `skipped: ${skipped}`, json: { skipped }, rows: [], skipped };
      }
    }
    if (!dataDir) {
      tmp = await mkdtemp(path.join(os.tmpdir(), 'sssseg-bench-loader-'));
      dataDir = path.join(tmp, 'camvid');
      progress('loader: preparing 16 CamVid frames…');
      await prepareSubset(dataDir, 16);
    }
    try {
      const data = await openDataset(dataDir, { cache: true });
      const ids = data.split('train');
      const t0 = performance.now();
      for (const id of ids) await readSample(data, id);
      const decodeMs = performance.now() - t0;
      const weak = weakAugSchema.parse({});
      const strong = strongAugSchema.parse({});
      // UniMatch's boxes, the loader's per-sample generator with the most work per image
      const boxes = resolveCutmix(strong.cutmix, 'unimatch');
      const out = new Float32Array(crop * crop * 3);
      const rng = new Rng(0);
      const runPipeline = async (withStrong: boolean): Promise<number> => {
        const start = performance.now();
        for (let i = 0; i < images; i++) {
          const s = await readSample(data, ids[i % ids.length]!);
          const w = weakAugment(s.image, s.label, s.h, s.w, crop, weak, rng);
          normalizeInto(w.image, out, 0, w.pad);
          if (withStrong) {
            const st = strongAugment(w.image, w.label, crop, strong, rng);
            cutmixMask(boxes, crop, rng);
            normalizeInto(st.image, out, 0, w.pad);
          }
        }
        return performance.now() - start;
      };
      progress(`loader: ${images} crops of ${crop}x${crop}…`);
      const weakMs = await runPipeline(false);
      const strongMs = await runPipeline(true);
      const json = {
        crop,
        images,
        source: `${data.name} ${(await readSample(data, ids[0]!)).h}x${(await readSample(data, ids[0]!)).w}`,
        decode_images_per_s: rate(ids.length, decodeMs),
        weak_images_per_s: rate(images, weakMs),
        strong_images_per_s: rate(images, strongMs),
      };
      const table = [
        '| pipeline | images/s |',
        '|---|---|',
        `| decode (sharp + PNG labels), ${json.source} | ${json.decode_images_per_s} |`,
        `| weak (rescale, crop ${crop}, flip, normalise) | ${json.weak_images_per_s} |`,
        `| strong (weak + jitter, gray, blur, CutMix box, normalise) | ${json.strong_images_per_s} |`,
      ].join('\n');
      const rows = [
        { figure: `decode, ${json.source}`, value: json.decode_images_per_s, unit: 'images/s' },
        { figure: `weak augmentation, crop ${crop}`, value: json.weak_images_per_s, unit: 'images/s' },
        { figure: `strong augmentation, crop ${crop}`, value: json.strong_images_per_s, unit: 'images/s' },
      ];
      return { table, json, rows };
    } finally {
      if (tmp) await rm(tmp, { recursive: true, force: true });
    }
  },
};
