import * as tf from '@tensorflow/tfjs-core';
import { SsssegError } from '../../errors.ts';
import { batchNormAct, batchNormTraining, hasFusedBatchNorm } from '../../backend/kernels/batch-norm.ts';
import { axpby } from '../../backend/kernels/fused-update.ts';
import type { Precision } from '../../backend/precision.ts';
import { conv2dPruned } from '../../backend/kernels/tap-pruning.ts';
import { adaptiveBin, poolOutSize, type BnAct, type Exec } from './exec.ts';
import { BN_EPS, BN_MOMENTUM, type BatchNorm2d, type Conv2d } from './layers.ts';
import { variableOf } from './params.ts';

export interface TensorExecOpts {
  /** BN batch statistics + running-stat update, dropout active */
  training: boolean;
  /** a fresh tfjs seed for each dropout call */
  nextSeed: () => number;
  /** convolutions and matrix products: fp32, or bf16 operands with fp32 accumulation */
  precision?: Precision;
}

type T4 = tf.Tensor4D;

/** Runs the network on NHWC float32 tensors with PyTorch semantics. */
export class TensorExec implements Exec<T4> {
  constructor(private readonly opts: TensorExecOpts) {}

  conv(c: Conv2d, x: T4): T4 {
    const w = variableOf(c.weight) as tf.Tensor4D;
    // explicit symmetric padding (TF 'same' pads more at the bottom/right for stride 2); taps that
    // read only padding (ASPP rates beyond the map size) are dropped
    const y = conv2dPruned(x, w, c.stride, c.pad, c.dilation, this.opts.precision);
    return c.bias ? tf.add(y, variableOf(c.bias)) : y;
  }

  bn(b: BatchNorm2d, x: T4, act?: BnAct<T4>): T4 {
    const gamma = variableOf(b.gamma) as tf.Tensor1D;
    const beta = variableOf(b.beta) as tf.Tensor1D;
    const rm = variableOf(b.runningMean);
    const rv = variableOf(b.runningVar);
    if (!this.opts.training || b.frozen) {
      return this.activate(tf.batchNorm(x, rm as tf.Tensor1D, rv as tf.Tensor1D, beta, gamma, BN_EPS), act);
    }
    const [n, h, w] = x.shape;
    const count = n * h * w;
    if (count < 2) {
      // PyTorch refuses too: the unbiased running variance needs two values per channel
      throw new SsssegError(
        'model.bnBatchTooSmall',
        `BatchNorm ${b.name} in training mode got 1 value per channel (input ${x.shape.join('×')})`,
        'use a batch size of at least 2, or frozen_bn: true',
      );
    }
    // one op with a closed-form gradient that saves only x (see batch-norm.ts), with the residual
    // add and ReLU folded in where the backend has the fused kernel
    const fused = hasFusedBatchNorm();
    const { y, mean, variance } = fused
      ? batchNormAct(x, gamma, beta, BN_EPS, { relu: act?.relu ?? false, residual: act?.residual })
      : batchNormTraining(x, gamma, beta, BN_EPS);
    tf.tidy(() => {
      // running stats (PyTorch momentum 0.1, unbiased variance); these ops lead to no output, so
      // a surrounding gradient tape prunes them
      rm.assign(axpby(rm, 1 - BN_MOMENTUM, mean, BN_MOMENTUM));
      rv.assign(axpby(rv, 1 - BN_MOMENTUM, variance, (BN_MOMENTUM * count) / (count - 1)));
    });
    tf.dispose([mean, variance]);
    return fused ? y : this.activate(y, act);
  }

  /** The unfused tail of bn(): residual add, then ReLU. */
  private activate(y: T4, act: BnAct<T4> | undefined): T4 {
    const sum = act?.residual ? this.add(y, act.residual) : y;
    return act?.relu ? tf.relu(sum) : sum;
  }

  relu(x: T4): T4 {
    return tf.relu(x);
  }

