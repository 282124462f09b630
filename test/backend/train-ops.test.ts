import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { installKernels } from '../../src/backend/kernels/index.ts';
import { batchNormTraining } from '../../src/backend/kernels/batch-norm.ts';
import { conv2dPruned, usefulTaps } from '../../src/backend/kernels/tap-pruning.ts';
import { tapSpans } from '../../src/backend/kernels/atrous-taps.ts';
import { referenceForward, referenceGrads, relError, size, values, type Shape4 } from './conv-reference.ts';

const TOL = 1e-3;

function checkBatchNorm(): void {
  const shape: Shape4 = [3, 5, 4, 6];
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const x = tf.add(tf.mul(tf.tensor4d(values(size(shape), 7), shape), 3), 1.5) as tf.Tensor4D;
    const gamma = tf.tensor1d(values(6, 8));
    const beta = tf.tensor1d(values(6, 9));
    const r = tf.tensor4d(values(size(shape), 10), shape);
    const eps = 1e-5;
    const composed = (a: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor4D => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.batchNorm(a, mean as tf.Tensor1D, variance as tf.Tensor1D, b, g, eps);
    };
    const fused = batchNormTraining(x, gamma, beta, eps);
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    assert.ok(relError(fused.y.dataSync(), composed(x, gamma, beta).dataSync()) < TOL, 'y');
    assert.ok(relError(fused.mean.dataSync(), mean.dataSync()) < TOL, 'mean');
    assert.ok(relError(fused.variance.dataSync(), variance.dataSync()) < TOL, 'variance');
    tf.dispose([fused.mean, fused.variance]);
    const lossOf = (f: (a: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor4D) =>
      tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), r)));
    const want = lossOf(composed)([x, gamma, beta]);
    const got = lossOf((a, g, b) => {
      const o = batchNormTraining(a, g, b, eps);
      tf.dispose([o.mean, o.variance]);
      return o.y;
    })([x, gamma, beta]);
    ['dx', 'dgamma', 'dbeta'].forEach((name, i) => {
      assert.ok(relError(got[i]!.dataSync(), want[i]!.dataSync()) < TOL, name);
    });
  });
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
}

