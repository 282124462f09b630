import type { Io } from '../output.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import type { PreparedDataset, ResolvedSplit } from '../data/index.ts';
import { buildSegNet, type SegNet } from '../models/index.ts';
import { readWeightsFile, applyWeights, formatLoadReport } from '../models/pretrained.ts';
import { getMethod, type MethodName } from '../methods/index.ts';
import type { DataNeeds } from '../methods/types.ts';
import { Rng } from '../util/rng.ts';
import { SsssegError } from '../errors.ts';
import { Sgd } from './optimizer.ts';
import { polyLr } from './schedule.ts';
import { makeReporter } from './reporter.ts';
import { toPlainConfig } from '../config/load.ts';
import { openRunDir, writeResolvedConfig, type RunDir } from './run-dir.ts';
import { BatchStreams, type PseudoLabels } from './batches.ts';
import path from 'node:path';
import { planSchedule, type Schedule } from './schedule-plan.ts';
import { saveTrainState, loadTrainState } from './state.ts';
import { existsSync } from 'node:fs';
import { readCheckpoint } from '../models/checkpoint.ts';
import { checkResumable, truncateLog, wallTimeOf } from './resume.ts';
import { divergedError, nonFiniteLoss, nonFiniteWeight } from './divergence.ts';
import { validate, type ValidationResult } from './validate.ts';
import { checkBatch, disposeBatch, makeStepContext, netNamer } from './step-context.ts';
import { resolveClassWeights } from './class-weights.ts';
import { planSemiPhase, resetTeachers, studentsOf, unlabeledScale, warmupStep, type SemiPhase } from './semi-phase.ts';

export interface TrainOptions {
  cfg: ExperimentConfig;
  data: PreparedDataset;
  split: ResolvedSplit;
  outDir: string;
  resume: boolean;
  force: boolean;
  pretrained?: string;
  io: Io;
  /** the tfjs backend's name, for logs and results */
  backend: string;
  /** aborted on SIGINT: the trainer writes a checkpoint and returns */
  signal?: AbortSignal;
  /** extra labeled images with pseudo-masks on disk (ST / ST++ re-training) */
  pseudo?: PseudoLabels;
  /** also keep `ckpt-e<epoch>.bin` when these epochs complete (ST++ teacher at E/3, 2E/3, E) */
  saveAtEpochs?: number[];
  /** behave as if interrupted when this iteration is reached (tests of --resume, time-boxed runs) */
  stopAt?: number;
}

export interface TrainSummary {
  runDir: string;
  iterations: number;
  completed: boolean;
  /** training seconds over every segment of the run (a resumed run adds to what it had spent) */
  wallTimeS: number;
  /** a resume found the run finished, results.json included: nothing was trained or written */
  nothingToDo?: boolean;
  /** stopped at a non-finite loss with `train.on_nonfinite: stop` */
  diverged?: boolean;
  best?: ValidationResult;
  final?: ValidationResult;
}

/** The loop every method shares: data, LR, optimizer, checkpoints, validation, logging. */
export async function train(opts: TrainOptions): Promise<TrainSummary> {
  const { cfg, io } = opts;
  const method = getMethod(cfg.method as MethodName);
  const needs = method.dataNeeds(cfg.methodConfig);
  if (needs.unlabeled && opts.split.unlabeled.length === 0) {
    throw new SsssegError('train.noUnlabeled', `method ${cfg.method} needs unlabeled images but split ${opts.split.name} has none`);
  }
  const run = await openRunDir(opts.outDir, { resume: opts.resume, force: opts.force }, (l) => io.err(l));
  try {
    return await trainIn(run, opts, method, needs);
  } finally {
    await run.release();
  }
}

