import path from 'node:path';
import type { Io } from '../cli/context.ts';
import type { BackendInfo } from '../backend/index.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import { loadConfig } from '../config/load.ts';
import { openDataset, resolveSplit } from '../data/index.ts';
import { SsssegError } from '../errors.ts';
import { isPipelineName } from '../stpp/config.ts';
import { runPipeline, type PipelineSummary } from '../stpp/pipeline.ts';
import type { TrainArgs } from './train.ts';

export interface StppArgs extends TrainArgs {
  /** redo stages N.. (the CLI passes a string) */
  fromStage?: number | string;
  /** colourised pseudo-masks in pseudo-color/ */
  previews?: boolean;
}

function required<T>(value: T | undefined, flag: string, cmd: string): T {
  if (value === undefined) throw new SsssegError('cli.missingOption', `\`sssseg ${cmd}\` needs ${flag}`);
  return value;
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
  const file = args.config ?? (args.resume ? path.join(args.resume, 'config.yaml') : undefined);
  const cfg = await loadConfig(required(file, '--config <yaml>', cmd), args.set ?? [], method);
  return runSt(cfg, args, io, backend, cmd);
}

/**
 * Run ST / ST++ for an already loaded config whose method is `st` or `stpp`; `sssseg train`
 * calls this when the method is a pipeline. `--resume <run>` is the same as `--out <run>`: a
 * rerun always continues where the folder stopped.
 */
export async function runSt(
  cfg: ExperimentConfig,
  args: StppArgs,
  io: Io,
  backend: () => Promise<BackendInfo>,
  cmd = 'train',
): Promise<PipelineSummary> {
  const data = await openDataset(required(args.data ?? cfg.run?.data, '--data <dir> (or run.data in the config)', cmd));
  const split = await resolveSplit(data, required(args.split ?? cfg.run?.split, '--split <split> (or run.split in the config)', cmd));
  const outDir = args.resume ?? args.out ?? path.join('runs', `${cfg.method}-${split.name.replace(/[/\\]/g, '_')}`);
  const fromStage = parseFromStage(args.fromStage);
  const b = await backend();
  const controller = new AbortController();
  const onSigint = () => {
    io.err('SIGINT: stopping after the current step (a rerun continues from there)…');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    return await runPipeline({
      cfg, data, split, outDir, fromStage, force: Boolean(args.force), previews: Boolean(args.previews),
      pretrained: args.pretrained, io, backend: b, signal: controller.signal,
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
