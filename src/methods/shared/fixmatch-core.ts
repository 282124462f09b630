import * as tf from '@tensorflow/tfjs-core';
import type { SegNet } from '../../models/index.ts';
import type { TensorBatch, TrainBatch } from '../types.ts';
import type { Rng } from '../../util/rng.ts';
import { pseudoLabels, type PseudoLabels } from './pseudo.ts';
import { mixNhw, mixNhwc } from './mix.ts';
import { validFromIgnore } from '../../losses/consistency.ts';

/**
 * The pieces UniMatch's `unimatch.py` and `fixmatch.py` share (docs/methods.md §3.3): pseudo-labels
 * of the mix partner from an eval-mode forward, CutMix of the strong views with the partner's
 * strong views, and the partner's targets pasted inside each box.
 */

/** A pseudo-labelled target with its valid (non-padded) mask, all NHW at crop resolution. */
export interface MixTarget extends PseudoLabels {
  valid: tf.Tensor3D;
}

/** NHW all-ones when the loader gave no ignore mask (no padded pixels). */
export function validOf(b: TensorBatch): tf.Tensor3D {
  return b.ignore ? validFromIgnore(b.ignore) : tf.onesLike(tf.cast(b.y, 'float32'));
}

/** What both steps read first: the batch parts, their sizes and the partner's pseudo-labels (step 1). */
export function stepInputs(net: SegNet, batch: TrainBatch, rng: Rng) {
  const u = batch.unlabeled!;
  const mix = batch.unlabeledMix!;
  const { x, y } = batch.labeled;
  const [nu, h, w] = [u.x.shape[0], u.x.shape[1], u.x.shape[2]];
  return { x, y, u, mix, nl: x.shape[0], nu, h, w, partner: partnerTarget(net, mix, rng) };
}

/** Step 1: `model.eval()`, no grad, on the mix batch's weak view. */
export function partnerTarget(net: SegNet, mix: TensorBatch, rng: Rng): MixTarget {
  return tf.tidy(() => {
    const logits = net.forward(mix.x, { training: false, rng }).logits;
    return { ...pseudoLabels(logits, mix.x.shape[1], mix.x.shape[2]), valid: validOf(mix) };
  });
}

/** Step 2: strong view i, with the partner's strong view i inside box i. */
export function mixStrong(u: TensorBatch, mix: TensorBatch, i: number): tf.Tensor4D {
  const box = u.boxes[i];
  if (!box) return tf.clone(u.strong[i]!);
  return mixNhwc(u.strong[i]!, mix.strong[i]!, box);
}

/** Step 4: the main batch's own target, with the partner's pasted inside `box` (when there is one). */
export function mixTarget(own: MixTarget, partner: MixTarget, box: tf.Tensor3D | undefined): MixTarget {
  return tf.tidy(() => {
    if (!box) return { conf: tf.clone(own.conf), label: tf.clone(own.label), valid: tf.clone(own.valid) };
    return { conf: mixNhw(own.conf, partner.conf, box), label: mixNhw(own.label, partner.label, box), valid: mixNhw(own.valid, partner.valid, box) };
  });
}

export function disposeTarget(t: MixTarget): void {
  tf.dispose([t.conf, t.label, t.valid]);
}
