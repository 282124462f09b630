/**
 * The `st:` / `stpp:` config sections. ST and ST++ are not per-iteration methods but pipelines
 * of supervised trainings (method `sup`) with files in between, so they register here rather than
 * in src/methods; the config loader validates the section with `PIPELINES[name].configSchema`.
 */
import { z } from 'zod';
import type { ExperimentConfig } from '../config/schema.ts';
import { SsssegError } from '../errors.ts';

/** ST++ `label()`: softmax summed over these scales × {identity, hflip}, then argmax, no threshold. */
export const STPP_TTA_SCALES = [0.5, 0.75, 1.0, 1.5, 2.0];

const ttaSchema = z
  .object({
    scales: z.array(z.number().positive()).min(1).default(STPP_TTA_SCALES),
    flip: z.boolean().default(true),
  })
  .strict();

const common = {
  /** epochs of each training stage (teacher, then re-trainings); default train.epochs for all (spec §2.4) */
  stage_epochs: z.array(z.number().int().positive()).min(1).nullable().optional(),
  /** test-time augmentation for pseudo-labelling */
  tta: ttaSchema.default(ttaSchema.parse({})),
  /** strong data augmentation (data.strong) on pseudo-labeled images in the re-trainings (SDA) */
  sda: z.boolean().default(true),
  /** also write colourised pseudo-masks to pseudo-color/ */
  previews: z.boolean().default(false),
  /** the teacher's labeled list is doubled when shorter than this (ST++ main.py: < 200); 0 = never */
  double_labeled_below: z.number().int().nonnegative().default(200),
};

export const stConfigSchema = z.object(common).strict();

export const stppConfigSchema = z
  .object({
    ...common,
    /** teacher checkpoints scored for stability, at epochs floor(k·E/K), k = 1..K (ST++: K = 3) */
    checkpoints: z.number().int().min(2).default(3),
    /** share of the unlabeled images called reliable: floor(n·fraction) (ST++: len // 2) */
    reliable_fraction: z.number().gt(0).lt(1).default(0.5),
  })
  .strict();

export type StConfig = z.infer<typeof stConfigSchema>;
export type StppConfig = z.infer<typeof stppConfigSchema>;

export interface PipelineInfo<C> {
  readonly name: string;
  readonly summary: string;
  readonly configSchema: z.ZodType<C>;
  /** training stages it runs (for `stage_epochs`) */
  readonly trainings: number;
}

/** Every pipeline by the name used in configs and `--method`. */
export const PIPELINES = {
  st: {
    name: 'st',
    summary: 'self-training: supervised teacher → pseudo-label all unlabeled images (TTA) → re-train from scratch',
    configSchema: stConfigSchema,
    trainings: 2,
  } satisfies PipelineInfo<StConfig>,
  stpp: {
    name: 'stpp',
    summary: 'ST++: teacher → stability-selected reliable images → re-train → pseudo-label the rest → re-train',
    configSchema: stppConfigSchema,
    trainings: 3,
  } satisfies PipelineInfo<StppConfig>,
};

export type PipelineName = keyof typeof PIPELINES;

export function isPipelineName(name: string): name is PipelineName {
  return Object.hasOwn(PIPELINES, name);
}

/** The pipeline's section of a loaded config, parsed again so the type is known here. */
export function pipelineConfig(cfg: ExperimentConfig): { name: 'st'; c: StConfig } | { name: 'stpp'; c: StppConfig } {
  if (cfg.method === 'st') return { name: 'st', c: stConfigSchema.parse(cfg.methodConfig ?? {}) };
  if (cfg.method === 'stpp') return { name: 'stpp', c: stppConfigSchema.parse(cfg.methodConfig ?? {}) };
  throw new SsssegError('stpp.method', `${cfg.source}: method "${cfg.method}" is not a self-training pipeline (st, stpp)`);
}

/** Epochs of training stage `i` (0 = teacher): `stage_epochs[i]`, else train.epochs. */
export function stageEpochs(cfg: ExperimentConfig, c: StConfig | StppConfig, i: number): number {
  const e = c.stage_epochs?.[i] ?? cfg.train.epochs;
  if (e === undefined) {
    throw new SsssegError(
      'stpp.needsEpochs',
      `${cfg.source}: ${cfg.method} counts its stages in epochs: set train.epochs (not train.iterations) or ${cfg.method}.stage_epochs`,
    );
  }
  return e;
}

/**
 * The teacher epochs whose checkpoints are scored: ST++ keeps `(epoch+1) in [E//3, 2E//3, E]`;
 * generalised to floor(k·E/K), never below epoch 1 (tiny smoke runs).
 */
export function checkpointEpochs(epochs: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.max(1, Math.floor(((i + 1) * epochs) / k)));
}

/** A stage's training config: the experiment config with method `sup` and the stage's epochs. */
export function stageConfig(cfg: ExperimentConfig, epochs: number): ExperimentConfig {
  const { iterations: _drop, ...train } = cfg.train;
  return { ...cfg, method: 'sup', methodConfig: {}, train: { ...train, epochs } };
}
