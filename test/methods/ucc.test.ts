import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { certaintyWeight, ucc } from '../../src/methods/ucc.ts';
import { planCopyPaste, weightedPick } from '../../src/methods/shared/copy-paste.ts';
import { crossEntropy } from '../../src/losses/ce.ts';
import { Rng } from '../../src/util/rng.ts';
import { disposeBatch, fakeBatch, fakeCtx, fakeInit, values, disposeNets } from './semi-fakes.ts';

const C = 3;
const near = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe('UCC', () => {
  before(async () => {
    await useTestBackend();
  });

  it('UGRM weight: 0 for a uniform prediction, near 1 for a certain one', () => {
    const logits = tf.tensor4d([0, 0, 0, 20, 0, 0], [1, 1, 2, 3]);
    const w = values(certaintyWeight(logits, 1, 2, 'entropy'));
    assert.ok(Math.abs(w[0]!) < 1e-6 && w[1]! > 0.999);
    assert.deepEqual(values(certaintyWeight(logits, 1, 2, 'none')), [1, 1]);
  });

  it('copy-paste: p = 1 pastes the chosen classes of labeled image i mod n; p = 0 nothing; zero-weight classes are never drawn', () => {
    const y = tf.tensor3d([0, 1, 2, 255, 1, 1, 0, 0], [2, 2, 2], 'int32');
    const all = planCopyPaste(y, 3, new Rng(1), { p: 1, maxClasses: 5, classWeights: [1, 1, 1] });
    assert.deepEqual(all.source, [0, 1, 0]);
    assert.deepEqual(values(all.mask), [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0]);
    const none = planCopyPaste(y, 2, new Rng(1), { p: 0, maxClasses: 5, classWeights: [1, 1, 1] });
    assert.ok(values(none.mask).every((v) => v === 0));
    for (let s = 0; s < 20; s++) assert.deepEqual(weightedPick([0, 1, 2], [0, 1, 0], 1, new Rng(s)), [1]);
  });

  it('each network learns on the strong view from the other network weak-view labels', async () => {
    const cfg = ucc.configSchema.parse({ reweight: 'none', copy_paste: { p: 0 } });
    const st = await ucc.init(fakeInit(C), cfg);
    const b = fakeBatch(3, { c: C, strong: 1 });
    const u = b.unlabeled!;
    const labels = (net: typeof st.nets.left) => tf.cast(tf.argMax(tf.image.resizeBilinear(net.forward(u.x, { training: false }).logits, [8, 8], true), -1), 'int32') as tf.Tensor3D;
    // fakeBatch marks the first row of each unlabeled crop as padding
    const valid = tf.cast(tf.notEqual(u.ignore!, 255), 'float32');
    const maskedCe = (pred: tf.Tensor4D, lab: tf.Tensor3D) => crossEntropy(pred, tf.where(tf.greater(valid, 0), lab, tf.fill(lab.shape, 255, 'int32')) as tf.Tensor3D).dataSync()[0]!;
    const want = maskedCe(st.nets.left.forward(u.strong[0]!, { training: false }).logits, labels(st.nets.right)) + maskedCe(st.nets.right.forward(u.strong[0]!, { training: false }).logits, labels(st.nets.left));
    const ctx = fakeCtx();
    ucc.step(st, b, ctx);
    near(ctx.logs['loss_cross']!, want);
    assert.deepEqual(ctx.minimized, [[st.nets.left, st.nets.right]]);
    disposeBatch(b);
    disposeNets(ucc, st);
    ctx.sgd.dispose();
  });

  it('where everything is pasted, the targets are the labeled ground truth on the labeled image', async () => {
    const cfg = ucc.configSchema.parse({ copy_paste: { p: 1, max_classes: C } });
    const st = await ucc.init(fakeInit(C), cfg);
    const b = fakeBatch(4, { c: C, strong: 1 });
    const want = ['left', 'right'].map((k) => crossEntropy((k === 'left' ? st.nets.left : st.nets.right).forward(b.labeled.x, { training: false }).logits, b.labeled.y).dataSync()[0]!);
    const ctx = fakeCtx();
    ucc.step(st, b, ctx);
    near(ctx.logs['loss_cross']!, want[0]! + want[1]!);
    disposeBatch(b);
    disposeNets(ucc, st);
    ctx.sgd.dispose();
  });

  it('keeps a running class confidence (saved as extra state) and does not leak tensors', async () => {
    const st = await ucc.init(fakeInit(C), ucc.configSchema.parse({}));
    const ctx = fakeCtx();
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const b = fakeBatch(60 + i, { c: C, strong: 1 });
      ucc.step(st, b, { ...ctx, iteration: i });
      disposeBatch(b);
      counts.push(tf.memory().numTensors);
    }
    assert.equal(counts[3], counts[1], `tensor counts ${counts}`);
    assert.ok(Array.from(st.classConf).some((v) => v > 0));
    const extra = ucc.saveExtra!(st);
    const other = await ucc.init(fakeInit(C), ucc.configSchema.parse({}));
    ucc.loadExtra!(other, extra);
    assert.deepEqual(Array.from(other.classConf), Array.from(st.classConf));
    tf.dispose([...extra.values()]);
    [st, other].forEach((s) => disposeNets(ucc, s));
    ctx.sgd.dispose();
  });
});
