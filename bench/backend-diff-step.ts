/**
 * One backend's half of `bench/backend-diff.ts`: for each case (a config plus `--set`s) it builds
 * the method's networks exactly as the trainer does (same seed, same `buildNet` numbering), feeds a
 * fixed batch of synthetic images (no augmentation; U2PL CutMix boxes from a fixed Rng), and runs
 * ONE `method.step` through the project's own StepContext, with an optimizer that records the
 * gradients instead of applying them. It records every logged loss term and scalar, each student
 * gradient, and the eval-mode forward outputs of the networks before the step.
 *
 * Each backend runs in its own process: backend `native` registers gradient functions globally
 * (tf.registerGradient), so a `wasm` run after it in the same process would no longer be pure wasm.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, parseBackendChoice } from '../src/backend/index.ts';
import { loadConfig } from '../src/config/load.ts';
import type { ExperimentConfig } from '../src/config/schema.ts';
import { cutmixMask, normalizeInto, resolveCutmix } from '../src/data/index.ts';
import { syntheticSample } from '../src/data/synthetic.ts';
import { getMethod, isMethodName } from '../src/methods/index.ts';
import type { Method, TensorBatch, TrainBatch } from '../src/methods/types.ts';
import { buildSegNet, type SegNet } from '../src/models/index.ts';
import { readCheckpoint } from '../src/models/checkpoint.ts';
import { Sgd } from '../src/train/optimizer.ts';
import { planSchedule } from '../src/train/schedule-plan.ts';
import { planSemiPhase, unlabeledScale } from '../src/train/semi-phase.ts';
import { loadTrainState } from '../src/train/state.ts';
import { disposeBatch, makeStepContext, netNamer } from '../src/train/step-context.ts';
import { Rng } from '../src/util/rng.ts';

/** The quickstart's synthetic set: 64×64 images, 4 classes (`sssseg synthetic` defaults). */
export const SYNTH = { size: 64, classes: 4, seed: 0 } as const;