async function trainIn(run: RunDir, opts: TrainOptions, method: ReturnType<typeof getMethod>, needs: DataNeeds): Promise<TrainSummary> {
  const { cfg, io } = opts;
  // read and checked before anything is written: a resume that does not fit leaves the folder as it was
  const ck = opts.resume ? await readCheckpoint(run.file('last')) : undefined;
  if (ck) checkResumable(run.dir, ck.meta, cfg.method, toPlainConfig(cfg));
  const schedule = planSchedule(cfg, { labeled: [...opts.split.labeled, ...(opts.pseudo?.ids ?? [])], unlabeled: opts.split.unlabeled }, needs);
  const numClasses = opts.data.classes.length;
  const rng = new Rng(cfg.seed);
  let netCount = 0;
  const weightsFile = opts.pretrained ?? cfg.model.pretrained ?? undefined;
  // read once: methods with several networks (CPS, UCC, teachers) initialise each from the same file
  const weights = weightsFile ? await readWeightsFile(weightsFile) : undefined;
  const buildNet = async (seedOffset = 0): Promise<SegNet> => {
    const net = buildSegNet(cfg.model, numClasses, cfg.seed * 1000 + netCount++ * 17 + seedOffset, { precision: cfg.train.precision });
    if (weights && weightsFile) {
      const r = applyWeights(net.params(), weights, weightsFile);
      if (netCount === 1) io.err(`pretrained ${weightsFile}: ${formatLoadReport(r)}`);
    }
    return net;
  };
  const state = await method.init({ model: cfg.model, source: cfg.source, numClasses, rng: rng.fork(), buildNet }, cfg.methodConfig);
  const netEntries = () => Object.entries(method.nets(state));
  const sgd = new Sgd({ momentum: cfg.train.momentum, weightDecay: cfg.train.weight_decay, headLrMult: cfg.train.head_lr_mult });
  let start = 0;
  let best: ValidationResult | undefined;
  let validated = new Set<number>();
  if (ck) {
    const restored = loadTrainState(ck, { method, state, sgd, nets: netEntries(), rng });
    start = restored.iteration;
    best = restored.best;
    if (start >= schedule.totalIters && existsSync(run.file('results'))) {
      io.err(`${run.dir} is finished (iteration ${start}/${schedule.totalIters}, results.json written): nothing to do`);
      disposeAll(netEntries(), sgd);
      return { runDir: run.dir, iterations: start, completed: true, wallTimeS: wallTimeOf(ck.meta), best, nothingToDo: true };
    }
    const cut = await truncateLog(run.file('log'), start);
    validated = cut.validated;
    io.err(`resuming ${run.dir} at iteration ${start}/${schedule.totalIters}${cut.removed ? ` (${cut.removed} log line(s) after the checkpoint dropped)` : ''}`);
  }
  await writeResolvedConfig(run, toPlainConfig(cfg));
  io.err(
    `${cfg.method}: ${schedule.totalIters} iterations (${schedule.epochs} epochs × ${schedule.itersPerEpoch}), ` +
      `batch ${cfg.train.batch_size}${needs.unlabeled ? ` + ${schedule.unlabeledBatch} unlabeled` : ''}, lr ${cfg.train.lr}, backend ${opts.backend}` +
      (cfg.train.precision === 'fp32' ? '' : `, precision ${cfg.train.precision}`),
  );
  const cw = await resolveClassWeights(cfg.train.loss, opts.data, opts.split.labeled, cfg.source);
  if (cw.line) io.err(cw.line);
  const streams = new BatchStreams(opts.data, opts.split, cfg, needs, schedule, opts.pseudo);
  const t0 = Date.now();
  const base = ck ? wallTimeOf(ck.meta) : 0;
  const wallTime = () => base + (Date.now() - t0) / 1000;
  const phase = planSemiPhase(cfg.train.semi, schedule.totalIters, method.semiStart?.(state, schedule.itersPerEpoch) ?? 0);
  if (phase.warmup > 0) io.err(`supervised warm-up: iterations 0–${phase.warmup - 1}; semi-supervised from iteration ${phase.start}`);
  try {
    const result = await loop({ opts, run, schedule, streams, method, state, sgd, rng, start, best, netEntries, needs, wallTime, validated, phase, classWeights: cw.weights });
    return { runDir: run.dir, iterations: result.iteration, completed: result.completed, wallTimeS: wallTime(), best: result.best, final: result.final, diverged: result.diverged };
  } finally {
    streams.close();
    disposeAll(netEntries(), sgd);
  }
}

function disposeAll(nets: [string, SegNet][], sgd: Sgd): void {
  for (const [, net] of nets) net.dispose();
  sgd.dispose();
}

interface LoopArgs {
  opts: TrainOptions;
  run: RunDir;
  schedule: Schedule;
  streams: BatchStreams;
  method: ReturnType<typeof getMethod>;
  state: unknown;
  sgd: Sgd;
  rng: Rng;
  start: number;
  best?: ValidationResult;
  netEntries: () => [string, SegNet][];
  needs: DataNeeds;
  /** training seconds of the whole run so far */
  wallTime: () => number;
  /** iterations whose validation the (cut back) log already holds */
  validated: Set<number>;
  phase: SemiPhase;
  classWeights?: readonly number[];
}

interface LoopResult {
  iteration: number;
  completed: boolean;
  best?: ValidationResult;
  final?: ValidationResult;
  diverged?: boolean;
}

