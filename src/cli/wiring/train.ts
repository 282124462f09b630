import type { Command } from 'commander';
import type { RegisterCommand } from '../context.ts';
import type { TrainArgs } from '../../commands/train.ts';
import { METHODS, PIPELINES } from '../../methods/index.ts';

function trainOptions(cmd: Command): Command {
  return cmd
    .option('--config <yaml>', 'experiment config (YAML under experiments/)')
    .option('--data <dir>', 'prepared data folder')
    .option('--split <split>', 'split name (1/8, u2pl/92) or a folder with labeled.txt/unlabeled.txt')
    .option('--out <dir>', 'run folder (default runs/<method>-<split>)')
    .option('--set <key=value...>', 'override config keys, e.g. --set train.epochs=2 model.output_stride=16')
    .option('--resume <run>', 'continue an interrupted run from its last checkpoint')
    .option('--force', 'start over in an existing run folder')
    .option('--pretrained <file>', 'backbone weights (.safetensors or .pth)')
    .option('--precision <p>', 'fp32 (default) or bf16: convolutions in bf16 with fp32 accumulation (native backend, oneDNN ISA avx512_core_bf16 or avx512_core_amx); same as --set train.precision=<p>');
}

/** --precision is a shorthand for --set train.precision=… (the config key, validated there). */
function withPrecision(opts: TrainArgs & { precision?: string }): TrainArgs {
  const { precision, ...rest } = opts;
  return precision === undefined ? rest : { ...rest, set: [...(rest.set ?? []), `train.precision=${precision}`] };
}

export const registerTrain: RegisterCommand = (program, ctx) => {
  const names = [...Object.keys(METHODS), ...Object.keys(PIPELINES)].join(' | ');
  trainOptions(program.command('train').description('train a segmentation network with a (semi-)supervised method'))
    .option('--method <name>', `${names} (overrides the config's method)`)
    .action(async (opts: TrainArgs) => {
      // loaded on use: `sssseg --help` and light commands start without the training stack
      const { runTrain } = await import('../../commands/train.ts');
      await runTrain(withPrecision(opts), ctx.io, ctx.backend);
    });
  for (const method of ['sup', 'u2pl']) {
    trainOptions(program.command(`train-${method}`).description(`alias of \`train --method ${method}\``)).action(async (opts: TrainArgs) => {
      const { runTrain } = await import('../../commands/train.ts');
      await runTrain({ ...withPrecision(opts), method }, ctx.io, ctx.backend, `train-${method}`);
    });
  }
};