describe('training ops on wasm', () => {
  before(async () => {
    await useTestBackend('wasm');
    await installKernels('wasm');
  });

  test("'same' convs with stride > kernel are not all zeros (tfjs-wasm 4.22 bug) and match the reference", () => {
    for (const [k, s] of [[3, 4], [3, 8], [2, 4], [3, 3], [1, 4], [5, 4]] as const) {
      const xShape: Shape4 = [2, 16, 13, 3];
      const wShape: Shape4 = [k, k, 3, 4];
      const x = values(size(xShape), 1);
      const w = values(size(wShape), 2);
      const got = tf.tidy(() => tf.conv2d(tf.tensor4d(x, xShape), tf.tensor4d(w, wShape), s, 'same').dataSync());
      const ref = referenceForward(x, xShape, w, wShape, [s, s], 'same', [1, 1]);
      assert.ok(got.some((v) => v !== 0), `k${k} s${s} all zeros`);
      assert.ok(relError(got, ref) < TOL, `k${k} s${s} same`);
    }
  });

  test('usefulTaps finds the taps that read real input', () => {
    // ASPP rate 18 on a 4×4 map: only the centre tap
    assert.deepEqual(usefulTaps(4, 4, 3, 1, 18, 18), { first: 1, count: 1, pad: [0, 0] });
    // rate 12 on 17×17: every tap reaches some row
    assert.equal(usefulTaps(17, 17, 3, 1, 12, 12), null);
    assert.equal(usefulTaps(33, 17, 3, 2, 1, 1), null);
    // rate 4 on 3 rows: centre only; rate 2 on 3 rows: all
    assert.deepEqual(usefulTaps(3, 3, 3, 1, 4, 4), { first: 1, count: 1, pad: [0, 0] });
    assert.equal(usefulTaps(3, 3, 3, 1, 2, 2), null);
  });

  test('tap-pruned conv equals the full conv, forward and both gradients', () => {
    const cases: { xShape: Shape4; wShape: Shape4; s: number; p: number; d: number }[] = [
      { xShape: [2, 4, 4, 3], wShape: [3, 3, 3, 5], s: 1, p: 6, d: 6 },
      { xShape: [3, 3, 9, 2], wShape: [3, 3, 2, 4], s: 1, p: 4, d: 4 },
      { xShape: [1, 5, 5, 2], wShape: [3, 3, 2, 3], s: 1, p: 2, d: 2 },
      { xShape: [2, 7, 6, 2], wShape: [3, 3, 2, 3], s: 2, p: 1, d: 1 },
    ];
    for (const c of cases) {
      const x = values(size(c.xShape), 3);
      const w = values(size(c.wShape), 4);
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [c.p, c.p], [c.p, c.p], [0, 0]];
      const refY = referenceForward(x, c.xShape, w, c.wShape, [c.s, c.s], pad, [c.d, c.d]);
      tf.tidy(() => {
        const xt = tf.tensor4d(x, c.xShape);
        const wt = tf.tensor4d(w, c.wShape);
        const y = conv2dPruned(xt, wt, c.s, c.p, c.d);
        assert.ok(relError(y.dataSync(), refY) < TOL, `forward ${JSON.stringify(c)}`);
        const dy = values(size(y.shape), 5);
        const dyt = tf.tensor4d(dy, y.shape);
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(conv2dPruned(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.p, c.d), dyt)),
        )([xt, wt]);
        const ref = referenceGrads(x, c.xShape, w, c.wShape, dy, [c.s, c.s], pad, [c.d, c.d]);
        assert.ok(relError(gx!.dataSync(), ref.dx) < TOL, `dx ${JSON.stringify(c)}`);
        assert.ok(relError(gw!.dataSync(), ref.dw) < TOL, `dw ${JSON.stringify(c)}`);
      });
    }
  });

  test('tapSpans: the output rows each tap of a dilated conv writes from real input', () => {
    // 3 taps at rate 4 with pad 4 on 6 rows: tap 0 reads rows 0-1 for outputs 4-5, tap 2 the reverse
    assert.deepEqual(tapSpans(6, 6, 3, 4, 4), [
      { tap: 0, out: 4, inp: 0, len: 2 },
      { tap: 1, out: 0, inp: 0, len: 6 },
      { tap: 2, out: 0, inp: 4, len: 2 },
    ]);
    assert.deepEqual(tapSpans(4, 4, 3, 18, 18), [{ tap: 1, out: 0, inp: 0, len: 4 }]);
  });

  test('dilated convs (tap sums) and deep-layer input gradients match the reference', () => {
    const cases: { xShape: Shape4; wShape: Shape4; d: number; pad: [[number, number], [number, number], [number, number], [number, number]] }[] = [
      { xShape: [2, 5, 5, 3], wShape: [3, 3, 3, 4], d: 6, pad: [[0, 0], [6, 6], [6, 6], [0, 0]] },
      // filter larger than the activations: input gradient computed channels-first
      { xShape: [2, 3, 4, 24], wShape: [3, 3, 24, 20], d: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
      { xShape: [1, 4, 3, 24], wShape: [3, 3, 24, 16], d: 2, pad: [[0, 0], [2, 2], [2, 2], [0, 0]] },
      { xShape: [2, 3, 3, 20], wShape: [3, 3, 20, 24], d: 1, pad: [[0, 0], [0, 2], [1, 0], [0, 0]] },
      { xShape: [1, 7, 6, 2], wShape: [3, 3, 2, 3], d: 5, pad: [[0, 0], [5, 5], [5, 5], [0, 0]] },
      { xShape: [3, 9, 5, 2], wShape: [3, 2, 2, 3], d: 4, pad: [[0, 0], [1, 7], [4, 0], [0, 0]] },
    ];
    for (const c of cases) {
      const x = values(size(c.xShape), 11);
      const w = values(size(c.wShape), 12);
      const refY = referenceForward(x, c.xShape, w, c.wShape, [1, 1], c.pad, [c.d, c.d]);
      tf.tidy(() => {
        const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.pad, 'NHWC', c.d);
        const xt = tf.tensor4d(x, c.xShape);
        const wt = tf.tensor4d(w, c.wShape);
        const y = f(xt, wt);
        assert.ok(relError(y.dataSync(), refY) < TOL, `forward ${JSON.stringify(c)}`);
        const dy = values(size(y.shape), 13);
        const dyt = tf.tensor4d(dy, y.shape);
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dyt)))([xt, wt]);
        const ref = referenceGrads(x, c.xShape, w, c.wShape, dy, [1, 1], c.pad, [c.d, c.d]);
        assert.ok(relError(gx!.dataSync(), ref.dx) < TOL, `dx ${JSON.stringify(c)}`);
        assert.ok(relError(gw!.dataSync(), ref.dw) < TOL, `dw ${JSON.stringify(c)}`);
      });
    }
  });

  test('batchNormTraining matches tf.moments + tf.batchNorm: output, statistics and gradients (wasm kernels, cpu ops)', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await useTestBackend(backend);
      await installKernels(backend);
      checkBatchNorm();
    }
    await useTestBackend('wasm');
  });

  test('relu gradient (from the output) is dy where x > 0, else 0', () => {
    tf.tidy(() => {
      const x = tf.tensor1d([-2, -0.5, 0, 0.5, 3]);
      const dy = tf.tensor1d([1, 2, 3, 4, 5]);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), dy)))(x);
      assert.deepEqual(Array.from(g.dataSync()), [0, 0, 0, 4, 5]);
    });
  });
});
