import type { Command } from 'commander';
import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

function trainOptions(cmd: Command): Command {
  return cmd
    .option('--config <yaml>', 'experiment config (YAML under experiments/)')
    .option('--data <dir>', 'prepared data folder')
    .option('--split <split>', 'split name (1/8, u2pl/92) or folder')
    .option('--out <dir>', 'run folder')
    .option('--set <key=value...>', 'override a config key, e.g. --set train.epochs=2')
    .option('--resume <run>', 'continue an interrupted run')
    .option('--force', 'overwrite an existing run folder')
    .option('--pretrained <file>', 'backbone weights (.safetensors or .pth)');
}

export const registerTrain: RegisterCommand = (program) => {
  trainOptions(program.command('train').description('train a segmentation network with a (semi-)supervised method'))
    .option('--method <name>', 'sup | u2pl | mt | cutmix | cps | unimatch | fixmatch | psmt | ucc | st')
    .action(() => notYet('train', 'issue #5'));
  for (const method of ['sup', 'u2pl']) {
    trainOptions(program.command(`train-${method}`).description(`alias of \`train --method ${method}\``)).action(() =>
      notYet(`train-${method}`, method === 'sup' ? 'issue #5' : 'issue #6'),
    );
  }
};
