/**
 * The weak and strong augmentation pipelines and their configuration. Defaults live once, in the
 * zod schemas; they follow UniMatch (docs/methods.md §3.2) and every part is switchable so the
 * U2PL (§1.2), ST++ (§2.2), PS-MT (§4.3) and CPS (§5.2) recipes are configurations, not code.
 */
import { z } from 'zod';
import type { Rng } from '../util/rng.ts';
import { resizedCrop, type CropResult } from './transforms/geometric.ts';
import { colorJitter, cutout, gaussianBlur, grayscale } from './transforms/photometric.ts';
import { boxMask, cpsBoxes, u2plBox, unimatchBox } from './transforms/cutmix.ts';

const prob = z.number().min(0).max(1);
const range = (lo: number, hi: number) =>
  z
    .tuple([z.number().nonnegative(), z.number().positive()])
    .refine(([a, b]) => a <= b, { message: 'range must be [low, high] with low <= high' })
    .default([lo, hi]);

/** How the image is rescaled before the crop. */
const resizeSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }).strict(),
  /** U2PL RandResize: with p `p_small` scale ~U(small) else ~U(large) */
  z.object({ mode: z.literal('u2pl'), p_small: prob.default(0.5), small: range(0.5, 1), large: range(1, 2) }).strict(),
  /** ST++/UniMatch/PS-MT: long side = random int in [lo·base, hi·base]; base = the image's own long side when absent */
  z.object({ mode: z.literal('longside'), range: range(0.5, 2), base: z.number().int().positive().optional() }).strict(),
]);

export const weakAugSchema = z
  .object({
    resize: resizeSchema.prefault({ mode: 'longside' }),
    hflip: prob.default(0.5),
    /** where padding goes when the rescaled image is smaller than the crop (U2PL: center, ST++/UniMatch: bottomright) */
    pad_align: z.enum(['center', 'bottomright']).default('bottomright'),
    /** label value in padding: 255 (ignore) by default; U2PL uses 0 */
    label_pad: z.number().int().min(0).max(255).default(255),
    /** image padding: `mean` = 0 after normalisation (U2PL), `black` = 0 before it (ST++/UniMatch) */
    image_pad: z.enum(['mean', 'black']).default('mean'),
  })
  .strict();

const cutmixSchema = z.discriminatedUnion('box', [
  /** the box generator of the method being trained, with its default parameters */
  z.object({ box: z.literal('auto') }).strict(),
  z.object({ box: z.literal('none') }).strict(),
  z
    .object({ box: z.literal('u2pl'), p: prob.default(0.5), scope: z.enum(['sample', 'batch']).default('batch'), ratio: z.number().gt(1).default(2) })
    .strict(),
  z
    .object({
      box: z.literal('unimatch'),
      p: prob.default(0.5),
      scope: z.enum(['sample', 'batch']).default('sample'),
      area: range(0.02, 0.4),
      aspect: range(0.3, 1 / 0.3),
    })
    .strict(),
  z
    .object({
      box: z.literal('cps'),
      p: prob.default(1),
      scope: z.enum(['sample', 'batch']).default('sample'),
      prop: range(0.25, 0.5),
      boxes: z.number().int().positive().default(3),
    })
    .strict(),
]);

export const strongAugSchema = z
  .object({
    color_jitter: z
      .object({ p: prob.default(0.8), brightness: z.number().min(0).default(0.5), contrast: z.number().min(0).default(0.5), saturation: z.number().min(0).default(0.5), hue: z.number().min(0).max(0.5).default(0.25) })
      .strict()
      .prefault({}),
    grayscale: z.object({ p: prob.default(0.2) }).strict().prefault({}),
    blur: z.object({ p: prob.default(0.5), sigma: range(0.1, 2) }).strict().prefault({}),
    /** ST++ cutout (off by default; ST++ uses p 0.5): noise-filled box, label `label_fill` inside */
    cutout: z
      .object({ p: prob.default(0), area: range(0.02, 0.4), aspect: range(0.3, 1 / 0.3), label_fill: z.number().int().min(0).max(255).default(255) })
      .strict()
      .prefault({}),
    /** CutMix box masks returned with each strong view (`Batch.boxes`); mixing itself is the method's */
    cutmix: cutmixSchema.prefault({ box: 'auto' }),
  })
  .strict();

