import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../util/rng.ts';

export type ParamKind = 'weight' | 'bias' | 'bn_weight' | 'bn_bias' | 'running_mean' | 'running_var';
export type ParamGroup = 'backbone' | 'head';

/** How PyTorch would initialise the tensor; the values are drawn from our seeded Rng. */
export type Init =
  | { type: 'normal'; std: number }
  | { type: 'uniform'; bound: number }
  | { type: 'const'; value: number };

export interface ParamDecl {
  /** PyTorch state_dict name, e.g. `backbone.layer1.0.conv1.weight` */
  name: string;
  /** our layout: conv weights are HWIO */
  shape: number[];
  kind: ParamKind;
  group: ParamGroup;
  trainable: boolean;
  init: Init;
}

export interface Param {
  readonly decl: ParamDecl;
  /** null when the store only records shapes (parameter / FLOP counting) */
  readonly variable: tf.Variable | null;
}

/**
 * Collects parameter declarations in a stable order. A materialising store creates a tf.Variable
 * per declaration, initialised from `rng` in declaration order, so a seed fixes every weight; a
 * shape-only store (rng = null) allocates nothing and serves parameter and FLOP counts.
 */
export class ParamStore {
  readonly params: Param[] = [];
  private readonly names = new Set<string>();

  constructor(private readonly rng: Rng | null) {}

  get materialized(): boolean {
    return this.rng !== null;
  }

  declare(decl: ParamDecl): Param {
    if (this.names.has(decl.name)) throw new Error(`duplicate parameter name ${decl.name}`);
    this.names.add(decl.name);
    let variable: tf.Variable | null = null;
    if (this.rng) {
      const values = initValues(decl.shape, decl.init, this.rng);
      // no explicit name: tfjs names must be unique engine-wide and several nets share our names
      variable = tf.tidy(() => tf.variable(tf.tensor(values, decl.shape, 'float32'), decl.trainable));
    }
    const p: Param = { decl, variable };
    this.params.push(p);
    return p;
  }
}

/** A view of a store that prefixes names and fixes the group and BN freezing. */
export interface Scope {
  store: ParamStore;
  prefix: string;
  group: ParamGroup;
  frozenBn: boolean;
}

export function child(s: Scope, name: string): Scope {
  return { ...s, prefix: `${s.prefix}${name}.` };
}

function initValues(shape: number[], init: Init, rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  switch (init.type) {
    case 'const':
      out.fill(init.value);
      break;
    case 'uniform':
      for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * init.bound;
      break;
    case 'normal':
      fillNormal(out, init.std, rng);
      break;
  }
  return out;
}

/** Marsaglia's polar method, both outputs of each pair: no trig calls, ~3× faster than Box-Muller for big backbones. */
function fillNormal(out: Float32Array, std: number, rng: Rng): void {
  for (let i = 0; i < out.length; i += 2) {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * rng.next() - 1;
      v = 2 * rng.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = std * Math.sqrt((-2 * Math.log(s)) / s);
    out[i] = u * m;
    if (i + 1 < out.length) out[i + 1] = v * m;
  }
}

export function variableOf(p: Param): tf.Variable {
  if (!p.variable) throw new Error(`parameter ${p.decl.name} has no variable (shape-only model)`);
  return p.variable;
}
