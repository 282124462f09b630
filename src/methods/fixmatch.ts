import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Method } from './types.ts';
import type { SegNet } from '../models/index.ts';
import type { TrainConfig } from '../config/schema.ts';
import { supervisedLoss } from '../losses/supervised.ts';
import { pseudoCrossEntropy } from '../losses/consistency.ts';
import { sliceOutputs } from './shared/nets.ts';
import { detach, pseudoLabels } from './shared/pseudo.ts';
import { disposeTarget, mixStrong, mixTarget, stepInputs, validOf } from './shared/fixmatch-core.ts';

/**
 * FixMatch as in UniMatch's `fixmatch.py` (spec §3.3): UniMatch with one strong view and no
 * feature perturbation; total = (L_x + L_s) / 2.
 */
const configSchema = z
  .object({
    conf_thresh: z.number().min(0).max(1).default(0.95),
  })
  .strict();
export type FixMatchConfig = z.infer<typeof configSchema>;

export interface FixMatchState {
  net: SegNet;
  cfg: FixMatchConfig;
  loss: TrainConfig['loss'];
}

export const fixmatch: Method<FixMatchConfig, FixMatchState> = {
  name: 'fixmatch',
  summary: "FixMatch (UniMatch's code): confident weak-view pseudo-labels supervise a CutMixed strong view",
  configSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 1, boxes: 'unimatch', mixBatch: true, labeledStrong: false }),
  async init(ctx, cfg) {
    return { net: await ctx.buildNet(), cfg, loss: ctx.cfg.train.loss };
  },
  nets: (s) => ({ model: s.net }),
  evalNet: (s) => ({ name: 'model', net: s.net }),
  step(s, batch, ctx) {
    const { x, y, u, mix, nl, nu, h, w, partner } = stepInputs('fixmatch', s.net, batch, ctx.rng, 1);
    const strongIn = mixStrong(u, mix, 0);
    const weakIn = tf.concat([x, u.x], 0);
    const valid = validOf(u);
    let lx = 0;
    let ls = 0;
    const loss = ctx.minimize(() => {
      const out = s.net.forward(weakIn, { training: true, rng: ctx.rng });
      const predUW = detach(tf.slice(out.logits, [nl, 0, 0, 0], [nu, -1, -1, -1]));
      const target = mixTarget({ ...pseudoLabels(predUW, h, w), valid }, partner, u.boxes[0]);
      const predS = s.net.forward(strongIn, { training: true, rng: ctx.rng }).logits;
      const lossX = supervisedLoss(sliceOutputs(out, 0, nl), y, s.loss);
      const lossS = pseudoCrossEntropy(predS, target.label, { conf: target.conf, thresh: s.cfg.conf_thresh, valid: target.valid, normalise: 'valid' });
      lx = lossX.dataSync()[0]!;
      ls = lossS.dataSync()[0]!;
      return tf.div(tf.add(lossX, lossS), 2) as tf.Scalar;
    }, [s.net]);
    disposeTarget(partner);
    tf.dispose([strongIn, weakIn, valid]);
    ctx.log('loss', loss);
    ctx.log('loss_x', lx);
    ctx.log('loss_s', ls);
  },
  dispose: (s) => s.net.dispose(),
};
