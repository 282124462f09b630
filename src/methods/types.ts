import type * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import type { Rng } from '../util/rng.ts';
import type { SegNet } from '../models/index.ts';
import type { ExperimentConfig } from '../config/schema.ts';

/**
 * The one small interface every method implements. The shared trainer owns data loading, the
 * optimizer, LR schedule, checkpoints, validation and logging; a method owns its networks and its
 * training step only (style.md: UniMatch's one-file-per-method, without its copied scaffolding).
 */

/** One batch as tensors; the trainer creates them before `step` and disposes them after. */
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
  /** absent for supervised methods */
  unlabeled?: TensorBatch;
  /** a second, independent unlabeled batch (UniMatch/CPS mixing partner) */
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
  cfg: ExperimentConfig;
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
  rng: Rng;
  /**
   * Compute gradients of `loss` w.r.t. the trainable parameters of `nets` and apply one SGD step
   * (momentum, weight decay, poly LR, backbone/head groups). Returns the loss value.
   */
  minimize(loss: () => tf.Scalar, nets: SegNet[]): number;
  /** Record a scalar for the progress bar and the JSONL log. */
  log(name: string, value: number): void;
}

export interface Method<C = unknown, S = unknown> {
  readonly name: string;
  readonly summary: string;
  /** the method's own config section (key = method name in the YAML), with its defaults */
  readonly configSchema: z.ZodType<C>;
  dataNeeds(c: C): DataNeeds;
  init(ctx: MethodInit, c: C): Promise<S>;
  /** every network to checkpoint, by prefix; the first is the one trained from scratch */
  nets(state: S): Record<string, SegNet>;
  /** the network the method's paper evaluates at this point of training */
  evalNet(state: S, epoch: number): { name: string; net: SegNet };
  step(state: S, batch: TrainBatch, ctx: StepContext): void;
  /** called at the start of each epoch (schedules, teacher resets) */
  onEpochStart?(state: S, epoch: number): void;
  /** method state outside the networks that a resume needs (e.g. U2PL's memory bank) */
  saveExtra?(state: S): Map<string, tf.Tensor>;
  loadExtra?(state: S, tensors: Map<string, tf.Tensor>): void;
  dispose(state: S): void;
}
