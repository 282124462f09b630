import * as tf from '@tensorflow/tfjs-core';
import { SsssegError } from '../errors.ts';
import { VERSION } from '../version.ts';
import type { ModelConfig, SegNet } from './index.ts';
import { encodeSafetensors, readSafetensors, type StoredTensor as FileTensor } from '../io/safetensors.ts';
import { writeFileAtomic } from '../io/atomic.ts';

/**
 * checkpoint.bin: one safetensors file that describes itself. Tensors are `<net>/<param name>`
 * in our layout (HWIO convs) for every network of the method, plus whatever extra tensors the
 * caller passes (optimizer `optim/…`, method `extra/…`); `__metadata__.sssseg` holds the JSON
 * meta (config, data set, progress, RNG, metrics), enough to rebuild each net without the YAML.
 */
export const CHECKPOINT_FORMAT = 'sssseg-checkpoint/1';
const META_KEY = 'sssseg';

export interface CheckpointMeta {
  format: string;
  version: string;
  method: string;
  /** the plain resolved config */
  config: unknown;
  dataset: { name: string; classes: string[]; dir?: string };
  epoch: number;
  iteration: number;
  rng: unknown;
  metrics: Record<string, number>;
  extra: Record<string, unknown>;
  nets: Record<string, { model: ModelConfig; numClasses: number }>;
  evalNet?: string;
}

export interface StoredTensor {
  dtype: 'F32' | 'I32' | 'U8';
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  tensors: Map<string, StoredTensor>;
  /** where it was read from, for error messages */
  file?: string;
}

function fromTensor(t: tf.Tensor): StoredTensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32': return { dtype: 'F32', shape, data: t.dataSync() as Float32Array };
    case 'int32': return { dtype: 'I32', shape, data: t.dataSync() as Int32Array };
    case 'bool': return { dtype: 'U8', shape, data: Uint8Array.from(t.dataSync() as Uint8Array) };
    default: throw new SsssegError('checkpoint.dtype', `cannot store a ${t.dtype} tensor in a checkpoint`);
  }
}

/** The tensors and metadata of a checkpoint, ready to encode. */
export function checkpointContents(
  nets: Record<string, SegNet>,
  meta: Omit<CheckpointMeta, 'format' | 'version' | 'nets'>,
  extra?: Map<string, tf.Tensor>,
): { tensors: Map<string, StoredTensor>; meta: CheckpointMeta } {
  const tensors = new Map<string, StoredTensor>();
  const netMeta: CheckpointMeta['nets'] = {};
  for (const [name, net] of Object.entries(nets)) {
    if (name.includes('/')) throw new SsssegError('checkpoint.badName', `net name ${name} must not contain '/'`);
    netMeta[name] = { model: net.config, numClasses: net.numClasses };
    for (const p of net.params()) tensors.set(`${name}/${p.name}`, fromTensor(p.variable));
  }
  for (const [key, t] of extra ?? []) {
    if (tensors.has(key)) throw new SsssegError('checkpoint.badName', `extra tensor ${key} clashes with a network parameter`);
    tensors.set(key, fromTensor(t));
  }
  return { tensors, meta: { ...meta, format: CHECKPOINT_FORMAT, version: VERSION, nets: netMeta } };
}

/** Tensors `<net>/<param name>` for every net plus `extra`; written to a temp file and renamed. */
export async function saveCheckpoint(
  file: string,
  nets: Record<string, SegNet>,
  meta: Omit<CheckpointMeta, 'format' | 'version' | 'nets'>,
  extra?: Map<string, tf.Tensor>,
): Promise<void> {
  const c = checkpointContents(nets, meta, extra);
  await writeFileAtomic(file, encodeSafetensors(c.tensors, { [META_KEY]: JSON.stringify(c.meta) }));
}

function notCheckpoint(file: string, why: string): SsssegError {
  return new SsssegError('checkpoint.invalid', `${file} is not an sssseg checkpoint: ${why}`);
}

/** Validate decoded safetensors contents as a checkpoint. */
export function checkpointFrom(tensors: Map<string, FileTensor>, metadata: Record<string, string>, file: string): Checkpoint {
  const raw = metadata[META_KEY];
  if (raw === undefined) throw notCheckpoint(file, 'its safetensors metadata has no sssseg entry (weights file?)');
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(raw) as CheckpointMeta;
  } catch {
    throw notCheckpoint(file, 'its metadata is not valid JSON');
  }
  if (typeof meta !== 'object' || meta === null || typeof meta.format !== 'string' || !meta.format.startsWith('sssseg-checkpoint/')) {
    throw notCheckpoint(file, 'metadata without a format field');
  }
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new SsssegError('checkpoint.version', `${file} has format ${meta.format}; this sssseg ${VERSION} reads ${CHECKPOINT_FORMAT}`);
  }
  if (typeof meta.nets !== 'object' || meta.nets === null || Object.keys(meta.nets).length === 0) {
    throw notCheckpoint(file, 'metadata lists no networks');
  }
  const out = new Map<string, StoredTensor>();
  for (const [key, t] of tensors) {
    if (t.dtype !== 'F32' && t.dtype !== 'I32' && t.dtype !== 'U8') throw notCheckpoint(file, `tensor ${key} has dtype ${t.dtype}`);
    out.set(key, t as StoredTensor);
  }
  return { meta, tensors: out, file };
}

