import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { unimatch, unimatchTerms } from '../../src/methods/unimatch.ts';
import { weightedSum } from '../../src/losses/terms.ts';
import { fixmatch } from '../../src/methods/fixmatch.ts';
import { pseudoCrossEntropy } from '../../src/losses/consistency.ts';
import { mixTarget } from '../../src/methods/shared/fixmatch-core.ts';
import { disposeBatch, fakeBatch, fakeCtx, fakeInit, values, type FakeNet, disposeNets } from './semi-fakes.ts';

const C = 3;
const near = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe('UniMatch and FixMatch', () => {
  before(async () => {
    await useTestBackend();
  });

  it('total = (L_x + 0.25 L_s1 + 0.25 L_s2 + 0.5 L_fp) / 2', () => {
    const w = unimatch.configSchema.parse({}).loss_weights;
    const s = (v: number) => tf.scalar(v);
    near(weightedSum(unimatchTerms({ x: s(1), s1: s(2), s2: s(3), fp: s(4) }, w)).dataSync()[0]!, (1 + 0.5 + 0.75 + 2) / 2);
  });

  it('masked CE sums confident, non-padded pixels and divides by all non-padded pixels', () => {
    // 4 pixels: confident+valid, confident+padded, unconfident+valid, confident+valid
    const logits = tf.tensor4d([2, 0, 0, 2, 1, 1, 0, 3], [1, 1, 4, 2]);
    const labels = tf.tensor3d([0, 1, 0, 0], [1, 1, 4], 'int32');
    const conf = tf.tensor3d([0.99, 0.99, 0.5, 0.96], [1, 1, 4]);
    const valid = tf.tensor3d([1, 0, 1, 1], [1, 1, 4]);
    const ce = values(tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, 2)), -1)));
    const got = pseudoCrossEntropy(logits, labels, { conf, thresh: 0.95, valid, normalise: 'valid' }).dataSync()[0]!;
    near(got, (ce[0]! + ce[3]!) / 3);
    const kept = pseudoCrossEntropy(logits, labels, { conf, thresh: 0.95, valid, weight: conf, normalise: 'kept' }).dataSync()[0]!;
    near(kept, (0.99 * ce[0]! + 0.96 * ce[3]!) / 2);
  });

  it('inside the box the target, confidence and ignore mask come from the mix partner', () => {
    const own = { conf: tf.fill([1, 1, 4], 0.5) as tf.Tensor3D, label: tf.tensor3d([1, 1, 1, 1], [1, 1, 4], 'int32'), valid: tf.ones([1, 1, 4]) as tf.Tensor3D };
    const partner = { conf: tf.fill([1, 1, 4], 0.9) as tf.Tensor3D, label: tf.tensor3d([2, 2, 2, 2], [1, 1, 4], 'int32'), valid: tf.tensor3d([0, 0, 1, 1], [1, 1, 4]) };
    const box = tf.tensor3d([0, 1, 1, 0], [1, 1, 4]);
    const t = mixTarget(own, partner, box);
    assert.deepEqual(values(t.label), [1, 2, 2, 1]);
    assert.deepEqual(values(t.conf).map((v) => +v.toFixed(3)), [0.5, 0.9, 0.9, 0.5]);
    assert.deepEqual(values(t.valid), [1, 0, 1, 1]);
  });

  it('UniMatch: eval-mode partner forward, feature-dropout weak forward, one strong forward on both views', async () => {
    const init = fakeInit(C);
    const st = await unimatch.init(init, unimatch.configSchema.parse({ conf_thresh: 0 }));
    const net = st.nets.model as FakeNet;
    const b = fakeBatch(3, { c: C, strong: 2, mix: true });
    const ctx = fakeCtx();
    unimatch.step(st, b, ctx);
    assert.deepEqual(net.calls.map((c) => [c.training, c.featureDropout]), [[false, undefined], [true, 0.5], [true, undefined]]);
    const l = ctx.logs;
    for (const k of ['loss_x', 'loss_s1', 'loss_s2', 'loss_fp']) assert.ok(l[k]! > 0, k);
    near(l['loss']!, (l['loss_x']! + 0.25 * l['loss_s1']! + 0.25 * l['loss_s2']! + 0.5 * l['loss_fp']!) / 2);
    // threshold 0: every non-padded pixel is confident
    assert.equal(l['mask_ratio'], tf.mean(tf.cast(tf.notEqual(b.unlabeled!.ignore!, 255), 'float32')).dataSync()[0]);
    disposeBatch(b);
    disposeNets(unimatch, st);
    ctx.sgd.dispose();
  });

  it('UniMatch: with a threshold no pixel reaches, only the supervised half remains', async () => {
    const st = await unimatch.init(fakeInit(C), unimatch.configSchema.parse({ conf_thresh: 1 }));
    const b = fakeBatch(4, { c: C, strong: 2, mix: true });
    const ctx = fakeCtx();
    unimatch.step(st, b, ctx);
    assert.equal(ctx.logs['loss_s1'], 0);
    assert.equal(ctx.logs['loss_fp'], 0);
    near(ctx.logs['loss']!, ctx.logs['loss_x']! / 2);
    disposeBatch(b);
    disposeNets(unimatch, st);
    ctx.sgd.dispose();
  });

  it('FixMatch: one strong view, no feature perturbation, (L_x + L_s) / 2', async () => {
    const c = fixmatch.configSchema.parse({ conf_thresh: 0 });
    assert.equal(fixmatch.dataNeeds(c).strongViews, 1);
    const st = await fixmatch.init(fakeInit(C), c);
    const b = fakeBatch(5, { c: C, strong: 1, mix: true });
    const ctx = fakeCtx();
    fixmatch.step(st, b, ctx);
    assert.ok((st.nets.model as FakeNet).calls.every((o) => o.featureDropout === undefined));
    assert.ok(ctx.logs['loss_s']! > 0);
    near(ctx.logs['loss']!, (ctx.logs['loss_x']! + ctx.logs['loss_s']!) / 2);
    disposeBatch(b);
    disposeNets(fixmatch, st);
    ctx.sgd.dispose();
  });

  for (const [name, method, strong] of [['unimatch', unimatch, 2], ['fixmatch', fixmatch, 1]] as const) {
    it(`${name} runs several steps without leaking tensors`, async () => {
      const m = method as typeof unimatch;
      const st = await m.init(fakeInit(C), m.configSchema.parse({ conf_thresh: 0.5 }));
      const ctx = fakeCtx();
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const b = fakeBatch(30 + i, { c: C, strong, mix: true });
        m.step(st, b, { ...ctx, iteration: i });
        disposeBatch(b);
        counts.push(tf.memory().numTensors);
      }
      assert.equal(counts[3], counts[1], `tensor counts ${counts}`);
      disposeNets(m, st);
      ctx.sgd.dispose();
    });
  }
});
