import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Method } from './types.ts';
import type { SegNet } from '../models/index.ts';
import type { TrainConfig } from '../config/schema.ts';
import { supervisedLoss } from '../losses/supervised.ts';
import { upsampleLogits } from '../losses/ce.ts';
import { pseudoCrossEntropy } from '../losses/consistency.ts';
import { emaUpdate } from '../train/ema.ts';
import { studentAndTeacher } from './shared/nets.ts';
import { drawCpsMasks, mixNhwc } from './shared/mix.ts';
import { disposePseudo, type PseudoLabels } from './shared/pseudo.ts';
import type { Rng } from '../util/rng.ts';

/**
 * CutMix-Seg (French et al., BMVC'20), approximated as spec §6 directs since no repo was read:
 * TorchSemiSeg's box-mask generator + a Mean Teacher + confidence-masked CE on the teacher's
 * argmax. The teacher predicts on two unlabeled batches, its probabilities are mixed with the box
 * mask, and the student predicts on the mixed image. Defaults marked [unverified] follow the
 * authors' public cutmix-semisup-seg options as remembered, not as read.
 */
const configSchema = z
  .object({
    ema_decay: z.number().min(0).max(1).default(0.99),
    /** [unverified] confidence threshold on the teacher's mixed prediction */
    conf_thresh: z.number().min(0).max(1).default(0.97),
    /** [unverified] weight of the consistency term */
    unsup_weight: z.number().nonnegative().default(1),
    /** [unverified] box area proportion range and box count (BoxMaskGenerator: 0.5, one box, random aspect) */
    mask_prop: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.5, 0.5]),
    mask_boxes: z.number().int().positive().default(1),
    /** [unverified] mean over all pixels ('valid', FixMatch-style) or over the confident ones ('kept') */
    normalise: z.enum(['valid', 'kept']).default('valid'),
    /** [unverified] which network is evaluated */
    eval_net: z.enum(['student', 'teacher']).default('teacher'),
  })
  .strict();
export type CutMixConfig = z.infer<typeof configSchema>;

export interface CutMixState {
  student: SegNet;
  teacher: SegNet;
  cfg: CutMixConfig;
  loss: TrainConfig['loss'];
}

/**
 * The teacher's eval-mode probabilities on u0 and u1, mixed by `m` (probabilities, so the
 * confidence of the pasted region is the teacher's on the image it came from), as hard labels.
 */
export function cutmixTarget(teacher: SegNet, u0: tf.Tensor4D, u1: tf.Tensor4D, m: tf.Tensor3D, rng: Rng): PseudoLabels {
  const [h, w] = [u0.shape[1], u0.shape[2]];
  return tf.tidy(() => {
    const prob = (b: tf.Tensor4D) => tf.softmax(upsampleLogits(teacher.forward(b, { training: false, rng }).logits, h, w)) as tf.Tensor4D;
    const mixed = mixNhwc(prob(u0), prob(u1), m);
    return { conf: tf.max(mixed, -1) as tf.Tensor3D, label: tf.cast(tf.argMax(mixed, -1), 'int32') as tf.Tensor3D };
  });
}

export const cutmix: Method<CutMixConfig, CutMixState> = {
  name: 'cutmix',
  summary: 'CutMix-Seg (approximate): mean teacher, box-mixed unlabeled pairs, confidence-masked CE',
  configSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 0, boxes: 'none', mixBatch: true, labeledStrong: false }),
  async init(ctx, cfg) {
    return { ...(await studentAndTeacher(ctx)), cfg, loss: ctx.cfg.train.loss };
  },
  nets: (s) => ({ student: s.student, teacher: s.teacher }),
  evalNet: (s) => (s.cfg.eval_net === 'teacher' ? { name: 'teacher', net: s.teacher } : { name: 'student', net: s.student }),
  step(s, batch, ctx) {
    const u0 = batch.unlabeled;
    const u1 = batch.unlabeledMix;
    if (!u0 || !u1) throw new Error('cutmix: needs two unlabeled batches');
    const { x, y } = batch.labeled;
    const [n, h, w] = [u0.x.shape[0], u0.x.shape[1], u0.x.shape[2]];
    const m = drawCpsMasks(ctx.rng, n, h, w, s.cfg.mask_prop, s.cfg.mask_boxes);
    const mixed = mixNhwc(u0.x, u1.x, m);
    const target = cutmixTarget(s.teacher, u0.x, u1.x, m, ctx.rng);
    let sup = 0;
    let cons = 0;
    const loss = ctx.minimize(() => {
      const opts = { training: true, rng: ctx.rng };
      const lSup = supervisedLoss(s.student.forward(x, opts), y, s.loss);
      const lCons = pseudoCrossEntropy(s.student.forward(mixed, opts).logits, target.label, { conf: target.conf, thresh: s.cfg.conf_thresh, normalise: s.cfg.normalise });
      sup = lSup.dataSync()[0]!;
      cons = lCons.dataSync()[0]!;
      return tf.add(lSup, tf.mul(lCons, s.cfg.unsup_weight));
    }, [s.student]);
    emaUpdate(s.teacher, s.student, s.cfg.ema_decay, { buffers: true });
    disposePseudo(target);
    tf.dispose([m, mixed]);
    ctx.log('loss', loss);
    ctx.log('loss_sup', sup);
    ctx.log('loss_cons', cons);
  },
  dispose(s) {
    s.student.dispose();
    s.teacher.dispose();
  },
};
