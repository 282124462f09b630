import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { LossTerms, Method } from './types.ts';
import { pseudoCrossEntropy } from '../losses/consistency.ts';
import { netLayout, sliceOutputs, type NetsState } from './shared/nets.ts';
import { detach } from '../backend/detach.ts';
import { pseudoLabels } from './shared/pseudo.ts';
import { disposeTarget, mixStrong, mixTarget, stepInputs, validOf, type MixTarget } from './shared/fixmatch-core.ts';

/**
 * UniMatch (`unimatch.py`, docs/methods.md §3): one network, no teacher. Two strong views of each
 * unlabeled image, each CutMixed with a second unlabeled batch, learn from the weak view's
 * confident pseudo-labels; a feature-perturbed (Dropout2d) decode of the weak view learns from them
 * too.
 */
const configSchema = z
  .object({
    /** 0.95 on VOC/COCO, 0 on Cityscapes */
    conf_thresh: z.number().min(0).max(1).default(0.95),
    /** Dropout2d rate on the backbone features for the FP stream */
    feature_dropout: z.number().min(0).lt(1).default(0.5),
    /** total = (x·L_x + s1·L_s1 + s2·L_s2 + fp·L_fp) / 2 */
    loss_weights: z
      .object({ x: z.number().nonnegative().default(1), s1: z.number().nonnegative().default(0.25), s2: z.number().nonnegative().default(0.25), fp: z.number().nonnegative().default(0.5) })
      .strict()
      .prefault({}),
  })
  .strict();
export type UniMatchConfig = z.infer<typeof configSchema>;

export type UniMatchState = NetsState<'model', UniMatchConfig>;

export interface UniMatchLosses {
  x: tf.Scalar;
  s1: tf.Scalar;
  s2: tf.Scalar;
  fp: tf.Scalar;
}

/** UniMatch's weighting of the four terms, total = Σ w·L / 2; exported for tests. */
export function unimatchTerms(l: UniMatchLosses, w: UniMatchConfig['loss_weights']): LossTerms {
  const unlabeled = (value: tf.Scalar, weight: number) => ({ value, weight: weight / 2, unlabeled: true });
  return { x: { value: l.x, weight: w.x / 2 }, s1: unlabeled(l.s1, w.s1), s2: unlabeled(l.s2, w.s2), fp: unlabeled(l.fp, w.fp) };
}

export const unimatch: Method<UniMatchConfig, UniMatchState> = {
  name: 'unimatch',
  displayName: 'UniMatch',
  summary: 'UniMatch: weak-to-strong consistency with two CutMixed strong views and feature perturbation',
  configSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 2, boxes: 'unimatch', mixBatch: true, labeledStrong: false }),
  ...netLayout(['model'], 'own', () => 'model'),
  step(s, batch, ctx) {
    const net = s.nets.model;
    const { x, y, u, mix, nl, nu, h, w, partner } = stepInputs(net, batch, ctx.rng);
    const s1 = mixStrong(u, mix, 0);
    const s2 = mixStrong(u, mix, 1);
    const weakIn = tf.concat([x, u.x], 0);
    const strongIn = tf.concat([s1, s2], 0);
    const valid = validOf(u);
    const thresh = s.cfg.conf_thresh;
    let maskRatio = 0;
    ctx.minimize(() => {
      const out = net.forward(weakIn, { training: true, rng: ctx.rng, featureDropout: s.cfg.feature_dropout });
      if (!out.logitsFp) throw new Error('unimatch: the network returned no logitsFp for featureDropout');
      const predUW = detach(tf.slice(out.logits, [nl, 0, 0, 0], [nu, -1, -1, -1]));
      const predFp = tf.slice(out.logitsFp, [nl, 0, 0, 0], [nu, -1, -1, -1]);
      const strong = net.forward(strongIn, { training: true, rng: ctx.rng }).logits;
      const own: MixTarget = { ...pseudoLabels(predUW, h, w), valid };
      const t1 = mixTarget(own, partner, u.boxes[0]);
      const t2 = mixTarget(own, partner, u.boxes[1]);
      const ce = (pred: tf.Tensor4D, t: MixTarget) => pseudoCrossEntropy(pred, t.label, { conf: t.conf, thresh, valid: t.valid, normalise: 'valid' });
      const terms: UniMatchLosses = {
        x: ctx.supervised(sliceOutputs(out, 0, nl), y),
        s1: ce(tf.slice(strong, [0, 0, 0, 0], [nu, -1, -1, -1]), t1),
        s2: ce(tf.slice(strong, [nu, 0, 0, 0], [nu, -1, -1, -1]), t2),
        fp: ce(predFp, own),
      };
      maskRatio = tf.mean(tf.mul(tf.cast(tf.greaterEqual(own.conf, thresh), 'float32'), valid)).dataSync()[0]!;
      return unimatchTerms(terms, s.cfg.loss_weights);
    }, [net]);
    disposeTarget(partner);
    tf.dispose([s1, s2, weakIn, strongIn, valid]);
    ctx.log('mask_ratio', maskRatio);
  },
};
