import path from 'node:path';
import type { BackendInfo } from '../backend/index.ts';
import { assertPrecision } from '../backend/precision.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import { openDataset, resolveSplit, type PreparedDataset, type ResolvedSplit } from '../data/index.ts';
import { Interrupted, SsssegError, STOP_SIGNALS, type StopSignal } from '../errors.ts';
import { onOutputClosed, type Io } from '../output.ts';

/** The options `train` and `st-plus-plus` share. */
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

export function required<T>(value: T | undefined, flag: string, cmd: string): T {
  if (value === undefined) throw new SsssegError('cli.missingOption', `\`sssseg ${cmd}\` needs ${flag}`);
  return value;
}

/** The config file: `--config`, else the `--resume` run folder's own. */
export function configPath(args: TrainArgs, cmd: string): string {
  if (args.config) return args.config;
  if (args.resume) return path.join(args.resume, 'config.yaml');
  return required(args.config, '--config <yaml>', cmd);
}

export interface PreparedRun {
  data: PreparedDataset;
  split: ResolvedSplit;
  outDir: string;
  /** the backend's name, for logs and results.json */
  backend: string;
  /**
   * Runs the training with the signal handlers in place, removes them, and throws `Interrupted`
   * when a signal stopped it before the end, so the process exits 128 + signal number.
   */
  guard<T extends { completed: boolean }>(train: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

/**
 * What every training command does before it trains: the data set and split (flags first, then the
 * config's `run:` section), the run folder, the backend (and that it runs the config's precision),
 * and signal handlers. SIGTERM and SIGUSR1 are what Slurm sends before a time limit or preemption,
 * SIGINT is Ctrl-C: all three let the current step finish and the state be saved, so `--resume`
 * continues exactly.
 */
export async function prepareRun(cfg: ExperimentConfig, args: TrainArgs, io: Io, backend: () => Promise<BackendInfo>, cmd: string): Promise<PreparedRun> {
  const data = await openDataset(required(args.data ?? cfg.run?.data, '--data <dir> (or run.data in the config)', cmd));
  const split = await resolveSplit(data, required(args.split ?? cfg.run?.split, '--split <split> (or run.split in the config)', cmd));
  const outDir = args.resume ?? args.out ?? path.join('runs', `${cfg.method}-${split.name.replace(/[/\\]/g, '_')}`);
  const b = await backend();
  // before the run folder exists: a precision this machine cannot run is a one-line refusal
  assertPrecision(cfg.train.precision, b);
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const handlers = STOP_SIGNALS.map((sig) => {
    const handler = () => {
      // a signal says more than a closed pipe (Ctrl-C also ends the `| tee` that closed it)
      if (received && received !== 'SIGPIPE') return;
      received = sig;
      io.err(`${sig}: finishing the current step and saving the state…`);
      controller.abort();
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  // a closed stdout/stderr stops the run like a signal: the state is saved, whatever can be printed
  const offClosed = onOutputClosed(() => {
    received ??= 'SIGPIPE';
    controller.abort();
    return true;
  });
  return {
    data,
    split,
    outDir,
    backend: b.name,
    async guard(trainFn) {
      let result;
      try {
        result = await trainFn(controller.signal);
      } finally {
        for (const [sig, handler] of handlers) process.removeListener(sig, handler);
        offClosed();
      }
      if (received && !result.completed) throw new Interrupted(received);
      return result;
    },
  };
}
