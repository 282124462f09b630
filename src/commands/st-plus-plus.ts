import type { Io } from '../output.ts';
import type { BackendInfo } from '../backend/index.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import { loadConfig } from '../config/load.ts';
import { SsssegError } from '../errors.ts';
import { isPipelineName } from '../methods/index.ts';
import { runPipeline, type PipelineSummary } from '../stpp/pipeline.ts';
import { configPath, prepareRun, type TrainArgs } from './run-setup.ts';

export interface StppArgs extends TrainArgs {
  /** redo stages N.. (the CLI passes a string) */
  fromStage?: number | string;
  /** colourised pseudo-masks in pseudo-color/ */
  previews?: boolean;
}

function parseFromStage(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new SsssegError('cli.badOption', `--from-stage expects a stage number (1, 2, …), got "${v}"`);
  return n;
}

/** `sssseg st-plus-plus`: ST++ (or plain ST with --method st) from a config file. */
export async function runStPlusPlus(args: StppArgs, io: Io, backend: () => Promise<BackendInfo>): Promise<PipelineSummary> {
  const cmd = 'st-plus-plus';
  const method = args.method ?? 'stpp';
  if (!isPipelineName(method)) {
    throw new SsssegError('cli.badOption', `\`sssseg ${cmd}\` runs the self-training pipelines: --method st or stpp, got "${method}"`);
  }
  const cfg = await loadConfig(configPath(args, cmd), args.set ?? [], method);
  return runSt(cfg, args, io, backend, cmd);
}

/**
 * Run ST / ST++ for an already loaded config whose method is `st` or `stpp`; `sssseg train`
 * calls this when the method is a pipeline. `--resume <run>` is the same as `--out <run>`: a
 * rerun always continues where the folder stopped.
 */
export async function runSt(cfg: ExperimentConfig, args: StppArgs, io: Io, backend: () => Promise<BackendInfo>, cmd = 'train'): Promise<PipelineSummary> {
  const fromStage = parseFromStage(args.fromStage);
  const run = await prepareRun(cfg, args, io, backend, cmd);
  return run.guard((signal) =>
    runPipeline({
      cfg, data: run.data, split: run.split, outDir: run.outDir, fromStage, force: Boolean(args.force), previews: Boolean(args.previews),
      pretrained: args.pretrained, io, backend: run.backend, signal,
    }),
  );
}
