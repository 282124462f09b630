/**
 * A run that diverged must not look like a result: a non-finite loss stops it at once, and no
 * checkpoint with non-finite weights is ever written, so the last one on disk is a good one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SsssegError } from '../errors.ts';
import type { SegNet } from '../models/index.ts';

/** The first non-finite loss term of a step's logs (a named term before the total), if any. */
export function nonFiniteLoss(logs: Record<string, number>): [string, number] | undefined {
  const terms = Object.entries(logs).filter(([k]) => k.startsWith('loss'));
  const bad = terms.filter(([, v]) => !Number.isFinite(v));
  return bad.find(([k]) => k !== 'loss') ?? bad[0];
}

/** `<net>/<param>` of the first weight tensor holding NaN or ±Infinity, if any. */
export function nonFiniteWeight(nets: [string, SegNet][]): string | undefined {
  for (const [name, net] of nets) {
    for (const p of net.params()) {
      const bad = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(p.variable))).dataSync()[0]);
      if (bad) return `${name}/${p.name}`;
    }
  }
  return undefined;
}

export function divergedError(iteration: number, what: string, lastGood: { file: string; iteration: number } | undefined): SsssegError {
  const kept = lastGood ? `the last good checkpoint is ${lastGood.file} at iteration ${lastGood.iteration}` : 'no checkpoint was written';
  return new SsssegError('train.diverged', `training diverged at iteration ${iteration}: ${what}; ${kept}`, 'lower train.lr (or check the data) and start again');
}
