/** The data module's public surface: what the trainer, the config schema and eval import. */
export { openDataset, readSample, normalize, normalizeInto, IMAGENET_MEAN, IMAGENET_STD, type PreparedDataset, type Sample } from './dataset.ts';
export { weakAugSchema, strongAugSchema, weakAugment, strongAugment, cutmixMask, resolveCutmix, type WeakAug, type StrongAug, type CutMixAug, type BoxKind } from './augment.ts';
export { resolveSplit, type ResolvedSplit } from './split.ts';
