/**
 * Shared machinery of the training-iteration benchmarks (`u2pl`, `methods`): a synthetic batch
 * shaped as the trainer would build it for a method (bench/../src/train/batches.ts: strong views,
 * CutMix boxes, mix batch and padding mask per the method's DataNeeds), and the median wall time
 * of `method.step` on it after untimed warm-up steps, with the same SGD the trainer uses.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExperimentConfig } from '../src/config/schema.ts';
import { cutmixMask, resolveCutmix, type CutMixAug } from '../src/data/index.ts';
import { buildSegNet, type SegNet } from '../src/models/index.ts';
import type { DataNeeds, Method, StepContext, TensorBatch, TrainBatch } from '../src/methods/types.ts';
import { Sgd } from '../src/train/optimizer.ts';
import { disposeBatch, makeStepContext, netNamer } from '../src/train/step-context.ts';
import { Rng } from '../src/util/rng.ts';

/** VOC's 21 classes: the peer configuration's data set */
export const NUM_CLASSES = 21;
const ITERS_PER_EPOCH = 1000;
const TOTAL_EPOCHS = 80;

/**
 * Random normalised images and blocky labels (8×8 cells, ~5 % ignore) of the configured crop, with
 * `views` strong views (random images of the same shape: their cost is the network's, not the
 * augmentation's), an all-valid padding mask, and one CutMix box per view (at least one) when the
 * method asked for boxes.
 */
function fakeBatch(rng: Rng, n: number, crop: number, numClasses: number, views: number, cutmix: CutMixAug | null): TensorBatch {
  const image = (): tf.Tensor4D => tf.tensor4d(Float32Array.from({ length: n * crop * crop * 3 }, () => rng.normal()), [n, crop, crop, 3]);
  const x = image();
  const y = new Int32Array(n * crop * crop);
  const cells = Math.ceil(crop / 8);
  const cellClass = Int32Array.from({ length: n * cells * cells }, () => (rng.next() < 0.05 ? 255 : rng.int(0, numClasses)));
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < crop; r++) {
      for (let c = 0; c < crop; c++) y[(b * crop + r) * crop + c] = cellClass[(b * cells + (r >> 3)) * cells + (c >> 3)]!;
    }
  }
  const strong = Array.from({ length: views }, image);
  const boxes: tf.Tensor3D[] = [];
  for (let v = 0; cutmix && v < Math.max(1, views); v++) {
    const masks = new Float32Array(n * crop * crop);
    for (let b = 0; b < n; b++) {
      const on = cutmix.box !== 'none' && (cutmix.scope === 'batch' || rng.next() < cutmix.p);
      if (on) masks.set(cutmixMask(cutmix, crop, rng), b * crop * crop);
    }
    boxes.push(tf.tensor3d(masks, [n, crop, crop]));
  }
  return {
    x,
    y: tf.tensor3d(y, [n, crop, crop], 'int32'),
    strong,
    ignore: tf.zeros([n, crop, crop], 'int32') as tf.Tensor3D,
    boxes,
  };
}

/** The batch the trainer would hand `method.step` for `needs`, at the config's crop and batch sizes. */
export function fakeTrainBatch(cfg: ExperimentConfig, needs: DataNeeds, numClasses = NUM_CLASSES): TrainBatch {
  const rng = new Rng(cfg.seed);
  const crop = cfg.data.crop;
  // as BatchStreams: the method's box generator, with the config's parameters when it names the same one
  const cutmix = needs.boxes === 'none' ? null : resolveCutmix(cfg.data.strong.cutmix, needs.boxes);
  const nl = cfg.train.batch_size;
  const nu = cfg.train.unlabeled_batch_size ?? nl;
  const labeled = fakeBatch(rng, nl, crop, numClasses, needs.labeledStrong ? needs.strongViews : 0, null);
  if (!needs.unlabeled) return { labeled };
  const unlabeled = fakeBatch(rng, nu, crop, numClasses, needs.strongViews, cutmix);
  const unlabeledMix = needs.mixBatch ? fakeBatch(rng, nu, crop, numClasses, needs.strongViews, cutmix) : undefined;
  return { labeled, unlabeled, unlabeledMix };
}

export interface IterationTiming {
  /** median seconds of the timed steps */
  median_s: number;
  /** every timed step, seconds, in order */
  times_s: number[];
  /** the epoch the steps ran in */
  epoch: number;
  /** with `profile`: kernel time of one more step by kernel name, largest first */
  profile?: KernelShare[];
}

export interface KernelShare {
  kernel: string;
  ms: number;
  calls: number;
}

