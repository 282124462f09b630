import * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions, ParamInfo, SegNet, SegOutputs } from '../../models/index.ts';

/** dst ← src for every tensor, BN running statistics included (a teacher starts as its student). */
export function copyParams(dst: SegNet, src: SegNet): void {
  const d = dst.params();
  const s = src.params();
  if (d.length !== s.length) throw new Error(`copyParams: ${d.length} vs ${s.length} parameters`);
  for (let i = 0; i < d.length; i++) d[i]!.variable.assign(s[i]!.variable);
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

/**
 * The mean of several networks' logits, for evaluation (PS-MT evaluates the average of its two
 * teachers). Its parameters are its members' (they are checkpointed under their own names), and
 * it owns nothing: dispose() leaves the members alone.
 */
export class AveragedNet implements SegNet {
  constructor(private readonly members: SegNet[]) {
    if (members.length === 0) throw new Error('AveragedNet needs at least one network');
  }

  get config(): SegNet['config'] {
    return this.members[0]!.config;
  }

  get numClasses(): number {
    return this.members[0]!.numClasses;
  }

  forward(x: tf.Tensor4D, opts: ForwardOptions): SegOutputs {
    return tf.tidy(() => {
      // members share an architecture, so logits share a resolution and can be averaged before upsampling
      const logits = this.members.map((m) => m.forward(x, { training: opts.training, ...(opts.rng ? { rng: opts.rng } : {}) }).logits);
      return { logits: tf.div(tf.addN(logits), logits.length) as tf.Tensor4D };
    });
  }

  params(): ParamInfo[] {
    return this.members.flatMap((m) => m.params());
  }

  dispose(): void {}
}
