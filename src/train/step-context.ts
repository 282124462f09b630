import * as tf from '@tensorflow/tfjs-core';
import { supervisedLoss, type LossConfig } from '../losses/supervised.ts';
import { termValue, weightedSum } from '../losses/terms.ts';
import type { SegNet } from '../models/index.ts';
import type { DataNeeds, StepContext, TensorBatch, TrainBatch } from '../methods/types.ts';
import type { Rng } from '../util/rng.ts';
import type { Sgd } from './optimizer.ts';
import type { Schedule } from './schedule-plan.ts';

export interface StepArgs {
  /** `train.loss` */
  loss: LossConfig;
  /** `train.loss.class_weights` as numbers, one per class (resolved once by the trainer) */
  classWeights?: readonly number[];
  schedule: Pick<Schedule, 'epochs' | 'itersPerEpoch' | 'totalIters'>;
  iteration: number;
  /** iterations since the semi-supervised phase began (negative before) */
  semiIteration: number;
  /** factor on the weights of unlabeled loss terms (the ramp-up); default 1 */
  unlabeledScale?: number;
  lr: number;
  rng: Rng;
  sgd: Sgd;
  /** a network's checkpoint name (the optimizer keys momentum by it) */
  netName(net: SegNet): string;
  /** where the step's scalars go, in the order they are logged */
  logs: Record<string, number>;
}

/**
 * What a method's step may ask of the trainer: the configured supervised loss, one SGD step on a
 * weighted sum of named terms (each logged), and a log for anything else it wants to report.
 */
export function makeStepContext(a: StepArgs): StepContext {
  const { schedule, iteration } = a;
  return {
    iteration,
    epoch: Math.floor(iteration / schedule.itersPerEpoch),
    totalEpochs: schedule.epochs,
    itersPerEpoch: schedule.itersPerEpoch,
    totalIters: schedule.totalIters,
    semiIteration: a.semiIteration,
    rng: a.rng,
    supervised: (out, labels) => supervisedLoss(out, labels, a.loss, a.classWeights),
    minimize(objective, nets) {
      const values: [string, number][] = [];
      const total = a.sgd.minimize(
        () => {
          const terms = objective();
          for (const [name, t] of Object.entries(terms)) values.push([name, termValue(t).dataSync()[0]!]);
          return weightedSum(terms, a.unlabeledScale ?? 1);
        },
        nets.map((n) => [a.netName(n), n]),
        a.lr,
      );
      if (values.length > 1) a.logs['loss'] = total;
      for (const [name, v] of values) a.logs[`loss_${name}`] = v;
    },
    log(name, value) {
      a.logs[name] = value;
    },
  };
}

/** `netName` over a method's `nets()`. */
export function netNamer(entries: [string, SegNet][]): (net: SegNet) => string {
  return (net) => {
    const hit = entries.find(([, n]) => n === net);
    if (!hit) throw new Error('minimize() was given a network the method does not list in nets()');
    return hit[0];
  };
}

/**
 * The batch holds what the method's `dataNeeds` asked for, so a step can read it without checks
 * of its own. A mismatch is a defect of the loader, not of the user's input.
 */
export function checkBatch(b: TrainBatch, needs: DataNeeds, method: string): void {
  const problems: string[] = [];
  const views = (part: TensorBatch | undefined, what: string, n: number, boxes: boolean) => {
    if (!part) return problems.push(`no ${what} batch`);
    if (part.strong.length < n) problems.push(`${part.strong.length} strong views of the ${what} batch, not ${n}`);
    if (boxes && part.boxes.length < Math.max(1, n)) problems.push(`${part.boxes.length} CutMix boxes in the ${what} batch`);
    return 0;
  };
  views(b.labeled, 'labeled', needs.labeledStrong ? needs.strongViews : 0, false);
  if (needs.unlabeled) views(b.unlabeled, 'unlabeled', needs.strongViews, needs.boxes !== 'none');
  if (needs.mixBatch) views(b.unlabeledMix, 'second unlabeled', needs.strongViews, needs.boxes !== 'none');
  if (problems.length > 0) throw new Error(`${method}: the loader gave ${problems.join(', ')}`);
}

export function disposeBatch(b: TrainBatch): void {
  for (const part of [b.labeled, b.unlabeled, b.unlabeledMix]) {
    if (!part) continue;
    tf.dispose([part.x, part.y, ...part.strong, ...part.boxes, ...(part.ignore ? [part.ignore] : [])]);
  }
}
