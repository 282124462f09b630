import * as tf from '@tensorflow/tfjs-core';

/**
 * A loss term: a scalar (weight 1) or a scalar with its weight in the minimised total. `unlabeled`
 * marks a term learnt from unlabeled images (pseudo-labels, consistency): the trainer ramps its
 * weight up after the warm-up (`train.semi`).
 */
export type LossTerm = tf.Scalar | { value: tf.Scalar; weight: number; unlabeled?: boolean };
/** A method's objective for one step, by term name (`sup`, `unsup`, …). */
export type LossTerms = Record<string, LossTerm>;

export function termValue(t: LossTerm): tf.Scalar {
  return t instanceof tf.Tensor ? t : t.value;
}

/** The weight a term enters the total with, `unlabeledScale` applied to unlabeled terms. */
export function termWeight(t: LossTerm, unlabeledScale = 1): number {
  if (t instanceof tf.Tensor) return 1;
  return t.unlabeled ? t.weight * unlabeledScale : t.weight;
}

/** Σ weight·value in the terms' order; a weight of 1 adds the value itself (no extra op). */
export function weightedSum(terms: LossTerms, unlabeledScale = 1): tf.Scalar {
  let total: tf.Scalar | undefined;
  for (const t of Object.values(terms)) {
    const w = termWeight(t, unlabeledScale);
    const part = w === 1 ? termValue(t) : (tf.mul(termValue(t), w) as tf.Scalar);
    total = total ? (tf.add(total, part) as tf.Scalar) : part;
  }
  if (!total) throw new Error('a step minimised no loss term');
  return total;
}
