import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { installKernels } from '../../src/backend/kernels/index.ts';

/**
 * A miniature of the segmentation nets: conv/BN/relu, max-pool, an atrous conv, a strided conv
 * and an align-corners upsample — every op family the models differentiate.
 */
function makeNet(): { vars: tf.Variable[]; loss: (x: tf.Tensor4D, target: tf.Tensor4D) => tf.Scalar } {
  const init = (shape: [number, number, number, number], seed: number): tf.Variable<tf.Rank.R4> =>
    tf.variable(tf.randomNormal(shape, 0, 0.3, 'float32', seed) as tf.Tensor4D);
  const w1 = init([3, 3, 3, 8], 1);
  const w2 = init([3, 3, 8, 8], 2);
  const w3 = init([3, 3, 8, 8], 3);
  const w4 = init([1, 1, 8, 4], 4);
  const gamma = tf.variable(tf.ones([8]) as tf.Tensor1D);
  const beta = tf.variable(tf.zeros([8]) as tf.Tensor1D);
  const loss = (x: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar => {
    let h: tf.Tensor4D = tf.conv2d(x, w1, 1, [[0, 0], [1, 1], [1, 1], [0, 0]], 'NHWC', 1);
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.relu(tf.batchNorm(h, mean, variance, beta, gamma, 1e-5)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.relu(tf.conv2d(h, w2, 1, 'same', 'NHWC', 2));
    h = tf.relu(tf.conv2d(h, w3, 2, 'valid', 'NHWC', 1));
    const logits = tf.image.resizeBilinear(tf.conv2d(h, w4, 1, 'valid'), [target.shape[1], target.shape[2]], true);
    return tf.mean(tf.squaredDifference(logits, target));
  };
  return { vars: [w1, w2, w3, w4, gamma, beta], loss };
}

test('20 SGD steps of a small conv net on wasm: loss falls, tensor count stays flat', async () => {
  await useTestBackend('wasm');
  await installKernels('wasm');
  const x = tf.randomNormal([3, 17, 17, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const target = tf.randomNormal([3, 17, 17, 4], 0, 1, 'float32', 8) as tf.Tensor4D;
  const net = makeNet();
  const losses: number[] = [];
  const counts: number[] = [];
  for (let step = 1; step <= 20; step++) {
    const { value, grads } = tf.variableGrads(() => net.loss(x, target), net.vars);
    tf.tidy(() => {
      for (const v of net.vars) v.assign(tf.sub(v, tf.mul(grads[v.name]!, 0.2)));
    });
    losses.push((await value.data())[0]!);
    tf.dispose([value, ...Object.values(grads)]);
    counts.push(tf.memory().numTensors);
  }
  assert.equal(counts[19], counts[1], `tensors after step 2 vs step 20: ${counts.join(',')}`);
  assert.ok(losses.every(Number.isFinite), `finite losses ${losses.join(',')}`);
  assert.ok(losses[19]! < losses[0]! * 0.95, `loss falls: ${losses[0]} -> ${losses[19]}`);
  tf.dispose([x, target, ...net.vars]);
});