/** Read and validate; a truncated or corrupt file gives one SsssegError naming it. */
export async function readCheckpoint(file: string): Promise<Checkpoint> {
  const st = await readSafetensors(file).catch((err: unknown) => {
    if (err instanceof SsssegError && err.code === 'io.missingFile') {
      throw new SsssegError('checkpoint.missing', `checkpoint ${file} does not exist`);
    }
    throw err;
  });
  return checkpointFrom(st.tensors, st.metadata, file);
}

/** Copy net `name` of `ck` into `net`; any missing, extra or reshaped tensor is an error. */
export function restoreNet(ck: Checkpoint, name: string, net: SegNet): void {
  const where = ck.file ?? 'checkpoint';
  const mismatch = (why: string) =>
    new SsssegError('checkpoint.mismatch', `${where}: network ${name} does not match the model: ${why}`,
      'rebuild the model from the checkpoint metadata (loadNetFromCheckpoint) or check the model config');
  if (!(name in ck.meta.nets)) throw mismatch(`the checkpoint has no network ${name} (it has ${Object.keys(ck.meta.nets).join(', ')})`);
  const params = net.params();
  const expected = new Set(params.map((p) => `${name}/${p.name}`));
  for (const key of ck.tensors.keys()) {
    if (key.startsWith(`${name}/`) && !expected.has(key)) throw mismatch(`tensor ${key} has no parameter in the model`);
  }
  for (const p of params) {
    const key = `${name}/${p.name}`;
    const t = ck.tensors.get(key);
    if (!t) throw mismatch(`tensor ${key} is missing`);
    if (t.dtype !== 'F32') throw mismatch(`tensor ${key} has dtype ${t.dtype}, expected F32`);
    if (t.shape.length !== p.variable.shape.length || t.shape.some((d, i) => d !== p.variable.shape[i])) {
      throw mismatch(`tensor ${key} has shape [${t.shape.join(', ')}], the model needs [${p.variable.shape.join(', ')}]`);
    }
  }
  for (const p of params) {
    const t = ck.tensors.get(`${name}/${p.name}`)!;
    tf.tidy(() => p.variable.assign(tf.tensor(t.data as Float32Array, t.shape, 'float32')));
  }
}

/** A tensor of the checkpoint as a tf.Tensor (optimizer slots, method state). */
export function checkpointTensor(ck: Checkpoint, key: string): tf.Tensor {
  const t = ck.tensors.get(key);
  if (!t) throw new SsssegError('checkpoint.mismatch', `${ck.file ?? 'checkpoint'}: tensor ${key} is missing`);
  const dtype = t.dtype === 'F32' ? 'float32' : t.dtype === 'I32' ? 'int32' : 'bool';
  return tf.tensor(t.data, t.shape, dtype);
}

/**
 * Rebuild a net from the checkpoint's own metadata (default: the evaluation net, else the first).
 * A name `a+b` is the average of those networks' logits (PS-MT evaluates both teachers).
 */
export async function loadNetFromCheckpoint(file: string, netName?: string): Promise<{ net: SegNet; meta: CheckpointMeta }> {
  const ck = await readCheckpoint(file);
  const name = netName ?? ck.meta.evalNet ?? Object.keys(ck.meta.nets)[0]!;
  const members: SegNet[] = [];
  try {
    for (const part of name.split('+')) members.push(await rebuildNet(ck, file, part));
  } catch (err) {
    for (const m of members) m.dispose();
    throw err;
  }
  if (members.length === 1) return { net: members[0]!, meta: ck.meta };
  const { AveragedNet } = await import('./averaged.ts');
  return { net: new AveragedNet(members, true), meta: ck.meta };
}

async function rebuildNet(ck: Checkpoint, file: string, name: string): Promise<SegNet> {
  const info = ck.meta.nets[name];
  if (!info) {
    throw new SsssegError('checkpoint.noNet', `${file} has no network ${name} (it has ${Object.keys(ck.meta.nets).join(', ')})`);
  }
  // loaded lazily so that `sssseg info ckpt.bin` does not pull in the model code
  const { buildSegNet, modelConfigSchema } = await import('./index.ts');
  const parsed = modelConfigSchema.safeParse(info.model);
  if (!parsed.success) {
    throw new SsssegError('checkpoint.invalid', `${file}: the model config of network ${name} is not valid for this sssseg (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  }
  checkFinite(ck, file, name);
  const net = buildSegNet(parsed.data, info.numClasses, 0);
  try {
    restoreNet(ck, name, net);
  } catch (err) {
    net.dispose();
    throw err;
  }
  return net;
}

/** A network with NaN or infinite weights (a diverged run) predicts nothing meaningful: refuse it. */
function checkFinite(ck: Checkpoint, file: string, name: string): void {
  for (const [key, t] of ck.tensors) {
    if (!key.startsWith(`${name}/`) || t.dtype !== 'F32') continue;
    const bad = (t.data as Float32Array).findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new SsssegError('checkpoint.nonFinite', `${file}: network ${name} has non-finite weights (${key}[${bad}] is ${t.data[bad]}): the run diverged`, 'evaluate an earlier checkpoint of the run');
    }
  }
}
