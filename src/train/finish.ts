import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Io } from '../output.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import type { PreparedDataset, ResolvedSplit } from '../data/index.ts';
import { machineName, writeRunResults } from '../io/results.ts';
import { RUN_FILES } from './run-dir.ts';
import type { TrainSummary } from './trainer.ts';

/**
 * Record the run's result for `sssseg table`: the best validation (every paper reports the best
 * checkpoint), or the final one when validation was off.
 */
export async function finishRun(
  summary: TrainSummary,
  ctx: { cfg: ExperimentConfig; data: PreparedDataset; split: ResolvedSplit; backend: string; io: Io },
): Promise<void> {
  const v = summary.best ?? summary.final;
  if (!v) {
    ctx.io.err('validation was off (train.val_every_epochs: 0): no results.json; run `sssseg eval` on the checkpoint');
    return;
  }
  const ckpt = existsSync(path.join(summary.runDir, RUN_FILES.best)) ? RUN_FILES.best : RUN_FILES.last;
  await writeRunResults(summary.runDir, {
    method: ctx.cfg.method,
    split: ctx.split.name,
    dataset: ctx.data.name,
    metrics: { miou: v.miou, pixel_acc: v.pixelAcc, iou: v.iou },
    protocol: `${v.protocol} (${v.net}, ${v.n} val images)`,
    wall_time_s: summary.wallTimeS,
    backend: ctx.backend,
    iterations: summary.iterations,
    checkpoint: ckpt,
    machine: machineName(),
    seed: ctx.cfg.seed,
  });
  ctx.io.out(`${ctx.cfg.method} ${ctx.split.name}: val mIoU ${(v.miou * 100).toFixed(2)} (best, iteration ${v.iteration}) in ${summary.wallTimeS.toFixed(0)} s → ${summary.runDir}`);
}
