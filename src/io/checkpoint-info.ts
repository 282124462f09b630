import { promises as fs } from 'node:fs';
import { readCheckpoint, type Checkpoint } from './checkpoint.ts';

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
