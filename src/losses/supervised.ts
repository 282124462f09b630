import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { SegOutputs } from '../models/index.ts';
import { crossEntropy, IGNORE, ohemCrossEntropy } from './ce.ts';

/** `train.loss`: the supervised loss every method shares. */
export const lossSchema = z
  .object({
    type: z.enum(['ce', 'ohem']).default('ce'),
    ohem_thresh: z.number().min(0).max(1).default(0.7),
    ohem_min_kept: z.number().int().nonnegative().default(100000),
    aux_weight: z.number().nonnegative().default(0.4),
    /**
     * per-class weights of the labeled loss: a list (one per class), or `median_frequency` (SegNet's
     * balancing, computed by the trainer from the run's labeled images); unset = unweighted
     */
    class_weights: z.union([z.literal('median_frequency'), z.array(z.number().nonnegative()).min(1)]).optional(),
  })
  .strict();
export type LossConfig = z.infer<typeof lossSchema>;

/**
 * The supervised term every method shares: CE or OHEM on the main head, plus the weighted aux head.
 * `classWeights` are `class_weights` resolved to numbers (the trainer computes median frequencies).
 */
export function supervisedLoss(out: SegOutputs, labels: tf.Tensor3D, cfg: LossConfig, classWeights?: readonly number[]): tf.Scalar {
  return tf.tidy(() => {
    const one = (logits: tf.Tensor4D) =>
      cfg.type === 'ohem'
        ? ohemCrossEntropy(logits, labels, cfg.ohem_thresh, cfg.ohem_min_kept, IGNORE, classWeights)
        : crossEntropy(logits, labels, IGNORE, classWeights);
    let loss = one(out.logits);
    if (out.aux) loss = tf.add(loss, tf.mul(one(out.aux), cfg.aux_weight));
    return loss;
  });
}
