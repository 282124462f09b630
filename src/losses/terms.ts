import * as tf from '@tensorflow/tfjs-core';

/** A loss term: a scalar (weight 1) or a scalar with its weight in the minimised total. */
export type LossTerm = tf.Scalar | { value: tf.Scalar; weight: number };
/** A method's objective for one step, by term name (`sup`, `unsup`, …). */
export type LossTerms = Record<string, LossTerm>;

export function termValue(t: LossTerm): tf.Scalar {
  return t instanceof tf.Tensor ? t : t.value;
}

/** Σ weight·value in the terms' order; a weight of 1 adds the value itself (no extra op). */
export function weightedSum(terms: LossTerms): tf.Scalar {
  let total: tf.Scalar | undefined;
  for (const t of Object.values(terms)) {
    const part = t instanceof tf.Tensor || t.weight === 1 ? termValue(t) : (tf.mul(t.value, t.weight) as tf.Scalar);
    total = total ? (tf.add(total, part) as tf.Scalar) : part;
  }
  if (!total) throw new Error('a step minimised no loss term');
  return total;
}
