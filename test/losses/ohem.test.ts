import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { ohemCrossEntropy } from '../../src/losses/ce.ts';

// OHEM is U2PL's and UniMatch's Cityscapes loss. It once failed on its first backward pass
// ("gradient function not found for LessEqual"): these tests take its gradient, and check value and
// gradient against a plain-JS computation of the same selection rule.

const [H, W, C] = [4, 5, 3];

/** Deterministic logits and labels (two ignored pixels) without a random generator. */
function inputs(): { logits: number[]; labels: number[] } {
  const logits = Array.from({ length: H * W * C }, (_, i) => Math.sin(i * 1.7) * 3);
  const labels = Array.from({ length: H * W }, (_, i) => (i === 3 || i === 11 ? 255 : (i * 7) % C));
  return { logits, labels };
}

/** Per pixel: softmax probabilities. */
function softmax(logits: number[], p: number): number[] {
  const row = logits.slice(p * C, p * C + C);
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** The rule written out: keep valid pixels with p_gt ≤ max(thresh, p of the minKept-th hardest). */
function expected(thresh: number, minKept: number): { loss: number; grad: number[] } {
  const { logits, labels } = inputs();
  const valid = labels.map((y, p) => (y === 255 ? null : softmax(logits, p)[y]!));
  const probs = valid.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const cut = probs.length > minKept && minKept > 0 ? Math.max(thresh, probs[minKept - 1]!) : Infinity;
  const kept = valid.map((x) => x !== null && x <= cut);
  const n = kept.filter(Boolean).length;
  let loss = 0;
  const grad = new Array<number>(H * W * C).fill(0);
  labels.forEach((y, p) => {
    if (!kept[p]) return;
    const s = softmax(logits, p);
    loss -= Math.log(s[y]!) / n;
    for (let c = 0; c < C; c++) grad[p * C + c] = (s[c]! - (c === y ? 1 : 0)) / n;
  });
  return { loss, grad };
}

describe('OHEM cross-entropy', () => {
  before(() => useTestBackend());

  for (const [thresh, minKept] of [[0.7, 4], [0.2, 10], [0.7, 100]] as const) {
    it(`thresh ${thresh}, min_kept ${minKept}: value and gradient follow the rule`, () => {
      const { logits, labels } = inputs();
      const want = expected(thresh, minKept);
      const before = tf.memory().numTensors;
      const x = tf.tensor4d(logits, [1, H, W, C]);
      const y = tf.tensor3d(labels, [1, H, W], 'int32');
      const value = ohemCrossEntropy(x, y, thresh, minKept);
      const g = tf.grad((l: tf.Tensor) => ohemCrossEntropy(l as tf.Tensor4D, y, thresh, minKept))(x);
      assert.ok(Math.abs(value.dataSync()[0]! - want.loss) < 1e-5, `loss ${value.dataSync()[0]} vs ${want.loss}`);
      const got = g.dataSync();
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - want.grad[i]!) < 1e-5, `grad[${i}] ${got[i]} vs ${want.grad[i]}`);
      tf.dispose([value, g, x, y]);
      assert.equal(tf.memory().numTensors, before);
    });
  }

  it('keeps fewer pixels than CE when the threshold bites', () => {
    const all = expected(0.7, 100).loss;
    const hard = expected(0.2, 4).loss;
    assert.ok(hard > all, `the hard pixels' mean CE (${hard}) exceeds the mean over all (${all})`);
  });
});
