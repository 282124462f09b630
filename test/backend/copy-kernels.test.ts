import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { installKernels } from '../../src/backend/kernels/index.ts';
import { planSlice } from '../../src/backend/kernels/wasm-copy-kernels.ts';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const strides = (s: readonly number[]): number[] => s.map((_, i) => size(s.slice(i + 1)));

/** Index-by-index reference: out[i…] = x[begin + i…]. */
function refSlice(x: Float32Array, shape: number[], begin: number[], sz: number[]): Float32Array {
  const out = new Float32Array(size(sz));
  const xs = strides(shape);
  const os = strides(sz);
  for (let k = 0; k < out.length; k++) {
    let off = 0;
    for (let a = 0; a < sz.length; a++) off += (Math.floor(k / os[a]!) % sz[a]! + begin[a]!) * xs[a]!;
    out[k] = x[off]!;
  }
  return out;
}

/** out[i…] = x[i mod shape…]. */
function refTile(x: Float32Array, shape: number[], reps: number[]): Float32Array {
  const outShape = shape.map((d, i) => d * reps[i]!);
  const out = new Float32Array(size(outShape));
  const xs = strides(shape);
  const os = strides(outShape);
  for (let k = 0; k < out.length; k++) {
    let off = 0;
    for (let a = 0; a < shape.length; a++) off += ((Math.floor(k / os[a]!) % outShape[a]!) % shape[a]!) * xs[a]!;
    out[k] = x[off]!;
  }
  return out;
}

const iota = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i);

test('planSlice merges axes taken whole into one contiguous run', () => {
  assert.deepEqual(planSlice([3, 3, 1296, 512], [1, 2, 0, 0], [1, 1, 1296, 512]), {
    shape: [3, 3 * 1296 * 512],
    begin: [1, 2 * 1296 * 512],
    size: [1, 1296 * 512],
  });
  assert.deepEqual(planSlice([4, 5, 6], [0, 1, 2], [4, 3, 2]), { shape: [4, 5, 6], begin: [0, 1, 2], size: [4, 3, 2] });
  assert.deepEqual(planSlice([4, 5, 6], [1, 0, 0], [2, 5, 6]), { shape: [120], begin: [30], size: [60] });
});

test('wasm Slice equals an index-by-index reference (ranks 1-5, contiguous and strided boxes)', async () => {
  await useTestBackend('wasm');
  await installKernels('wasm');
  const cases: [number[], number[], number[]][] = [
    [[10], [3], [5]],
    [[7, 9], [2, 1], [3, 8]],
    [[7, 9], [2, 0], [3, 9]],
    [[4, 5, 6], [1, 2, 3], [2, 3, 3]],
    [[3, 3, 8, 40], [1, 2, 0, 0], [1, 1, 8, 40]],
    [[35, 35, 16, 3], [1, 2, 0, 0], [32, 32, 4, 3]],
    [[2, 9, 9, 20], [1, 3, 2, 5], [1, 4, 6, 15]],
    [[2, 3, 4, 5, 6], [1, 0, 1, 2, 0], [1, 3, 2, 3, 6]],
    [[4, 4], [0, 0], [4, 4]],
    [[4, 4], [1, 1], [0, 2]],
  ];
  for (const [shape, begin, sz] of cases) {
    const data = iota(size(shape));
    const got = tf.tidy(() => tf.slice(tf.tensor(data, shape), begin, sz).dataSync());
    assert.deepEqual(Array.from(got), Array.from(refSlice(data, shape, begin, sz)), `slice ${shape} at ${begin} size ${sz}`);
  }
  const ints = tf.tidy(() => tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]).dataSync());
  assert.deepEqual(Array.from(ints), [2, 3, 5, 6]);
});

test('wasm Tile equals an index-by-index reference, and its gradient still sums', async () => {
  await useTestBackend('wasm');
  await installKernels('wasm');
  const cases: [number[], number[]][] = [
    [[5], [3]],
    [[1, 1, 1, 64], [4, 16, 16, 1]],
    [[2, 3], [3, 2]],
    [[2, 1, 3, 2], [2, 5, 1, 3]],
    [[3, 1, 2], [1, 1, 1]],
    [[2, 2, 2, 2, 2], [1, 2, 1, 3, 1]],
  ];
  for (const [shape, reps] of cases) {
    const data = iota(size(shape));
    const got = tf.tidy(() => tf.tile(tf.tensor(data, shape), reps).dataSync());
    assert.deepEqual(Array.from(got), Array.from(refTile(data, shape, reps)), `tile ${shape} × ${reps}`);
  }
  const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.tile(x, [2, 3])))(tf.ones([2, 2])).dataSync());
  assert.deepEqual(Array.from(g), [6, 6, 6, 6]);
});
