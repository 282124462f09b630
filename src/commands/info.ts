import { promises as fs } from 'node:fs';
import type { BackendInfo } from '../backend/index.ts';
import { loadConfig } from '../config/load.ts';
import { SsssegError } from '../errors.ts';
import { readCheckpoint, type Checkpoint } from '../models/checkpoint.ts';
import { modelCost } from '../models/index.ts';
import type { Io } from '../output.ts';
import { precisionProblem, supportedPrecisions } from '../backend/precision.ts';

/**
 * `sssseg info <checkpoint.bin>`: what a checkpoint holds, without building any network (the
 * file is read and validated, nothing is put on the backend).
 */
export interface CheckpointSummary {
  file: string;
  bytes: number;
  format: string;
  version: string;
  method: string;
  dataset: { name: string; classes: string[]; dir?: string };
  epoch: number;
  iteration: number;
  metrics: Record<string, number>;
  evalNet: string | null;
  nets: Record<string, { backbone: string; head: string; outputStride: number; numClasses: number; tensors: number; parameters: number }>;
  /** tensors that belong to no net: optimizer slots, method state */
  otherTensors: number;
  config: unknown;
  extra: Record<string, unknown>;
}

export function summarizeCheckpoint(ck: Checkpoint, file: string, bytes: number): CheckpointSummary {
  const m = ck.meta;
  const nets: CheckpointSummary['nets'] = {};
  let owned = 0;
  for (const [name, info] of Object.entries(m.nets)) {
    let tensors = 0;
    let parameters = 0;
    for (const [key, t] of ck.tensors) {
      if (!key.startsWith(`${name}/`)) continue;
      tensors++;
      parameters += t.shape.reduce((a, b) => a * b, 1);
    }
    owned += tensors;
    nets[name] = {
      backbone: info.model.backbone,
      head: info.model.head,
      outputStride: info.model.output_stride,
      numClasses: info.numClasses,
      tensors,
      parameters,
    };
  }
  return {
    file, bytes, format: m.format, version: m.version, method: m.method, dataset: m.dataset,
    epoch: m.epoch, iteration: m.iteration, metrics: m.metrics, evalNet: m.evalNet ?? null, nets,
    otherTensors: ck.tensors.size - owned, config: m.config, extra: m.extra,
  };
}

export function formatCheckpointSummary(s: CheckpointSummary): string[] {
  const mb = (s.bytes / 1e6).toFixed(1);
  const lines = [
    `checkpoint:   ${s.file} (${mb} MB, ${s.format}, written by sssseg ${s.version})`,
    `method:       ${s.method}`,
    `dataset:      ${s.dataset.name} (${s.dataset.classes.length} classes: ${s.dataset.classes.join(', ')})`,
    `progress:     epoch ${s.epoch}, iteration ${s.iteration}`,
  ];
  const metrics = Object.entries(s.metrics);
  if (metrics.length) lines.push(`metrics:      ${metrics.map(([k, v]) => `${k}=${formatNumber(v)}`).join(', ')}`);
  for (const [name, n] of Object.entries(s.nets)) {
    const star = name === s.evalNet ? ' (evaluated)' : '';
    lines.push(
      `net ${name}${star}: ${n.backbone} + ${n.head}, output stride ${n.outputStride}, ${n.numClasses} classes, ` +
        `${n.tensors} tensors, ${(n.parameters / 1e6).toFixed(2)} M values`,
    );
  }
  if (s.otherTensors) lines.push(`other:        ${s.otherTensors} tensors (optimizer / method state)`);
  return lines;
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/** Print the metadata of `file`: human lines, or with `json` one JSON object. */
export async function printCheckpointInfo(file: string, json: boolean, out: (line: string) => void): Promise<void> {
  const ck = await readCheckpoint(file);
  const { size } = await fs.stat(file);
  const s = summarizeCheckpoint(ck, file, size);
  if (json) out(JSON.stringify(s));
  else for (const l of formatCheckpointSummary(s)) out(l);
}

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

/** `sssseg info`: the backend in use and what the machine offers. */
export function printBackendInfo(b: BackendInfo, json: boolean, io: Pick<Io, 'out'>): void {
  const precisions = supportedPrecisions(b);
  if (json) {
    io.out(JSON.stringify({ ...b, precisions }));
    return;
  }
  const yesNo = (v: boolean | null) => (v == null ? 'n/a' : v ? 'yes' : 'no');
  io.out(`backend:      ${b.name} (${b.provider}, requested ${b.requested})`);
  io.out(`tfjs:         ${b.tfjsVersion}`);
  io.out(`GPU:          ${b.gpu ? 'found (CUDA via tfjs-node-gpu)' : 'not found'}`);
  io.out(`wasm SIMD:    ${yesNo(b.wasmSimd)}`);
  io.out(`wasm threads: ${yesNo(b.wasmThreads)}`);
  io.out(`native:       ${b.native.loaded ? `loaded (oneDNN ${b.native.onednn}, ISA ${b.native.isa}, ${b.native.threads} threads)` : `not loaded (${b.native.reason})`}`);
  const bf16 = precisions.some((p) => p.startsWith('bf16')) ? '' : ` (bf16: ${precisionProblem('bf16', b)})`;
  io.out(`precisions:   ${precisions.join(', ')}${bf16}`);
}

/** `sssseg info --config`: the cost of a config's model, as lines or one JSON object. */
export async function printConfigCost(file: string, o: ConfigCostOptions & { json: boolean }, io: Pick<Io, 'out'>): Promise<void> {
  const c = await configCost(file, o);
  if (o.json) io.out(JSON.stringify({ gflops: c.gflops, params: c.params, input: c.input, classes: c.numClasses }));
  else formatConfigCost(c).forEach((l) => io.out(l));
}
