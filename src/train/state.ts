import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ExperimentConfig } from '../config/schema.ts';
import { toPlainConfig } from '../config/load.ts';
import type { PreparedDataset } from '../data/index.ts';
import type { SegNet } from '../models/index.ts';
import type { Method } from '../methods/types.ts';
import { saveCheckpoint, restoreNet, type Checkpoint } from '../models/checkpoint.ts';
import type { Rng, RngState } from '../util/rng.ts';
import type { Sgd } from './optimizer.ts';
import type { ValidationResult } from './validate.ts';

export interface TrainState {
  cfg: ExperimentConfig;
  data: PreparedDataset;
  method: Method<unknown, unknown>;
  state: unknown;
  sgd: Sgd;
  nets: [string, SegNet][];
  rng: Rng;
  iteration: number;
  epoch: number;
  best?: ValidationResult;
  /** training seconds the run has spent up to this checkpoint, over all its segments */
  wallTimeS?: number;
}

/**
 * Everything a resume needs in one checkpoint: every network, the optimizer's momentum, method
 * state (e.g. U2PL's memory bank), the iteration and RNG state. Data order needs no state: batch
 * k of a run is a pure function of (seed, k) (see batches.ts).
 */
export async function saveTrainState(file: string, s: TrainState): Promise<void> {
  const extra = s.method.saveExtra?.(s.state) ?? new Map<string, tf.Tensor>();
  const tensors = new Map<string, tf.Tensor>([...s.sgd.state(), ...[...extra].map(([k, v]) => [`extra/${k}`, v] as [string, tf.Tensor])]);
  try {
    await saveCheckpoint(
      file,
      Object.fromEntries(s.nets),
      {
        method: s.cfg.method,
        evalNet: s.method.evalNet(s.state, s.epoch).name,
        config: toPlainConfig(s.cfg),
        dataset: { name: s.data.name, classes: s.data.classes, dir: path.resolve(s.data.dir) },
        epoch: s.epoch,
        iteration: s.iteration,
        rng: s.rng.state(),
        metrics: s.best ? { best_miou: s.best.miou, best_iteration: s.best.iteration } : {},
        extra: { ...(s.best ? { best: s.best } : {}), ...(s.wallTimeS !== undefined ? { wall_time_s: s.wallTimeS } : {}) },
      },
      tensors,
    );
  } finally {
    tf.dispose([...extra.values()]);
  }
}

export function loadTrainState(
  ck: Checkpoint,
  s: Pick<TrainState, 'method' | 'state' | 'sgd' | 'nets' | 'rng'>,
): { iteration: number; best?: ValidationResult } {
  for (const [name, net] of s.nets) restoreNet(ck, name, net);
  const asTensor = (name: string) => {
    const t = ck.tensors.get(name)!;
    return tf.tensor(t.data as Float32Array | Int32Array | Uint8Array, t.shape, t.dtype === 'I32' ? 'int32' : 'float32');
  };
  const optim = new Map<string, tf.Tensor>();
  const extra = new Map<string, tf.Tensor>();
  for (const name of ck.tensors.keys()) {
    if (name.startsWith('optim/')) optim.set(name, asTensor(name));
    else if (name.startsWith('extra/')) extra.set(name.slice('extra/'.length), asTensor(name));
  }
  s.sgd.load(s.nets, optim);
  if (extra.size > 0) s.method.loadExtra?.(s.state, extra);
  tf.dispose([...optim.values(), ...extra.values()]);
  s.rng.restore(ck.meta.rng as RngState);
  const best = (ck.meta.extra as { best?: ValidationResult } | undefined)?.best;
  return { iteration: ck.meta.iteration, best };
}
