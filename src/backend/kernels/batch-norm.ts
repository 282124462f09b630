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
