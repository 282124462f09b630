import * as tf from '@tensorflow/tfjs-core';
import type { SegNet, SegOutputs } from '../../models/index.ts';
import type { MethodInit } from '../types.ts';
import { copyParams } from '../../models/ema.ts';

/**
 * The method's networks by checkpoint name, in order. `copy`: every network starts as an exact
 * copy of the first (a teacher starts as its student: MT, CutMix-Seg, U2PL, PS-MT); `own`: each
 * is drawn independently (CPS, UCC: two differently initialised branches).
 */
export async function buildNets<K extends string>(ctx: Pick<MethodInit, 'buildNet'>, names: readonly K[], start: 'copy' | 'own'): Promise<Record<K, SegNet>> {
  const nets = {} as Record<K, SegNet>;
  for (const [i, name] of names.entries()) nets[name] = await ctx.buildNet(i);
  if (start === 'copy') for (const name of names.slice(1)) copyParams(nets[name], nets[names[0]!]);
  return nets;
}

/** The state of a method that holds nothing but its networks and its config section. */
export interface NetsState<K extends string, C> {
  nets: Record<K, SegNet>;
  cfg: C;
}

/**
 * `init`, `nets` and `evalNet` of such a method: its networks by name, how they start (see
 * `buildNets`), and which one is evaluated.
 */
export function netLayout<K extends string, C>(names: readonly K[], start: 'copy' | 'own', evaluated: (cfg: C, epoch: number) => K) {
  return {
    init: async (ctx: Pick<MethodInit, 'buildNet'>, cfg: C): Promise<NetsState<K, C>> => ({ nets: await buildNets(ctx, names, start), cfg }),
    nets: (s: NetsState<K, C>) => s.nets,
    // copies of the first network are its EMA teachers; independent ones are all trained
    students: (s: NetsState<K, C>): SegNet[] => (start === 'copy' ? [s.nets[names[0]!]] : names.map((n) => s.nets[n]!)),
    teachers: (s: NetsState<K, C>) => (start === 'copy' ? names.slice(1).map((n): [SegNet, SegNet] => [s.nets[n]!, s.nets[names[0]!]]) : []),
    evalNet: (s: NetsState<K, C>, epoch: number) => pickNet(s.nets, evaluated(s.cfg, epoch)),
  };
}

/** `evalNet` of a method whose config names the network to evaluate. */
export function pickNet<K extends string>(nets: Record<K, SegNet>, name: K): { name: K; net: SegNet } {
  return { name, net: nets[name] };
}

/** Rows [start, start+size) of every output a method may read. */
export function sliceOutputs(out: SegOutputs, start: number, size: number): SegOutputs {
  const cut = (t: tf.Tensor4D) => tf.slice(t, [start, 0, 0, 0], [size, -1, -1, -1]);
  return {
    logits: cut(out.logits),
    ...(out.aux ? { aux: cut(out.aux) } : {}),
    ...(out.logitsFp ? { logitsFp: cut(out.logitsFp) } : {}),
  };
}
