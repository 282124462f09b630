/**
 * Training-mode BatchNorm (batch statistics) over an NHWC tensor as one differentiable op.
 *
 * Written as tf.moments + tf.batchNorm, the tape differentiates through the statistics: tfjs-core's
 * FusedBatchNorm gradient tiles the per-channel factors to full size, the Mean/SquaredDifference
 * gradients add more full-size tensors, and the tape keeps x − mean alive for every BN layer. Per
 * channel reductions over N·H·W also go through a transpose on wasm (its Sum/Mean reduce only the
 * innermost axis). Here the statistics and the backward are single passes (channel-stats.ts), the
 * backward in the closed form
 *   dx = γ·r·(dy − mean(dy) − x̂·mean(dy·x̂)),  dγ = Σ dy·x̂,  dβ = Σ dy,  x̂ = (x − μ)·r,
 * which saves only x and the per-channel statistics.
 *
 * Backends that register BN_TRAIN (native) run forward and backward as one kernel each, with an
 * optional residual add and ReLU folded in (batchNormAct): the ReLU's mask is read from the saved
 * output, so conv → BN → ReLU costs two passes over the activation each way and nothing in JS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { channelAffine2, channelDySums, channelMoments } from './channel-stats.ts';

export interface BatchNormResult {
  y: tf.Tensor4D;
  /** batch mean and biased variance, [C]; not part of the gradient graph; the caller disposes them */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** y = γ·(x − μ)/√(σ² + ε) + β with batch statistics; gradients to x, γ and β. */
export function batchNormTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormResult {
  const [n, h, w] = x.shape;
  const count = n * h * w;
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [mean, variance] = channelMoments(xi);
    const y = tf.batchNorm(xi, mean, variance, b, g, eps);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    save([xi, g, mean, rstd]);
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, gs, mu, r] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const [sumDy, sumDyX] = channelDySums(dy, xs);
        // Σ dy·x̂ = r·(Σ dy·x − μ·Σ dy)
        const dGamma = tf.mul(r, tf.sub(sumDyX, tf.mul(mu, sumDy))) as tf.Tensor1D;
        // dx = A·dy + B·x + C with per-channel A = γr, B = −γr²·dγ/M, C = −γr·Σdy/M − B·μ
        const a = tf.mul(gs, r) as tf.Tensor1D;
        const bCoef = tf.div(tf.mul(tf.mul(a, r), dGamma), -count) as tf.Tensor1D;
        const cCoef = tf.sub(tf.div(tf.mul(a, sumDy), -count), tf.mul(bCoef, mu)) as tf.Tensor1D;
        return [channelAffine2(dy, xs, a, bCoef, cCoef), dGamma, sumDy];
      },
    };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  const s = stats as { mean: tf.Tensor1D; variance: tf.Tensor1D } | null;
  if (s == null) throw new Error('batchNormTraining: statistics were not computed');
  return { y, mean: s.mean, variance: s.variance };
}

/** Fused training-mode BN kernel: inputs x, gamma, beta[, residual]; attrs eps, relu, residual; outputs y, mean, variance. */
export const BN_TRAIN = 'SsssegBatchNormTrain';
/** Its gradient: inputs dy, x, gamma, mean, variance[, y]; attrs eps, relu, residual; outputs dx, dgamma, dbeta[, dresidual]. */
export const BN_TRAIN_GRAD = 'SsssegBatchNormTrainGrad';

export interface BnTrainAttrs {
  eps: number;
  relu: boolean;
  /** whether the residual input is given (then the gradient kernel also writes its gradient) */
  residual: boolean;
}

/** Whether the active backend runs batchNormAct as one fused kernel. */
export function hasFusedBatchNorm(): boolean {
  return tf.getKernel(BN_TRAIN, tf.getBackend()) != null;
}

/**
 * act(γ·x̂ + β [+ residual]) with batch statistics as one kernel (needs hasFusedBatchNorm());
 * mean and variance as in batchNormTraining.
 */
export function batchNormAct(
  x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, act: { relu: boolean; residual?: tf.Tensor4D },
): BatchNormResult {
  const inputs: tf.NamedTensorMap = act.residual ? { x, gamma, beta, residual: act.residual } : { x, gamma, beta };
  const attrs: BnTrainAttrs = { eps, relu: act.relu, residual: act.residual != null };
  const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, inputs, attrs as unknown as tf.NamedAttrMap) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
  return { y, mean, variance };
}

/** Gradient of BN_TRAIN: one BN_TRAIN_GRAD kernel gives every input's gradient. */
export const bnTrainGradConfig: tf.GradConfig = {
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [true, true, true],
  saveAllInputs: false,
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor4D;
    const [x, gamma, y, mean, variance] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const a = attrs as unknown as BnTrainAttrs;
    const inputs: tf.NamedTensorMap = a.relu ? { dy, x, gamma, mean, variance, y } : { dy, x, gamma, mean, variance };
    const [dx, dGamma, dBeta, dRes] = tf.engine().runKernel(BN_TRAIN_GRAD, inputs, attrs) as tf.Tensor[];
    const grads: Record<string, () => tf.Tensor> = { x: () => dx!, gamma: () => dGamma!, beta: () => dBeta! };
    if (dRes) grads['residual'] = () => dRes;
    return grads;
  },
};