export type WeakAug = z.infer<typeof weakAugSchema>;
export type StrongAug = z.infer<typeof strongAugSchema>;
export type WeakAugInput = z.input<typeof weakAugSchema>;
export type StrongAugInput = z.input<typeof strongAugSchema>;
/** A concrete box generator (`auto` resolved against the method). */
export type CutMixAug = Exclude<StrongAug['cutmix'], { box: 'auto' }>;
export type BoxKind = CutMixAug['box'];

/**
 * The box generator the loader uses for a method that mixes with `wanted` boxes: the configured
 * one, or the method's own defaults for `auto`. A configured generator of another kind is an error
 * (the config reader reports it with the file's name): it would otherwise be silently replaced.
 */
export function resolveCutmix(configured: StrongAug['cutmix'], wanted: BoxKind): CutMixAug {
  if (configured.box === 'auto') return cutmixSchema.parse({ box: wanted }) as CutMixAug;
  if (wanted !== 'none' && configured.box !== wanted) {
    throw new Error(`data.strong.cutmix.box is ${configured.box} but the method mixes with ${wanted} boxes`);
  }
  return configured;
}

/** The rescaled size (h, w) for one sample. */
export function drawResize(cfg: WeakAug['resize'], h: number, w: number, rng: Rng): [number, number] {
  if (cfg.mode === 'none') return [h, w];
  if (cfg.mode === 'u2pl') {
    const [lo, hi] = rng.next() < cfg.p_small ? cfg.small : cfg.large;
    const s = rng.uniform(lo, hi);
    return [Math.max(1, Math.floor(h * s)), Math.max(1, Math.floor(w * s))];
  }
  const base = cfg.base ?? Math.max(h, w);
  const long = rng.int(Math.floor(base * cfg.range[0]), Math.floor(base * cfg.range[1]) + 1);
  const other = (short: number, longSide: number) => Math.max(1, Math.floor((short * long) / longSide + 0.5));
  return h > w ? [long, other(w, h)] : [other(h, w), long];
}

/** Weak view: rescale, pad to the crop, random crop, horizontal flip. */
export function weakAugment(image: Uint8Array, label: Uint8Array, h: number, w: number, crop: number, cfg: WeakAug, rng: Rng): CropResult {
  const [rh, rw] = drawResize(cfg.resize, h, w, rng);
  const ph = Math.max(rh, crop);
  const pw = Math.max(rw, crop);
  const offY = cfg.pad_align === 'center' ? Math.floor((ph - rh) / 2) : 0;
  const offX = cfg.pad_align === 'center' ? Math.floor((pw - rw) / 2) : 0;
  const top = rng.int(0, ph - crop + 1) - offY;
  const left = rng.int(0, pw - crop + 1) - offX;
  const flip = rng.next() < cfg.hflip;
  return resizedCrop(image, label, h, w, { rh, rw, ch: crop, cw: crop, top, left, flip, labelPad: cfg.label_pad });
}

/** Strong view of a weak crop: jitter, grayscale, blur, cutout (each with its p). Inputs are not modified. */
export function strongAugment(image: Uint8Array, label: Uint8Array, size: number, cfg: StrongAug, rng: Rng): { image: Uint8Array; label: Uint8Array } {
  const out = new Uint8Array(image);
  const px = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  const lab = new Uint8Array(label);
  // one coin per step, drawn even when the step is off, so changing one p leaves the others' draws alone
  if (rng.next() < cfg.color_jitter.p) colorJitter(px, cfg.color_jitter, rng);
  if (rng.next() < cfg.grayscale.p) grayscale(px);
  if (rng.next() < cfg.blur.p) gaussianBlur(px, size, size, rng.uniform(cfg.blur.sigma[0], cfg.blur.sigma[1]));
  if (rng.next() < cfg.cutout.p) cutout(px, lab, size, size, cfg.cutout.area, cfg.cutout.aspect, cfg.cutout.label_fill, rng);
  return { image: out, label: lab };
}

/** One CutMix box mask (all zeros when the generator is off); the p coin is the caller's. */
export function cutmixMask(cfg: CutMixAug, size: number, rng: Rng): Uint8Array {
  switch (cfg.box) {
    case 'none':
      return new Uint8Array(size * size);
    case 'u2pl':
      return boxMask(size, size, [u2plBox(rng, size, size, cfg.ratio)]);
    case 'unimatch':
      return boxMask(size, size, [unimatchBox(rng, size, size, cfg.area, cfg.aspect)]);
    case 'cps':
      return boxMask(size, size, cpsBoxes(rng, size, size, cfg.prop, cfg.boxes), true);
  }
}
