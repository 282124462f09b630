import type { Exec } from '../nn/exec.ts';

/** The backbone features a decoder reads: layer1 (stride 4) and layer4 (stride 8/16/32). */
export interface HeadInput<T> {
  c1: T;
  c4: T;
}

/** A decoder: backbone features in, logits (and U2PL's representation) out, at head resolution. */
export interface HeadModule {
  forward<T>(ex: Exec<T>, f: HeadInput<T>): { logits: T; rep?: T };
}

/** Hyper-parameters every head builder receives. */
export interface HeadArgs {
  /** output channels of layer1..layer4 */
  channels: [number, number, number, number];
  numClasses: number;
}
