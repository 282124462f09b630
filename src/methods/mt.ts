import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Method } from './types.ts';
import type { SegNet } from '../models/index.ts';
import type { TrainConfig } from '../config/schema.ts';
import { supervisedLoss } from '../losses/supervised.ts';
import { softmaxMse } from '../losses/consistency.ts';
import { emaUpdate } from '../train/ema.ts';
import { studentAndTeacher, sliceOutputs } from './shared/nets.ts';
import { sigmoidRampup } from './shared/ramps.ts';

/**
 * Mean Teacher as TorchSemiSeg's `voc8.res50v3+.MeanTeacher` baseline (spec §6): an EMA teacher
 * (parameters only, updated before each student step), MSE between the two softmaxes over the
 * labeled and unlabeled images, weight 100.
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

export interface MtState {
  student: SegNet;
  teacher: SegNet;
  cfg: MtConfig;
  loss: TrainConfig['loss'];
}

export const mt: Method<MtConfig, MtState> = {
  name: 'mt',
  summary: 'Mean Teacher: EMA teacher, softmax-MSE consistency on labeled + unlabeled images',
  configSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 0, boxes: 'none', mixBatch: false, labeledStrong: false }),
  async init(ctx, cfg) {
    return { ...(await studentAndTeacher(ctx)), cfg, loss: ctx.cfg.train.loss };
  },
  nets: (s) => ({ student: s.student, teacher: s.teacher }),
  evalNet: (s) => (s.cfg.eval_net === 'teacher' ? { name: 'teacher', net: s.teacher } : { name: 'student', net: s.student }),
  step(s, batch, ctx) {
    const u = batch.unlabeled;
    if (!u) throw new Error('mt: the trainer gave no unlabeled batch');
    const { x, y } = batch.labeled;
    const nl = x.shape[0];
    // TorchSemiSeg updates the teacher inside the forward, i.e. before this step's student update
    emaUpdate(s.teacher, s.student, s.cfg.ema_decay, { buffers: false });
    const all = tf.concat([x, u.x], 0);
    // the teacher is a branch of the same train-mode module: batch statistics, its own BN buffers
    const target = tf.tidy(() => s.teacher.forward(all, { training: true, rng: ctx.rng }).logits);
    const weight = s.cfg.consistency_weight * sigmoidRampup(ctx.iteration / ctx.itersPerEpoch, s.cfg.rampup_epochs);
    let sup = 0;
    let cons = 0;
    const loss = ctx.minimize(() => {
      const out = s.student.forward(all, { training: true, rng: ctx.rng });
      const lSup = supervisedLoss(sliceOutputs(out, 0, nl), y, s.loss);
      const lCons = softmaxMse(out.logits, target);
      sup = lSup.dataSync()[0]!;
      cons = lCons.dataSync()[0]!;
      return tf.add(lSup, tf.mul(lCons, weight));
    }, [s.student]);
    tf.dispose([all, target]);
    ctx.log('loss', loss);
    ctx.log('loss_sup', sup);
    ctx.log('loss_cons', cons);
  },
  dispose(s) {
    s.student.dispose();
    s.teacher.dispose();
  },
};
