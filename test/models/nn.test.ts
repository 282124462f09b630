import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { adaptiveBin, poolOutSize } from '../../src/models/nn/exec.ts';
import { TensorExec } from '../../src/models/nn/tensor-exec.ts';

before(async () => {
  await useTestBackend();
});

const ex = (training: boolean) => new TensorExec({ training, nextSeed: () => 11 });

test('adaptiveAvgPool matches PyTorch AdaptiveAvgPool2d bins (overlapping when size % bins != 0)', () => {
  const [n, h, w, c] = [2, 7, 5, 3];
  const x = tf.randomUniform([n, h, w, c], -1, 1, 'float32', 4) as tf.Tensor4D;
  const xs = x.arraySync();
  for (const bins of [1, 2, 3, 6]) {
    const got = ex(false).adaptiveAvgPool(x, bins);
    assert.deepEqual(got.shape, [n, bins, bins, c]);
    const g = got.arraySync();
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < bins; i++) {
        for (let j = 0; j < bins; j++) {
          const [r0, r1] = adaptiveBin(i, h, bins);
          const [c0, c1] = adaptiveBin(j, w, bins);
          for (let k = 0; k < c; k++) {
            let s = 0;
            for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) s += xs[b]![r]![q]![k]!;
            assert.ok(Math.abs(g[b]![i]![j]![k]! - s / ((r1 - r0) * (c1 - c0))) < 1e-5, `bins ${bins}`);
          }
        }
      }
    }
    got.dispose();
  }
  x.dispose();
});

test('maxPool pads with -inf and follows the ceil-mode rule', () => {
  assert.equal(poolOutSize(32, 3, 2, 1, true), 17);
  assert.equal(poolOutSize(32, 3, 2, 1, false), 16);
  assert.equal(poolOutSize(33, 3, 2, 1, true), 17);
  assert.equal(poolOutSize(4, 3, 2, 1, true), 3);
  // all negative, so a zero-padded border would show up as 0
  const x = tf.neg(tf.reshape(tf.range(1, 17), [1, 4, 4, 1])) as tf.Tensor4D;
  const y = ex(false).maxPool(x, 3, 2, 1, true);
  assert.deepEqual(y.shape, [1, 3, 3, 1]);
  // window rows/cols: {0,1}, {1,2,3}, {3} (the ceil-mode window that starts in the right padding)
  assert.deepEqual(Array.from(y.dataSync()), [-1, -2, -4, -5, -6, -8, -13, -14, -16]);
  tf.dispose([x, y]);
});

test('Dropout2d zeroes whole channels and rescales the rest; identity outside training', () => {
  const x = tf.ones([2, 4, 4, 64]) as tf.Tensor4D;
  const y = ex(true).dropout(x, 0.5, true);
  const v = y.arraySync();
  for (let b = 0; b < 2; b++) {
    for (let k = 0; k < 64; k++) {
      const first = v[b]![0]![0]![k]!;
      assert.ok(first === 0 || Math.abs(first - 2) < 1e-6);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.equal(v[b]![i]![j]![k], first);
    }
  }
  assert.equal(ex(false).dropout(x, 0.5, true), x);
  tf.dispose([x, y]);
});
