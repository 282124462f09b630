import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { SsssegError } from '../errors.ts';
import { decodePth, isPth } from '../io/pth.ts';
import { decodeSafetensors, type StoredTensor } from '../io/safetensors.ts';
import type { ParamInfo, SegNet } from './index.ts';

/**
 * ImageNet (or any PyTorch) weights into a SegNet. Files carry PyTorch names and layouts (conv
 * OIHW); our variables are HWIO. Names are matched twice: first the whole state_dict name (a
 * full segmentation model saved by PyTorch, `module.` stripped), then the backbone-local name
 * (`layer1.0.conv1.weight`), so torchvision/timm backbone files and files with `backbone.`,
 * `encoder.`, `model.`… prefixes load alike. mmseg's `stem.*` and CSAIL's `conv1..3/bn1..3`
 * deep-stem names are mapped onto U2PL's `conv1.0/1/3/4/6` + `bn1`.
 */
export interface LoadReport {
  loaded: number;
  missing: string[];
  unexpected: string[];
}

/** Top-level modules of a torchvision ResNet: where a backbone-local name starts. */
const ROOTS = new Set(['conv1', 'bn1', 'layer1', 'layer2', 'layer3', 'layer4', 'fc', 'stem', 'conv2', 'bn2', 'conv3', 'bn3']);

/** Read .safetensors or .pth (zip or legacy), told apart by content rather than extension. */
export async function readWeightsFile(file: string): Promise<Map<string, StoredTensor>> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch {
    throw new SsssegError('io.missingFile', `cannot read pretrained weights ${file}: no such file`);
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return isPth(bytes) ? decodePth(bytes, file) : decodeSafetensors(bytes, file).tensors;
}

/** Wrappers that training scripts put around a backbone's names. */
const PREFIXES = new Set(['module', 'model', 'backbone', 'encoder', 'state_dict', 'net', 'network', 'resnet', 'body', 'base', 'student', 'teacher']);

/**
 * The name from the first ResNet root module on, past known wrapper prefixes only, so that a
 * head's `decoder.conv1.weight` is never taken for the stem (`backbone.layer1.0.x` → `layer1.0.x`).
 */
export function backboneLocalName(name: string): string | null {
  const parts = name.split('.');
  let i = 0;
  while (i < parts.length - 1 && PREFIXES.has(parts[i]!)) i++;
  return ROOTS.has(parts[i]!) ? parts.slice(i).join('.') : null;
}

/** mmseg (`stem.0…7`) and CSAIL (`conv1..3`, `bn1..3`) deep stems → U2PL's names. */
function stemAlias(local: string, csail: boolean): string {
  const mm = /^stem\.(\d+)\.(.+)$/.exec(local);
  if (mm) {
    const idx = Number(mm[1]);
    return idx === 7 ? `bn1.${mm[2]}` : `conv1.${idx}.${mm[2]}`;
  }
  if (csail) {
    const cs = /^(conv|bn)([123])\.(.+)$/.exec(local);
    if (cs) {
      const target = { conv1: 'conv1.0', bn1: 'conv1.1', conv2: 'conv1.3', bn2: 'conv1.4', conv3: 'conv1.6', bn3: 'bn1' };
      return `${target[`${cs[1]}${cs[2]}` as keyof typeof target]}.${cs[3]}`;
    }
  }
  return local;
}

function stripModule(name: string): string {
  return name.replace(/^(module\.)+/, '');
}

/** PyTorch layout of one of our parameter shapes (HWIO → OIHW). */
function torchShape(shape: readonly number[]): number[] {
  return shape.length === 4 ? [shape[3]!, shape[2]!, shape[0]!, shape[1]!] : [...shape];
}

function toFloat32(t: StoredTensor): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (t.dtype === 'F16' || t.dtype === 'BF16') {
    const src = d as Uint16Array;
    const out = new Float32Array(src.length);
    const dv = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < src.length; i++) {
      if (t.dtype === 'BF16') {
        dv.setUint32(0, src[i]! << 16);
        out[i] = dv.getFloat32(0);
      } else {
        out[i] = halfToFloat(src[i]!);
      }
    }
    return out;
  }
  return Float32Array.from(d as ArrayLike<number>, Number);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** What the mapping needs of a parameter (a shape-only model serves too). */
export interface ParamSlot {
  name: string;
  group: ParamInfo['group'];
  /** our layout (HWIO convs) */
  shape: readonly number[];
}

