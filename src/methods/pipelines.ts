/**
 * The `st:` / `stpp:` config sections. ST and ST++ are not per-iteration methods but pipelines of
 * supervised trainings (method `sup`) with files in between; their runner lives in src/stpp, their
 * sections are registered here beside the methods so the config loader sees every method below it.
 */
import { z } from 'zod';

/** ST++ `label()`: softmax summed over these scales × {identity, hflip}, then argmax, no threshold. */
export const STPP_TTA_SCALES = [0.5, 0.75, 1.0, 1.5, 2.0];

const ttaSchema = z
  .object({
    scales: z.array(z.number().positive()).min(1).default(STPP_TTA_SCALES),
    flip: z.boolean().default(true),
  })
  .strict();

const common = {
  /** epochs of each training stage (teacher, then re-trainings); default train.epochs for all (docs/methods.md §2.4) */
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
  readonly displayName: string;
  readonly summary: string;
  readonly configSchema: z.ZodType<C>;
  /** training stages it runs (for `stage_epochs`) */
  readonly trainings: number;
}

/** Every pipeline by the name used in configs and `--method`. */
export const PIPELINES = {
  st: {
    name: 'st',
    displayName: 'ST',
    summary: 'self-training: supervised teacher → pseudo-label all unlabeled images (TTA) → re-train from scratch',
    configSchema: stConfigSchema,
    trainings: 2,
  } satisfies PipelineInfo<StConfig>,
  stpp: {
    name: 'stpp',
    displayName: 'ST++',
    summary: 'ST++: teacher → stability-selected reliable images → re-train → pseudo-label the rest → re-train',
    configSchema: stppConfigSchema,
    trainings: 3,
  } satisfies PipelineInfo<StppConfig>,
};

export type PipelineName = keyof typeof PIPELINES;

export function isPipelineName(name: string): name is PipelineName {
  return Object.hasOwn(PIPELINES, name);
}
