import path from 'node:path';
import type { Io } from '../cli/context.ts';
import type { BackendInfo } from '../backend/index.ts';
import { loadConfig } from '../config/load.ts';
import { openDataset, resolveSplit } from '../data/index.ts';
import { SsssegError } from '../errors.ts';
import { train, type TrainSummary } from '../train/trainer.ts';
import { finishRun } from '../train/finish.ts';
import { isPipelineName } from '../stpp/config.ts';

export interface TrainArgs {
  method?: string;
  config?: string;
  data?: string;
  split?: string;
  out?: string;
  set?: string[];
  resume?: string;
  force?: boolean;
  pretrained?: string;
}

function required<T>(value: T | undefined, flag: string, cmd: string): T {
  if (value === undefined) throw new SsssegError('cli.missingOption', `\`sssseg ${cmd}\` needs ${flag}`);
  return value;
}

/** Resolve a --resume run folder's own config when no --config is given. */
function configPath(args: TrainArgs, cmd: string): string {
  if (args.config) return args.config;
  if (args.resume) return path.join(args.resume, 'config.yaml');
  return required(args.config, '--config <yaml>', cmd);
}

export async function runTrain(args: TrainArgs, io: Io, backend: () => Promise<BackendInfo>, cmd = 'train'): Promise<TrainSummary> {
  const cfg = await loadConfig(configPath(args, cmd), args.set ?? [], args.method);
  if (isPipelineName(cfg.method)) {
    // st / stpp are staged pipelines (teacher, pseudo-labels, re-training), not one training loop
    const { runSt } = await import('./st-plus-plus.ts');
    const s = await runSt(cfg, args, io, backend, cmd);
    return { runDir: s.runDir, iterations: s.results?.iterations ?? 0, completed: s.completed, wallTimeS: s.results?.wall_time_s ?? 0 };
  }
  const data = await openDataset(required(args.data ?? cfg.run?.data, '--data <dir> (or run.data in the config)', cmd));
  const split = await resolveSplit(data, required(args.split ?? cfg.run?.split, '--split <split> (or run.split in the config)', cmd));
  const outDir = args.resume ?? args.out ?? path.join('runs', `${cfg.method}-${split.name.replace(/[/\\]/g, '_')}`);
  const b = await backend();
  const controller = new AbortController();
  const onSigint = () => {
    io.err('SIGINT: finishing the current step and writing a checkpoint…');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    const summary = await train({
      cfg, data, split, outDir, resume: Boolean(args.resume), force: Boolean(args.force),
      pretrained: args.pretrained, io, backend: b, signal: controller.signal,
    });
    if (summary.completed) await finishRun(summary, { cfg, data, split, backend: b, io });
    return summary;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
