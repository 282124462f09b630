import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';

/** The max-pool input gradient on one backend, for a fixed pseudo-random input. */
async function poolGrad(backend: 'cpu' | 'wasm', shape: [number, number, number, number], k: number, s: number, pad: 'same' | 'valid' | number): Promise<Float32Array> {
  await initBackend(backend);
  const n = shape.reduce((a, b) => a * b, 1);
  // distinct values: a tie would make the winning position a convention, not a check
  const x = tf.tensor4d(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1 + i * 1e-7), shape);
  const dyShape = tf.maxPool(x, k, s, pad).shape;
  const dy = tf.tensor(Float32Array.from({ length: dyShape.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i * 0.7)), dyShape);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, k, s, pad), dy)))(x);
  const out = (await g.data()) as Float32Array;
  tf.dispose([x, dy, g]);
  return out;
}

test('wasm max-pool gradient equals the cpu backend (tfjs-wasm 4.22 gets larger maps wrong)', async () => {
  for (const [shape, k, s, pad] of [
    [[4, 65, 65, 16], 3, 2, 1],
    [[2, 33, 32, 8], 3, 2, 'same'],
    [[1, 9, 9, 3], 2, 2, 'valid'],
  ] as const) {
    const cpu = await poolGrad('cpu', [...shape] as [number, number, number, number], k, s, pad);
    const wasm = await poolGrad('wasm', [...shape] as [number, number, number, number], k, s, pad);
    let worst = 0;
    for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(cpu[i]! - wasm[i]!));
    assert.ok(worst < 1e-5, `${shape.join('×')} k${k} s${s} pad ${pad}: max |diff| ${worst}`);
  }
});
