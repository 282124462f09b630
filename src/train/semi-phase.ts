import * as tf from '@tensorflow/tfjs-core';
import type { SemiConfig } from '../config/schema.ts';
import { copyParams } from '../models/ema.ts';
import type { SegNet } from '../models/index.ts';
import type { Method, StepContext, TrainBatch } from '../methods/types.ts';

/**
 * Where the semi-supervised phase of a run begins and how it eases in (`train.semi`): the trainer
 * trains the method's students on the labeled images alone until `start`, resets the teachers to
 * their students there if asked, and ramps every unlabeled loss weight from 0 to 1 over `rampup`
 * iterations after it. These belong to the trainer, not to each method, so every method gets the
 * same regime (the papers' recipes assume ImageNet-initialised encoders; from scratch, a teacher
 * worth copying and pseudo-labels worth learning from need a supervised start).
 */
export interface SemiPhase {
  /** iterations [0, warmup) are the trainer's supervised warm-up (the method's step is not called) */
  warmup: number;
  /** first iteration of the semi-supervised phase: after the warm-up and the method's own supervised epochs */
  start: number;
  rampup: number;
  shape: SemiConfig['rampup_shape'];
  teacherReset: SemiConfig['teacher_reset'];
}

const span = (iters: number | undefined, fraction: number | undefined, total: number) =>
  iters ?? Math.round((fraction ?? 0) * total);

export function planSemiPhase(c: SemiConfig, totalIters: number, methodStart: number): SemiPhase {
  const warmup = Math.min(span(c.warmup_iters, c.warmup_fraction, totalIters), totalIters);
  return {
    warmup,
    start: Math.max(warmup, methodStart),
    rampup: span(c.rampup_iters, c.rampup_fraction, totalIters),
    shape: c.rampup_shape,
    teacherReset: c.teacher_reset,
  };
}

/** The factor on unlabeled loss weights at iteration `it`: 0 → 1 over the ramp-up after `start`. */
export function unlabeledScale(p: SemiPhase, it: number): number {
  if (p.rampup <= 0) return 1;
  const t = Math.min(Math.max((it - p.start) / p.rampup, 0), 1);
  // Mean Teacher's sigmoid ramp exp(−5(1 − t)²), or a straight line
  return p.shape === 'linear' ? t : Math.exp(-5 * (1 - t) * (1 - t));
}

/** The networks SGD trains for a method (default: its first network). */
export function studentsOf<S>(method: Method<unknown, S>, state: S): SegNet[] {
  return method.students?.(state) ?? [Object.values(method.nets(state))[0]!];
}

/** One warm-up iteration: the supervised loss of every student on the labeled batch, one SGD step. */
export function warmupStep(students: SegNet[], batch: TrainBatch, ctx: StepContext): void {
  const { x, y } = batch.labeled;
  ctx.minimize(() => {
    const losses = students.map((net) => ctx.supervised(net.forward(x, { training: true, rng: ctx.rng }), y));
    return { sup: losses.reduce((a, b) => tf.add(a, b) as tf.Scalar) };
  }, students);
}

/** At the start of the semi-supervised phase: each teacher ← its student, BN statistics included. */
export function resetTeachers<S>(method: Method<unknown, S>, state: S): number {
  const pairs = method.teachers?.(state) ?? [];
  for (const [teacher, student] of pairs) copyParams(teacher, student);
  return pairs.length;
}
