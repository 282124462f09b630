/**
 * Training-mode BatchNorm (batch statistics) over an NHWC tensor as one differentiable op.
 *
 * Written as tf.moments + tf.batchNorm, the tape differentiates through the statistics: tfjs-core's
 * FusedBatchNorm gradient tiles the per-channel factors to full size, the Mean/SquaredDifference
 * gradients add more full-size tensors, and the tape keeps x − mean alive for every BN layer. Per
 * channel reductions over N·H·W also go through a transpose on wasm (its Sum/Mean reduce only the
 * innermost axis). Here both statistics are row-vector × matrix products, and the backward is the
 * closed form
 *   dx = γ·r·(dy − mean(dy) − x̂·mean(dy·x̂)),  dγ = Σ dy·x̂,  dβ = Σ dy,  x̂ = (x − μ)·r,
 * which saves only x and the per-channel statistics.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface BatchNormResult {
  y: tf.Tensor4D;
  /** batch mean and biased variance, [C]; not part of the gradient graph; the caller disposes them */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Σ over rows of [M, C] as a [1, C] product with a row of `scale`s (fast on every backend). */
function colSum(m2d: tf.Tensor2D, scale = 1): tf.Tensor2D {
  return tf.matMul(tf.fill([1, m2d.shape[0]], scale), m2d);
}

/** y = γ·(x − μ)/√(σ² + ε) + β with batch statistics; gradients to x, γ and β. */
export function batchNormTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormResult {
  const [n, h, w, c] = x.shape;
  const count = n * h * w;
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const x2d = tf.reshape(xi, [count, c]) as tf.Tensor2D;
    const mean = tf.reshape(colSum(x2d, 1 / count), [c]) as tf.Tensor1D;
    const variance = tf.reshape(colSum(tf.squaredDifference(x2d, mean), 1 / count), [c]) as tf.Tensor1D;
    const y = tf.batchNorm(xi, mean, variance, b, g, eps);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    save([xi, g, mean, rstd]);
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, gs, mu, r] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const dy2d = tf.reshape(dy, [count, c]) as tf.Tensor2D;
        const xs2d = tf.reshape(xs, [count, c]) as tf.Tensor2D;
        const sumDy = tf.reshape(colSum(dy2d), [c]);
        const sumDyX = tf.reshape(colSum(tf.mul(dy2d, xs2d)), [c]);
        // Σ dy·x̂ = r·(Σ dy·x − μ·Σ dy)
        const dGamma = tf.mul(r, tf.sub(sumDyX, tf.mul(mu, sumDy)));
        // dx = A·dy + B·x + C with per-channel A = γr, B = −γr²·dγ/M, C = −γr·Σdy/M − B·μ
        const a = tf.mul(gs, r);
        const bCoef = tf.div(tf.mul(tf.mul(a, r), dGamma), -count);
        const cCoef = tf.sub(tf.div(tf.mul(a, sumDy), -count), tf.mul(bCoef, mu));
        const dx = tf.add(tf.mul(dy2d, a), tf.add(tf.mul(xs2d, bCoef), cCoef));
        return [tf.reshape(dx, xs.shape), dGamma, sumDy];
      },
    };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  const s = stats as { mean: tf.Tensor1D; variance: tf.Tensor1D } | null;
  if (s == null) throw new Error('batchNormTraining: statistics were not computed');
  return { y, mean: s.mean, variance: s.variance };
}
