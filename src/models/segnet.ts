import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/rng.ts';
import { SsssegError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { architectureForward, buildArchitecture, type Architecture } from './architecture.ts';
import { ParamStore, type ParamGroup, type ParamKind } from './nn/params.ts';
import { TensorExec } from './nn/tensor-exec.ts';
import type { Precision } from '../backend/precision.ts';

export interface ParamInfo {
  /** PyTorch state_dict name */
  name: string;
  variable: tf.Variable;
  kind: ParamKind;
  group: ParamGroup;
  trainable: boolean;
}

export interface ForwardOptions {
  training: boolean;
  /** source of dropout seeds; the net's own seeded stream when left out */
  rng?: Rng;
  /**
   * UniMatch feature perturbation: also return logitsFp, the head run on Dropout2d(p)-perturbed
   * layer1/layer4 features (clean and perturbed decoded as one doubled batch, as UniMatch does)
   */
  featureDropout?: number;
}

export interface SegOutputs {
  /** NHWC at head resolution (stride 4 or 8); callers upsample (align_corners) */
  logits: tf.Tensor4D;
  aux?: tf.Tensor4D;
  /** U2PL 256-d representation, NHWC, same resolution as logits */
  rep?: tf.Tensor4D;
  logitsFp?: tf.Tensor4D;
}

export interface SegNet {
  readonly config: ModelConfig;
  readonly numClasses: number;
  forward(x: tf.Tensor4D, opts: ForwardOptions): SegOutputs;
  params(): ParamInfo[];
  dispose(): void;
}

class TfSegNet implements SegNet {
  private readonly arch: Architecture;
  private readonly store: ParamStore;
  private readonly infos: ParamInfo[];
  /** dropout seeds when the caller passes no Rng */
  private readonly ownRng: Rng;
  private disposed = false;

  constructor(
    readonly config: ModelConfig,
    readonly numClasses: number,
    seed: number,
    /** of its convolutions and matrix products, in every forward (and so their gradients) */
    private readonly precision: Precision,
  ) {
    const rng = new Rng(seed);
    this.store = new ParamStore(rng);
    this.arch = buildArchitecture(this.store, config, numClasses);
    this.ownRng = rng.fork();
    this.infos = this.store.params.map((p) => ({
      name: p.decl.name,
      variable: p.variable!,
      kind: p.decl.kind,
      group: p.decl.group,
      trainable: p.decl.trainable,
    }));
  }

  forward(x: tf.Tensor4D, opts: ForwardOptions): SegOutputs {
    if (this.disposed) throw new SsssegError('model.disposed', 'forward() on a disposed network');
    if (x.rank !== 4 || x.shape[3] !== 3) {
      throw new SsssegError('model.badInput', `expected an NHWC image batch with 3 channels, got shape [${x.shape.join(', ')}]`);
    }
    const rng = opts.rng ?? this.ownRng;
    const nextSeed = () => rng.nextU32();
    const ex = new TensorExec({ training: opts.training, nextSeed, precision: this.precision });
    const p = opts.featureDropout;
    return tf.tidy(() => {
      const perturb =
        p === undefined
          ? undefined
          : (c1: tf.Tensor4D, c4: tf.Tensor4D) => ({ c1: withDropped(c1, p, nextSeed()), c4: withDropped(c4, p, nextSeed()) });
      const out = architectureForward(ex, this.arch, x, perturb);
      const result: SegOutputs = { logits: out.logits };
      if (p !== undefined) {
        const [clean, fp] = tf.split(out.logits, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
        result.logits = clean;
        result.logitsFp = fp;
        if (out.rep) result.rep = tf.split(out.rep, 2, 0)[0] as tf.Tensor4D;
      } else if (out.rep) {
        result.rep = out.rep;
      }
      if (out.aux) result.aux = out.aux;
      return result as unknown as tf.TensorContainer;
    }) as unknown as SegOutputs;
  }

  params(): ParamInfo[] {
    return this.infos;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.infos) p.variable.dispose();
  }
}

/** [x; Dropout2d(x)] along the batch: nn.Dropout2d as UniMatch instantiates it (always active). */
function withDropped(x: tf.Tensor4D, rate: number, seed: number): tf.Tensor4D {
  const [n, , , c] = x.shape;
  const dropped = rate > 0 ? (tf.dropout(x, rate, [n, 1, 1, c], seed) as tf.Tensor4D) : x;
  return tf.concat([x, dropped], 0);
}

/**
 * Same config and seed give the same weights; the weights are PyTorch-style random inits. The
 * precision is checked by whoever chooses it (src/backend/precision.ts assertPrecision).
 */
export function buildSegNet(cfg: ModelConfig, numClasses: number, seed: number, opts: { precision?: Precision } = {}): SegNet {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new SsssegError('model.numClasses', `number of classes must be a positive integer (got ${numClasses})`);
  }
  return new TfSegNet(cfg, numClasses, seed, opts.precision ?? 'fp32');
}
