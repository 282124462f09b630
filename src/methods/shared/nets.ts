import * as tf from '@tensorflow/tfjs-core';
import type { SegNet, SegOutputs } from '../../models/index.ts';

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

export { AveragedNet } from '../../models/averaged.ts';

/** A student and its EMA teacher, the teacher starting as an exact copy (MT, CutMix-Seg). */
export async function studentAndTeacher(ctx: { buildNet(seedOffset?: number): Promise<SegNet> }): Promise<{ student: SegNet; teacher: SegNet }> {
  const student = await ctx.buildNet();
  const teacher = await ctx.buildNet();
  copyParams(teacher, student);
  return { student, teacher };
}
