import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initNativeBackend, nativeInfo } from '../../src/backend/native/index.ts';
import { nativeAddon } from '../../src/backend/native/addon.ts';
import { trailingBroadcast } from '../../src/backend/native/elementwise.ts';
import '@tensorflow/tfjs-backend-cpu';
import { relError } from '../backend/conv-reference.ts';

const TOL = 1e-4;
const skip = nativeAddon() == null ? `native addon not built: ${nativeInfo().reason ?? ''}` : false;

function values(shape: number[], seed: number): tf.Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return tf.tensor(out, shape);
}

/**
 * Runs `f` on native, then on `reference` (wasm: the very instance native wraps, so switching is
 * synchronous), and compares.
 */
function sameAsWasm(label: string, f: () => tf.Tensor, reference = 'wasm'): void {
  tf.tidy(() => {
    const native = f();
    const got = native.dataSync();
    void tf.setBackend(reference);
    try {
      const ref = f();
      assert.deepEqual(native.shape, ref.shape, label);
      assert.equal(native.dtype, ref.dtype, label);
      assert.ok(relError(got, ref.dataSync()) < TOL, label);
    } finally {
      void tf.setBackend('native');
    }
  });
}

test('trailingBroadcast accepts suffix shapes only', () => {
  assert.ok(trailingBroadcast([8], [2, 4, 8]));
  assert.ok(trailingBroadcast([1, 1, 4, 8], [2, 4, 8]));
  assert.ok(trailingBroadcast([1], [2, 4, 8]));
  assert.ok(!trailingBroadcast([4, 1], [2, 4, 8]));
  assert.ok(!trailingBroadcast([2, 1, 8], [2, 4, 8]));
});

describe('native elementwise kernels', { skip }, () => {
  before(async () => {
    await initNativeBackend();
  });

  test('add, sub and mul match wasm for same-shape, scalar, channel and fallback broadcasts', () => {
    const pairs: [number[], number[]][] = [
      [[2, 5, 7, 3], [2, 5, 7, 3]],
      [[4, 33, 33, 64], [64]],
      [[64], [4, 33, 33, 64]],
      [[4, 33, 33, 64], [1, 1, 1, 64]],
      [[3, 4, 5], []],
      [[], [3, 4, 5]],
      [[6, 5], [3, 6, 5]],
      [[2, 1], [1, 2]],
      [[3, 4, 1], [3, 4, 6]],
      [[300000], [300000]],
    ];
    for (const [as, bs] of pairs) {
      for (const [name, op] of [['add', tf.add], ['sub', tf.sub], ['mul', tf.mul]] as const) {
        sameAsWasm(`${name} ${as} ${bs}`, () => op(values(as, 1), values(bs, 2)));
      }
    }
    sameAsWasm('int32 add falls back', () => tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([4], [1], 'int32')));
  });

  test('batchNorm matches wasm with and without offset/scale, per-channel and scalar statistics', () => {
    const x = (): tf.Tensor4D => values([4, 9, 7, 16], 3) as tf.Tensor4D;
    const c = (seed: number, positive = false): tf.Tensor1D =>
      (positive ? tf.add(tf.abs(values([16], seed)), 0.5) : values([16], seed)) as tf.Tensor1D;
    sameAsWasm('full', () => tf.batchNorm(x(), c(1), c(2, true), c(3), c(4), 1e-5));
    sameAsWasm('no offset/scale', () => tf.batchNorm(x(), c(1), c(2, true), undefined, undefined, 1e-3));
    sameAsWasm('scalar stats', () => tf.batchNorm(x(), tf.scalar(0.2), tf.scalar(1.5), tf.scalar(0.1), tf.scalar(0.7), 1e-5));
    sameAsWasm('large', () => tf.batchNorm(values([4, 65, 65, 64], 5) as tf.Tensor4D, values([64], 1) as tf.Tensor1D,
      tf.add(tf.abs(values([64], 2)), 0.5) as tf.Tensor1D, values([64], 3) as tf.Tensor1D, values([64], 4) as tf.Tensor1D, 1e-5));
  });

  // against cpu: tfjs-wasm 4.22's MaxPoolGrad is wrong for larger maps (off by up to 2.8 on 4×65×65×16)
  test('max-pool gradient matches cpu, ties included', async () => {
    await tf.setBackend('cpu'); // the cpu backend initialises asynchronously once
    await tf.setBackend('native');
    const cases: [number[], number, number, 'same' | 'valid' | number][] = [
      [[4, 65, 65, 16], 3, 2, 'valid'],
      [[2, 9, 8, 5], 3, 2, 'same'],
      [[1, 7, 7, 3], 2, 1, 1],
      [[3, 10, 10, 4], 3, 3, 'valid'],
    ];
    for (const [shape, k, s, pad] of cases) {
      for (const ties of [false, true]) {
        sameAsWasm(`maxPool grad ${shape} k${k} s${s} ${pad} ties ${ties}`, () => {
          const x = ties ? tf.round(tf.mul(values(shape, 6), 2)) : values(shape, 6);
          const f = (t: tf.Tensor): tf.Tensor => tf.mul(tf.maxPool(t as tf.Tensor4D, k, s, pad), values(tf.maxPool(t as tf.Tensor4D, k, s, pad).shape, 8));
          return tf.grad((t: tf.Tensor) => tf.sum(f(t)))(x);
        }, 'cpu');
      }
    }
  });

  test('gather matches wasm on every axis and throws on a bad index', () => {
    const x = (): tf.Tensor => values([5, 6, 7], 9);
    const idx = (): tf.Tensor => tf.tensor([4, 0, 0, 3, 1, 2], [2, 3], 'int32');
    for (const axis of [0, 1, 2]) sameAsWasm(`gather axis ${axis}`, () => tf.gather(x(), idx(), axis));
    sameAsWasm('gather int32 data falls back', () => tf.gather(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([2, 0], [2], 'int32')));
    sameAsWasm('gather large', () => tf.gather(values([20000, 64], 3), tf.tensor(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 20000), [5000], 'int32')));
    assert.throws(() => tf.tidy(() => tf.gather(x(), tf.tensor([5], [1], 'int32'))), /not in \[0, 5\)/);
  });
});
