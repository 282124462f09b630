import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Method } from './types.ts';
import { pseudoCrossEntropy } from '../losses/consistency.ts';
import { netLayout, sliceOutputs, type NetsState } from './shared/nets.ts';
import { detach } from '../backend/detach.ts';
import { pseudoLabels } from './shared/pseudo.ts';
import { disposeTarget, mixStrong, mixTarget, stepInputs, validOf } from './shared/fixmatch-core.ts';

/**
 * FixMatch as in UniMatch's `fixmatch.py` (docs/methods.md §3.3): UniMatch with one strong view and
 * no feature perturbation; total = (L_x + L_s) / 2.
 */
const configSchema = z
  .object({
    conf_thresh: z.number().min(0).max(1).default(0.95),
  })
  .strict();
export type FixMatchConfig = z.infer<typeof configSchema>;

export type FixMatchState = NetsState<'model', FixMatchConfig>;

export const fixmatch: Method<FixMatchConfig, FixMatchState> = {
  name: 'fixmatch',
  displayName: 'FixMatch',
  summary: "FixMatch (UniMatch's code): confident weak-view pseudo-labels supervise a CutMixed strong view",
  configSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 1, boxes: 'unimatch', mixBatch: true, labeledStrong: false }),
  ...netLayout(['model'], 'own', () => 'model'),
  step(s, batch, ctx) {
    const net = s.nets.model;
    const { x, y, u, mix, nl, nu, h, w, partner } = stepInputs(net, batch, ctx.rng);
    const strongIn = mixStrong(u, mix, 0);
    const weakIn = tf.concat([x, u.x], 0);
    const valid = validOf(u);
    ctx.minimize(() => {
      const out = net.forward(weakIn, { training: true, rng: ctx.rng });
      const predUW = detach(tf.slice(out.logits, [nl, 0, 0, 0], [nu, -1, -1, -1]));
      const target = mixTarget({ ...pseudoLabels(predUW, h, w), valid }, partner, u.boxes[0]);
      const predS = net.forward(strongIn, { training: true, rng: ctx.rng }).logits;
      const lossX = ctx.supervised(sliceOutputs(out, 0, nl), y);
      const lossS = pseudoCrossEntropy(predS, target.label, { conf: target.conf, thresh: s.cfg.conf_thresh, valid: target.valid, normalise: 'valid' });
      // total = (L_x + L_s) / 2
      return { x: { value: lossX, weight: 0.5 }, s: { value: lossS, weight: 0.5, unlabeled: true } };
    }, [net]);
    disposeTarget(partner);
    tf.dispose([strongIn, weakIn, valid]);
  },
};
