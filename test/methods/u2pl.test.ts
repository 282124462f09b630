import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { installKernels } from '../../src/backend/kernels/index.ts';
import { modelConfig, type ParamInfo, type SegNet, type SegOutputs, type ForwardOptions } from '../../src/models/index.ts';
import { lossSchema } from '../../src/losses/supervised.ts';
import { Rng } from '../../src/util/rng.ts';
import { Sgd } from '../../src/train/optimizer.ts';
import type { TrainBatch } from '../../src/methods/types.ts';
import { makeStepContext, netNamer } from '../../src/train/step-context.ts';
import { disposeNets } from './semi-fakes.ts';
import { u2pl } from '../../src/methods/u2pl.ts';
import { u2plConfigSchema, emaDecayAt, alphaAt, type U2plConfig } from '../../src/methods/u2pl/config.ts';
import { pseudoLabelAndMix, type U2plState } from '../../src/methods/u2pl/step.ts';
import { MemoryBank } from '../../src/methods/u2pl/memory-bank.ts';

const C = 4;
const CROP = 16;

/** A tiny stand-in SegNet: stride-4 logits and representation, and one BN-like running buffer. */
function fakeSegNet(seed: number, repDim = 8, width = 8): SegNet {
  const rng = new Rng(seed);
  const rand = (shape: number[], std: number) =>
    tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * std), shape));
  const params: ParamInfo[] = [
    { name: 'backbone.conv.weight', variable: rand([3, 3, 3, width], 0.3), kind: 'weight', group: 'backbone', trainable: true },
    { name: 'backbone.bn.running_mean', variable: tf.variable(tf.zeros([width]), false), kind: 'running_mean', group: 'backbone', trainable: false },
    { name: 'classifier.weight', variable: rand([1, 1, width, C], 0.3), kind: 'weight', group: 'head', trainable: true },
    { name: 'representation.weight', variable: rand([1, 1, width, repDim], 0.3), kind: 'weight', group: 'head', trainable: true },
  ];
  const [conv, runningMean, cls, repW] = params.map((p) => p.variable) as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  return {
    config: modelConfig({ backbone: 'resnet18', rep_dim: repDim }),
    numClasses: C,
    forward(x: tf.Tensor4D, opts: ForwardOptions): SegOutputs {
      return tf.tidy((): { logits: tf.Tensor4D; rep: tf.Tensor4D } => {
        // (pool first: tfjs-wasm 4.22 returns zeros for a 3×3 'same' conv at stride 4)
        const f = tf.relu(tf.conv2d(tf.avgPool(x, 4, 4, 'valid') as tf.Tensor4D, conv as tf.Tensor4D, 1, 'same'));
        if (opts.training) runningMean.assign(tf.add(tf.mul(runningMean, 0.9), tf.mul(tf.mean(f, [0, 1, 2]), 0.1)));
        const g = (opts.training ? f : tf.sub(f, runningMean)) as tf.Tensor4D;
        return { logits: tf.conv2d(g, cls as tf.Tensor4D, 1, 'same'), rep: tf.conv2d(g, repW as tf.Tensor4D, 1, 'same') };
      });
    },
    params: () => params,
    dispose: () => params.forEach((p) => p.variable.dispose()),
  };
}


/** Images whose class is readable from colour, so the nets have something to fit. */
function batchPart(rng: Rng, n: number, boxes: boolean): { x: tf.Tensor4D; y: tf.Tensor3D; strong: tf.Tensor4D[]; boxes: tf.Tensor3D[] } {
  const x = new Float32Array(n * CROP * CROP * 3);
  const y = new Int32Array(n * CROP * CROP);
  for (let p = 0; p < y.length; p++) {
    const c = Math.floor(((p % CROP) + rng.int(0, 4)) / 4) % C;
    y[p] = rng.next() < 0.05 ? 255 : c;
    for (let k = 0; k < 3; k++) x[p * 3 + k] = (c === k ? 1.5 : -0.5) + 0.3 * rng.normal();
  }
  return {
    x: tf.tensor4d(x, [n, CROP, CROP, 3]),
    y: tf.tensor3d(y, [n, CROP, CROP], 'int32'),
    strong: [],
    boxes: boxes ? [] : [],
  };
}

interface Harness {
  state: U2plState;
  sgd: Sgd;
  logs: Record<string, number>[];
  run(it: number, itersPerEpoch: number, totalEpochs: number): void;
}

