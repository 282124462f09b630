import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Method } from './types.ts';
import type { SegNet } from '../models/index.ts';
import type { Rng } from '../util/rng.ts';
import { upsampleLogits } from '../losses/ce.ts';
import { pseudoCrossEntropy } from '../losses/consistency.ts';
import { emaUpdate } from '../models/ema.ts';
import { AveragedNet } from '../models/averaged.ts';
import { buildNets } from './shared/nets.ts';
import { drawPsmtMasks, gatherBatch, mixNhwc } from './shared/mix.ts';
import { pseudoLabels } from './shared/pseudo.ts';
import { cosineRampup } from './shared/ramps.ts';

/**
 * PS-MT (docs/methods.md §4): two EMA teachers and one student. After a supervised warm-up of all
 * three, the teacher of the epoch (odd epochs teacher 1, even teacher 2) takes the student's EMA,
 * BN buffers included; the other teacher only assists: its logits keep their top-k classes and take
 * the current teacher's elsewhere. The γ-ensemble of both, CutMixed with the strong unlabeled
 * views, supervises the student through confidence-weighted CE. Evaluation averages both teachers.
 * T-VAT (adversarial noise on the student's decoder features) is not implemented: SegNet has no
 * hook to perturb encoder features.
 */
const configSchema = z
  .object({
    /** supervised-only epochs (`--warm_up`) */
    warm_up_epochs: z.number().int().nonnegative().default(5),
    /** EMA keep rate of the current teacher, whole state dict */
    ema_decay: z.number().min(0).max(1).default(0.996),
    /** ensemble weight γ of teacher 1 */
    gamma: z.number().min(0).max(1).default(0.5),
    /** classes the assisting teacher keeps */
    top_k: z.number().int().positive().default(7),
    /** `--semi_p_th` */
    conf_thresh: z.number().min(0).max(1).default(0.6),
    /** `--unsup_weight`: VOC classic 0.06 (92 labels) / 0.6, VOC aug/blender 1.5, Cityscapes 3.0 */
    unsup_weight: z.number().nonnegative().default(1.5),
    /** cosine ramp-up of the unsup weight, counted from the end of the warm-up [unverified start] */
    rampup_epochs: z.number().nonnegative().default(12),
    /** CutMix λ ~ Beta(α, α) */
    cutmix_beta: z.number().positive().default(4),
  })
  .strict();
export type PsmtConfig = z.infer<typeof configSchema>;

export interface PsmtState {
  nets: { student: SegNet; teacher1: SegNet; teacher2: SegNet };
  ensemble: AveragedNet;
  cfg: PsmtConfig;
}

/** Keep the assisting teacher's top-k logits per pixel, take the core teacher's elsewhere. */
export function assistLogits(core: tf.Tensor4D, assist: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    const c = assist.shape[3];
    if (k >= c) return tf.clone(assist);
    const { indices } = tf.topk(assist, k);
    const mask = tf.sum(tf.oneHot(indices, c), -2);
    return tf.add(tf.mul(mask, assist), tf.mul(tf.sub(1, mask), core)) as tf.Tensor4D;
  });
}

/** 1 or 2: the teacher updated in this (0-based) epoch; 1-based odd epochs update teacher 1. */
export function currentTeacher(epoch: number): 1 | 2 {
  return (epoch + 1) % 2 === 1 ? 1 : 2;
}

/** The teachers' target logits at crop resolution (eval mode, no gradients). */
export function teacherTarget(s: { teacher1: SegNet; teacher2: SegNet; cfg: Pick<PsmtConfig, 'top_k' | 'gamma'> }, u: tf.Tensor4D, curr: 1 | 2, rng: Rng): tf.Tensor4D {
  const [h, w] = [u.shape[1], u.shape[2]];
  return tf.tidy(() => {
    let t1 = upsampleLogits(s.teacher1.forward(u, { training: false, rng }).logits, h, w);
    let t2 = upsampleLogits(s.teacher2.forward(u, { training: false, rng }).logits, h, w);
    if (curr === 1) t2 = assistLogits(t1, t2, s.cfg.top_k);
    else t1 = assistLogits(t2, t1, s.cfg.top_k);
    return tf.add(tf.mul(t1, s.cfg.gamma), tf.mul(t2, 1 - s.cfg.gamma)) as tf.Tensor4D;
  });
}

