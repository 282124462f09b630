/**
 * The fused training kernels on oneDNN's side of the native backend (native/src/batchnorm.cc):
 * batch norm with batch statistics (+ residual + ReLU) forward and backward, α·a + β·b, and the SGD
 * step. Only float32 NHWC/flat tensors come here; the ops in src/backend/kernels decide.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BN_TRAIN, BN_TRAIN_GRAD, type BnTrainAttrs } from '../kernels/batch-norm.ts';
import { AXPBY, SGD_STEP, type SgdStepAttrs } from '../kernels/fused-update.ts';
import type { NativeAddon } from './addon.ts';
import { asHeapBackend, heapBuffer, offsetOf, sizeOf } from './heap.ts';

function input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const t = inputs[name];
  if (t == null) throw new Error(`native ${kernel}: missing input "${name}"`);
  if (t.dtype !== 'float32') throw new Error(`native ${kernel}: input "${name}" must be float32, got ${t.dtype}`);
  return t;
}

export function nativeTrainKernels(addon: NativeAddon): tf.KernelConfig[] {
  const bnTrain: tf.KernelFunc = ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as BnTrainAttrs;
    const x = input(inputs, 'x', BN_TRAIN);
    const c = x.shape[x.shape.length - 1]!;
    const b = asHeapBackend(backend);
    const res = a.residual ? input(inputs, 'residual', BN_TRAIN) : null;
    const y = b.makeOutput([...x.shape], 'float32');
    const mean = b.makeOutput([c], 'float32');
    const variance = b.makeOutput([c], 'float32');
    const fields = Int32Array.from([sizeOf(x.shape) / c, c, a.relu ? 1 : 0, res ? 1 : 0]);
    addon.bnTrain(
      heapBuffer(b), offsetOf(b, x), offsetOf(b, input(inputs, 'gamma', BN_TRAIN)), offsetOf(b, input(inputs, 'beta', BN_TRAIN)),
      res ? offsetOf(b, res) : 0, offsetOf(b, y), offsetOf(b, mean), offsetOf(b, variance), fields, a.eps,
    );
    return [y, mean, variance];
  };
  const bnTrainGrad: tf.KernelFunc = ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as BnTrainAttrs;
    const dy = input(inputs, 'dy', BN_TRAIN_GRAD);
    const c = dy.shape[dy.shape.length - 1]!;
    const b = asHeapBackend(backend);
    const dx = b.makeOutput([...dy.shape], 'float32');
    const dGamma = b.makeOutput([c], 'float32');
    const dBeta = b.makeOutput([c], 'float32');
    const dRes = a.residual ? b.makeOutput([...dy.shape], 'float32') : null;
    const off = (name: string): number => offsetOf(b, input(inputs, name, BN_TRAIN_GRAD));
    const fields = Int32Array.from([sizeOf(dy.shape) / c, c, a.relu ? 1 : 0, dRes ? 1 : 0]);
    addon.bnTrainGrad(
      heapBuffer(b), offsetOf(b, dy), off('x'), a.relu ? off('y') : 0, off('gamma'), off('mean'), off('variance'),
      offsetOf(b, dx), offsetOf(b, dGamma), offsetOf(b, dBeta), dRes ? offsetOf(b, dRes) : 0, fields, a.eps,
    );
    return dRes ? [dx, dGamma, dBeta, dRes] : [dx, dGamma, dBeta];
  };
  const axpby: tf.KernelFunc = ({ inputs, attrs, backend }) => {
    const { alpha, beta } = attrs as unknown as { alpha: number; beta: number };
    const x = input(inputs, 'a', AXPBY);
    const b = asHeapBackend(backend);
    const out = b.makeOutput([...x.shape], 'float32');
    addon.axpby(heapBuffer(b), offsetOf(b, x), alpha, offsetOf(b, input(inputs, 'b', AXPBY)), beta, offsetOf(b, out), sizeOf(x.shape));
    return out;
  };
  const sgdStep: tf.KernelFunc = ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as SgdStepAttrs;
    const p = input(inputs, 'p', SGD_STEP);
    const b = asHeapBackend(backend);
    const pOut = b.makeOutput([...p.shape], 'float32');
    const mOut = b.makeOutput([...p.shape], 'float32');
    addon.sgdStep(
      heapBuffer(b), offsetOf(b, p), offsetOf(b, input(inputs, 'g', SGD_STEP)), offsetOf(b, input(inputs, 'm', SGD_STEP)),
      offsetOf(b, pOut), offsetOf(b, mOut), sizeOf(p.shape), a.lr, a.momentum, a.weightDecay,
    );
    return [pOut, mOut];
  };
  return [
    { kernelName: BN_TRAIN, backendName: 'native', kernelFunc: bnTrain },
    { kernelName: BN_TRAIN_GRAD, backendName: 'native', kernelFunc: bnTrainGrad },
    { kernelName: AXPBY, backendName: 'native', kernelFunc: axpby },
    { kernelName: SGD_STEP, backendName: 'native', kernelFunc: sgdStep },
  ];
}
