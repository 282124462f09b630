import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Method } from './types.ts';
import type { SegNet } from '../models/index.ts';
import { upsampleLogits } from '../losses/ce.ts';
import { pseudoCrossEntropy } from '../losses/consistency.ts';
import { emaUpdate } from '../models/ema.ts';
import { netLayout, type NetsState } from './shared/nets.ts';
import { drawCpsMasks, mixNhwc } from './shared/mix.ts';
import { disposePseudo, type PseudoLabels } from './shared/pseudo.ts';
import type { Rng } from '../util/rng.ts';

/**
 * CutMix-Seg (French et al., BMVC'20), approximated (docs/methods.md §6) since no repo was read:
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

export type CutMixState = NetsState<'student' | 'teacher', CutMixConfig>;

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
  displayName: 'CutMix-Seg',
  summary: 'CutMix-Seg (approximate): mean teacher, box-mixed unlabeled pairs, confidence-masked CE',
  configSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 0, boxes: 'none', mixBatch: true, labeledStrong: false }),
  ...netLayout(['student', 'teacher'], 'copy', (c) => c.eval_net),
  step(s, batch, ctx) {
    const { student, teacher } = s.nets;
    const [u0, u1] = [batch.unlabeled!, batch.unlabeledMix!];
    const { x, y } = batch.labeled;
    const [n, h, w] = [u0.x.shape[0], u0.x.shape[1], u0.x.shape[2]];
    const m = drawCpsMasks(ctx.rng, n, h, w, s.cfg.mask_prop, s.cfg.mask_boxes);
    const mixed = mixNhwc(u0.x, u1.x, m);
    const target = cutmixTarget(teacher, u0.x, u1.x, m, ctx.rng);
    ctx.minimize(() => {
      const opts = { training: true, rng: ctx.rng };
      const sup = ctx.supervised(student.forward(x, opts), y);
      const cons = pseudoCrossEntropy(student.forward(mixed, opts).logits, target.label, { conf: target.conf, thresh: s.cfg.conf_thresh, normalise: s.cfg.normalise });
      return { sup, cons: { value: cons, weight: s.cfg.unsup_weight, unlabeled: true } };
    }, [student]);
    emaUpdate(teacher, student, s.cfg.ema_decay, { buffers: true });
    disposePseudo(target);
    tf.dispose([m, mixed]);
  },
};
