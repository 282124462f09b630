import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { lossSchema } from '../../src/losses/supervised.ts';
import { checkBatch, makeStepContext } from '../../src/train/step-context.ts';
import { Sgd } from '../../src/train/optimizer.ts';
import { Rng } from '../../src/util/rng.ts';
import type { DataNeeds, TrainBatch } from '../../src/methods/types.ts';
import { disposeBatch, fakeBatch, fakeNet } from '../methods/semi-fakes.ts';

before(async () => {
  await useTestBackend();
});

function context(logs: Record<string, number>, sgd: Sgd, name = 'student') {
  const schedule = { epochs: 2, itersPerEpoch: 5, totalIters: 10 };
  return makeStepContext({ loss: lossSchema.parse({}), schedule, iteration: 7, semiIteration: 2, lr: 0.1, rng: new Rng(1), sgd, netName: () => name, logs });
}

test('minimize: the weighted sum of the terms is minimised; each term is logged unweighted, the total as loss', () => {
  const net = fakeNet(3, 2);
  const sgd = new Sgd({ momentum: 0, weightDecay: 0, headLrMult: 1 });
  const logs: Record<string, number> = {};
  const ctx = context(logs, sgd);
  assert.deepEqual([ctx.epoch, ctx.itersPerEpoch, ctx.totalIters], [1, 5, 10]);
  const w = net.params()[0]!.variable;
  const before = Array.from(w.dataSync());
  // d/dw of 1·sum(w) + 3·sum(w²) is 1 + 6w: one SGD step at lr 0.1 moves w by −0.1·(1 + 6w)
  ctx.minimize(() => ({ a: tf.sum(w) as tf.Scalar, b: { value: tf.sum(tf.square(w)) as tf.Scalar, weight: 3 } }), [net]);
  const after = Array.from(w.dataSync());
  after.forEach((v, i) => assert.ok(Math.abs(v - (before[i]! - 0.1 * (1 + 6 * before[i]!))) < 1e-5, `${v}`));
  const a = before.reduce((s, v) => s + v, 0);
  const b = before.reduce((s, v) => s + v * v, 0);
  assert.deepEqual(Object.keys(logs), ['loss', 'loss_a', 'loss_b']);
  assert.ok(Math.abs(logs['loss_a']! - a) < 1e-5 && Math.abs(logs['loss_b']! - b) < 1e-5);
  assert.ok(Math.abs(logs['loss']! - (a + 3 * b)) < 1e-4);
  // a single term is logged once, under its own name
  const single: Record<string, number> = {};
  context(single, sgd).minimize(() => ({ sup: tf.sum(w) as tf.Scalar }), [net]);
  assert.deepEqual(Object.keys(single), ['loss_sup']);
  sgd.dispose();
  net.dispose();
});

test('checkBatch: a batch without what dataNeeds asked for names what is missing', () => {
  const needs: DataNeeds = { unlabeled: true, strongViews: 2, boxes: 'unimatch', mixBatch: true, labeledStrong: false };
  const full = fakeBatch(1, { c: 3, strong: 2, mix: true });
  checkBatch(full, needs, 'unimatch');
  const partial: TrainBatch = { labeled: full.labeled, unlabeled: { ...full.unlabeled!, strong: full.unlabeled!.strong.slice(0, 1) } };
  assert.throws(() => checkBatch(partial, needs, 'unimatch'), /^Error: unimatch: the loader gave 1 strong views of the unlabeled batch, not 2, no second unlabeled batch$/);
  assert.throws(() => checkBatch({ labeled: full.labeled }, { ...needs, mixBatch: false }, 'u2pl'), /no unlabeled batch/);
  assert.throws(() => checkBatch({ labeled: full.labeled }, { ...needs, unlabeled: false, mixBatch: false, labeledStrong: true, strongViews: 1 }, 'psmt'), /0 strong views of the labeled batch, not 1/);
  disposeBatch(full);
});
