import type { Io } from '../output.ts';
import type { BackendInfo } from '../backend/index.ts';
import { loadConfig } from '../config/load.ts';
import { train, type TrainSummary } from '../train/trainer.ts';
import { finishRun } from '../train/finish.ts';
import { isPipelineName } from '../methods/index.ts';
import { configPath, prepareRun, type TrainArgs } from './run-setup.ts';
import { runSt } from './st-plus-plus.ts';

export type { TrainArgs } from './run-setup.ts';

export async function runTrain(args: TrainArgs, io: Io, backend: () => Promise<BackendInfo>, cmd = 'train'): Promise<TrainSummary> {
  const cfg = await loadConfig(configPath(args, cmd), args.set ?? [], args.method);
  if (isPipelineName(cfg.method)) {
    // st / stpp are staged pipelines (teacher, pseudo-labels, re-training), not one training loop
    const s = await runSt(cfg, args, io, backend, cmd);
    return { runDir: s.runDir, iterations: s.results?.iterations ?? 0, completed: s.completed, wallTimeS: s.results?.wall_time_s ?? 0 };
  }
  const run = await prepareRun(cfg, args, io, backend, cmd);
  const summary = await run.guard((signal) =>
    train({
      cfg, data: run.data, split: run.split, outDir: run.outDir, resume: Boolean(args.resume), force: Boolean(args.force),
      pretrained: args.pretrained, io, backend: run.backend, signal,
    }),
  );
  if (summary.completed && !summary.nothingToDo) await finishRun(summary, { cfg, data: run.data, split: run.split, backend: run.backend, io });
  return summary;
}
