import * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions, ParamInfo, SegNet, SegOutputs } from './index.ts';

/**
 * The mean of several networks' logits, for evaluation (PS-MT evaluates the average of its two
 * teachers). Its parameters are its members' (they are checkpointed under their own names), and
 * it owns nothing unless `owns` (a net rebuilt from a checkpoint for `sssseg eval`): dispose() then
 * disposes the members.
 */
export class AveragedNet implements SegNet {
  constructor(
    private readonly members: SegNet[],
    private readonly owns = false,
  ) {
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

  dispose(): void {
    if (this.owns) for (const m of this.members) m.dispose();
  }
}
