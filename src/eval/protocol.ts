/**
 * Inference protocols of the papers (docs/methods.md §8): which part of the image the net sees, at
 * which scales, and whether flipped copies are averaged in.
 */
import { SsssegError } from '../errors.ts';

export const INFERENCE_MODES = ['whole', 'center-crop', 'sliding'] as const;
export type InferenceMode = (typeof INFERENCE_MODES)[number];

export interface InferenceProtocol {
  /**
   * whole: the full image (ST++, UniMatch VOC, PS-MT);
   * center-crop: a centred crop×crop window, zero-padded if smaller (U2PL VOC train-time val);
   * sliding: crop×crop windows with overlap, softmax probabilities averaged (Cityscapes, CPS).
   */
  mode: InferenceMode;
  /** window side for center-crop and sliding */
  crop?: number;
  /** sliding step; default ceil(crop·2/3) as U2PL's eval.py */
  stride?: number;
  /** whole mode: resize to the next multiple of this and back (PS-MT uses 8) */
  sizeDivisor?: number;
  /** image scale factors whose probabilities are summed; default [1] */
  scales?: number[];
  /** also run on the horizontally flipped image and add its (unflipped) probabilities */
  flip?: boolean;
}

/** A protocol with every default filled in and checked. */
export interface ResolvedProtocol {
  mode: InferenceMode;
  crop: number;
  stride: number;
  sizeDivisor: number;
  scales: number[];
  flip: boolean;
}

export function resolveProtocol(p: InferenceProtocol): ResolvedProtocol {
  if (!(INFERENCE_MODES as readonly string[]).includes(p.mode)) {
    throw new SsssegError('eval.mode', `unknown inference mode "${p.mode}"; choose one of ${INFERENCE_MODES.join(', ')}`);
  }
  const needsCrop = p.mode !== 'whole';
  if (needsCrop && p.crop === undefined) {
    throw new SsssegError('eval.cropRequired', `inference mode "${p.mode}" needs a crop size`, 'pass --crop N');
  }
  const crop = p.crop ?? 0;
  positiveInt(crop, 'crop', !needsCrop);
  const stride = p.stride ?? Math.ceil((crop * 2) / 3);
  positiveInt(stride, 'stride', !needsCrop);
  const sizeDivisor = p.sizeDivisor ?? 1;
  positiveInt(sizeDivisor, 'size divisor', false);
  const scales = p.scales ?? [1];
  if (scales.length === 0 || scales.some((s) => !Number.isFinite(s) || s <= 0)) {
    throw new SsssegError('eval.scales', `scales must be positive numbers, got [${scales.join(', ')}]`);
  }
  return { mode: p.mode, crop, stride, sizeDivisor, scales, flip: p.flip ?? false };
}

function positiveInt(v: number, what: string, zeroOk: boolean): void {
  if (!Number.isInteger(v) || v < (zeroOk ? 0 : 1)) {
    throw new SsssegError('eval.protocol', `${what} must be a positive integer, got ${v}`);
  }
}

/** One line naming the protocol, e.g. "sliding 769 (stride 513), scales 1, no flip". */
export function describeProtocol(p: InferenceProtocol): string {
  const r = resolveProtocol(p);
  let head: string;
  if (r.mode === 'whole') head = r.sizeDivisor > 1 ? `whole (resized to a multiple of ${r.sizeDivisor})` : 'whole';
  else if (r.mode === 'center-crop') head = `center-crop ${r.crop}`;
  else head = `sliding ${r.crop} (stride ${r.stride})`;
  return `${head}, scales ${r.scales.join('/')}, ${r.flip ? 'flip' : 'no flip'}`;
}

/** Parse "0.5,0.75,1" (the --scales flag). */
export function parseScales(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const values = parts.map(Number);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new SsssegError('eval.scales', `--scales expects comma-separated positive numbers such as 0.5,0.75,1, got "${text}"`);
  }
  return values;
}

/**
 * Command-line flags win over the checkpoint config's eval section, which wins over "whole". Both
 * `eval` and the report's prediction grids evaluate a checkpoint this way.
 */
export function chooseProtocol(defaults: Partial<InferenceProtocol>, flags: Partial<InferenceProtocol>): InferenceProtocol {
  return {
    mode: flags.mode ?? defaults.mode ?? 'whole',
    crop: flags.crop ?? defaults.crop,
    stride: flags.stride ?? defaults.stride,
    sizeDivisor: flags.sizeDivisor ?? defaults.sizeDivisor,
    scales: flags.scales ?? defaults.scales,
    flip: flags.flip ?? defaults.flip,
  };
}
