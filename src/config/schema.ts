import { z } from 'zod';
import { modelConfigSchema } from '../models/index.ts';
import { weakAugSchema, strongAugSchema } from '../data/index.ts';
import { lossSchema } from '../losses/supervised.ts';
import { PRECISIONS } from '../backend/precision.ts';

/**
 * The experiment config: defaults live here once (style.md, Avoid 3). Every object is strict so
 * an unknown key is an error that names it. The method's own section (key = method name) is
 * validated by that method's schema in load.ts.
 */
/**
 * `train.semi`: how the semi-supervised phase starts, shared by every method. The defaults are the
 * official recipes (no extra warm-up, teachers as each method's code leaves them, no extra ramp);
 * `experiments/profiles/from-scratch.yaml` sets them for networks trained without ImageNet weights.
 */
const span = z.number().int().nonnegative();
const fraction = z.number().min(0).max(1);
export const semiSchema = z
  .object({
    /** supervised-only iterations before any unlabeled loss (the trainer trains the method's students on labeled CE) */
    warmup_iters: span.optional(),
    /** the same as a fraction of the run's iterations */
    warmup_fraction: fraction.optional(),
    /** at the start of the semi-supervised phase every EMA teacher becomes a copy of its student: `full` includes BN statistics */
    teacher_reset: z.enum(['none', 'full']).default('none'),
    /** iterations over which every unlabeled loss weight ramps from 0 to 1 after the warm-up */
    rampup_iters: span.optional(),
    rampup_fraction: fraction.optional(),
    rampup_shape: z.enum(['sigmoid', 'linear']).default('sigmoid'),
  })
  .strict()
  .refine((s) => s.warmup_iters === undefined || s.warmup_fraction === undefined, { message: 'set warmup_iters or warmup_fraction, not both' })
  .refine((s) => s.rampup_iters === undefined || s.rampup_fraction === undefined, { message: 'set rampup_iters or rampup_fraction, not both' });

export const trainSchema = z
  .object({
    epochs: z.number().int().positive().optional(),
    iterations: z.number().int().positive().optional(),
    batch_size: z.number().int().positive().default(4),
    unlabeled_batch_size: z.number().int().positive().optional(),
    lr: z.number().positive().default(0.001),
    head_lr_mult: z.number().positive().default(10),
    momentum: z.number().min(0).max(1).default(0.9),
    weight_decay: z.number().nonnegative().default(1e-4),
    poly_power: z.number().nonnegative().default(0.9),
    warmup_iters: z.number().int().nonnegative().default(0),
    /** samples per epoch: the unlabeled set's size (labeled oversampled to it), the labeled set's, or a number */
    epoch_length: z.union([z.enum(['unlabeled', 'labeled']), z.number().int().positive()]).default('unlabeled'),
    /** write last.bin every this many iterations (0: only at the end and on interruption) */
    checkpoint_every: z.number().int().nonnegative().default(0),
    val_every_epochs: z.number().int().nonnegative().default(1),
    val_limit: z.number().int().positive().optional(),
    loss: lossSchema.default(lossSchema.parse({})),
    /** a NaN or infinite loss stops the run (last good checkpoint kept): `error` exits 1, `stop` exits 0 */
    on_nonfinite: z.enum(['error', 'stop']).default('error'),
    /** convolutions and matrix products: fp32, or bf16 with fp32 accumulation (native backend with oneDNN bf16 kernels) */
    precision: z.enum(PRECISIONS).default('fp32'),
    semi: semiSchema.prefault({}),
  })
  .strict()
  .refine((t) => (t.epochs == null) !== (t.iterations == null), {
    message: 'set exactly one of train.epochs and train.iterations',
  });

export const evalSchema = z
  .object({
    mode: z.enum(['whole', 'center-crop', 'sliding']).default('whole'),
    crop: z.number().int().positive().optional(),
    stride: z.number().int().positive().optional(),
    scales: z.array(z.number().positive()).default([1]),
    flip: z.boolean().default(false),
    absent_as_zero: z.boolean().default(false),
    /** resize so both sides are multiples of this before inference (PS-MT: 8) */
    size_divisor: z.number().int().positive().optional(),
  })
  .strict();

export const dataSchema = z
  .object({
    crop: z.number().int().positive().default(321),
    weak: weakAugSchema.default(weakAugSchema.parse({})),
    strong: strongAugSchema.default(strongAugSchema.parse({})),
    /** keep decoded images in memory (small data sets) */
    cache: z.boolean().default(true),
    prefetch: z.number().int().nonnegative().default(2),
  })
  .strict();

/**
 * Where a config runs when the command line does not say: the prepared data folder and split
 * (paths relative to the directory sssseg runs in). `sssseg sweep` needs both.
 */
export const runSchema = z
  .object({
    data: z.string().min(1).optional(),
    split: z.string().min(1).optional(),
  })
  .strict();

export const baseConfigSchema = z.object({
  method: z.string(),
  run: runSchema.optional(),
  seed: z.number().int().default(0),
  model: modelConfigSchema,
  data: dataSchema.default(dataSchema.parse({})),
  train: trainSchema,
  eval: evalSchema.default(evalSchema.parse({})),
});

export type TrainConfig = z.infer<typeof trainSchema>;
export type SemiConfig = z.infer<typeof semiSchema>;
export type EvalConfig = z.infer<typeof evalSchema>;
export type DataConfig = z.infer<typeof dataSchema>;

/** A validated config; `methodConfig` is the method's section after its own schema. */
export type ExperimentConfig = z.infer<typeof baseConfigSchema> & {
  methodConfig: unknown;
  /** the file it came from (for messages and the run folder) */
  source: string;
};
