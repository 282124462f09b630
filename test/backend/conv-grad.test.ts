import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { installKernels } from '../../src/backend/kernels/index.ts';
import { conv2dFilterGrad, conv2dInputGrad } from '../../src/backend/kernels/conv-backprop.ts';
import { referenceForward, referenceGrads, relError, size, values, type Pad, type Shape4 } from './conv-reference.ts';

const TOL = 1e-3;
const PADS: Pad[] = ['same', 'valid', [[0, 0], [1, 2], [2, 0], [0, 0]]];

interface Case {
  xShape: Shape4;
  wShape: Shape4;
  stride: number;
  pad: Pad;
  dilation: number;
}

/** Gradients of sum(conv2d(x, w) * dy) through tf.grads on the active backend, vs the loop reference. */
function checkCase(c: Case): void {
  const x = values(size(c.xShape), 11 + c.xShape[0]);
  const w = values(size(c.wShape), 5);
  const xt = tf.tensor4d(x, c.xShape);
  const wt = tf.tensor4d(w, c.wShape);
  const f = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D => tf.conv2d(a, b, c.stride, c.pad, 'NHWC', c.dilation);
  const yShape = tf.tidy(() => f(xt, wt).shape);
  const dy = values(size(yShape), 7);
  const dyt = tf.tensor4d(dy, yShape);
  const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), dyt));
  const y = f(xt, wt);
  const refY = referenceForward(x, c.xShape, w, c.wShape, [c.stride, c.stride], c.pad, [c.dilation, c.dilation]);
  const yErr = relError(y.dataSync(), refY);
  y.dispose();
  const [gx, gw] = tf.grads(loss)([xt, wt]);
  const ref = referenceGrads(x, c.xShape, w, c.wShape, dy, [c.stride, c.stride], c.pad, [c.dilation, c.dilation]);
  const label = `${tf.getBackend()} x${c.xShape} w${c.wShape} s${c.stride} pad ${JSON.stringify(c.pad)} d${c.dilation}`;
  try {
    assert.ok(yErr < TOL, `forward ${label}`);
    assert.ok(relError(gx!.dataSync(), ref.dx) < TOL, `input grad ${label}`);
    assert.ok(relError(gw!.dataSync(), ref.dw) < TOL, `filter grad ${label}`);
  } finally {
    tf.dispose([xt, wt, dyt, gx!, gw!]);
  }
}

function matrix(): Case[] {
  const cases: Case[] = [];
  for (const stride of [1, 2])
    for (const pad of PADS)
      for (const dilation of [1, 2, 4])
        for (const n of [1, 3]) {
          // tf.conv2d itself refuses stride > 1 together with dilation > 1
          if (stride > 1 && dilation > 1) continue;
          cases.push({ xShape: [n, 11, 9, 3], wShape: [3, 3, 3, 4], stride, pad, dilation });
        }
  return cases;
}

describe('conv2d gradients on wasm', () => {
  before(async () => {
    await useTestBackend('wasm');
    await installKernels('wasm');
  });

  test('registers the missing wasm kernels', () => {
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
    assert.ok(tf.getKernel('Conv2DBackpropInput', 'wasm'));
  });

  test('match the direct reference over strides, pads, dilations and batch sizes', () => {
    const before = tf.memory().numTensors;
    for (const c of matrix()) checkCase(c);
    assert.equal(tf.memory().numTensors, before, 'gradient kernels leak no tensors');
  });

  test('handle 1x1, even and non-square kernels and odd spatial sizes', () => {
    checkCase({ xShape: [3, 7, 5, 4], wShape: [1, 1, 4, 6], stride: 2, pad: 'valid', dilation: 1 });
    checkCase({ xShape: [1, 7, 9, 2], wShape: [2, 3, 2, 3], stride: 2, pad: 'same', dilation: 1 });
    checkCase({ xShape: [3, 9, 7, 2], wShape: [2, 3, 2, 3], stride: 1, pad: [[0, 0], [0, 3], [1, 1], [0, 0]], dilation: 2 });
    checkCase({ xShape: [1, 13, 13, 2], wShape: [3, 3, 2, 2], stride: 1, pad: [[0, 0], [4, 4], [4, 4], [0, 0]], dilation: 4 });
  });

  test('composed gradients also cover stride and dilation together, both filter methods', () => {
    const xShape: Shape4 = [3, 13, 11, 3];
    const wShape: Shape4 = [3, 2, 3, 4];
    const x = values(size(xShape), 3);
    const w = values(size(wShape), 4);
    for (const [s, d] of [[2, 2], [3, 2], [2, 1], [1, 3]] as const) {
      for (const pad of PADS) {
        const g = { strides: s, pad, dilations: d };
        const info = tf.backend_util.computeConv2DInfo(xShape, wShape, s, d, pad, undefined, false, 'channelsLast');
        const dy = values(size(info.outShape), 9);
        const ref = referenceGrads(x, xShape, w, wShape, dy, [s, s], pad, [d, d]);
        tf.tidy(() => {
          const dyt = tf.tensor4d(dy, info.outShape as Shape4);
          const dx = conv2dInputGrad(dyt, tf.tensor4d(w, wShape), xShape, g);
          assert.ok(relError(dx.dataSync(), ref.dx) < TOL, `dx s${s} d${d} ${JSON.stringify(pad)}`);
          const methods = s > 1 && d > 1 ? (['im2col'] as const) : (['im2col', 'conv'] as const);
          for (const m of methods) {
            const dw = conv2dFilterGrad(tf.tensor4d(x, xShape), dyt, wShape, g, m);
            assert.ok(relError(dw.dataSync(), ref.dw) < TOL, `dw ${m} s${s} d${d} ${JSON.stringify(pad)}`);
          }
        });
      }
    }
  });
});

describe('conv2d gradients on cpu', () => {
  before(async () => {
    await useTestBackend('cpu');
    await installKernels('cpu');
  });

  test('dilated (atrous) gradients work and match the reference', () => {
    for (const dilation of [2, 4])
      for (const pad of PADS) checkCase({ xShape: [3, 11, 9, 2], wShape: [3, 3, 2, 3], stride: 1, pad, dilation });
  });

  test('undilated gradients still match (tfjs cpu kernels)', () => {
    for (const stride of [1, 2])
      for (const pad of PADS) checkCase({ xShape: [1, 9, 7, 2], wShape: [3, 3, 2, 3], stride, pad, dilation: 1 });
  });
});
