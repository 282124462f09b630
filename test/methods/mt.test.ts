import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { mt } from '../../src/methods/mt.ts';
import { softmaxMse } from '../../src/losses/consistency.ts';
import { disposeBatch, fakeBatch, fakeCtx, fakeInit, values, disposeNets } from './semi-fakes.ts';

const C = 4;

describe('Mean Teacher', () => {
  before(async () => {
    await useTestBackend();
  });

  it('softmaxMse is the mean squared difference of the two softmaxes, teacher upsampled', () => {
    const s = tf.tensor4d([1, 2, 0, 0, 3, -1, 0.5, 0.5], [1, 2, 2, 2]);
    const t = tf.tensor4d([0, 1], [1, 1, 1, 2]);
    const ps = values(tf.softmax(s));
    const pt = values(tf.softmax(t));
    let want = 0;
    for (let i = 0; i < 8; i++) want += (ps[i]! - pt[i % 2]!) ** 2;
    want /= 8;
    assert.ok(Math.abs(softmaxMse(s, t).dataSync()[0]! - want) < 1e-6);
  });

  it('the teacher starts as the student and takes the EMA (parameters only) before the step', async () => {
    const init = fakeInit(C);
    const st = await mt.init(init, mt.configSchema.parse({}));
    assert.deepEqual(values(st.nets.teacher.params()[0]!.variable), values(st.nets.student.params()[0]!.variable));
    // make them differ, then check t ← 0.99 t + 0.01 s with s taken before the student's update
    st.nets.student.params()[0]!.variable.assign(tf.onesLike(st.nets.student.params()[0]!.variable));
    const t0 = values(st.nets.teacher.params()[0]!.variable);
    const bufBefore = values(st.nets.teacher.params()[2]!.variable);
    const batch = fakeBatch(3, { c: C });
    const ctx = fakeCtx();
    mt.step(st, batch, ctx);
    const t1 = values(st.nets.teacher.params()[0]!.variable);
    t1.forEach((v, i) => assert.ok(Math.abs(v - (0.99 * t0[i]! + 0.01)) < 1e-6));
    // its BN buffer moved only through its own train-mode forward, not toward the student's
    assert.notDeepEqual(values(st.nets.teacher.params()[2]!.variable), bufBefore);
    assert.deepEqual(ctx.minimized, [[st.nets.student]]);
    assert.ok(ctx.logs['loss_cons']! > 0 && ctx.logs['loss_sup']! > 0);
    assert.ok(Math.abs(ctx.logs['loss']! - (ctx.logs['loss_sup']! + 100 * ctx.logs['loss_cons']!)) < 1e-4);
    disposeBatch(batch);
    disposeNets(mt, st);
    ctx.sgd.dispose();
  });

  it('the consistency weight reaches the student update', async () => {
    const run = async (w: number) => {
      const st = await mt.init(fakeInit(C), mt.configSchema.parse({ consistency_weight: w }));
      const batch = fakeBatch(5, { c: C });
      const ctx = fakeCtx();
      // a teacher different from the student, so the consistency term has a gradient
      st.nets.teacher.params()[0]!.variable.assign(tf.neg(st.nets.teacher.params()[0]!.variable));
      mt.step(st, batch, ctx);
      const out = values(st.nets.student.params()[0]!.variable);
      disposeBatch(batch);
      disposeNets(mt, st);
      ctx.sgd.dispose();
      return out;
    };
    const a = await run(0);
    const b = await run(100);
    assert.ok(a.some((v, i) => Math.abs(v - b[i]!) > 1e-6));
  });

  it('runs several steps without leaking tensors; evaluates the student by default', async () => {
    const st = await mt.init(fakeInit(C), mt.configSchema.parse({}));
    assert.equal(mt.evalNet(st, 0).name, 'student');
    assert.deepEqual(Object.keys(mt.nets(st)), ['student', 'teacher']);
    const ctx = fakeCtx();
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const batch = fakeBatch(10 + i, { c: C });
      mt.step(st, batch, { ...ctx, iteration: i });
      disposeBatch(batch);
      counts.push(tf.memory().numTensors);
    }
    assert.equal(counts[3], counts[1], `tensor counts ${counts}`);
    disposeNets(mt, st);
    ctx.sgd.dispose();
  });
});
