import type { ExperimentConfig } from '../config/schema.ts';
import { readSample, normalize, type PreparedDataset } from '../data/index.ts';
import type { SegNet } from '../models/index.ts';
import { evaluate, type EvalResult, type EvalSample } from '../eval/evaluate.ts';
import type { InferenceProtocol } from '../eval/protocol.ts';

export interface ValidationResult {
  miou: number;
  pixelAcc: number;
  iou: number[];
  protocol: string;
  iteration: number;
  net: string;
  n: number;
}

/** The protocol named in the config's `eval` section (docs/methods.md §8: each paper's own). */
export function protocolFromConfig(cfg: ExperimentConfig): InferenceProtocol {
  const e = cfg.eval;
  return { mode: e.mode, crop: e.crop ?? cfg.data.crop, stride: e.stride, scales: e.scales, flip: e.flip, sizeDivisor: e.size_divisor };
}

async function* valSamples(data: PreparedDataset, ids: string[]): AsyncGenerator<EvalSample> {
  for (const id of ids) {
    const s = await readSample(data, id);
    yield { id, image: normalize(s.image), label: s.label, h: s.h, w: s.w };
  }
}

export function valIds(data: PreparedDataset, limit?: number): string[] {
  const ids = data.split('val');
  return limit ? ids.slice(0, limit) : ids;
}

/** Evaluate `net` (eval mode) on the val split with the config's protocol. */
export async function evaluateNet(net: SegNet, data: PreparedDataset, cfg: ExperimentConfig, ids: string[]): Promise<EvalResult> {
  return evaluate({
    samples: valSamples(data, ids),
    predict: (x) => net.forward(x, { training: false }).logits,
    protocol: protocolFromConfig(cfg),
    numClasses: data.classes.length,
    absentAsZero: cfg.eval.absent_as_zero,
  });
}

export async function validate(
  net: SegNet,
  data: PreparedDataset,
  cfg: ExperimentConfig,
  opts: { limit?: number; iteration: number; net: string },
): Promise<ValidationResult> {
  const r = await evaluateNet(net, data, cfg, valIds(data, opts.limit));
  return { miou: r.miou, pixelAcc: r.pixelAcc, iou: r.iou, protocol: r.protocol, iteration: opts.iteration, net: opts.net, n: r.n };
}