/** Kernel milliseconds of one run of `f`, summed by kernel name (tf.profile times each kernel call). */
async function profileKernels(f: () => void): Promise<KernelShare[]> {
  // the profiler would otherwise read back every output to look for NaNs
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  const info = await tf.profile(() => {
    f();
    return [];
  });
  const by = new Map<string, KernelShare>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = by.get(k.name) ?? { kernel: k.name, ms: 0, calls: 0 };
    by.set(k.name, { kernel: k.name, ms: e.ms + ms, calls: e.calls + 1 });
  }
  return [...by.values()].sort((a, b) => b.ms - a.ms);
}

/** One method's state, optimizer and batch, ready to run timed steps (see prepareIteration). */
export interface IterationRunner {
  /** the epoch the steps run in */
  readonly epoch: number;
  /** one `method.step`, seconds */
  step(): number;
  /** kernel time of one more step by kernel name, largest first */
  profile(): Promise<KernelShare[]>;
  dispose(): void;
}

/**
 * Networks, SGD and a synthetic batch for `method` at the first semi-supervised epoch; each step
 * gets the next iteration number and its own seeded Rng, so a sequence of steps is reproducible.
 */
export async function prepareIteration<C, S>(method: Method<C, S>, c: C, cfg: ExperimentConfig, numClasses = NUM_CLASSES): Promise<IterationRunner> {
  let k = 0;
  const buildNet = async (seedOffset = 0): Promise<SegNet> =>
    buildSegNet(cfg.model, numClasses, cfg.seed * 1000 + 17 * k++ + seedOffset, { precision: cfg.train.precision });
  const state = await method.init({ model: cfg.model, source: cfg.source, numClasses, rng: new Rng(1), buildNet }, c);
  const nets = Object.entries(method.nets(state));
  const sgd = new Sgd({ momentum: cfg.train.momentum, weightDecay: cfg.train.weight_decay, headLrMult: cfg.train.head_lr_mult });
  const semiStart = method.semiStart?.(state, ITERS_PER_EPOCH) ?? 0;
  // the first epoch of the full semi-supervised step (U2PL: past its supervised epoch and the aliasing one)
  const epoch = Math.max(1, Math.ceil(semiStart / ITERS_PER_EPOCH));
  const totalEpochs = Math.max(TOTAL_EPOCHS, epoch + 1);
  let batch: TrainBatch;
  try {
    batch = fakeTrainBatch(cfg, method.dataNeeds(c), numClasses);
  } catch (err) {
    for (const [, net] of nets) net.dispose();
    throw err;
  }
  method.onEpochStart?.(state, epoch);
  let i = 0;
  const schedule = { epochs: totalEpochs, itersPerEpoch: ITERS_PER_EPOCH, totalIters: totalEpochs * ITERS_PER_EPOCH };
  const context = (): StepContext => {
    const it = i++;
    const iteration = epoch * ITERS_PER_EPOCH + it;
    const rng = new Rng(100 + it);
    return makeStepContext({ loss: cfg.train.loss, schedule, iteration, semiIteration: iteration - semiStart, lr: cfg.train.lr, rng, sgd, netName: netNamer(nets), logs: {} });
  };
  return {
    epoch,
    step() {
      const ctx = context();
      const t0 = performance.now();
      method.step(state, batch, ctx);
      return (performance.now() - t0) / 1000;
    },
    profile() {
      const ctx = context();
      return profileKernels(() => method.step(state, batch, ctx));
    },
    dispose() {
      disposeBatch(batch);
      for (const [, net] of nets) net.dispose();
      sgd.dispose();
    },
  };
}

/** The median of `values` (upper median for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Median seconds of one `method.step` after `warmup` untimed steps, at the first semi-supervised
 * epoch; the batch is made once. Networks, optimizer state and batch are disposed afterwards.
 */
export async function timeIteration<C, S>(
  method: Method<C, S>,
  c: C,
  cfg: ExperimentConfig,
  opts: { reps: number; warmup: number; numClasses?: number; profile?: boolean },
): Promise<IterationTiming> {
  const runner = await prepareIteration(method, c, cfg, opts.numClasses);
  const times: number[] = [];
  let profile: KernelShare[] | undefined;
  try {
    for (let i = 0; i < opts.warmup + opts.reps; i++) {
      const s = runner.step();
      if (i >= opts.warmup) times.push(s);
    }
    if (opts.profile) profile = await runner.profile();
  } finally {
    runner.dispose();
  }
  return { median_s: median(times), times_s: times, epoch: runner.epoch, ...(profile ? { profile } : {}) };
}

/** The process's peak resident set size so far, MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
