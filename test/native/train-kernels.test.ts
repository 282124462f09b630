import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initNativeBackend, nativeInfo } from '../../src/backend/native/index.ts';
import { nativeAddon } from '../../src/backend/native/addon.ts';
import { batchNormAct, batchNormTraining, hasFusedBatchNorm } from '../../src/backend/kernels/batch-norm.ts';
import { axpby, sgdStep } from '../../src/backend/kernels/fused-update.ts';
import { relError, size, values, type Shape4 } from '../backend/conv-reference.ts';

const TOL = 1e-4;
const skip = nativeAddon() == null ? `native addon not built: ${nativeInfo().reason ?? ''}` : false;
const EPS = 1e-5;

/** `f`'s outputs on native (fused kernels) and on wasm (tfjs ops, the unfused path), compared. */
function sameAsWasm(label: string, f: () => tf.Tensor[]): void {
  tf.tidy(() => {
    assert.ok(hasFusedBatchNorm(), 'native registers the fused kernels');
    const got = f().map((t) => t.dataSync());
    void tf.setBackend('wasm');
    try {
      assert.ok(!hasFusedBatchNorm(), 'wasm takes the composed path');
      f().forEach((want, i) => {
        const e = relError(got[i]!, want.dataSync());
        assert.ok(e < TOL, `${label} output ${i}: relative error ${e}`);
      });
    } finally {
      void tf.setBackend('native');
    }
  });
}

/** BN (+ residual) (+ ReLU) as the fused kernel where registered, else composed from ops. */
function bnAct(x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, relu: boolean, residual?: tf.Tensor4D): tf.Tensor4D {
  if (hasFusedBatchNorm()) {
    const o = batchNormAct(x, g, b, EPS, { relu, residual });
    tf.dispose([o.mean, o.variance]);
    return o.y;
  }
  const o = batchNormTraining(x, g, b, EPS);
  tf.dispose([o.mean, o.variance]);
  const sum = residual ? tf.add(o.y, residual) : o.y;
  return (relu ? tf.relu(sum) : sum) as tf.Tensor4D;
}

describe('native fused training kernels', { skip }, () => {
  before(async () => {
    await initNativeBackend();
  });

  // large enough to split across threads (≥ 2^15 values), plus a small odd one that does not
  for (const shape of [[4, 17, 17, 128], [3, 5, 4, 6]] as Shape4[]) {
    const c = shape[3];
    for (const [relu, withResidual] of [[false, false], [true, false], [true, true]] as const) {
      test(`batch norm ${shape.join('×')}${withResidual ? ' + residual' : ''}${relu ? ' + ReLU' : ''}: forward, statistics and gradients match the composed ops`, () => {
        sameAsWasm('bn', () => {
          // an offset mean (|mean| ≫ std) checks the variance for cancellation
          const x = tf.add(tf.mul(tf.tensor4d(values(size(shape), 7), shape), 3), 20) as tf.Tensor4D;
          const gamma = tf.tensor1d(values(c, 8));
          const beta = tf.tensor1d(values(c, 9));
          const res = withResidual ? tf.tensor4d(values(size(shape), 11), shape) : undefined;
          const r = tf.tensor4d(values(size(shape), 10), shape);
          const stats = hasFusedBatchNorm() ? batchNormAct(x, gamma, beta, EPS, { relu, residual: res }) : batchNormTraining(x, gamma, beta, EPS);
          const grads = tf.grads((...ts: tf.Tensor[]) => tf.sum(tf.mul(bnAct(ts[0] as tf.Tensor4D, ts[1] as tf.Tensor1D, ts[2] as tf.Tensor1D, relu, ts[3] as tf.Tensor4D | undefined), r)));
          const y = bnAct(x, gamma, beta, relu, res);
          return [y, stats.mean, stats.variance, ...grads(res ? [x, gamma, beta, res] : [x, gamma, beta])];
        });
      });
    }
  }

  test('axpby and the SGD step match the tfjs ops they replace', () => {
    sameAsWasm('update', () => {
      const shape = [3, 3, 64, 128];
      const p = tf.tensor(values(size(shape as Shape4), 1), shape);
      const g = tf.tensor(values(size(shape as Shape4), 2), shape);
      const m = tf.tensor(values(size(shape as Shape4), 3), shape);
      return [axpby(p, 0.99, g, 0.01), ...sgdStep(p, g, m, { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 })];
    });
  });

  test('the fused kernels leak no tensors, forward or backward', () => {
    const shape: Shape4 = [2, 6, 6, 8];
    const x = tf.tensor4d(values(size(shape), 1), shape);
    const gamma = tf.ones([8]) as tf.Tensor1D;
    const beta = tf.zeros([8]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    bnAct(x, gamma, beta, true, x).dispose();
    tf.dispose(tf.grads((a: tf.Tensor) => tf.sum(bnAct(a as tf.Tensor4D, gamma, beta, true, x)))([x]));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, gamma, beta]);
  });
});
