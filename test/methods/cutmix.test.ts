import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { cutmix, cutmixTarget } from '../../src/methods/cutmix.ts';
import { upsampleLogits } from '../../src/losses/ce.ts';
import { Rng } from '../../src/util/rng.ts';
import { disposeBatch, fakeBatch, fakeCtx, fakeInit, values, type FakeNet, disposeNets } from './semi-fakes.ts';

const C = 3;

describe('CutMix-Seg', () => {
  before(async () => {
    await useTestBackend();
  });

  it('targets: teacher probabilities of u0 outside the box and u1 inside it', async () => {
    const st = await cutmix.init(fakeInit(C), cutmix.configSchema.parse({}));
    const b = fakeBatch(2, { c: C, mix: true });
    const [u0, u1] = [b.unlabeled!.x, b.unlabeledMix!.x];
    const prob = (x: tf.Tensor4D) => tf.softmax(upsampleLogits(st.nets.teacher.forward(x, { training: false }).logits, 8, 8));
    const m = tf.tensor3d(Array.from({ length: 128 }, (_, i) => (i % 8 < 3 ? 1 : 0)), [2, 8, 8]);
    const t = cutmixTarget(st.nets.teacher, u0, u1, m, new Rng(0));
    const p0 = prob(u0);
    const p1 = prob(u1);
    const want = tf.where(tf.greater(tf.expandDims(m, -1), 0.5), p1, p0);
    assert.deepEqual(values(t.label), values(tf.argMax(want, -1)));
    values(t.conf).forEach((v, i) => assert.ok(Math.abs(v - values(tf.max(want, -1))[i]!) < 1e-6));
    disposeBatch(b);
    disposeNets(cutmix, st);
  });

  it('one step: student trained, teacher = EMA of the new student (BN buffers too), teacher forwards in eval mode', async () => {
    const st = await cutmix.init(fakeInit(C), cutmix.configSchema.parse({ conf_thresh: 0 }));
    const teacher = st.nets.teacher as FakeNet;
    const t0 = values(st.nets.teacher.params()[0]!.variable);
    const b = fakeBatch(3, { c: C, mix: true });
    const ctx = fakeCtx();
    cutmix.step(st, b, ctx);
    assert.deepEqual(ctx.minimized, [[st.nets.student]]);
    assert.ok(teacher.calls.every((c) => !c.training));
    const s1 = values(st.nets.student.params()[0]!.variable);
    values(st.nets.teacher.params()[0]!.variable).forEach((v, i) => assert.ok(Math.abs(v - (0.99 * t0[i]! + 0.01 * s1[i]!)) < 1e-6));
    const rmS = values(st.nets.student.params()[2]!.variable);
    values(st.nets.teacher.params()[2]!.variable).forEach((v, i) => assert.ok(Math.abs(v - 0.01 * rmS[i]!) < 1e-6));
    assert.ok(ctx.logs['loss_cons']! > 0);
    assert.ok(Math.abs(ctx.logs['loss']! - ctx.logs['loss_sup']! - ctx.logs['loss_cons']!) < 1e-4);
    assert.equal(cutmix.evalNet(st, 0).name, 'teacher');
    disposeBatch(b);
    disposeNets(cutmix, st);
    ctx.sgd.dispose();
  });

  it('runs several steps without leaking tensors', async () => {
    const st = await cutmix.init(fakeInit(C), cutmix.configSchema.parse({}));
    const ctx = fakeCtx();
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const b = fakeBatch(40 + i, { c: C, mix: true });
      cutmix.step(st, b, { ...ctx, iteration: i });
      disposeBatch(b);
      counts.push(tf.memory().numTensors);
    }
    assert.equal(counts[3], counts[1], `tensor counts ${counts}`);
    disposeNets(cutmix, st);
    ctx.sgd.dispose();
  });
});