async function harness(c: U2plConfig, seed = 1): Promise<Harness> {
  const rng = new Rng(seed);
  let k = 0;
  const state = await u2pl.init({ model: modelConfig({ rep_dim: 8 }), source: 'test.yaml', numClasses: C, rng, buildNet: async () => fakeSegNet(seed * 10 + k++) }, c);
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 1e-4, headLrMult: 10 });
  const logs: Record<string, number>[] = [];
  const nets = Object.entries(u2pl.nets(state));
  return {
    state,
    sgd,
    logs,
    run(it, itersPerEpoch, totalEpochs) {
      const data = new Rng(seed * 1000 + it);
      const batch: TrainBatch = { labeled: batchPart(data, 2, false), unlabeled: batchPart(data, 2, true) };
      const log: Record<string, number> = {};
      const schedule = { epochs: totalEpochs, itersPerEpoch, totalIters: itersPerEpoch * totalEpochs };
      const ctx = makeStepContext({ loss: lossSchema.parse({}), schedule, iteration: it, semiIteration: it - itersPerEpoch * c.sup_only_epoch, lr: 0.01, rng: new Rng(seed * 7777 + it), sgd, netName: netNamer(nets), logs: log });
      try {
        u2pl.step(state, batch, ctx);
      } finally {
        for (const part of [batch.labeled, batch.unlabeled!]) tf.dispose([part.x, part.y]);
      }
      logs.push(log);
    },
  };
}

const values = (net: SegNet, trainable: boolean) => net.params().filter((p) => p.trainable === trainable).map((p) => Array.from(p.variable.dataSync()));

