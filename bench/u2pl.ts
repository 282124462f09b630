/**
 * `npm run bench -- u2pl [--json] [--config FILE] [--reps N] [--warmup N] [--backend NAME]`: wall
 * time of one full U2PL iteration (teacher pseudo-labels, CutMix coin, teacher train-mode pass,
 * student forward/backward with sup + unsup + contrastive losses, SGD, EMA) and of one supervised
 * iteration on the same model and batch, median of `reps` after `warmup` iterations, plus the
 * process's peak RSS. Default config: experiments/peer/u2pl-r50-c129.yaml, for which the official
 * PyTorch code takes 2.73 s (U2PL) and 0.97 s (supervised) per iteration on this machine's CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, parseBackendChoice } from '../src/backend/index.ts';
import { loadConfig } from '../src/config/load.ts';
import type { ExperimentConfig } from '../src/config/schema.ts';
import { buildSegNet, type SegNet } from '../src/models/index.ts';
import { Sgd } from '../src/train/optimizer.ts';
import { Rng } from '../src/util/rng.ts';
import { u2pl } from '../src/methods/u2pl.ts';
import { sup } from '../src/methods/sup.ts';
import type { Method, StepContext, TensorBatch, TrainBatch } from '../src/methods/types.ts';
import type { Benchmark, BenchResult } from './types.ts';

const PYTORCH_CPU_S = { u2pl: 2.73, sup: 0.97 };
const NUM_CLASSES = 21;
const ITERS_PER_EPOCH = 1000;

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

/** Random normalised images and blocky labels (8×8 cells, ~5 % ignore) of the configured crop. */
function fakeBatch(rng: Rng, n: number, crop: number): TensorBatch {
  const x = Float32Array.from({ length: n * crop * crop * 3 }, () => rng.normal());
  const y = new Int32Array(n * crop * crop);
  const cells = Math.ceil(crop / 8);
  const cellClass = Int32Array.from({ length: n * cells * cells }, () => (rng.next() < 0.05 ? 255 : rng.int(0, NUM_CLASSES)));
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < crop; r++) {
      for (let c = 0; c < crop; c++) y[(b * crop + r) * crop + c] = cellClass[(b * cells + (r >> 3)) * cells + (c >> 3)]!;
    }
  }
  return { x: tf.tensor4d(x, [n, crop, crop, 3]), y: tf.tensor3d(y, [n, crop, crop], 'int32'), strong: [], boxes: [] };
}

/** Median seconds of one `method.step` after `warmup` untimed steps; the batch is made once. */
async function timeMethod<C, S>(method: Method<C, S>, c: C, cfg: ExperimentConfig, reps: number, warmup: number): Promise<number> {
  let k = 0;
  const buildNet = async (): Promise<SegNet> => buildSegNet(cfg.model, NUM_CLASSES, cfg.seed * 1000 + 17 * k++);
  const state = await method.init({ cfg, numClasses: NUM_CLASSES, rng: new Rng(1), buildNet }, c);
  const nets = Object.entries(method.nets(state));
  const sgd = new Sgd({ momentum: cfg.train.momentum, weightDecay: cfg.train.weight_decay, headLrMult: cfg.train.head_lr_mult });
  const data = new Rng(cfg.seed);
  const batch: TrainBatch = {
    labeled: fakeBatch(data, cfg.train.batch_size, cfg.data.crop),
    unlabeled: fakeBatch(data, cfg.train.unlabeled_batch_size ?? cfg.train.batch_size, cfg.data.crop),
  };
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + reps; i++) {
      // past U2PL's supervised-only epoch: the full semi-supervised step
      const iteration = ITERS_PER_EPOCH + i;
      const ctx: StepContext = {
        iteration,
        epoch: 1,
        totalEpochs: 80,
        itersPerEpoch: ITERS_PER_EPOCH,
        totalIters: 80 * ITERS_PER_EPOCH,
        rng: new Rng(100 + i),
        minimize: (loss, ns) => sgd.minimize(loss, ns.map((n) => [nets.find(([, m]) => m === n)![0], n]), cfg.train.lr),
        log: () => undefined,
      };
      const t0 = performance.now();
      method.step(state, batch, ctx);
      if (i >= warmup) times.push((performance.now() - t0) / 1000);
    }
  } finally {
    tf.dispose([batch.labeled.x, batch.labeled.y, batch.unlabeled!.x, batch.unlabeled!.y]);
    method.dispose(state);
    sgd.dispose();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export const benchmark: Benchmark = {
  async run(args: string[], progress: (line: string) => void): Promise<BenchResult> {
    const file = option(args, '--config', 'experiments/peer/u2pl-r50-c129.yaml');
    const reps = Number(option(args, '--reps', '5'));
    const warmup = Number(option(args, '--warmup', '2'));
    const backend = await initBackend(parseBackendChoice(option(args, '--backend', process.env['SSSSEG_BACKEND'] ?? 'auto'), '--backend'));
    const cfg = await loadConfig(file);
    progress(`u2pl bench: ${file}, backend ${backend.name}, ${warmup} warm-up + ${reps} timed iterations each`);
    const supS = await timeMethod(sup, {}, cfg, reps, warmup);
    progress(`sup: ${supS.toFixed(2)} s/iter`);
    // U2PL's student pass is on labeled + unlabeled together (twice the supervised batch); report
    // a failure (e.g. the wasm 4 GB heap) next to the supervised figure instead of losing both
    let u2plS: number | null = null;
    let u2plError: string | undefined;
    try {
      u2plS = await timeMethod(u2pl, u2pl.configSchema.parse(cfg.method === 'u2pl' ? cfg.methodConfig : {}), cfg, reps, warmup);
      progress(`u2pl: ${u2plS.toFixed(2)} s/iter`);
    } catch (err) {
      u2plError = err instanceof Error ? err.message : String(err);
      progress(`u2pl: failed: ${u2plError}`);
    }
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const r = (v: number): number => Math.round(v * 1000) / 1000;
    const json = {
      config: file,
      backend: backend.name,
      u2pl_iter_s: u2plS === null ? null : r(u2plS),
      ...(u2plError ? { u2pl_error: u2plError } : {}),
      sup_iter_s: r(supS),
      peak_rss_mb: peakRssMb,
      u2pl_vs_pytorch_cpu: u2plS === null ? null : r(u2plS / PYTORCH_CPU_S.u2pl),
      sup_vs_pytorch_cpu: r(supS / PYTORCH_CPU_S.sup),
    };
    const table = [
      '| iteration | sssseg (s) | PyTorch CPU (s) | ratio |',
      '|---|---|---|---|',
      `| U2PL | ${json.u2pl_iter_s ?? `failed: ${u2plError}`} | ${PYTORCH_CPU_S.u2pl} | ${json.u2pl_vs_pytorch_cpu ?? '–'}× |`,
      `| supervised | ${json.sup_iter_s} | ${PYTORCH_CPU_S.sup} | ${json.sup_vs_pytorch_cpu}× |`,
      '',
      `peak RSS ${peakRssMb} MB, backend ${backend.name}, ${file}`,
    ].join('\n');
    return { table, json };
  },
};
