import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { installKernels } from '../../src/backend/kernels/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { contrastiveSchema } from '../../src/methods/u2pl/config.ts';
import { MemoryBank } from '../../src/methods/u2pl/memory-bank.ts';
import { contrastLoss, disposePlan, prepareContrast } from '../../src/methods/u2pl/contrastive.ts';
import type { ContrastSelection } from '../../src/losses/u2pl-masks.ts';

const D = 6;
const SHAPE: [number, number, number, number] = [2, 4, 4, D];
const cfg = contrastiveSchema.parse({ num_queries: 5, num_negatives: 3, temperature: 0.5 });
const ints = (...a: number[]) => Int32Array.from(a);
const SEL: ContrastSelection = {
  anchors: [ints(0, 3), ints(17, 18, 30), ints()],
  lowValid: [ints(0, 1, 3), ints(17, 18, 20, 30), ints(5)],
  negatives: [ints(8, 9, 31), ints(2, 4), ints(6)],
};

function randomTensor(seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from({ length: 2 * 4 * 4 * D }, () => rng.normal()), SHAPE);
}

/** The loss written plainly with tensors: one-hot matmul gather, explicit [M·Q, K, D] keys. */
function referenceLoss(rep: tf.Tensor4D, anchorIdx: Int32Array, protos: tf.Tensor2D, keys: tf.Tensor3D, divisor: number): tf.Scalar {
  return tf.tidy(() => {
    const flat = tf.reshape(rep, [32, D]);
    const pick = tf.oneHot(tf.tensor1d(anchorIdx, 'int32'), 32);
    const a = tf.matMul(pick, flat);
    const an = tf.div(a, tf.norm(a, 2, 1, true));
    const M = protos.shape[0];
    const Q = anchorIdx.length / M;
    const protoRows = tf.reshape(tf.tile(tf.expandDims(protos, 1), [1, Q, 1]), [M * Q, D]);
    const pos = tf.sum(tf.mul(an, protoRows), 1, true);
    const neg = tf.squeeze(tf.matMul(keys, tf.expandDims(an, 2)), [2]);
    const logits = tf.div(tf.concat([pos, neg], 1), 0.5);
    const ce = tf.sub(tf.logSumExp(logits, 1), tf.squeeze(tf.slice(logits, [0, 0], [-1, 1]), [1]));
    return tf.div(tf.sum(ce), divisor) as tf.Scalar;
  });
}

describe('U2PL contrastive loss', () => {
  before(async () => {
    await useTestBackend();
    await installKernels(tf.getBackend());
  });

  it('enqueues before sampling, builds prototypes from reliable teacher pixels, and matches a plain implementation (value and gradient)', () => {
    const repT = randomTensor(1);
    const rep = randomTensor(2);
    const bank = new MemoryBank(D, [4, 4, 4]);
    const before = tf.memory().numTensors;
    const { plan, stats } = prepareContrast(repT, SEL, bank, cfg, new Rng(9));
    assert.deepEqual(stats.enqueued, [3, 2, 1]);
    assert.deepEqual(stats.validClasses, [0, 1, 2]);
    assert.deepEqual([0, 1, 2].map((k) => bank.size(k)), [3, 2, 1]);
    assert.ok(plan);
    // class 2 has no anchor candidates: it is skipped but still counts in the divisor (upstream)
    assert.deepEqual(plan.classes, [0, 1]);
    assert.equal(plan.divisor, 5 * 3);

    const t = repT.dataSync();
    const proto0 = Array.from({ length: D }, (_, j) => (t[0 * D + j]! + t[1 * D + j]! + t[3 * D + j]!) / 3);
    const n0 = Math.hypot(...proto0);
    const got0 = Array.from(plan.prototypes.dataSync().slice(0, D));
    got0.forEach((v, j) => assert.ok(Math.abs(v - proto0[j]! / n0) < 1e-5));

    const { keys: bufs, offsets, numQueries: Q, numNegatives: K } = plan.negatives;
    const keyData = new Float32Array(offsets.length * D);
    for (let i = 0; i < offsets.length; i++) keyData.set(bufs[Math.floor(i / (Q * K))]!.subarray(offsets[i]!, offsets[i]! + D), i * D);
    const keys = tf.tensor3d(keyData, [2 * Q, K, D]);
    const idx = plan.anchorIdx.dataSync() as Int32Array;
    const lossOf = (r: tf.Tensor) => contrastLoss(r as tf.Tensor4D, plan);
    const refOf = (r: tf.Tensor) => referenceLoss(r as tf.Tensor4D, idx, plan.prototypes, keys, plan.divisor);
    const a = tf.tidy(() => lossOf(rep).dataSync()[0]!);
    const b = tf.tidy(() => refOf(rep).dataSync()[0]!);
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b), `loss ${a} vs ${b}`);
    const ga = tf.grad(lossOf)(rep);
    const gb = tf.grad(refOf)(rep);
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(ga, gb))).dataSync()[0]!);
    assert.ok(err < 1e-5, `gradient max abs diff ${err}`);
    assert.ok(tf.tidy(() => tf.sum(tf.abs(ga)).dataSync()[0]!) > 0);
    tf.dispose([ga, gb, keys]);
    disposePlan(plan);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([repT, rep]);
  });

  it('no loss with ≤ 1 valid class; keys are still enqueued; memory bank off keeps only this batch', () => {
    const repT = randomTensor(3);
    const one: ContrastSelection = { anchors: [ints(0), ints(), ints()], lowValid: [ints(0), ints(), ints()], negatives: [ints(1, 2), ints(3), ints()] };
    const bank = new MemoryBank(D, [10, 10, 10]);
    const r = prepareContrast(repT, one, bank, cfg, new Rng(1));
    assert.equal(r.plan, null);
    assert.equal(bank.size(0), 2);
    prepareContrast(repT, one, bank, { ...cfg, memory_bank: false }, new Rng(1));
    assert.equal(bank.size(0), 2, 'without the bank, queues hold the current batch only');
    prepareContrast(repT, one, bank, cfg, new Rng(1));
    assert.equal(bank.size(0), 4);
    repT.dispose();
  });
});
