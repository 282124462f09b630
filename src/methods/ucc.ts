import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Method, TensorBatch } from './types.ts';
import type { SegNet } from '../models/index.ts';
import { pseudoCrossEntropy } from '../losses/consistency.ts';
import { pixelEntropy } from '../losses/entropy.ts';
import { upsampleLogits } from '../losses/ce.ts';
import { buildNets, pickNet, sliceOutputs } from './shared/nets.ts';
import { detach } from '../backend/detach.ts';
import { pseudoLabels, type PseudoLabels } from './shared/pseudo.ts';
import { gatherBatch, mixNhw, mixNhwc } from './shared/mix.ts';
import { validOf } from './shared/fixmatch-core.ts';
import { planCopyPaste, updateClassConfidence } from './shared/copy-paste.ts';

/**
 * UCC (CVPR'22; docs/methods.md §7, paper/abstract only, no official code): cross-head co-training.
 * Each head's weak-view pseudo-labels supervise the other head's strong view, weighted per pixel by
 * the provider's certainty (UGRM), with labeled pixels copy-pasted onto the strong views (DCSCP).
 * Approximations, all configurable, defaults stated in the README: two whole networks stand in for
 * one encoder with two heads (SegNet exposes no shared encoder); the uncertainty formula,
 * thresholds, copy-paste probabilities and loss weights are not published.
 */
const configSchema = z
  .object({
    /** [unknown] confidence threshold on the peer's pseudo-label; 0 keeps every pixel */
    conf_thresh: z.number().min(0).max(1).default(0),
    /** [unknown] weight of the cross term */
    unsup_weight: z.number().nonnegative().default(1),
    /** [unknown] UGRM per-pixel weight: 1 − H(p)/log C ('entropy'), max p ('confidence') or none */
    reweight: z.enum(['entropy', 'confidence', 'none']).default('entropy'),
    copy_paste: z
      .object({
        /** [unknown] probability that an unlabeled image gets labeled pixels pasted */
        p: z.number().min(0).max(1).default(0.5),
        /** [unknown] classes pasted per image */
        max_classes: z.number().int().positive().default(3),
        /** 'dynamic': class weight 1 − running pseudo-label confidence; 'uniform': equal */
        sampling: z.enum(['dynamic', 'uniform']).default('dynamic'),
        /** momentum of the running per-class confidence */
        momentum: z.number().min(0).max(1).default(0.99),
      })
      .strict()
      .prefault({}),
    /** [unknown] evaluated network */
    eval_net: z.enum(['left', 'right']).default('left'),
  })
  .strict();
export type UccConfig = z.infer<typeof configSchema>;

export interface UccState {
  nets: { left: SegNet; right: SegNet };
  cfg: UccConfig;
  /** running mean pseudo-label confidence per class (DCSCP dynamic sampling) */
  classConf: Float32Array;
}

/** UGRM stand-in: per-pixel weight in [0, 1] from the pseudo-label provider's logits. */
export function certaintyWeight(logits: tf.Tensor4D, h: number, w: number, mode: UccConfig['reweight']): tf.Tensor3D {
  return tf.tidy(() => {
    const up = upsampleLogits(logits, h, w);
    if (mode === 'none') return tf.ones([up.shape[0], h, w]) as tf.Tensor3D;
    if (mode === 'confidence') return tf.max(tf.softmax(up), -1) as tf.Tensor3D;
    return tf.sub(1, tf.div(pixelEntropy(up), Math.log(up.shape[3]))) as tf.Tensor3D;
  });
}

interface CrossTarget extends PseudoLabels {
  weight: tf.Tensor3D;
  valid: tf.Tensor3D;
}

/** Pseudo-labels and weights from one head, with pasted labeled pixels taking GT, confidence 1, weight 1. */
function crossTarget(weak: tf.Tensor4D, l: TensorBatch, u: TensorBatch, paste: { mask: tf.Tensor3D; source: number[] }, mode: UccConfig['reweight']): CrossTarget {
  const [h, w] = [u.x.shape[1], u.x.shape[2]];
  const pl = pseudoLabels(weak, h, w);
  const one = tf.onesLike(pl.conf);
  return {
    label: mixNhw(pl.label, gatherBatch(l.y, paste.source), paste.mask),
    conf: mixNhw(pl.conf, one, paste.mask),
    weight: mixNhw(certaintyWeight(weak, h, w, mode), one, paste.mask),
    valid: mixNhw(validOf(u), one, paste.mask),
  };
}