describe('U2PL method', () => {
  before(async () => {
    await useTestBackend();
    // gradients load asynchronously; make sure they are in before the first minimize
    await installKernels(tf.getBackend());
  });

  it('30 steps (10 supervised-only, 20 semi): no tensor leak, bounded memory bank, teacher rules', async () => {
    const c = u2plConfigSchema.parse({ contrastive: { queue_size: 40, queue_size_bg: 60, num_queries: 16, num_negatives: 8 } });
    const h = await harness(c);
    try {
    h.run(0, 10, 3);
    const baseline = tf.memory().numTensors;
    for (let it = 1; it < 30; it++) {
      h.run(it, 10, 3);
      assert.equal(tf.memory().numTensors, baseline, `tensors leaked at step ${it}`);
      const bank = h.state.bank!;
      for (let k = 0; k < C; k++) assert.ok(bank.size(k) <= (k === 0 ? 60 : 40), `queue ${k} over capacity`);
      assert.ok(bank.bytes() <= bank.maxBytes());
      if (it === 10) {
        // first step of epoch sup_only_epoch: decay 0, the teacher is the student (parameters only)
        const t = values(h.state.nets.teacher, true).flat();
        const st = values(h.state.nets.student, true).flat();
        assert.ok(t.every((v, i) => Math.abs(v - st[i]!) <= 1e-6), 'teacher = student (parameters)');
        assert.notDeepEqual(values(h.state.nets.teacher, false), values(h.state.nets.student, false));
      }
    }
    const semi = h.logs.slice(10);
    assert.ok(semi.every((l) => Number.isFinite(l['loss']!) && l['loss_unsup']! > 0), 'semi steps have a finite loss and an unsup term');
    assert.ok(semi.some((l) => l['loss_contra']! > 0), 'the contrastive loss fires');
    assert.ok(semi.every((l) => l['membank_bytes']! > 0 && l['membank_bytes']! <= h.state.bank!.maxBytes()));
    assert.ok(h.logs.slice(0, 10).every((l) => l['loss_unsup'] === 0 && l['loss_contra'] === 0));
    assert.ok(h.state.bank!.size(1) > 0);
    assert.equal(u2pl.evalNet(h.state, 0).name, 'student');
    assert.equal(u2pl.evalNet(h.state, 1).name, 'teacher');

    // resume: the memory bank round-trips through saveExtra/loadExtra
    const saved = u2pl.saveExtra!(h.state);
    const h2 = await harness(c, 2);
    u2pl.loadExtra!(h2.state, saved);
    for (let k = 0; k < C; k++) assert.deepEqual(Array.from(h2.state.bank!.snapshot(k)), Array.from(h.state.bank!.snapshot(k)));
    tf.dispose([...saved.values()]);
    disposeNets(u2pl, h2.state);
    h2.sgd.dispose();
    } finally {
      disposeNets(u2pl, h.state);
      h.sgd.dispose();
    }
  });

  it('ablations run: no contrastive, no memory bank, fixed α, no PRT, reliable/all negatives, code-faithful', async () => {
    const variants = [
      { contrastive: { enabled: false } },
      { contrastive: { memory_bank: false, num_queries: 8, num_negatives: 4 } },
      { dpa: false, alpha0: 30, contrastive: { prt: false, negatives: 'all', num_queries: 8, num_negatives: 4 } },
      { sup_only_epoch: 0, contrastive: { negatives: 'reliable', code_faithful_negatives: true, low_rank: 1, high_rank: 3, num_queries: 8, num_negatives: 4 } },
    ];
    for (const v of variants) {
      const c = u2plConfigSchema.parse(v);
      const h = await harness(c);
      try {
      h.run(5, 5, 2);
      h.run(6, 5, 2);
      assert.ok(h.logs.every((l) => Number.isFinite(l['loss']!)), JSON.stringify(v));
      if (!c.contrastive.enabled) assert.equal(h.state.bank, null);
      else if (!c.contrastive.memory_bank) {
        // current batch only: each queue holds at most this step's negatives
        assert.ok(h.state.bank!.size(1) <= 2 * 4 * 4);
      }
      } finally {
        disposeNets(u2pl, h.state);
        h.sgd.dispose();
      }
    }
  });

  it('CutMix: inside the box sample i takes image and pseudo-label of sample (i+1) mod B', async () => {
    const c = u2plConfigSchema.parse({ cutmix_p: 1 });
    const h = await harness(c);
    const x = tf.tensor4d(Float32Array.from({ length: 3 * CROP * CROP * 3 }, (_, i) => Math.floor(i / (CROP * CROP * 3))), [3, CROP, CROP, 3]);
    const box = new Float32Array(3 * CROP * CROP);
    for (let i = 0; i < 3; i++) for (let p = 0; p < 8 * CROP; p++) box[i * CROP * CROP + p] = 1; // top half
    const boxes = [tf.tensor3d(box, [3, CROP, CROP])];
    const y = tf.zeros([3, CROP, CROP], 'int32') as tf.Tensor3D;
    const plain = tf.tidy(() => tf.argMax(h.state.nets.teacher.forward(x, { training: false }).logits, -1));
    const { x: mixed, pl } = pseudoLabelAndMix(h.state, { x, y, strong: [], boxes }, new Rng(3));
    const m = mixed.arraySync();
    for (let i = 0; i < 3; i++) {
      assert.equal(m[i]![0]![0]![0], (i + 1) % 3, 'top half from the partner');
      assert.equal(m[i]![CROP - 1]![0]![0], i, 'bottom half kept');
    }
    assert.equal(pl.shape[1], CROP);
    plain.dispose();
    tf.dispose([x, y, mixed, pl, ...boxes]);
    disposeNets(u2pl, h.state);
  });

  it('schedules: α_t, drop percent and EMA decay follow the released code', () => {
    const c = u2plConfigSchema.parse({});
    assert.equal(alphaAt(c, 0, 80), 20);
    assert.equal(alphaAt(c, 40, 80), 10);
    assert.equal(alphaAt({ ...c, dpa: false }, 40, 80), 20);
    assert.equal(emaDecayAt(c, 0), 0);
    assert.equal(emaDecayAt(c, 1), 0.5);
    assert.equal(emaDecayAt(c, 9900), 0.99);
    assert.throws(() => u2plConfigSchema.parse({ contrastive: { low_rank: 5, high_rank: 3 } }));
    assert.throws(() => u2plConfigSchema.parse({ bogus: 1 }));
  });

  it('memory bank keeps the newest keys per class, normalised', () => {
    const bank = new MemoryBank(2, [3]);
    bank.push(0, Float32Array.from([3, 4, 0, 2]));
    bank.push(0, Float32Array.from([1, 0, 0, 5, 6, 8]));
    assert.equal(bank.size(0), 3);
    assert.deepEqual(Array.from(bank.snapshot(0)), [1, 0, 0, 1, 0.6000000238418579, 0.800000011920929]);
    bank.push(0, Float32Array.from([0, 1, 0, 1, 0, 1, 1, 0]));
    assert.deepEqual(Array.from(bank.snapshot(0)), [0, 1, 0, 1, 1, 0]);
    assert.equal(bank.bytes(), 3 * 2 * 4);
  });
});
