/**
 * Adapters from the checkpoint and dataset modules to the narrow shapes `sssseg eval` needs.
 * Kept apart from the command so that the command (and its tests) can run on injected fakes, and
 * loaded lazily so the CLI starts without pulling in models and decoders.
 */
import type { PredictFn } from './inference.ts';
import type { EvalSample } from './evaluate.ts';
import type { InferenceProtocol } from './protocol.ts';
import type { Rgb } from './save-pred.ts';

/** Protocol defaults a checkpoint's config carries (its `eval` section and data crop). */
export interface EvalDefaults extends Partial<InferenceProtocol> {
  absentAsZero?: boolean;
}

export interface EvalModel {
  predict: PredictFn;
  /** class names the network was trained on */
  classes: string[];
  datasetName: string;
  method: string;
  /** the prepared data folder it was trained on, when the checkpoint records one */
  dataDir?: string;
  defaults: EvalDefaults;
  dispose(): void;
}

export interface EvalData {
  name: string;
  classes: string[];
  palette: Rgb[];
  splits: Record<string, string[]>;
  read(id: string): Promise<EvalSample>;
}

export interface EvalSources {
  loadModel(file: string, net?: string): Promise<EvalModel>;
  openData(dir: string): Promise<EvalData>;
}

export const defaultEvalSources: EvalSources = {
  async loadModel(file, netName) {
    const { loadNetFromCheckpoint } = await import('../models/checkpoint.ts');
    const { net, meta } = await loadNetFromCheckpoint(file, netName);
    return {
      predict: (x) => net.forward(x, { training: false }).logits,
      classes: meta.dataset.classes,
      datasetName: meta.dataset.name,
      method: meta.method,
      dataDir: meta.dataset.dir,
      defaults: evalDefaultsFromConfig(meta.config),
      // networks hold their weights as tf.Variables; free them when the evaluation ends
      dispose: () => net.dispose(),
    };
  },
  async openData(dir) {
    const { openDataset, readSample, normalize } = await import('../data/index.ts');
    const data = await openDataset(dir);
    return {
      name: data.name,
      classes: data.classes,
      palette: data.meta.palette,
      splits: data.meta.splits,
      async read(id) {
        const s = await readSample(data, id);
        return { id, image: normalize(s.image), label: s.label, h: s.h, w: s.w };
      },
    };
  },
};

/**
 * Read the checkpoint config's `eval` section (mode, crop, stride, scales, flip, absent_as_zero,
 * size_divisor) without trusting its shape: an old or foreign checkpoint just gives no defaults.
 * Without an eval crop, the training crop is the window (U2PL/UniMatch evaluate at crop size).
 */
export function evalDefaultsFromConfig(config: unknown): EvalDefaults {
  const cfg = asRecord(config);
  const ev = asRecord(cfg['eval']);
  const data = asRecord(cfg['data']);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const mode = ev['mode'];
  const scales = Array.isArray(ev['scales']) && ev['scales'].every((s) => typeof s === 'number') ? (ev['scales'] as number[]) : undefined;
  return {
    mode: mode === 'whole' || mode === 'center-crop' || mode === 'sliding' ? mode : undefined,
    crop: num(ev['crop']) ?? num(data['crop']),
    stride: num(ev['stride']),
    sizeDivisor: num(ev['size_divisor']),
    scales,
    flip: typeof ev['flip'] === 'boolean' ? ev['flip'] : undefined,
    absentAsZero: typeof ev['absent_as_zero'] === 'boolean' ? ev['absent_as_zero'] : undefined,
  };
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