async function loop(a: LoopArgs): Promise<LoopResult> {
  const { opts, run, schedule, method, state, sgd, rng } = a;
  const { cfg, io } = opts;
  const reporter = makeReporter(io, schedule.totalIters, cfg.method);
  let best = a.best;
  let final: ValidationResult | undefined;
  let lastTime = Date.now();
  let it = a.start;
  let lastGood = a.start > 0 ? { file: path.basename(run.file('last')), iteration: a.start } : undefined;
  const save = async (file: string, iteration: number) => {
    // never put a diverged network on disk: the last checkpoint stays a good one
    const bad = nonFiniteWeight(a.netEntries());
    if (bad) throw divergedError(iteration, `weights of ${bad} are not finite`, lastGood);
    const epoch = Math.floor(iteration / schedule.itersPerEpoch);
    await saveTrainState(file, { cfg, data: opts.data, method, state, sgd, nets: a.netEntries(), rng, iteration, epoch, best, wallTimeS: a.wallTime() });
    if (file === run.file('last')) lastGood = { file: path.basename(file), iteration };
  };
  /** Validation due when `done` iterations are complete; the checkpoint of `done` is written after it. */
  const validateAt = async (done: number) => {
    const epoch = Math.floor((done - 1) / schedule.itersPerEpoch);
    const ep = epoch + 1;
    if (!(cfg.train.val_every_epochs > 0 && (ep % cfg.train.val_every_epochs === 0 || done === schedule.totalIters))) return;
    const { name, net } = done <= a.phase.warmup ? warmupEvalNet(a) : method.evalNet(state, epoch);
    const v = await validate(net, opts.data, cfg, { limit: cfg.train.val_limit, iteration: done, net: name });
    await run.appendLog({ it: done, epoch, val_miou: v.miou, val_pixel_acc: v.pixelAcc, val_net: name });
    reporter.message(`epoch ${ep}: val mIoU ${(v.miou * 100).toFixed(2)} (${name})`);
    final = v;
    if (!best || v.miou > best.miou) {
      best = v;
      await save(run.file('best'), done);
    }
  };
  const epochEnd = (done: number) => done % schedule.itersPerEpoch === 0 || done === schedule.totalIters;
  try {
    // a checkpoint written before its epoch's validation ran (older runs, or a validation that
    // failed): run the missing validation first
    if (a.start > 0 && epochEnd(a.start) && !a.validated.has(a.start)) {
      await validateAt(a.start);
      if (final) await save(run.file('last'), a.start);
    }
    for (; it < schedule.totalIters; it++) {
      if (opts.signal?.aborted || it === opts.stopAt) {
        await save(run.file('last'), it);
        reporter.message(`interrupted: checkpoint written at iteration ${it} (continue with --resume ${run.dir})`);
        return { iteration: it, completed: false, best };
      }
      const epoch = Math.floor(it / schedule.itersPerEpoch);
      if (it % schedule.itersPerEpoch === 0) method.onEpochStart?.(state, epoch);
      const lr = polyLr(cfg.train.lr, it, schedule.totalIters, cfg.train.poly_power, cfg.train.warmup_iters);
      const logs = await step(a, it, lr);
      const now = Date.now();
      const dt = Math.max(now - lastTime, 1);
      lastTime = now;
      reporter.update({ iteration: it + 1, total: schedule.totalIters, epoch, lr, itPerSec: 1000 / dt, logs });
      await run.appendLog({ it: it + 1, epoch, lr, ...logs, sec: dt / 1000, time: new Date(now).toISOString() });
      const done = it + 1;
      const nonFinite = nonFiniteLoss(logs);
      if (nonFinite) {
        const err = divergedError(done, `${nonFinite[0]} is ${nonFinite[1]} (lr ${lr.toPrecision(3)})`, lastGood);
        if (cfg.train.on_nonfinite === 'error') throw err;
        reporter.message(`stopped: ${err.message}`);
        return { iteration: done, completed: false, best, diverged: true };
      }
      const ep = Math.ceil(done / schedule.itersPerEpoch);
      if (epochEnd(done) && opts.saveAtEpochs?.includes(ep)) await save(path.join(run.dir, `ckpt-e${ep}.bin`), done);
      if (epochEnd(done)) await validateAt(done);
      if (cfg.train.checkpoint_every > 0 && done % cfg.train.checkpoint_every === 0 && done < schedule.totalIters) await save(run.file('last'), done);
    }
    await save(run.file('last'), it);
    return { iteration: it, completed: true, best, final };
  } finally {
    reporter.stop();
  }
}

/** One iteration: the trainer's warm-up step or the method's, on the batch of iteration `it`; returns its logs. */
async function step(a: LoopArgs, it: number, lr: number): Promise<Record<string, number>> {
  const { cfg } = a.opts;
  const { phase } = a;
  if (it === phase.start && phase.teacherReset === 'full' && resetTeachers(a.method, a.state) > 0) {
    a.opts.io.err(`iteration ${it}: the semi-supervised phase starts; teachers reset to their students (BN statistics included)`);
  }
  const logs: Record<string, number> = {};
  const scale = unlabeledScale(phase, it);
  const batch = await a.streams.batch(it);
  const ctx = makeStepContext({
    loss: cfg.train.loss, classWeights: a.classWeights, schedule: a.schedule, iteration: it, semiIteration: it - phase.start, unlabeledScale: scale,
    lr, rng: a.streams.stepRng(it), sgd: a.sgd, netName: netNamer(a.netEntries()), logs,
  });
  try {
    checkBatch(batch, a.needs, cfg.method);
    if (it < phase.warmup) warmupStep(studentsOf(a.method, a.state), batch, ctx);
    else a.method.step(a.state, batch, ctx);
  } finally {
    disposeBatch(batch);
  }
  if (phase.rampup > 0 && it >= phase.start) logs['unsup_scale'] = scale;
  return logs;
}

/** During the trainer's warm-up only the (first) student has learnt anything: evaluate it. */
function warmupEvalNet(a: LoopArgs): { name: string; net: SegNet } {
  const net = studentsOf(a.method, a.state)[0]!;
  return { name: netNamer(a.netEntries())(net), net };
}