  add(a: T4, b: T4): T4 {
    return tf.util.arraysEqual(a.shape, b.shape) ? addSameShape(a, b) : tf.add(a, b);
  }

  concat(xs: T4[]): T4 {
    return xs.length === 1 ? xs[0]! : tf.concat(xs, 3);
  }

  maxPool(x: T4, k: number, stride: number, pad: number, ceil: boolean): T4 {
    const [, h, w] = x.shape;
    const oh = poolOutSize(h, k, stride, pad, ceil);
    const ow = poolOutSize(w, k, stride, pad, ceil);
    const extraH = Math.max(0, (oh - 1) * stride + k - (h + 2 * pad));
    const extraW = Math.max(0, (ow - 1) * stride + k - (w + 2 * pad));
    const padded =
      pad === 0 && extraH === 0 && extraW === 0
        ? x
        : tf.pad(x, [[0, 0], [pad, pad + extraH], [pad, pad + extraW], [0, 0]], -Infinity);
    return tf.maxPool(padded, k, stride, 'valid');
  }

  adaptiveAvgPool(x: T4, bins: number): T4 {
    if (bins === 1) return tf.mean(x, [1, 2], true);
    const [n, h, w, c] = x.shape;
    // separable: average rows with a [bins, H] matrix, then columns with a [bins, W] matrix
    const rows = this.matMul(poolMatrix(h, bins), tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, n * w * c]) as tf.Tensor2D);
    const byCol = tf.reshape(tf.transpose(tf.reshape(rows, [bins, n, w, c]), [2, 1, 0, 3]), [w, n * bins * c]);
    const cols = this.matMul(poolMatrix(w, bins), byCol as tf.Tensor2D);
    return tf.transpose(tf.reshape(cols, [bins, n, bins, c]), [1, 2, 0, 3]);
  }

  /** a·b in the net's precision (its gradient, tfjs-core's, runs in fp32) */
  private matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
    const precision = this.opts.precision ?? 'fp32';
    if (precision === 'fp32') return tf.matMul(a, b);
    const attrs = { transposeA: false, transposeB: false, precision };
    return tf.engine().runKernel(tf.BatchMatMul, { a, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }

  resize(x: T4, h: number, w: number): T4 {
    const [, ih, iw] = x.shape;
    if (ih === h && iw === w) return x;
    // align_corners from a single pixel is a broadcast; tile is cheaper and has a simple gradient
    if (ih === 1 && iw === 1) return tf.tile(x, [1, h, w, 1]);
    return tf.image.resizeBilinear(x, [h, w], true);
  }

  dropout(x: T4, rate: number, channelwise: boolean): T4 {
    if (!this.opts.training || rate === 0) return x;
    const [n, , , c] = x.shape;
    return tf.dropout(x, rate, channelwise ? [n, 1, 1, c] : undefined, this.opts.nextSeed()) as T4;
  }

  dims(x: T4): [number, number, number, number] {
    return x.shape;
  }

  scope<R>(fn: () => R): R {
    return tf.tidy(fn as () => tf.TensorContainer) as R;
  }
}

/**
 * a + b for equal shapes with a gradient that saves nothing: tfjs-core's Add gradient keeps both
 * inputs alive only to read their shapes for broadcasting (one extra activation per residual block).
 */
const addSameShape = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b] = args as [tf.Tensor, tf.Tensor];
  return { value: tf.add(a, b), gradFunc: (dy: tf.Tensor) => [dy, tf.clone(dy)] };
}) as (a: T4, b: T4) => T4;

function poolMatrix(size: number, bins: number): tf.Tensor2D {
  const m = new Float32Array(bins * size);
  for (let i = 0; i < bins; i++) {
    const [s, e] = adaptiveBin(i, size, bins);
    for (let j = s; j < e; j++) m[i * size + j] = 1 / (e - s);
  }
  return tf.tensor2d(m, [bins, size]);
}
