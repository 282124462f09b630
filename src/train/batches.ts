import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ExperimentConfig } from '../config/schema.ts';
import { readSample, weakAugment, strongAugment, cutmixMask, normalizeInto, resolveCutmix, type CutMixAug, type PreparedDataset, type ResolvedSplit, type Sample } from '../data/index.ts';
import { readLabelMap } from '../data/image-io.ts';
import { SsssegError } from '../errors.ts';
import type { DataNeeds, TensorBatch, TrainBatch } from '../methods/types.ts';
import { deriveRng, type Rng } from '../util/rng.ts';
import type { Schedule } from './schedule-plan.ts';

/** Extra labeled images whose labels are pseudo-masks on disk (ST / ST++ re-training). */
export interface PseudoLabels {
  dir: string;
  ids: string[];
  /** strong augmentation on these images only (ST++'s SDA) */
  strong: boolean;
}

const STREAM = { labeled: 1, unlabeled: 2, mix: 3, step: 4 } as const;
type StreamName = 'labeled' | 'unlabeled' | 'mix';

/** A crop ready for batching, still in JS memory. */
interface Crop {
  image: Uint8Array;
  label: Uint8Array;
  pad: Uint8Array;
  strong: Uint8Array[];
  boxes: Uint8Array[];
}

/**
 * Batch k of a run is a pure function of (seed, k): the epoch's order comes from a generator
 * derived from (seed, stream, epoch), each sample's augmentation from (seed, stream, k, slot).
 * Resuming therefore needs only the iteration, and `prefetch` batches are decoded ahead while
 * the network trains on the current one.
 */
export class BatchStreams {
  private readonly pending = new Map<number, Promise<TrainBatchData>>();
  private readonly orders = new Map<string, string[]>();
  private readonly pseudoIds: Set<string>;
  private readonly labeledIds: string[];
  /** the box generator the method asked for, with the config's parameters */
  private readonly cutmix: CutMixAug;

  constructor(
    private readonly data: PreparedDataset,
    private readonly split: ResolvedSplit,
    private readonly cfg: ExperimentConfig,
    private readonly needs: DataNeeds,
    private readonly schedule: Schedule,
    private readonly pseudo?: PseudoLabels,
  ) {
    this.pseudoIds = new Set(pseudo?.ids ?? []);
    this.labeledIds = [...split.labeled, ...(pseudo?.ids ?? [])];
    this.cutmix = resolveCutmix(cfg.data.strong.cutmix, needs.boxes);
  }

  /** Randomness for the method's step k (dropout, CutMix coins): independent of the data draws. */
  stepRng(it: number): Rng {
    return deriveRng(this.cfg.seed, STREAM.step, it);
  }

  async batch(it: number): Promise<TrainBatch> {
    const last = Math.min(it + this.cfg.data.prefetch, this.schedule.totalIters - 1);
    for (let k = it; k <= last; k++) {
      if (this.pending.has(k)) continue;
      const p = this.assemble(k);
      // a prefetched batch that fails (bad file) must surface when its turn comes, not crash the
      // process as an unhandled rejection while an earlier batch trains
      p.catch(() => undefined);
      this.pending.set(k, p);
    }
    const data = await this.pending.get(it)!;
    this.pending.delete(it);
    return toTensors(data, this.cfg.data.crop, this.cfg.data.weak.image_pad === 'mean');
  }

  close(): void {
    this.pending.clear();
  }

  /**
   * The ids of one epoch: a window of an endless sequence of passes over the pool, each pass
   * shuffled by its own derived generator. Every id is drawn equally often whatever the epoch
   * length (a pool longer than an epoch is covered across epochs; a shorter one is repeated).
   */
  private order(stream: StreamName, epoch: number): string[] {
    const key = `${stream}:${epoch}`;
    let ids = this.orders.get(key);
    if (!ids) {
      const pool = stream === 'labeled' ? this.labeledIds : this.split.unlabeled;
      const len = this.schedule.epochLength;
      ids = [];
      if (pool.length > 0) {
        for (let pos = epoch * len; ids.length < len; ) {
          const pass = Math.floor(pos / pool.length);
          const perm = deriveRng(this.cfg.seed, STREAM[stream], 1_000_003, pass).shuffle([...pool]);
          const from = pos - pass * pool.length;
          const take = perm.slice(from, from + (len - ids.length));
          ids.push(...take);
          pos += take.length;
        }
      }
      this.orders.set(key, ids);
      // two epochs are enough to serve prefetches that straddle an epoch boundary
      this.orders.delete(`${stream}:${epoch - 2}`);
    }
    return ids;
  }

