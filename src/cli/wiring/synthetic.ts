import type { RegisterCommand } from '../context.ts';
import { runSynthetic, type SyntheticArgs } from '../../commands/data.ts';

export const registerSynthetic: RegisterCommand = (program, ctx) => {
  program
    .command('synthetic')
    .description('generate a tiny procedural data set (class = shape + texture) for smoke runs')
    .requiredOption('--out <dir>', 'prepared data folder to write')
    .option('--n <count>', 'training images', '64')
    .option('--val <count>', 'validation images (default max(8, n/4))')
    .option('--size <HxW>', 'image size', '64x64')
    .option('--classes <count>', 'classes including background (2..10)', '4')
    .option('--seed <int>', 'generator seed', '0')
    .option('--force', 'replace an existing output folder')
    .action(async (opts: SyntheticArgs) => {
      await runSynthetic(opts, ctx.io);
    });
};
