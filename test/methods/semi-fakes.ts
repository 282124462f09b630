/** Small stand-ins for the trainer's pieces, shared by the semi-supervised method tests. */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/util/rng.ts';
import { Sgd } from '../../src/train/optimizer.ts';
import type { ForwardOptions, ModelConfig, ParamInfo, SegNet, SegOutputs } from '../../src/models/index.ts';
import type { MethodInit, StepContext, TensorBatch, TrainBatch } from '../../src/methods/types.ts';
import { lossSchema } from '../../src/losses/supervised.ts';
import { makeStepContext } from '../../src/train/step-context.ts';

export interface FakeNet extends SegNet {
  /** the options of every forward, in order */
  calls: ForwardOptions[];
}

/**
 * A 1×1 conv after a stride-2 average pool (logits at half resolution, like a real head), with a
 * BN-like running mean of the pooled input updated by training forwards. featureDropout drops
 * whole channels of the pooled features (Dropout2d) for the logitsFp branch.
 */
export function fakeNet(seed: number, numClasses: number): FakeNet {
  const rng = new Rng(seed);
  const w = tf.variable(tf.tensor4d(Array.from({ length: 3 * numClasses }, () => rng.normal() * 0.5), [1, 1, 3, numClasses]), true, `w${seed}_${Math.random()}`);
  const b = tf.variable(tf.zeros([numClasses]), true, `b${seed}_${Math.random()}`);
  const rm = tf.variable(tf.zeros([3]), false, `rm${seed}_${Math.random()}`);
  const calls: ForwardOptions[] = [];
  const head = (f: tf.Tensor4D) => tf.add(tf.conv2d(f, w as tf.Tensor4D, 1, 'same'), b) as tf.Tensor4D;
  const params: ParamInfo[] = [
    { name: 'head.weight', variable: w, kind: 'weight', group: 'head', trainable: true },
    { name: 'head.bias', variable: b, kind: 'bias', group: 'backbone', trainable: true },
    { name: 'bn.running_mean', variable: rm, kind: 'running_mean', group: 'backbone', trainable: false },
  ];
  return {
    calls,
    config: {} as unknown as ModelConfig,
    numClasses,
    forward(x, opts): SegOutputs {
      calls.push(opts);
      const f = tf.avgPool(x, 2, 2, 'same');
      if (opts.training) tf.tidy(() => rm.assign(tf.add(tf.mul(rm, 0.9), tf.mul(tf.mean(f, [0, 1, 2]), 0.1))));
      const logits = head(f);
      if (opts.featureDropout === undefined) return { logits };
      const p = opts.featureDropout;
      const r = opts.rng ?? new Rng(1);
      const keep = Array.from({ length: f.shape[0] * 3 }, () => (r.next() < p ? 0 : 1 / (1 - p)));
      const logitsFp = tf.tidy(() => head(tf.mul(f, tf.tensor4d(keep, [f.shape[0], 1, 1, 3])) as tf.Tensor4D));
      return { logits, logitsFp };
    },
    params: () => params,
    dispose: () => tf.dispose([w, b, rm]),
  };
}

/** MethodInit whose buildNet makes fake nets with distinct seeds. */
export function fakeInit(numClasses: number, seed = 1): MethodInit & { built: FakeNet[] } {
  const built: FakeNet[] = [];
  return {
    model: {} as unknown as ModelConfig,
    source: 'test.yaml',
    numClasses,
    rng: new Rng(seed),
    built,
    async buildNet(offset = 0) {
      const n = fakeNet(seed * 100 + built.length * 7 + offset, numClasses);
      built.push(n);
      return n;
    },
  };
}

let netCounter = 0;

export interface FakeCtx extends StepContext {
  logs: Record<string, number>;
  sgd: Sgd;
  /** the networks passed to minimize, per call */
  minimized: SegNet[][];
}

