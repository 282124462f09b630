import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Method } from './types.ts';
import type { SegNet } from '../models/index.ts';
import type { Rng } from '../util/rng.ts';
import { crossEntropy, upsampleLogits } from '../losses/ce.ts';
import { drawCpsMasks, mixNhwc } from './shared/mix.ts';
import { detach } from '../backend/detach.ts';
import { netLayout, type NetsState } from './shared/nets.ts';

/**
 * Cross Pseudo Supervision (TorchSemiSeg `voc8.res50v3+.CPS+CutMix`, docs/methods.md §5): two
 * differently initialised networks; each one's hard argmax labels supervise the other. With CutMix,
 * the labels come from the two unlabeled batches' logits mixed by the box mask, and the networks
 * predict on the mixed image. No confidence threshold.
 */
const configSchema = z
  .object({
    /** 1 for CPS+CutMix on VOC, 1.5 for plain CPS; the Cityscapes CutMix config uses 5 (paper: 6) */
    cps_weight: z.number().nonnegative().default(1),
    /** false: plain CPS, both branches on the same weak images, loss over labeled + unlabeled */
    cutmix: z.boolean().default(true),
    /** TorchSemiSeg's BoxMaskGenerator: total box area proportion and number of boxes */
    mask_prop: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.25, 0.5]),
    mask_boxes: z.number().int().positive().default(3),
  })
  .strict();
export type CpsConfig = z.infer<typeof configSchema>;

export type CpsState = NetsState<'left' | 'right', CpsConfig>;

/** Full-resolution argmax labels of logits (at any resolution). */
function hardLabels(logits: tf.Tensor4D, h: number, w: number): tf.Tensor3D {
  return tf.tidy(() => tf.cast(tf.argMax(upsampleLogits(logits, h, w), -1), 'int32') as tf.Tensor3D);
}

/** The cross term: CE(pred1, labels of 2) + CE(pred2, labels of 1). Exported for tests. */
export function crossLoss(pred1: tf.Tensor4D, pred2: tf.Tensor4D, labels1: tf.Tensor3D, labels2: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => tf.add(crossEntropy(pred1, labels2), crossEntropy(pred2, labels1)));
}

/**
 * Hard labels of both branches for the mixed image: each branch's logits on u0 and u1, mixed by
 * `m`, then argmax. Computed without gradients; exported for tests.
 */
export function cpsTargets(s: { left: SegNet; right: SegNet }, u0: tf.Tensor4D, u1: tf.Tensor4D, m: tf.Tensor3D, ctx: { rng: Rng }): [tf.Tensor3D, tf.Tensor3D] {
  const [h, w] = [u0.shape[1], u0.shape[2]];
  return tf.tidy(() => {
    // TorchSemiSeg runs these under no_grad in train mode (batch statistics)
    const label = (net: SegNet) => {
      const l0 = upsampleLogits(net.forward(u0, { training: true, rng: ctx.rng }).logits, h, w);
      const l1 = upsampleLogits(net.forward(u1, { training: true, rng: ctx.rng }).logits, h, w);
      return hardLabels(mixNhwc(l0, l1, m), h, w);
    };
    return [label(s.left), label(s.right)];
  });
}

export const cps: Method<CpsConfig, CpsState> = {
  name: 'cps',
  displayName: 'CPS',
  summary: 'Cross Pseudo Supervision: two networks supervise each other with hard labels (+CutMix)',
  configSchema,
  dataNeeds: (c) => ({ unlabeled: true, strongViews: 0, boxes: 'none', mixBatch: c.cutmix, labeledStrong: false }),
  // different random heads; the trainer loads the same pretrained backbone into both
  ...netLayout(['left', 'right'], 'own', () => 'left'),
  step(s, batch, ctx) {
    const { left, right } = s.nets;
    const u = batch.unlabeled!;
    const mixPartner = s.cfg.cutmix ? batch.unlabeledMix! : undefined;
    const { x, y } = batch.labeled;
    const [n, h, w] = [u.x.shape[0], u.x.shape[1], u.x.shape[2]];
    const m = mixPartner ? drawCpsMasks(ctx.rng, n, h, w, s.cfg.mask_prop, s.cfg.mask_boxes) : null;
    const input = mixPartner && m ? mixNhwc(u.x, mixPartner.x, m) : null;
    const [pl1, pl2] = mixPartner && m ? cpsTargets(s.nets, u.x, mixPartner.x, m, ctx) : [null, null];
    ctx.minimize(() => {
      const opts = { training: true, rng: ctx.rng };
      const sup = tf.add(ctx.supervised(left.forward(x, opts), y), ctx.supervised(right.forward(x, opts), y)) as tf.Scalar;
      let cross: tf.Scalar;
      if (input && pl1 && pl2) {
        cross = crossLoss(left.forward(input, opts).logits, right.forward(input, opts).logits, pl1, pl2);
      } else {
        // plain CPS: both branches on labeled + unlabeled weak images, labels from their own (detached) argmax
        const all = tf.concat([x, u.x], 0);
        const p1 = left.forward(all, opts).logits;
        const p2 = right.forward(all, opts).logits;
        cross = crossLoss(p1, p2, hardLabels(detach(p1), h, w), hardLabels(detach(p2), h, w));
      }
      return { sup, cps: { value: cross, weight: s.cfg.cps_weight, unlabeled: true } };
    }, [left, right]);
    for (const t of [m, input, pl1, pl2]) t?.dispose();
  },
};