export const ucc: Method<UccConfig, UccState> = {
  name: 'ucc',
  displayName: 'UCC',
  summary: 'UCC (approximate): cross co-training weak→strong, uncertainty re-weighting, cross-set copy-paste',
  configSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 1, boxes: 'none', mixBatch: false, labeledStrong: false }),
  init: async (ctx, cfg) => ({ nets: await buildNets(ctx, ['left', 'right'], 'own'), cfg, classConf: new Float32Array(ctx.numClasses) }),
  nets: (s) => s.nets,
  students: (s) => [s.nets.left, s.nets.right],
  evalNet: (s) => pickNet(s.nets, s.cfg.eval_net),
  step(s, batch, ctx) {
    const { left, right } = s.nets;
    const u = batch.unlabeled!;
    const l = batch.labeled;
    const [nl, nu] = [l.x.shape[0], u.x.shape[0]];
    const cp = s.cfg.copy_paste;
    const weights = cp.sampling === 'dynamic' ? s.classConf.map((c) => 1 - c) : new Float32Array(s.classConf.length).fill(1);
    const paste = planCopyPaste(l.y, nu, ctx.rng, { p: cp.p, maxClasses: cp.max_classes, classWeights: weights });
    const strong = tf.tidy(() => mixNhwc(u.strong[0]!, gatherBatch(l.x, paste.source), paste.mask));
    const weakIn = tf.concat([l.x, u.x], 0);
    const stats: { label: ArrayLike<number>; conf: ArrayLike<number> } = { label: [], conf: [] };
    ctx.minimize(() => {
      const opts = { training: true, rng: ctx.rng };
      const outL = left.forward(weakIn, opts);
      const outR = right.forward(weakIn, opts);
      const sup = tf.add(ctx.supervised(sliceOutputs(outL, 0, nl), l.y), ctx.supervised(sliceOutputs(outR, 0, nl), l.y)) as tf.Scalar;
      const weakOf = (o: { logits: tf.Tensor4D }) => detach(tf.slice(o.logits, [nl, 0, 0, 0], [nu, -1, -1, -1]));
      const fromL = crossTarget(weakOf(outL), l, u, paste, s.cfg.reweight);
      const fromR = crossTarget(weakOf(outR), l, u, paste, s.cfg.reweight);
      const ce = (pred: tf.Tensor4D, t: CrossTarget) => pseudoCrossEntropy(pred, t.label, { conf: t.conf, thresh: s.cfg.conf_thresh, valid: t.valid, weight: t.weight, normalise: 'valid' });
      // each head learns on the strong view from the other head's weak-view labels
      const cross = tf.add(ce(left.forward(strong, opts).logits, fromR), ce(right.forward(strong, opts).logits, fromL)) as tf.Scalar;
      stats.label = fromL.label.dataSync();
      stats.conf = fromL.conf.dataSync();
      return { sup, cross: { value: cross, weight: s.cfg.unsup_weight, unlabeled: true } };
    }, [left, right]);
    // pasted pixels carry GT with confidence 1: leave them out of the running confidence
    const pasted = paste.mask.dataSync();
    const own = Int32Array.from(stats.label, (v, i) => (pasted[i]! > 0 ? -1 : v));
    updateClassConfidence(s.classConf, own, stats.conf, cp.momentum);
    tf.dispose([strong, weakIn, paste.mask]);
  },
  saveExtra: (s) => new Map([['ucc/class_conf', tf.tensor1d(s.classConf)]]),
  loadExtra(s, tensors) {
    const t = tensors.get('ucc/class_conf');
    if (t && t.size === s.classConf.length) s.classConf.set(t.dataSync());
  },
};
