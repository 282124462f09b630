import * as tf from '@tensorflow/tfjs-core';
import type { SegNet } from './index.ts';
import { axpby } from '../backend/kernels/fused-update.ts';

/**
 * teacher ← decay·teacher + (1−decay)·student. U2PL and Mean Teacher average parameters only
 * (the teacher's BN statistics come from its own train-mode forwards); PS-MT averages the whole
 * state dict, BN buffers included — hence `buffers`.
 */
export function emaUpdate(teacher: SegNet, student: SegNet, decay: number, opts: { buffers: boolean }): void {
  const t = teacher.params();
  const s = student.params();
  tf.tidy(() => {
    for (let i = 0; i < t.length; i++) {
      const tp = t[i]!;
      const isBuffer = tp.kind === 'running_mean' || tp.kind === 'running_var';
      if (isBuffer && !opts.buffers) continue;
      tp.variable.assign(axpby(tp.variable, decay, s[i]!.variable, 1 - decay));
    }
  });
}

/** dst ← src for every tensor, BN running statistics included (a teacher starts as its student). */
export function copyParams(dst: SegNet, src: SegNet): void {
  const d = dst.params();
  const s = src.params();
  if (d.length !== s.length) throw new Error(`copyParams: ${d.length} vs ${s.length} parameters`);
  for (let i = 0; i < d.length; i++) d[i]!.variable.assign(s[i]!.variable);
}
