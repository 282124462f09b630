import type * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import type { Rng } from '../util/rng.ts';
import type { ModelConfig, SegNet, SegOutputs } from '../models/index.ts';
import type { LossTerms } from '../losses/terms.ts';

export type { LossTerm, LossTerms } from '../losses/terms.ts';

/**
 * The one small interface every method implements. The shared trainer owns data loading, the
 * optimizer, LR schedule, checkpoints, validation and logging; a method owns its networks and its
 * training step only (style.md: UniMatch's one-file-per-method, without its copied scaffolding).
 */

/**
 * One batch as tensors; the trainer creates them before `step` and disposes them after, and
 * checks that it holds what the method's `dataNeeds` asked for (strong views, boxes).
 */
export interface TensorBatch {
  /** NHWC, ImageNet-normalised */
  x: tf.Tensor4D;
  /** NHW int32 class ids, 255 = ignore */
  y: tf.Tensor3D;
  /** strong views of x (same geometry), when the method asked for them */
  strong: tf.Tensor4D[];
  /** NHW int32, 255 where the crop was padded (UniMatch's ignore mask) */
  ignore?: tf.Tensor3D;
  /** NHW float 0/1 CutMix masks, one per strong view, when asked for */
  boxes: tf.Tensor3D[];
}

export interface TrainBatch {
  labeled: TensorBatch;
  /** present exactly when `dataNeeds.unlabeled` (the trainer checks) */
  unlabeled?: TensorBatch;
  /** a second, independent unlabeled batch (UniMatch/CPS mixing partner); present exactly when `dataNeeds.mixBatch` */
  unlabeledMix?: TensorBatch;
}

/** What the loader must produce for this method. */
export interface DataNeeds {
  unlabeled: boolean;
  /** strong views of each unlabeled image (0 = none) */
  strongViews: number;
  /** CutMix box generator for the strong views */
  boxes: 'none' | 'u2pl' | 'unimatch' | 'cps';
  /** a second unlabeled stream */
  mixBatch: boolean;
  /** strong views of labeled images too (PS-MT student) */
  labeledStrong: boolean;
}

export interface MethodInit {
  /** the `model:` section the networks are built from */
  model: ModelConfig;
  /** the config file, for messages */
  source: string;
  numClasses: number;
  rng: Rng;
  /** a fresh network from cfg.model (pretrained backbone loaded when configured) */
  buildNet(seedOffset?: number): Promise<SegNet>;
}

export interface StepContext {
  /** 0-based global iteration */
  iteration: number;
  epoch: number;
  totalEpochs: number;
  itersPerEpoch: number;
  totalIters: number;
  /**
   * Iterations since the semi-supervised phase began (0 at its first iteration, negative before):
   * the method's own supervised epochs and the trainer's warm-up (`train.semi`) both come first.
   */
  semiIteration: number;
  rng: Rng;
  /** The configured supervised loss (`train.loss`: CE or OHEM, plus the weighted aux head). */
  supervised(out: SegOutputs, labels: tf.Tensor3D): tf.Scalar;
  /**
   * One SGD step (momentum, weight decay, poly LR, backbone/head groups) on the trainable
   * parameters of `nets`, minimising the weighted sum of the named terms `objective` returns. The
   * trainer logs each term as `loss_<name>` (unweighted) and, when there are several, the total as `loss`.
   * Terms marked `unlabeled` have their weight ramped up by the trainer after the warm-up.
   */
  minimize(objective: () => LossTerms, nets: SegNet[]): void;
  /** Record a scalar for the progress bar and the JSONL log. */
  log(name: string, value: number): void;
}


export interface Method<C = unknown, S = unknown> {
  readonly name: string;
  /** how tables and reports name it (the papers' spelling) */
  readonly displayName: string;
  readonly summary: string;
  /** the method's own config section (key = method name in the YAML), with its defaults */
  readonly configSchema: z.ZodType<C>;
  dataNeeds(c: C): DataNeeds;
  init(ctx: MethodInit, c: C): Promise<S>;
  /** every network to checkpoint, by prefix; the first is the one trained from scratch. The trainer disposes them at the end. */
  nets(state: S): Record<string, SegNet>;
  /** the networks SGD trains (default: the first of `nets`); the trainer's supervised warm-up trains these */
  students?(state: S): SegNet[];
  /** each EMA teacher with the student it follows; `train.semi.teacher_reset` copies them at the start of the semi-supervised phase */
  teachers?(state: S): Array<[teacher: SegNet, student: SegNet]>;
  /** the first iteration of the method's own semi-supervised phase (after its official supervised epochs); default 0 */
  semiStart?(state: S, itersPerEpoch: number): number;
  /** the network the method's paper evaluates at this point of training (one of `nets`, or a combination of them) */
  evalNet(state: S, epoch: number): { name: string; net: SegNet };
  step(state: S, batch: TrainBatch, ctx: StepContext): void;
  /** called at the start of each epoch (schedules, teacher resets) */
  onEpochStart?(state: S, epoch: number): void;
  /** method state outside the networks that a resume needs (e.g. U2PL's memory bank) */
  saveExtra?(state: S): Map<string, tf.Tensor>;
  loadExtra?(state: S, tensors: Map<string, tf.Tensor>): void;
}