export const psmt: Method<PsmtConfig, PsmtState> = {
  name: 'psmt',
  displayName: 'PS-MT',
  summary: 'PS-MT: two alternating EMA teachers, top-k assisted ensemble, confidence-weighted CE',
  configSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 1, boxes: 'none', mixBatch: false, labeledStrong: true }),
  async init(ctx, cfg) {
    // Officially all three share ImageNet-initialised encoders, so the EMA of the student into a
    // teacher averages related weights. From scratch, three independent draws made that an average
    // of unrelated networks (CamVid 1/8: teacher 1 fell to 2.7 % mIoU in its first EMA epoch), so all
    // three start as one network. With pretrained weights this only changes the decoders' first draw.
    const nets = await buildNets(ctx, ['student', 'teacher1', 'teacher2'], 'copy');
    return { nets, ensemble: new AveragedNet([nets.teacher1, nets.teacher2]), cfg };
  },
  nets: (s) => s.nets,
  teachers: (s) => [[s.nets.teacher1, s.nets.student], [s.nets.teacher2, s.nets.student]],
  semiStart: (s, itersPerEpoch) => s.cfg.warm_up_epochs * itersPerEpoch,
  // the name says how to rebuild it from a checkpoint: the mean of these two networks' logits
  evalNet: (s) => ({ name: 'teacher1+teacher2', net: s.ensemble }),
  step(s, batch, ctx) {
    const { student, teacher1, teacher2 } = s.nets;
    const { x, y } = batch.labeled;
    const xs = batch.labeled.strong[0]!;
    const opts = { training: true, rng: ctx.rng };
    if (ctx.semiIteration < 0) {
      // teachers on weak, student on strong labeled images, each its own CE
      const warmup = () => tf.addN([ctx.supervised(teacher1.forward(x, opts), y), ctx.supervised(teacher2.forward(x, opts), y), ctx.supervised(student.forward(xs, opts), y)]) as tf.Scalar;
      ctx.minimize(() => ({ warmup: warmup() }), [student, teacher1, teacher2]);
      return;
    }
    const u = batch.unlabeled!;
    // upstream counts its semi-supervised epochs from 1 after the warm-up: teacher 1 comes first
    const curr = currentTeacher(Math.floor(ctx.semiIteration / ctx.itersPerEpoch));
    const [n, h, w] = [u.x.shape[0], u.x.shape[1], u.x.shape[2]];
    const perm = ctx.rng.shuffle(Array.from({ length: n }, (_, i) => i));
    const m = drawPsmtMasks(ctx.rng, n, h, w, s.cfg.cutmix_beta);
    const uStrong = u.strong[0]!;
    const mixed = tf.tidy(() => mixNhwc(uStrong, gatherBatch(uStrong, perm), m));
    const [conf, label] = tf.tidy(() => {
      const logits = teacherTarget({ teacher1, teacher2, cfg: s.cfg }, u.x, curr, ctx.rng);
      const p = pseudoLabels(mixNhwc(logits, gatherBatch(logits, perm), m), h, w);
      return [p.conf, p.label] as const;
    });
    const weight = s.cfg.unsup_weight * cosineRampup(ctx.semiIteration, s.cfg.rampup_epochs * ctx.itersPerEpoch);
    ctx.minimize(() => {
      const sup = ctx.supervised(student.forward(xs, opts), y);
      const pred = student.forward(mixed, opts).logits;
      const unsup = pseudoCrossEntropy(pred, label, { conf, thresh: s.cfg.conf_thresh, weight: conf, normalise: 'kept' });
      return { sup, unsup: { value: unsup, weight, unlabeled: true } };
    }, [student]);
    emaUpdate(curr === 1 ? teacher1 : teacher2, student, s.cfg.ema_decay, { buffers: true });
    tf.dispose([mixed, m, conf, label]);
    ctx.log('unsup_weight', weight);
  },
};