  private async assemble(it: number): Promise<TrainBatchData> {
    const labeled = this.part('labeled', it, this.schedule.labeledBatch, this.needs.labeledStrong ? this.needs.strongViews : 0, false);
    if (!this.needs.unlabeled) return { labeled: await labeled };
    const views = this.needs.strongViews;
    const unlabeled = this.part('unlabeled', it, this.schedule.unlabeledBatch, views, this.needs.boxes !== 'none');
    const mix = this.needs.mixBatch ? this.part('mix', it, this.schedule.unlabeledBatch, views, this.needs.boxes !== 'none') : undefined;
    // awaited together: awaiting one part after another leaves a later part that fails first
    // without a handler, an unhandled rejection that kills the process instead of one clear error
    const [l, u, m] = await Promise.all([labeled, unlabeled, mix]);
    return { labeled: l, unlabeled: u, unlabeledMix: m };
  }

  private async part(stream: StreamName, it: number, size: number, views: number, boxes: boolean): Promise<Crop[]> {
    const epoch = Math.floor(it / this.schedule.itersPerEpoch);
    const k = it % this.schedule.itersPerEpoch;
    const ids = this.order(stream, epoch).slice(k * size, (k + 1) * size);
    return Promise.all(ids.map(async (id, slot) => this.crop(id, deriveRng(this.cfg.seed, STREAM[stream], it, slot), views, boxes)));
  }

  private async crop(id: string, rng: Rng, views: number, boxes: boolean): Promise<Crop> {
    const { crop, weak, strong } = this.cfg.data;
    const s = await this.sample(id);
    const w = weakAugment(s.image, s.label, s.h, s.w, crop, weak, rng);
    let { image, label } = w;
    if (this.pseudo?.strong && this.pseudoIds.has(id)) ({ image, label } = strongAugment(image, label, crop, strong, rng));
    const strongViews: Uint8Array[] = [];
    for (let v = 0; v < views; v++) strongViews.push(strongAugment(image, label, crop, strong, rng).image);
    // one box per strong view (at least one: U2PL and CPS mix weak views); the p coin is drawn
    // here per sample, while 'batch'-scoped CutMix (U2PL) leaves its single coin to the method
    const masks: Uint8Array[] = [];
    const cm = this.cutmix;
    for (let v = 0; boxes && v < Math.max(1, views); v++) {
      const on = cm.box !== 'none' && (cm.scope === 'batch' || rng.next() < cm.p);
      masks.push(on ? cutmixMask(cm, crop, rng) : new Uint8Array(crop * crop));
    }
    return { image, label, pad: w.pad, strong: strongViews, boxes: masks };
  }

  private async sample(id: string): Promise<Sample> {
    const s = await readSample(this.data, id);
    if (!this.pseudoIds.has(id)) return s;
    const file = path.join(this.pseudo!.dir, pseudoMaskName(id));
    const m = await readLabelMap(file);
    if (m.h !== s.h || m.w !== s.w) throw new SsssegError('data.sizeMismatch', `${file}: pseudo-mask is ${m.h}×${m.w}, image ${id} is ${s.h}×${s.w}`);
    return { ...s, label: m.data };
  }
}

/** File name of the pseudo-mask for an id (ids may contain '/', e.g. Cityscapes cities). */
export function pseudoMaskName(id: string): string {
  return `${id.replace(/[/\\]/g, '__')}.png`;
}

interface TrainBatchData {
  labeled: Crop[];
  unlabeled?: Crop[];
  unlabeledMix?: Crop[];
}

function toTensors(d: TrainBatchData, crop: number, padMean: boolean): TrainBatch {
  return {
    labeled: tensorBatch(d.labeled, crop, padMean),
    unlabeled: d.unlabeled ? tensorBatch(d.unlabeled, crop, padMean) : undefined,
    unlabeledMix: d.unlabeledMix ? tensorBatch(d.unlabeledMix, crop, padMean) : undefined,
  };
}

/** `padMean`: padding becomes the mean colour (0 after normalisation, U2PL); else black before it. */
function tensorBatch(crops: Crop[], size: number, padMean: boolean): TensorBatch {
  const n = crops.length;
  const px = size * size;
  const images = (pick: (c: Crop) => Uint8Array) => {
    const buf = new Float32Array(n * px * 3);
    crops.forEach((c, i) => normalizeInto(pick(c), buf, i * px * 3, padMean ? c.pad : undefined));
    return tf.tensor4d(buf, [n, size, size, 3]);
  };
  const plane = (pick: (c: Crop) => Uint8Array, dtype: 'int32' | 'float32') => {
    const buf = dtype === 'int32' ? new Int32Array(n * px) : new Float32Array(n * px);
    crops.forEach((c, i) => buf.set(pick(c), i * px));
    return tf.tensor3d(buf, [n, size, size], dtype);
  };
  const views = crops[0]?.strong.length ?? 0;
  const boxes = crops[0]?.boxes.length ?? 0;
  return {
    x: images((c) => c.image),
    y: plane((c) => c.label, 'int32'),
    strong: Array.from({ length: views }, (_, v) => images((c) => c.strong[v]!)),
    ignore: plane((c) => c.pad.map((p) => (p ? 255 : 0)), 'int32'),
    boxes: Array.from({ length: boxes }, (_, v) => plane((c) => c.boxes[v]!, 'float32')),
  };
}
