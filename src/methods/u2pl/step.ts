import * as tf from '@tensorflow/tfjs-core';
import type { SegNet } from '../../models/index.ts';
import type { LossTerms, StepContext, TensorBatch, TrainBatch } from '../types.ts';
import type { Rng } from '../../util/rng.ts';
import { SsssegError } from '../../errors.ts';
import { upsampleLogits } from '../../losses/ce.ts';
import { pixelEntropy } from '../../losses/entropy.ts';
import { dropUnreliable, unsupLossFromDropped, type DropResult } from '../../losses/u2pl-unsup.ts';
import { concatPixelMaps, entropyPartition, resizeNearest, selectContrastPixels } from '../../losses/u2pl-masks.ts';
import { emaUpdate } from '../../models/ema.ts';
import { u2plBox, boxMask } from '../../data/transforms/cutmix.ts';
import { alphaAt, emaDecayAt, type U2plConfig } from './config.ts';
import { MemoryBank } from './memory-bank.ts';
import { contrastLoss, disposePlan, prepareContrast, type ContrastPlan } from './contrastive.ts';

export interface U2plState {
  nets: { student: SegNet; teacher: SegNet };
  cfg: U2plConfig;
  numClasses: number;
  /** null when the contrastive loss is off */
  bank: MemoryBank | null;
}

/** Epochs before `sup_only_epoch`: labeled CE on the student; the teacher only refreshes its BN statistics. */
export function supOnlyStep(s: U2plState, batch: TrainBatch, ctx: StepContext): void {
  const { student, teacher } = s.nets;
  const { x, y } = batch.labeled;
  ctx.minimize(() => ({ sup: ctx.supervised(student.forward(x, { training: true, rng: ctx.rng }), y) }), [student]);
  tf.tidy(() => {
    teacher.forward(x, { training: true, rng: ctx.rng });
  });
  ctx.log('loss_unsup', 0);
  ctx.log('loss_contra', 0);
}

/** One semi-supervised iteration (docs/methods.md §1.3 steps 2–10). */
export function semiStep(s: U2plState, batch: TrainBatch, ctx: StepContext): void {
  const u = batch.unlabeled!;
  const { student, teacher } = s.nets;
  const c = s.cfg;
  // the released code aliases the teacher to the student throughout its first semi-supervised epoch (`.data =`)
  if (ctx.semiIteration < ctx.itersPerEpoch) emaUpdate(teacher, student, 0, { buffers: false });
  const { x: xl, y: yl } = batch.labeled;
  const nl = xl.shape[0];
  const [nu, H, W] = [u.x.shape[0], u.x.shape[1], u.x.shape[2]];
  const alpha = alphaAt(c, ctx.epoch, ctx.totalEpochs);

  const { x: xu, pl } = pseudoLabelAndMix(s, u, ctx.rng);
  const xAll = tf.concat([xl, xu]) as tf.Tensor4D;
  // teacher in train mode on the mixed batch: BN batch statistics (and dropout), no gradient
  const t = tf.tidy(() => {
    const o = teacher.forward(xAll, { training: true, rng: ctx.rng });
    if (c.contrastive.enabled && !o.rep) throw new SsssegError('u2pl.noRep', 'the model has no representation head (model.rep_dim)');
    const entropy = pixelEntropy(upsampleLogits(tf.slice(o.logits, [nl, 0, 0, 0], [nu, -1, -1, -1]), H, W));
    return { entropy, prob: tf.softmax(o.logits, -1) as tf.Tensor4D, rep: o.rep };
  });
  const entropy = t.entropy.dataSync() as Float32Array;
  const plData = pl.dataSync() as Int32Array;
  const drop = dropUnreliable(entropy, plData, 100 - alpha);
  let plan: ContrastPlan | null = null;
  if (c.contrastive.enabled && s.bank && t.rep) {
    plan = planContrast(s, { yl, plData, entropy, alpha, prob: t.prob, rep: t.rep, H, W }, ctx.rng);
  }
  tf.dispose([t.entropy, t.prob, t.rep ?? [], xu, pl]);

  const target = tf.tensor3d(drop.target, [nu, H, W], 'int32');
  try {
    ctx.minimize(() => studentLoss(s, ctx, xAll, yl, target, drop, plan), [student]);
  } finally {
    tf.dispose([xAll, target]);
    disposePlan(plan);
  }
  emaUpdate(teacher, student, emaDecayAt(c, ctx.semiIteration), { buffers: false });
  ctx.log('kept_frac', drop.kept / Math.max(drop.kept + drop.dropped, 1));
  if (s.bank) ctx.log('membank_bytes', s.bank.bytes());
}

/**
 * Teacher (eval mode) pseudo-labels on the weak unlabeled batch at crop size, then CutMix of the
 * whole batch with probability `cutmix_p`: inside its box sample i takes image and pseudo-label
 * of sample (i+1) mod B. Box masks come from the loader (`boxes[0]`) or are drawn here.
 */