/** The trainer's own step context (CE loss), with networks named as they first reach minimize. */
export function fakeCtx(iteration = 0, opts: { itersPerEpoch?: number; totalEpochs?: number; lr?: number; semiStart?: number } = {}): FakeCtx {
  const ipe = opts.itersPerEpoch ?? 10;
  const epochs = opts.totalEpochs ?? 10;
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 1e-4, headLrMult: 1 });
  const logs: Record<string, number> = {};
  const minimized: SegNet[][] = [];
  const ids = new Map<SegNet, string>();
  const netName = (n: SegNet) => {
    if (!ids.has(n)) ids.set(n, `net${netCounter++}`);
    return ids.get(n)!;
  };
  const schedule = { epochs, itersPerEpoch: ipe, totalIters: ipe * epochs };
  const ctx = makeStepContext({ loss: lossSchema.parse({}), schedule, iteration, semiIteration: iteration - (opts.semiStart ?? 0), lr: opts.lr ?? 0.01, rng: new Rng(1000 + iteration), sgd, netName, logs });
  return {
    ...ctx,
    logs,
    sgd,
    minimized,
    minimize(objective, nets) {
      minimized.push(nets);
      ctx.minimize(objective, nets);
    },
  };
}

function randn(rng: Rng, shape: number[]): number[] {
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

/** A TensorBatch of n s×s images with random labels in [0, c), `strong` strong views and box masks. */
export function fakeTensorBatch(seed: number, n: number, s: number, c: number, strong = 0, withIgnore = false): TensorBatch {
  const rng = new Rng(seed);
  const x = tf.tensor4d(randn(rng, [n, s, s, 3]), [n, s, s, 3]);
  const y = tf.tensor3d(Array.from({ length: n * s * s }, () => rng.int(0, c)), [n, s, s], 'int32');
  const views = Array.from({ length: strong }, () => tf.tensor4d(randn(rng, [n, s, s, 3]), [n, s, s, 3]));
  const boxes = Array.from({ length: strong }, () => tf.tensor3d(Array.from({ length: n * s * s }, (_, i) => ((i % s) < s / 2 ? 1 : 0)), [n, s, s]));
  const ignore = withIgnore ? tf.tensor3d(Array.from({ length: n * s * s }, (_, i) => (i % (s * s) < s ? 255 : 0)), [n, s, s], 'int32') : undefined;
  return { x, y, strong: views, boxes, ...(ignore ? { ignore } : {}) };
}

export function fakeBatch(seed: number, o: { n?: number; s?: number; c: number; strong?: number; mix?: boolean; labeledStrong?: boolean; unlabeled?: boolean }): TrainBatch {
  const n = o.n ?? 2;
  const s = o.s ?? 8;
  const labeled = fakeTensorBatch(seed, n, s, o.c, o.labeledStrong ? 1 : 0);
  if (o.unlabeled === false) return { labeled };
  const unlabeled = fakeTensorBatch(seed + 1, n, s, o.c, o.strong ?? 0, true);
  return { labeled, unlabeled, ...(o.mix ? { unlabeledMix: fakeTensorBatch(seed + 2, n, s, o.c, o.strong ?? 0, true) } : {}) };
}

export function disposeBatch(b: TrainBatch): void {
  for (const p of [b.labeled, b.unlabeled, b.unlabeledMix]) {
    if (p) tf.dispose([p.x, p.y, ...p.strong, ...p.boxes, ...(p.ignore ? [p.ignore] : [])]);
  }
}

/** Run `steps` steps of a method on fresh fake batches; returns numTensors after each step. */
export function tensorCounts(run: (it: number) => void, steps: number): number[] {
  const counts: number[] = [];
  for (let i = 0; i < steps; i++) {
    run(i);
    counts.push(tf.memory().numTensors);
  }
  return counts;
}

export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** What the trainer does at the end of a run: dispose every network the method lists. */
export function disposeNets<S>(method: { nets(state: S): Record<string, SegNet> }, state: S): void {
  for (const net of Object.values(method.nets(state))) net.dispose();
}
