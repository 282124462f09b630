import * as tf from '@tensorflow/tfjs-core';
import type { SegNet, ParamInfo } from '../models/index.ts';
import { sgdStep } from '../backend/kernels/fused-update.ts';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
  /** head LR = lr × headLrMult (U2PL/ST++/UniMatch on VOC: 10) */
  headLrMult: number;
}

interface Slot {
  param: ParamInfo;
  momentum: tf.Variable;
}

/**
 * PyTorch SGD semantics (d = g + wd·p; buf = μ·buf + d; p −= lr·buf), with two groups: backbone at
 * lr, head at lr × mult. Momentum buffers are variables so checkpoints can store and restore them.
 */
export class Sgd {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly opts: SgdOptions) {}

  private slotsFor(netName: string, net: SegNet): Slot[] {
    const out: Slot[] = [];
    for (const p of net.params()) {
      if (!p.trainable) continue;
      const key = `${netName}/${p.name}`;
      let slot = this.slots.get(key);
      if (!slot) {
        slot = { param: p, momentum: tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false, `optim/${key}.momentum`)) };
        this.slots.set(key, slot);
      }
      out.push(slot);
    }
    return out;
  }

  /** Gradients of `loss` over the trainable parameters of `nets`, then one update; returns the loss. */
  minimize(loss: () => tf.Scalar, nets: [string, SegNet][], lr: number): number {
    const slots = nets.flatMap(([name, net]) => this.slotsFor(name, net));
    const { value, grads } = tf.variableGrads(loss, slots.map((s) => s.param.variable));
    const lossValue = value.dataSync()[0]!;
    const { momentum: mu, weightDecay: wd, headLrMult } = this.opts;
    for (const s of slots) {
      const g = grads[s.param.variable.name];
      if (!g) continue;
      // one tidy per parameter: a single tidy over all of them kept every intermediate of the
      // update alive until the end (~1 GB at ResNet-50 size, the step's peak)
      tf.tidy(() => {
        const p = s.param.variable;
        const groupLr = s.param.group === 'head' ? lr * headLrMult : lr;
        const [next, buf] = sgdStep(p, g, s.momentum, { lr: groupLr, momentum: mu, weightDecay: wd });
        s.momentum.assign(buf);
        p.assign(next);
      });
      g.dispose();
    }
    value.dispose();
    tf.dispose(grads);
    return lossValue;
  }

  /** Momentum buffers by checkpoint name (`optim/<net>/<param>.momentum`). */
  state(): Map<string, tf.Variable> {
    return new Map([...this.slots].map(([k, s]) => [`optim/${k}.momentum`, s.momentum]));
  }

  /** Restore buffers saved by `state()`; slots are created for `nets` first. */
  load(nets: [string, SegNet][], tensors: Map<string, tf.Tensor>): void {
    for (const [name, net] of nets) this.slotsFor(name, net);
    for (const [k, s] of this.slots) {
      const t = tensors.get(`optim/${k}.momentum`);
      if (t) s.momentum.assign(t);
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) s.momentum.dispose();
    this.slots.clear();
  }
}
