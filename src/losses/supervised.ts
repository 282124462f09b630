import * as tf from '@tensorflow/tfjs-core';
import type { SegOutputs } from '../models/index.ts';
import type { TrainConfig } from '../config/schema.ts';
import { crossEntropy, ohemCrossEntropy } from './ce.ts';

/** The supervised term every method shares: CE or OHEM on the main head, plus the weighted aux head. */
export function supervisedLoss(out: SegOutputs, labels: tf.Tensor3D, cfg: TrainConfig['loss']): tf.Scalar {
  return tf.tidy(() => {
    const one = (logits: tf.Tensor4D) =>
      cfg.type === 'ohem' ? ohemCrossEntropy(logits, labels, cfg.ohem_thresh, cfg.ohem_min_kept) : crossEntropy(logits, labels);
    let loss = one(out.logits);
    if (out.aux) loss = tf.add(loss, tf.mul(one(out.aux), cfg.aux_weight));
    return loss;
  });
}
