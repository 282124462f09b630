import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Method } from './types.ts';
import { softmaxMse } from '../losses/consistency.ts';
import { emaUpdate } from '../models/ema.ts';
import { netLayout, sliceOutputs, type NetsState } from './shared/nets.ts';
import { sigmoidRampup } from './shared/ramps.ts';

/**
 * Mean Teacher as TorchSemiSeg's `voc8.res50v3+.MeanTeacher` baseline (docs/methods.md §6): an EMA
 * teacher (parameters only, updated before each student step), MSE between the two softmaxes over
 * the labeled and unlabeled images, weight 100.
 */
const configSchema = z
  .object({
    ema_decay: z.number().min(0).max(1).default(0.99),
    consistency_weight: z.number().nonnegative().default(100),
    /** sigmoid ramp-up length of the consistency weight; 0 = none (none found in TorchSemiSeg's loop) */
    rampup_epochs: z.number().nonnegative().default(0),
    /** TorchSemiSeg's eval forward returns branch1, the student [unverified for MT] */
    eval_net: z.enum(['student', 'teacher']).default('student'),
  })
  .strict();
export type MtConfig = z.infer<typeof configSchema>;

export type MtState = NetsState<'student' | 'teacher', MtConfig>;

export const mt: Method<MtConfig, MtState> = {
  name: 'mt',
  displayName: 'Mean Teacher',
  summary: 'Mean Teacher: EMA teacher, softmax-MSE consistency on labeled + unlabeled images',
  configSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 0, boxes: 'none', mixBatch: false, labeledStrong: false }),
  ...netLayout(['student', 'teacher'], 'copy', (c) => c.eval_net),
  step(s, batch, ctx) {
    const { student, teacher } = s.nets;
    const { x, y } = batch.labeled;
    const nl = x.shape[0];
    // TorchSemiSeg updates the teacher inside the forward, i.e. before this step's student update
    emaUpdate(teacher, student, s.cfg.ema_decay, { buffers: false });
    const all = tf.concat([x, batch.unlabeled!.x], 0);
    // the teacher is a branch of the same train-mode module: batch statistics, its own BN buffers
    const target = tf.tidy(() => teacher.forward(all, { training: true, rng: ctx.rng }).logits);
    const weight = s.cfg.consistency_weight * sigmoidRampup(ctx.iteration / ctx.itersPerEpoch, s.cfg.rampup_epochs);
    ctx.minimize(() => {
      const out = student.forward(all, { training: true, rng: ctx.rng });
      return { sup: ctx.supervised(sliceOutputs(out, 0, nl), y), cons: { value: softmaxMse(out.logits, target), weight, unlabeled: true } };
    }, [student]);
    tf.dispose([all, target]);
  },
};
