import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { assistLogits, currentTeacher, psmt, teacherTarget } from '../../src/methods/psmt.ts';
import { pseudoCrossEntropy } from '../../src/losses/consistency.ts';
import { drawPsmtMasks } from '../../src/methods/shared/mix.ts';
import { cosineRampup } from '../../src/methods/shared/ramps.ts';
import { Rng } from '../../src/util/rng.ts';
import { disposeBatch, fakeBatch, fakeCtx, fakeInit, values, type FakeNet, disposeNets } from './semi-fakes.ts';

const C = 4;
const close = (a: number[], b: number[], tol = 1e-5) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `${i}: ${v} vs ${b[i]}`));

describe('PS-MT', () => {
  before(async () => {
    await useTestBackend();
  });

  it('top-k assist keeps the assisting teacher top-k logits and fills the rest from the core teacher', () => {
    const core = tf.tensor4d([10, 20, 30, 40], [1, 1, 1, 4]);
    const assist = tf.tensor4d([0.5, 3, -1, 2], [1, 1, 1, 4]);
    assert.deepEqual(values(assistLogits(core, assist, 2)), [10, 3, 30, 2]);
    assert.deepEqual(values(assistLogits(core, assist, 4)), [0.5, 3, -1, 2]);
  });

  it('odd (1-based) epochs update teacher 1, even ones teacher 2; the ensemble is γ·t1 + (1−γ)·t2 after the assist', async () => {
    assert.deepEqual([0, 1, 2, 3].map(currentTeacher), [1, 2, 1, 2]);
    const st = await psmt.init(fakeInit(C), psmt.configSchema.parse({ top_k: 2, gamma: 0.3 }));
    const u = tf.randomNormal([1, 4, 4, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const up = (n: typeof st.nets.teacher1) => tf.image.resizeBilinear(n.forward(u, { training: false }).logits, [4, 4], true);
    const t1 = up(st.nets.teacher1);
    const t2 = up(st.nets.teacher2);
    close(values(teacherTarget({ ...st.nets, cfg: st.cfg }, u, 1, new Rng(0))), values(tf.add(tf.mul(t1, 0.3), tf.mul(assistLogits(t1, t2, 2), 0.7))));
    close(values(teacherTarget({ ...st.nets, cfg: st.cfg }, u, 2, new Rng(0))), values(tf.add(tf.mul(assistLogits(t2, t1, 2), 0.3), tf.mul(t2, 0.7))));
    disposeNets(psmt, st);
  });

  it('semi CE: CE against the target argmax, weighted by its confidence, mean over pixels with conf ≥ threshold', () => {
    const logits = tf.tensor4d([1, 0, 0, 1, 2, 2], [1, 1, 3, 2]);
    const target = tf.tensor4d([3, 0, 0, 0.2, 0, 5], [1, 1, 3, 2]);
    const prob = values(tf.softmax(target));
    const conf = [0, 1, 2].map((i) => Math.max(prob[2 * i]!, prob[2 * i + 1]!));
    const lab = [0, 1, 1];
    const ce = [0, 1, 2].map((i) => -values(tf.logSoftmax(logits))[2 * i + lab[i]!]!);
    const kept = [0, 1, 2].filter((i) => conf[i]! >= 0.6);
    assert.deepEqual(kept, [0, 2]);
    const want = kept.reduce((a, i) => a + conf[i]! * ce[i]!, 0) / kept.length;
    const confT = tf.tensor3d(conf, [1, 1, 3]);
    const got = pseudoCrossEntropy(logits, tf.tensor3d(lab, [1, 1, 3], 'int32'), { conf: confT, thresh: 0.6, weight: confT, normalise: 'kept' });
    assert.ok(Math.abs(got.dataSync()[0]! - want) < 1e-6);
  });

  it('CutMix boxes: one λ~Beta(4,4) per batch, clipped boxes; cosine ramp-up', () => {
    const m = values(drawPsmtMasks(new Rng(5), 3, 16, 16, 4));
    const areas = [0, 1, 2].map((i) => m.slice(i * 256, (i + 1) * 256).reduce((a, b) => a + b, 0));
    assert.ok(areas.some((a) => a > 0) && areas.every((a) => a < 256));
    assert.equal(cosineRampup(0, 10), 0);
    assert.ok(Math.abs(cosineRampup(5, 10) - 0.5) < 1e-12);
    assert.equal(cosineRampup(20, 10), 1);
  });

  it('warm-up trains all three; then only the student, with the EMA into the epoch teacher (buffers too)', async () => {
    const cfg = psmt.configSchema.parse({ warm_up_epochs: 1, conf_thresh: 0 });
    const needs = psmt.dataNeeds(cfg);
    assert.ok(needs.labeledStrong && needs.strongViews === 1);
    const st = await psmt.init(fakeInit(C), cfg);
    const warm = fakeCtx(0, { itersPerEpoch: 2, semiStart: 2 });
    const b0 = fakeBatch(1, { c: C, strong: 1, labeledStrong: true });
    psmt.step(st, b0, warm);
    assert.deepEqual(warm.minimized, [[st.nets.student, st.nets.teacher1, st.nets.teacher2]]);
    // iteration 2 = the first semi-supervised epoch: teacher 1, as upstream's semi epoch 1
    const semi = fakeCtx(2, { itersPerEpoch: 2, semiStart: 2 });
    const b1 = fakeBatch(2, { c: C, strong: 1, labeledStrong: true });
    const t1Before = st.nets.teacher1.params().map((p) => values(p.variable));
    const t2Before = st.nets.teacher2.params().map((p) => values(p.variable));
    psmt.step(st, b1, semi);
    assert.deepEqual(semi.minimized, [[st.nets.student]]);
    assert.deepEqual(values(st.nets.teacher2.params()[0]!.variable), t2Before[0]);
    st.nets.teacher1.params().forEach((p, j) => {
      const s = values(st.nets.student.params()[j]!.variable);
      close(values(p.variable), t1Before[j]!.map((v, i) => 0.996 * v + 0.004 * s[i]!));
    });
    assert.ok((st.nets.teacher1 as FakeNet).calls.slice(1).every((c) => !c.training));
    assert.equal(semi.logs['unsup_weight'], 0); // first semi iteration: the ramp starts at 0
    assert.ok(semi.logs['loss_unsup']! > 0);
    [warm, semi].forEach((c) => c.sgd.dispose());
    disposeBatch(b0);
    disposeBatch(b1);
    disposeNets(psmt, st);
  });

  it('evaluates the average of both teachers and runs without leaking tensors', async () => {
    const st = await psmt.init(fakeInit(C), psmt.configSchema.parse({ warm_up_epochs: 1 }));
    // all three start as one network (an EMA of unrelated random networks is no network at all)
    const u0 = tf.randomNormal([1, 4, 4, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    for (const t of [st.nets.teacher1, st.nets.teacher2]) close(values(t.forward(u0, { training: false }).logits), values(st.nets.student.forward(u0, { training: false }).logits));
    u0.dispose();
    // teachers that differ, so that the average is not any one of them
    for (const p of st.nets.teacher2.params()) p.variable.assign(tf.tidy(() => tf.add(p.variable, tf.randomNormal(p.variable.shape, 0, 0.5, 'float32', 3))));
    const { name, net } = psmt.evalNet(st, 3);
    assert.equal(name, 'teacher1+teacher2');
    const u = tf.randomNormal([1, 4, 4, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const mean = tf.div(tf.add(st.nets.teacher1.forward(u, { training: false }).logits, st.nets.teacher2.forward(u, { training: false }).logits), 2);
    close(values(net.forward(u, { training: false }).logits), values(mean));
    assert.deepEqual(Object.keys(psmt.nets(st)), ['student', 'teacher1', 'teacher2']);
    tf.dispose([u, mean]);
    const ctx = fakeCtx(0, { itersPerEpoch: 1 });
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = fakeBatch(50 + i, { c: C, strong: 1, labeledStrong: true });
      psmt.step(st, b, { ...ctx, iteration: i, epoch: i, semiIteration: i - 1 });
      disposeBatch(b);
      counts.push(tf.memory().numTensors);
    }
    assert.equal(counts[4], counts[2], `tensor counts ${counts}`);
    disposeNets(psmt, st);
    ctx.sgd.dispose();
  });
});