export interface WeightPlan {
  /** file key → parameter name */
  pairs: Map<string, string>;
  missing: string[];
  unexpected: string[];
}

/**
 * Pair file keys with parameters (the first key that claims a parameter wins) and check every
 * pair's shape, so that a mismatch is reported before anything is assigned.
 */
export function planWeights(params: ParamSlot[], weights: Map<string, Pick<StoredTensor, 'shape'>>, source: string): WeightPlan {
  const byName = new Map(params.map((p) => [p.name, p]));
  const byLocal = new Map<string, ParamSlot>();
  for (const p of params) {
    const local = p.group === 'backbone' ? backboneLocalName(p.name) : null;
    if (local !== null) byLocal.set(local, p);
  }
  const keys = [...weights.keys()];
  const csail = keys.some((k) => backboneLocalName(stripModule(k)) === 'conv3.weight');
  const pairs = new Map<string, string>();
  const taken = new Set<string>();
  const unexpected: string[] = [];
  for (const key of keys) {
    if (key.endsWith('num_batches_tracked')) continue; // a counter, not a weight
    const full = stripModule(key);
    const local = backboneLocalName(full);
    const p = byName.get(full) ?? (local !== null ? byLocal.get(stemAlias(local, csail)) : undefined);
    if (!p || taken.has(p.name)) {
      unexpected.push(key);
      continue;
    }
    const have = weights.get(key)!.shape;
    const want = torchShape(p.shape);
    if (have.length !== want.length || have.some((d, i) => d !== want[i])) {
      throw new SsssegError(
        'weights.shapeMismatch',
        `${source}: ${key} has shape [${have.join(', ')}] but ${p.name} needs [${want.join(', ')}] (PyTorch layout)`,
        'check model.backbone, deep_stem and stem_width against the weights file',
      );
    }
    taken.add(p.name);
    pairs.set(key, p.name);
  }
  // ImageNet files never hold the head, so its absence is only news when some head key did load
  const headLoaded = params.some((p) => taken.has(p.name) && p.group !== 'backbone');
  const missing = params.filter((p) => !taken.has(p.name) && (headLoaded || p.group === 'backbone')).map((p) => p.name);
  return { pairs, missing, unexpected };
}

/** Copy matching weights into `params` (OIHW → HWIO); nothing is assigned when a shape mismatches. */
export function applyWeights(params: ParamInfo[], weights: Map<string, StoredTensor>, source: string): LoadReport {
  const slots = params.map((p) => ({ name: p.name, group: p.group, shape: p.variable.shape }));
  const plan = planWeights(slots, weights, source);
  const byName = new Map(params.map((p) => [p.name, p]));
  for (const [key, name] of plan.pairs) {
    const t = weights.get(key)!;
    tf.tidy(() => {
      const v = tf.tensor(toFloat32(t), t.shape, 'float32');
      byName.get(name)!.variable.assign(t.shape.length === 4 ? tf.transpose(v, [2, 3, 1, 0]) : v);
    });
  }
  return { loaded: plan.pairs.size, missing: plan.missing, unexpected: plan.unexpected };
}

/**
 * The inverse of applyWeights: every parameter (BN buffers included) under its PyTorch name in
 * PyTorch layout (HWIO → OIHW), e.g. to hand the same weights to a PyTorch model.
 */
export function torchStateDict(params: ParamInfo[]): Map<string, StoredTensor> {
  const out = new Map<string, StoredTensor>();
  for (const p of params) {
    const data = tf.tidy(() => (p.variable.rank === 4 ? tf.transpose(p.variable, [3, 2, 0, 1]) : p.variable).dataSync() as Float32Array);
    out.set(p.name, { dtype: 'F32', shape: torchShape(p.variable.shape), data: Float32Array.from(data) });
  }
  return out;
}

export async function loadPretrained(net: SegNet, file: string): Promise<LoadReport> {
  return applyWeights(net.params(), await readWeightsFile(file), file);
}

/** One line per list, for logs: `loaded 318 tensors; missing: …; unexpected: fc.weight, fc.bias`. */
export function formatLoadReport(r: LoadReport, max = 10): string {
  const list = (xs: string[]) => (xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')}, … (${xs.length} in all)`);
  const parts = [`loaded ${r.loaded} tensors`];
  if (r.missing.length) parts.push(`missing: ${list(r.missing)}`);
  if (r.unexpected.length) parts.push(`unexpected: ${list(r.unexpected)}`);
  return parts.join('; ');
}
