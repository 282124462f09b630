import { z } from 'zod';

/**
 * The `u2pl:` section. Defaults are the official VOC config (docs/methods.md §1.3–1.4); every
 * ablation row of the paper is one key: contrastive on/off, memory bank on/off, DPA on/off
 * (fixed α), PRT on/off, negatives from unreliable/reliable/all pixels, r_l, r_h, α0.
 */
const percent = z.number().min(0).max(100);
const positiveInt = z.number().int().positive();

export const contrastiveSchema = z
  .object({
    enabled: z.boolean().default(true),
    loss_weight: z.number().nonnegative().default(1),
    /** per-class FIFO of negative keys; off = negatives from the current batch only */
    memory_bank: z.boolean().default(true),
    /** keys kept per class (class 0: `queue_size_bg`) */
    queue_size: positiveInt.default(30000),
    queue_size_bg: positiveInt.default(50000),
    num_queries: positiveInt.default(256),
    num_negatives: positiveInt.default(50),
    temperature: z.number().positive().default(0.5),
    /** r_l: labeled negatives need class c among the teacher's top r_l; unlabeled ones rank ≥ r_l */
    low_rank: z.number().int().nonnegative().default(3),
    /** r_h: unlabeled negatives need rank < r_h */
    high_rank: positiveInt.default(20),
    /** δ_p (`current_class_threshold`): anchors need teacher prob_c above it */
    anchor_threshold: z.number().min(0).max(1).default(0.3),
    /** δ_n (`current_class_negative_threshold`): negatives need teacher prob_c below it */
    negative_threshold: z.number().min(0).max(1).default(1),
    /** probability rank threshold; off: any non-top-1 class (labeled: any class ≠ GT) */
    prt: z.boolean().default(true),
    /** which unlabeled pixels give negatives: the unreliable α_t (paper), the reliable α_t, or all */
    negatives: z.enum(['unreliable', 'reliable', 'all']).default('unreliable'),
    /** released-code negatives (U2PL issue #171): additionally require label == c */
    code_faithful_negatives: z.boolean().default(false),
  })
  .strict()
  .refine((c) => c.high_rank > c.low_rank, { message: 'high_rank must be greater than low_rank', path: ['high_rank'] });

export const u2plConfigSchema = z
  .object({
    /** epochs of labeled CE only before the teacher and unlabeled losses start (Cityscapes: 0) */
    sup_only_epoch: z.number().int().nonnegative().default(1),
    ema_decay: z.number().min(0).max(1).default(0.99),
    /** probability of CutMix on the whole unlabeled batch (one coin per iteration) */
    cutmix_p: z.number().min(0).max(1).default(0.5),
    /** α0 in percent: reliable share at epoch 0 (unsup drop = 100 − α_t, contrastive partition α_t) */
    alpha0: percent.default(20),
    /** dynamic partition adjustment α_t = α0·(1 − e/E); off keeps α_t = α0 */
    dpa: z.boolean().default(true),
    unsup_weight: z.number().nonnegative().default(1),
    contrastive: contrastiveSchema.prefault({}),
  })
  .strict();

export type U2plConfig = z.infer<typeof u2plConfigSchema>;
export type ContrastiveConfig = U2plConfig['contrastive'];

/** α_t in percent for epoch e of E (DPA), or the fixed α0. */
export function alphaAt(c: U2plConfig, epoch: number, epochs: number): number {
  return c.dpa ? c.alpha0 * (1 - epoch / Math.max(epochs, 1)) : c.alpha0;
}

/**
 * EMA decay at semi-supervised iteration s (docs/methods.md §1.3 step 10: min(1 − 1/(i − L·sup_only + 1), ema_decay),
 * with s = i − L·sup_only the iterations since the semi-supervised phase began).
 */
export function emaDecayAt(c: U2plConfig, semiIteration: number): number {
  return Math.min(1 - 1 / Math.max(semiIteration + 1, 1), c.ema_decay);
}
