import { InvalidArgumentError, Option } from 'commander';
import type { RegisterCommand } from '../context.ts';
import { SsssegError } from '../../errors.ts';
import { runEval, type EvalCommandOptions } from '../../commands/eval.ts';
import { INFERENCE_MODES, parseScales } from '../../eval/protocol.ts';

/** The options as commander parses them: everything but the positional checkpoint and the backend. */
type EvalFlags = Omit<EvalCommandOptions, 'checkpoint' | 'backend'>;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function scales(value: string): number[] {
  try {
    return parseScales(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof SsssegError ? err.message : String(err));
  }
}

export const registerEval: RegisterCommand = (program, ctx) => {
  program
    .command('eval')
    .description('evaluate a checkpoint (mIoU, per-class IoU, pixel accuracy) under a paper protocol')
    .argument('<checkpoint>', 'checkpoint file (.bin) written by `sssseg train`')
    .option('--data <dir>', 'prepared data folder (default: the one recorded in the checkpoint)')
    .option('--split <name>', 'split to evaluate', 'val')
    .addOption(new Option('--mode <mode>', 'inference protocol (default: the checkpoint config, else whole)').choices(INFERENCE_MODES))
    .option('--crop <n>', 'window size for center-crop / sliding (default: the training crop)', positiveInt)
    .option('--stride <n>', 'sliding-window step (default: ceil(crop*2/3))', positiveInt)
    .option('--size-divisor <n>', 'whole mode: resize to a multiple of n and back (PS-MT: 8)', positiveInt)
    .option('--scales <list>', 'multi-scale TTA, e.g. 0.5,0.75,1,1.5,2', scales)
    .option('--flip', 'add horizontally flipped predictions (TTA)')
    .option('--absent-as-zero', 'count classes absent from GT and prediction as IoU 0 (U2PL) instead of excluding them (ST++)')
    .option('--net <name>', 'network inside the checkpoint (teacher, student, ...)')
    .option('--save-pred <dir>', 'write class-id PNGs (ids/) and colour PNGs (color/)')
    .option('--limit <n>', 'evaluate only the first n images', positiveInt)
    .action(async (checkpoint: string, flags: EvalFlags) => {
      const backend = await ctx.backend();
      await runEval({ checkpoint, ...flags, backend: backend.name }, ctx.io);
    });
};
