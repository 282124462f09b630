import { readFileSync } from 'node:fs';
import { readSafetensors, type StoredTensor } from '../../src/io/safetensors.ts';
import { fixturePath, sharedPath } from './shared.ts';

/**
 * The ResNet-50 golden references: torchvision's stem, layer1 and layer2 outputs for known
 * weights, as one map of torchvision-named OIHW weights plus `input`, `stem_out`, `layer1_out`,
 * `layer2_out` (NCHW). The committed one (test/fixtures/golden/resnet/r50_small) stores no
 * weights: they come from the counter hash below, the same formula as make_r50_small.py.
 */
export interface ResnetGolden {
  name: string;
  tensors: Map<string, StoredTensor>;
  /** weight tensors in the map */
  weights: number;
}

export const ACTIVATIONS = ['input', 'stem_out', 'layer1_out', 'layer2_out'] as const;

interface KeyList {
  models: Record<string, [string, number[]][]>;
}

/** State-dict keys and shapes of torchvision / U2PL ResNets (test/fixtures/golden/resnet/). */
export function resnetKeys(file: 'torchvision_keys.json' | 'u2pl_deepstem_keys.json'): KeyList['models'] {
  return (JSON.parse(readFileSync(fixturePath('golden', 'resnet', file), 'utf8')) as KeyList).models;
}

function fnv1a(name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** u_i in [0, 1): murmur3's fmix32 of fnv1a(name) ^ ((i + 1) · golden ratio), as in the .py. */
function uniform(name: string, n: number): Float64Array {
  const seed = fnv1a(name);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let h = (seed ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    out[i] = ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  }
  return out;
}

/** One tensor of the formula, computed in float64 and rounded once to float32. */
export function goldenValues(name: string, shape: number[]): Float32Array {
  const u = uniform(name, shape.reduce((a, b) => a * b, 1));
  const bound = shape.length === 4 ? Math.sqrt(6 / (shape[1]! * shape[2]! * shape[3]!)) : 0;
  const f =
    name === 'input' ? (x: number) => 2 * x - 1
    : shape.length === 4 ? (x: number) => (2 * x - 1) * bound
    : name.endsWith('running_var') ? (x: number) => 0.5 + 1.5 * x
    : name.endsWith('running_mean') || name.endsWith('bias') ? (x: number) => 0.4 * x - 0.2
    : (x: number) => 0.5 + x;
  return Float32Array.from(u, f);
}

/** test/fixtures/golden/resnet/r50_small: 34×22 input, weights regenerated. */
export async function smallResnetGolden(): Promise<ResnetGolden> {
  const file = await readSafetensors(fixturePath('golden', 'resnet', 'r50_small.safetensors'));
  const tensors = new Map<string, StoredTensor>();
  for (const name of ACTIVATIONS) tensors.set(name, file.tensors.get(name)!);
  let weights = 0;
  for (const [key, shape] of resnetKeys('torchvision_keys.json')['resnet50']!) {
    if (!/^(conv1|bn1|layer1|layer2)\./.test(key) || key.endsWith('num_batches_tracked')) continue;
    tensors.set(key, { dtype: 'F32', shape, data: goldenValues(key, shape) });
    weights++;
  }
  for (const [name, probe] of file.tensors) {
    if (!name.startsWith('probe.')) continue;
    const ours = tensors.get(name.slice('probe.'.length))!.data as Float32Array;
    const stored = probe.data as Float32Array;
    if (stored.some((v, i) => v !== ours[i])) throw new Error(`${name}: the regenerated weights differ from make_r50_small.py's`);
  }
  return { name: 'r50_small (34×22, hashed weights)', tensors, weights };
}

/** ../shared/reference/resnet/r50_partial (64×64, torch-initialised weights stored), or null. */
export async function sharedResnetGolden(): Promise<ResnetGolden | null> {
  const file = sharedPath('reference', 'resnet', 'r50_partial.safetensors');
  if (!file) return null;
  const { tensors } = await readSafetensors(file);
  return { name: 'r50_partial (64×64, ../shared)', tensors, weights: tensors.size - ACTIVATIONS.length };
}