export interface CaseSpec {
  name: string;
  config: string;
  sets: string[];
  /** `--method`: another method on the same config (SupOnly with U2PL's head) */
  method?: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const U2PL = path.join(HERE, '../experiments/synthetic/u2pl.yaml');
const SUP = path.join(HERE, '../experiments/synthetic/sup.yaml');
const NO_CONTRA = 'u2pl.contrastive.enabled=false';
const UNSUP0 = 'u2pl.unsup_weight=0';

/** U2PL, then its specific parts switched off one at a time and together, then SupOnly on U2PL's head and on its own. */
export const CASES: CaseSpec[] = [
  { name: 'u2pl', config: U2PL, sets: [] },
  { name: 'u2pl, contrastive off', config: U2PL, sets: [NO_CONTRA] },
  { name: 'u2pl, unsup_weight 0', config: U2PL, sets: [UNSUP0] },
  { name: 'u2pl, both off', config: U2PL, sets: [NO_CONTRA, UNSUP0] },
  { name: 'sup, U2PL head', config: U2PL, sets: [], method: 'sup' },
  { name: 'sup', config: SUP, sets: [] },
];

/** Float32 data as base64, so a record survives JSON between the processes bit for bit. */
export type Packed = string;
export const pack = (a: Float32Array): Packed => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
export function unpack(s: Packed): Float32Array {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export interface StepRecord {
  case: string;
  method: string;
  iteration: number;
  semiIteration: number;
  /** everything the step logged: loss_<term> (unweighted values), kept_frac, ... */
  logs: Record<string, number>;
  /** student gradients by `<net>/<param>` */
  grads: Record<string, Packed>;
  /** eval-mode outputs before the step, by `<net>.<output>` (on labeled + unlabeled images) */
  eval: Record<string, Packed>;
}

export interface BackendRecord {
  backend: string;
  detail: string;
  cases: StepRecord[];
}

/** An Sgd whose `minimize` keeps the gradients and leaves the parameters alone. */
class GradRecorder extends Sgd {
  readonly grads: Record<string, Packed> = {};

  override minimize(loss: () => tf.Scalar, nets: [string, SegNet][], _lr: number): number {
    const params = nets.flatMap(([name, net]) => net.params().filter((p) => p.trainable).map((p) => ({ key: `${name}/${p.name}`, v: p.variable })));
    const { value, grads } = tf.variableGrads(loss, params.map((p) => p.v));
    for (const p of params) {
      const g = grads[p.v.name];
      // a parameter outside the loss's graph gets no gradient: record it as zeros
      this.grads[p.key] = pack(g ? Float32Array.from(g.dataSync() as Float32Array) : new Float32Array(p.v.size));
    }
    const out = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  }
}

/** Labeled images 0..nl-1 and unlabeled nl..nl+nu-1 of the synthetic train stream, as the loader normalises them. */
function part(first: number, n: number, boxes: Uint8Array[] | null): TensorBatch {
  const { size: s, classes, seed } = SYNTH;
  const x = new Float32Array(n * s * s * 3);
  const y = new Int32Array(n * s * s);
  for (let i = 0; i < n; i++) {
    const smp = syntheticSample(seed, 0, first + i, s, s, classes);
    normalizeInto(smp.image, x, i * s * s * 3);
    y.set(smp.label, i * s * s);
  }
  const box = boxes ? [tf.tensor3d(Float32Array.from(boxes.flatMap((b) => [...b])), [n, s, s])] : [];
  return { x: tf.tensor4d(x, [n, s, s, 3]), y: tf.tensor3d(y, [n, s, s], 'int32'), strong: [], ignore: tf.zeros([n, s, s], 'int32') as tf.Tensor3D, boxes: box };
}

function fixedBatch(cfg: ExperimentConfig, unlabeled: boolean): TrainBatch {
  const nl = cfg.train.batch_size;
  const nu = cfg.train.unlabeled_batch_size ?? nl;
  const labeled = part(0, nl, null);
  if (!unlabeled) return { labeled };
  // one box per unlabeled sample, as the loader draws them for U2PL, from a fixed stream
  const rng = new Rng(cfg.seed + 7);
  const cm = resolveCutmix(cfg.data.strong.cutmix, 'u2pl');
  const boxes = Array.from({ length: nu }, () => cutmixMask(cm, SYNTH.size, rng));
  return { labeled, unlabeled: part(nl, nu, boxes) };
}

/** Eval-mode outputs of every network on cat(labeled, unlabeled). */
function evalOutputs(nets: [string, SegNet][], batch: TrainBatch): Record<string, Packed> {
  const out: Record<string, Packed> = {};
  const x = tf.tidy(() => (batch.unlabeled ? tf.concat([batch.labeled.x, batch.unlabeled.x]) : tf.clone(batch.labeled.x)) as tf.Tensor4D);
  for (const [name, net] of nets) {
    tf.tidy(() => {
      const o = net.forward(x, { training: false });
      out[`${name}.logits`] = pack(o.logits.dataSync() as Float32Array);
      if (o.rep) out[`${name}.rep`] = pack(o.rep.dataSync() as Float32Array);
    });
  }
  x.dispose();
  return out;
}

/** One case: networks as the trainer builds them, optionally a checkpoint's state, one recorded step. */
async function runCase(spec: CaseSpec, checkpoint: string | undefined): Promise<StepRecord> {
  const cfg = await loadConfig(spec.config, spec.sets, spec.method);
  if (!isMethodName(cfg.method)) throw new Error(`${spec.config}: unknown method ${cfg.method}`);
  const method: Method<unknown, unknown> = getMethod(cfg.method);
  const c = method.configSchema.parse(cfg.methodConfig);
  const needs = method.dataNeeds(c);
  let netCount = 0;
  const buildNet = async (seedOffset = 0): Promise<SegNet> =>
    buildSegNet(cfg.model, SYNTH.classes, cfg.seed * 1000 + netCount++ * 17 + seedOffset, { precision: cfg.train.precision });
  const state = await method.init({ model: cfg.model, source: cfg.source, numClasses: SYNTH.classes, rng: new Rng(cfg.seed).fork(), buildNet }, c);
  const nets = Object.entries(method.nets(state));
  const sgd = new GradRecorder({ momentum: cfg.train.momentum, weightDecay: cfg.train.weight_decay, headLrMult: cfg.train.head_lr_mult });
  const batch = fixedBatch(cfg, needs.unlabeled);
  try {
    // the quickstart's split: 1/4 of 64 training images labeled
    const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i));
    const schedule = planSchedule(cfg, { labeled: ids(16), unlabeled: ids(48) }, needs);
    const phase = planSemiPhase(cfg.train.semi, schedule.totalIters, method.semiStart?.(state, schedule.itersPerEpoch) ?? 0);
    let iteration = phase.start;
    if (checkpoint) {
      const ck = await readCheckpoint(checkpoint);
      // momentum buffers are read into a throw-away optimizer: the recorded step applies nothing
      const scratch = new Sgd({ momentum: 0, weightDecay: 0, headLrMult: 1 });
      try {
        iteration = loadTrainState(ck, { method, state, sgd: scratch, nets, rng: new Rng(0) }).iteration;
      } finally {
        scratch.dispose();
      }
    }
    const epoch = Math.floor(iteration / schedule.itersPerEpoch);
    method.onEpochStart?.(state, epoch);
    const evalOut = evalOutputs(nets, batch);
    const logs: Record<string, number> = {};
    const ctx = makeStepContext({
      loss: cfg.train.loss, schedule, iteration, semiIteration: iteration - phase.start, unlabeledScale: unlabeledScale(phase, iteration),
      lr: cfg.train.lr, rng: new Rng(100), sgd, netName: netNamer(nets), logs,
    });
    method.step(state, batch, ctx);
    return { case: spec.name, method: cfg.method, iteration, semiIteration: iteration - phase.start, logs, grads: sgd.grads, eval: evalOut };
  } finally {
    disposeBatch(batch);
    for (const [, net] of nets) net.dispose();
  }
}

/** Every case on `backend`, in this process. */
export async function recordBackend(backend: string, cases: CaseSpec[], checkpoint?: string): Promise<BackendRecord> {
  const info = await initBackend(parseBackendChoice(backend, '--backend'));
  const n = info.native;
  const detail = info.name === 'native' && n.loaded ? `oneDNN ${n.onednn ?? '?'}, ${n.isa ?? '?'}, ${n.threads ?? '?'} threads` : info.provider;
  const out: BackendRecord = { backend: info.name, detail, cases: [] };
  for (const spec of cases) out.cases.push(await runCase(spec, checkpoint));
  return out;
}
