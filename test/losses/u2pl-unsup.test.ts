import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { fixturePath } from '../helpers/shared.ts';
import { readSafetensors, type StoredTensor } from '../../src/io/safetensors.ts';
import { computeUnsupervisedLoss, dropUnreliable } from '../../src/losses/u2pl-unsup.ts';
import { percentile } from '../../src/losses/entropy.ts';

/** Golden data from upstream `compute_unsupervised_loss` (test/fixtures/golden/README.md, u2pl/unsup_loss). */
const REF = fixturePath('golden', 'u2pl', 'unsup_loss.safetensors');

function nhwc(t: StoredTensor): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

function get(tensors: Map<string, StoredTensor>, name: string): StoredTensor {
  const t = tensors.get(name);
  assert.ok(t, `reference tensor ${name} missing`);
  return t;
}

describe('U2PL unsupervised loss (golden)', () => {
  let tensors: Map<string, StoredTensor>;
  before(async () => {
    await useTestBackend();
    tensors = (await readSafetensors(REF)).tensors;
  });

  for (const percent of [80, 50, 100]) {
    it(`percent ${percent}: drop mask exact, loss within rtol 1e-5`, () => {
      const before = tf.memory().numTensors;
      const student = nhwc(get(tensors, 'student_logits'));
      const teacher = nhwc(get(tensors, 'teacher_logits'));
      const pt = get(tensors, 'pseudo_target');
      const target = tf.tensor3d(pt.data as Int32Array, pt.shape as [number, number, number], 'int32');
      const { loss, drop, entropy } = computeUnsupervisedLoss(student, teacher, target, percent);

      const refEntropy = get(tensors, 'teacher_entropy').data as Float32Array;
      let maxErr = 0;
      for (let i = 0; i < entropy.length; i++) maxErr = Math.max(maxErr, Math.abs(entropy[i]! - refEntropy[i]!));
      assert.ok(maxErr <= 1e-6, `entropy max abs err ${maxErr}`);

      const refTarget = get(tensors, `target_after_drop_p${percent}`).data as Int32Array;
      let mismatches = 0;
      for (let i = 0; i < refTarget.length; i++) if (refTarget[i] !== drop.target[i]) mismatches++;
      assert.equal(mismatches, 0, 'drop mask differs from upstream');

      const expectedKept = { 80: 369, 50: 231, 100: 461 }[percent]!;
      assert.equal(drop.kept, expectedKept);
      const ref = (get(tensors, `loss_p${percent}`).data as Float32Array)[0]!;
      const got = loss.dataSync()[0]!;
      assert.ok(Math.abs(got - ref) <= 1e-5 * Math.abs(ref) + 1e-6, `loss ${got} vs ${ref}`);

      tf.dispose([student, teacher, target, loss]);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    });
  }

  it('percentile matches numpy linear interpolation, including the ends', () => {
    const v = Float32Array.from([3, 1, 2, 10]);
    assert.equal(percentile(v, 0), 1);
    assert.equal(percentile(v, 100), 10);
    assert.equal(percentile(v, 50), 2.5);
    assert.ok(Math.abs(percentile(v, 90) - 7.9) < 1e-12);
    assert.ok(Number.isNaN(percentile(new Float32Array(0), 50)));
  });

  it('keeps ignored pixels ignored and never counts them', () => {
    const r = dropUnreliable([0.1, 0.9, 0.5, 0.2], [1, 255, 2, 0], 100);
    assert.deepEqual(Array.from(r.target), [1, 255, 255, 0]);
    assert.equal(r.kept, 2);
    assert.equal(r.dropped, 1);
  });
});
