import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { cps, cpsTargets, crossLoss } from '../../src/methods/cps.ts';
import { crossEntropy, upsampleLogits } from '../../src/losses/ce.ts';
import { drawCpsMasks, mixNhwc } from '../../src/methods/shared/mix.ts';
import { Rng } from '../../src/util/rng.ts';
import { disposeBatch, fakeBatch, fakeCtx, fakeInit, values, disposeNets } from './semi-fakes.ts';

const C = 3;
const near = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe('CPS', () => {
  before(async () => {
    await useTestBackend();
  });

  it('cross labels: each prediction is scored against the other branch labels', () => {
    const p1 = tf.tensor4d([3, 0, 0, 0, 3, 0], [1, 1, 2, 3]);
    const p2 = tf.tensor4d([0, 0, 3, 0, 0, 3], [1, 1, 2, 3]);
    const l1 = tf.tensor3d([0, 1], [1, 1, 2], 'int32');
    const l2 = tf.tensor3d([2, 2], [1, 1, 2], 'int32');
    const got = crossLoss(p1, p2, l1, l2).dataSync()[0]!;
    near(got, crossEntropy(p1, l2).dataSync()[0]! + crossEntropy(p2, l1).dataSync()[0]!);
    // each branch agrees with its own labels, so the self-supervised pairing would be much smaller
    assert.ok(got > crossEntropy(p1, l1).dataSync()[0]! + crossEntropy(p2, l2).dataSync()[0]! + 1);
  });

  it('pseudo-labels are the argmax of each branch logits mixed by the box mask', async () => {
    const init = fakeInit(C);
    const st = await cps.init(init, cps.configSchema.parse({}));
    const b = fakeBatch(2, { c: C, mix: true });
    const u0 = b.unlabeled!.x;
    const u1 = b.unlabeledMix!.x;
    const argmaxOf = (logits: tf.Tensor4D) => values(tf.argMax(upsampleLogits(logits, 8, 8), -1));
    const rng = new Rng(1);
    const zero = tf.zeros([2, 8, 8]) as tf.Tensor3D;
    const one = tf.ones([2, 8, 8]) as tf.Tensor3D;
    const [a0, b0] = cpsTargets(st.nets, u0, u1, zero, { rng });
    const [a1, b1] = cpsTargets(st.nets, u0, u1, one, { rng });
    assert.deepEqual(values(a0), argmaxOf(st.nets.left.forward(u0, { training: false }).logits));
    assert.deepEqual(values(b0), argmaxOf(st.nets.right.forward(u0, { training: false }).logits));
    assert.deepEqual(values(a1), argmaxOf(st.nets.left.forward(u1, { training: false }).logits));
    assert.deepEqual(values(b1), argmaxOf(st.nets.right.forward(u1, { training: false }).logits));
    // the two branches start different, so their labels differ somewhere
    assert.notDeepEqual(values(a0), values(b0));
    disposeBatch(b);
    disposeNets(cps, st);
  });

  it('one step: sup on both branches + cps_weight × cross term on the mixed image; both nets updated', async () => {
    const st = await cps.init(fakeInit(C), cps.configSchema.parse({ cps_weight: 1.5 }));
    const b = fakeBatch(4, { c: C, mix: true });
    const ctx = fakeCtx();
    // the step draws its masks first from ctx.rng: replay them
    const m = drawCpsMasks(new Rng(1000), 2, 8, 8, [0.25, 0.5], 3);
    assert.ok(values(m).some((v) => v === 1) && values(m).some((v) => v === 0));
    const mixed = mixNhwc(b.unlabeled!.x, b.unlabeledMix!.x, m);
    const [pl, pr] = cpsTargets(st.nets, b.unlabeled!.x, b.unlabeledMix!.x, m, { rng: new Rng(0) });
    const left = st.nets.left.forward(mixed, { training: true }).logits;
    const right = st.nets.right.forward(mixed, { training: true }).logits;
    const wantCross = crossLoss(left, right, pl, pr).dataSync()[0]!;
    const before = [values(st.nets.left.params()[0]!.variable), values(st.nets.right.params()[0]!.variable)];
    cps.step(st, b, ctx);
    near(ctx.logs['loss_cps']!, wantCross);
    near(ctx.logs['loss']!, ctx.logs['loss_sup']! + 1.5 * wantCross);
    assert.deepEqual(ctx.minimized, [[st.nets.left, st.nets.right]]);
    assert.notDeepEqual(values(st.nets.left.params()[0]!.variable), before[0]);
    assert.notDeepEqual(values(st.nets.right.params()[0]!.variable), before[1]);
    assert.deepEqual(Object.keys(cps.nets(st)), ['left', 'right']);
    assert.equal(cps.evalNet(st, 0).name, 'left');
    disposeBatch(b);
    disposeNets(cps, st);
    ctx.sgd.dispose();
  });

  for (const cutmix of [true, false]) {
    it(`runs several steps without leaking tensors (cutmix ${cutmix})`, async () => {
      const c = cps.configSchema.parse({ cutmix });
      assert.equal(cps.dataNeeds(c).mixBatch, cutmix);
      const st = await cps.init(fakeInit(C), c);
      const ctx = fakeCtx();
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const b = fakeBatch(20 + i, { c: C, mix: cutmix });
        cps.step(st, b, { ...ctx, iteration: i });
        disposeBatch(b);
        counts.push(tf.memory().numTensors);
        assert.ok(Number.isFinite(ctx.logs['loss_cps']));
      }
      assert.equal(counts[3], counts[1], `tensor counts ${counts}`);
      disposeNets(cps, st);
      ctx.sgd.dispose();
    });
  }
});