export function pseudoLabelAndMix(s: U2plState, u: TensorBatch, rng: Rng): { x: tf.Tensor4D; pl: tf.Tensor3D } {
  const [n, H, W] = [u.x.shape[0], u.x.shape[1], u.x.shape[2]];
  const pl = tf.tidy(() => tf.argMax(upsampleLogits(s.nets.teacher.forward(u.x, { training: false }).logits, H, W), -1) as tf.Tensor3D);
  // the coin is drawn even when CutMix is off, so toggling it leaves later draws alone
  const mix = rng.next() < s.cfg.cutmix_p;
  if (!mix) return { x: tf.clone(u.x), pl };
  return tf.tidy(() => {
    const box = u.boxes[0] ?? drawBoxes(n, H, W, rng);
    const partner = <T extends tf.Tensor>(t: T): T => tf.concat([tf.slice(t, 1), tf.slice(t, 0, 1)]) as T;
    const m = tf.expandDims(box, -1);
    const x = tf.add(u.x, tf.mul(tf.sub(partner(u.x), u.x), m)) as tf.Tensor4D;
    const mixedPl = tf.where(tf.greater(box, 0.5), partner(pl), pl) as tf.Tensor3D;
    pl.dispose();
    return { x, pl: mixedPl };
  });
}

/** U2PL boxes (area H·W/2) for each sample: 1 = take from the partner. */
function drawBoxes(n: number, h: number, w: number, rng: Rng): tf.Tensor3D {
  const data = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) data.set(boxMask(h, w, [u2plBox(rng, h, w)]), i * h * w);
  return tf.tensor3d(data, [n, h, w]);
}

interface TeacherView {
  yl: tf.Tensor3D;
  plData: Int32Array;
  entropy: Float32Array;
  alpha: number;
  prob: tf.Tensor4D;
  rep: tf.Tensor4D;
  H: number;
  W: number;
}

/** Reliable/unreliable partition at crop size, nearest-downsampled to the representation, then pixel selection and sampling. */
function planContrast(s: U2plState, v: TeacherView, rng: Rng): ContrastPlan | null {
  const cc = s.cfg.contrastive;
  const [n, h, w] = v.rep.shape;
  const nl = v.yl.shape[0];
  const nu = n - nl;
  const part = entropyPartition(v.entropy, v.plData, v.alpha);
  const negU = cc.negatives === 'unreliable' ? part.high : cc.negatives === 'reliable' ? part.low : validMask(v.plData);
  const down = <T extends Int32Array | Uint8Array>(a: T, b: number) => resizeNearest(a, b, v.H, v.W, h, w);
  const maps = concatPixelMaps(
    down(v.yl.dataSync() as Int32Array, nl),
    down(v.plData, nu),
    down(part.low, nu),
    down(negU, nu),
    v.prob.dataSync() as Float32Array,
    s.numClasses,
  );
  const sel = selectContrastPixels(maps, {
    lowRank: cc.low_rank,
    highRank: cc.high_rank,
    anchorThreshold: cc.anchor_threshold,
    negativeThreshold: cc.negative_threshold,
    codeFaithful: cc.code_faithful_negatives,
    prt: cc.prt,
  });
  return prepareContrast(v.rep, sel, s.bank!, cc, rng).plan;
}

function validMask(labels: Int32Array): Uint8Array {
  const m = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) m[i] = labels[i] === 255 ? 0 : 1;
  return m;
}

/**
 * The student's loss on cat(labeled, mixed unlabeled): supervised + weighted unsup + weighted
 * contrastive. The terms are logged weighted, as U2PL's own log prints them.
 */
function studentLoss(
  s: U2plState,
  ctx: StepContext,
  xAll: tf.Tensor4D,
  yl: tf.Tensor3D,
  target: tf.Tensor3D,
  drop: DropResult,
  plan: ContrastPlan | null,
): LossTerms {
  const c = s.cfg;
  const nl = yl.shape[0];
  const o = s.nets.student.forward(xAll, { training: true, rng: ctx.rng });
  const head = (t: tf.Tensor4D, from: number, size: number) => tf.slice(t, [from, 0, 0, 0], [size, -1, -1, -1]);
  const nu = xAll.shape[0] - nl;
  const sup = ctx.supervised({ logits: head(o.logits, 0, nl), aux: o.aux ? head(o.aux, 0, nl) : undefined }, yl);
  const unsup = tf.mul(unsupLossFromDropped(head(o.logits, nl, nu), target, drop.kept), c.unsup_weight) as tf.Scalar;
  const contra = plan && o.rep ? (tf.mul(contrastLoss(o.rep, plan), c.contrastive.loss_weight) as tf.Scalar) : tf.scalar(0);
  return { sup, unsup: { value: unsup, weight: 1, unlabeled: true }, contra: { value: contra, weight: 1, unlabeled: true } };
}
