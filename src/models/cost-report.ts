import { SsssegError } from '../errors.ts';
import { loadConfig } from '../config/load.ts';
import { modelCost } from './cost.ts';

/** `sssseg info --config`: the model of an experiment config, its parameters and forward cost. */
export interface ConfigCost {
  config: string;
  /** H, W of one input image */
  input: [number, number];
  numClasses: number;
  params: number;
  /** forward GFLOPs per image (2 × conv multiply-adds) */
  gflops: number;
}

/** `HxW` (also `H×W`, `H,W`) or a single side for a square input. */
export function parseInputSize(text: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[x×,]\s*(\d+))?\s*$/i.exec(text);
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h > 0 && w > 0)) {
    throw new SsssegError('cli.badInputSize', `--input "${text}" must look like HxW, e.g. 513x513`);
  }
  return [h, w];
}

export interface ConfigCostOptions {
  /** HxW; default: the config's training crop */
  input?: string;
  /** default 21 (VOC); only the classifier depends on it */
  numClasses?: number;
}

export async function configCost(file: string, o: ConfigCostOptions = {}): Promise<ConfigCost> {
  const cfg = await loadConfig(file);
  const input = o.input ? parseInputSize(o.input) : ([cfg.data.crop, cfg.data.crop] as [number, number]);
  const numClasses = o.numClasses ?? 21;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new SsssegError('cli.badClasses', `--classes must be a positive integer (got ${o.numClasses})`);
  }
  const { params, gflops } = modelCost(cfg.model, numClasses, input[0], input[1]);
  return { config: file, input, numClasses, params, gflops };
}

export function formatConfigCost(c: ConfigCost): string[] {
  return [
    `config:       ${c.config}`,
    `input:        ${c.input[0]}×${c.input[1]}, ${c.numClasses} classes`,
    `parameters:   ${c.params.toLocaleString('en-US')} (${(c.params / 1e6).toFixed(2)} M)`,
    `forward:      ${c.gflops.toFixed(2)} GFLOPs per image (2 × conv multiply-adds)`,
  ];
}
