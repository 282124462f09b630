import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initNativeBackend, nativeInfo } from '../../src/backend/native/index.ts';
import { nativeAddon } from '../../src/backend/native/addon.ts';
import { referenceForward, referenceGrads, relError, size, values, type Pad, type Shape4 } from '../backend/conv-reference.ts';

const TOL = 1e-4;
const PADS: Pad[] = ['same', 'valid', [[0, 0], [1, 2], [2, 0], [0, 0]]];
const skip = nativeAddon() == null ? `native addon not built: ${nativeInfo().reason ?? ''}` : false;

interface Case {
  xShape: Shape4;
  wShape: Shape4;
  stride: number;
  pad: Pad;
  dilation: number;
}

/** Forward and both gradients (through tf.grads, so through native's Conv2D gradient) vs the loop reference. */
function checkCase(c: Case): void {
  const x = values(size(c.xShape), 11 + c.xShape[0]);
  const w = values(size(c.wShape), 5);
  const s: [number, number] = [c.stride, c.stride];
  const d: [number, number] = [c.dilation, c.dilation];
  const label = `x${c.xShape} w${c.wShape} s${c.stride} pad ${JSON.stringify(c.pad)} d${c.dilation}`;
  tf.tidy(() => {
    const xt = tf.tensor4d(x, c.xShape);
    const wt = tf.tensor4d(w, c.wShape);
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation);
    const y = f(xt, wt);
    assert.ok(relError(y.dataSync(), referenceForward(x, c.xShape, w, c.wShape, s, c.pad, d)) < TOL, `forward ${label}`);
    const dy = values(size(y.shape), 7);
    const dyt = tf.tensor4d(dy, y.shape);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dyt)))([xt, wt]);
    const ref = referenceGrads(x, c.xShape, w, c.wShape, dy, s, c.pad, d);
    assert.ok(relError(gx!.dataSync(), ref.dx) < TOL, `input grad ${label}`);
    assert.ok(relError(gw!.dataSync(), ref.dw) < TOL, `filter grad ${label}`);
  });
}

describe('native backend kernels', { skip }, () => {
  before(async () => {
    await initNativeBackend();
  });

  test('is active and reports oneDNN', () => {
    assert.equal(tf.getBackend(), 'native');
    const info = nativeInfo();
    assert.ok(info.loaded && typeof info.isa === 'string' && (info.threads ?? 0) >= 1, JSON.stringify(info));
    assert.equal(tf.getKernel(tf.Conv2D, 'native')?.backendName, 'native');
  });

  test('conv forward and gradients match the reference over strides, pads, dilations and batch', () => {
    const start = tf.memory().numTensors;
    for (const stride of [1, 2])
      for (const pad of PADS)
        for (const dilation of [1, 2, 4])
          for (const n of [1, 3]) {
            if (stride > 1 && dilation > 1) continue; // tf.conv2d refuses both together
            checkCase({ xShape: [n, 11, 9, 3], wShape: [3, 3, 3, 4], stride, pad, dilation });
          }
    assert.equal(tf.memory().numTensors, start, 'native kernels leak no tensors');
  });

  test('conv handles 1x1, even and non-square kernels and odd sizes', () => {
    checkCase({ xShape: [3, 7, 5, 4], wShape: [1, 1, 4, 6], stride: 2, pad: 'valid', dilation: 1 });
    checkCase({ xShape: [1, 7, 9, 2], wShape: [2, 3, 2, 3], stride: 2, pad: 'same', dilation: 1 });
    checkCase({ xShape: [3, 9, 7, 2], wShape: [2, 3, 2, 3], stride: 1, pad: [[0, 0], [0, 3], [1, 1], [0, 0]], dilation: 2 });
    checkCase({ xShape: [1, 13, 13, 2], wShape: [3, 3, 2, 2], stride: 1, pad: [[0, 0], [4, 4], [4, 4], [0, 0]], dilation: 4 });
    checkCase({ xShape: [2, 16, 16, 32], wShape: [7, 7, 32, 16], stride: 2, pad: 'same', dilation: 1 });
  });

  test('batch matmul matches the wasm kernel, with transposes and broadcast batches', () => {
    const shapes: [number[], number[], boolean, boolean][] = [
      [[5, 7], [7, 3], false, false],
      [[4, 7, 5], [4, 3, 7], true, true],
      [[2, 3, 6, 4], [1, 4, 5], false, false],
      [[1, 9, 4], [3, 9, 2], true, false],
      [[33, 70], [33, 65], true, false],
    ];
    for (const [as, bs, ta, tb] of shapes) {
      tf.tidy(() => {
        const a = tf.tensor(values(size(as), 3), as);
        const b = tf.tensor(values(size(bs), 4), bs);
        const native = tf.matMul(a, b, ta, tb);
        const nativeValues = native.dataSync();
        // same tensors, same memory: the wasm backend is the very instance native wraps
        void tf.setBackend('wasm');
        try {
          const ref = tf.matMul(a, b, ta, tb);
          assert.deepEqual(native.shape, ref.shape);
          assert.ok(relError(nativeValues, ref.dataSync()) < TOL, `matmul ${as} ${bs} ${ta} ${tb}`);
        } finally {
          void tf.setBackend('native');
        }
      });
    }
  });
});
