import type { ExperimentConfig } from '../config/schema.ts';
import type { DataNeeds } from '../methods/types.ts';
import { SsssegError } from '../errors.ts';

export interface Schedule {
  epochs: number;
  itersPerEpoch: number;
  totalIters: number;
  /** samples drawn per epoch from each stream (the labeled list is oversampled to it) */
  epochLength: number;
  labeledBatch: number;
  unlabeledBatch: number;
}

/**
 * Epoch length follows the anchors: with unlabeled data an epoch is one pass over the unlabeled
 * set and the labeled ids are repeated to match (U2PL, UniMatch, ST++); supervised runs pass over
 * the labeled set. Iterations per epoch drop the last partial batch.
 */
export function planSchedule(cfg: ExperimentConfig, split: { labeled: string[]; unlabeled: string[] }, needs: DataNeeds): Schedule {
  const t = cfg.train;
  const labeledBatch = t.batch_size;
  const unlabeledBatch = t.unlabeled_batch_size ?? t.batch_size;
  if (split.labeled.length === 0) throw new SsssegError('train.noLabeled', 'the split has no labeled images');
  const base = needs.unlabeled ? split.unlabeled.length : split.labeled.length;
  const epochLength =
    t.epoch_length === 'unlabeled' ? base : t.epoch_length === 'labeled' ? split.labeled.length : t.epoch_length;
  const perIter = needs.unlabeled ? Math.max(unlabeledBatch, 1) : labeledBatch;
  const itersPerEpoch = Math.max(1, Math.floor(epochLength / perIter));
  const totalIters = t.iterations ?? itersPerEpoch * t.epochs!;
  const epochs = Math.ceil(totalIters / itersPerEpoch);
  return { epochs, itersPerEpoch, totalIters, epochLength: Math.max(epochLength, itersPerEpoch * perIter), labeledBatch, unlabeledBatch };
}
