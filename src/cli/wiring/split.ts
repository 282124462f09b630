import type { RegisterCommand } from '../context.ts';
import { runSplit, type SplitArgs } from '../../commands/data.ts';

export const registerSplit: RegisterCommand = (program, ctx) => {
  program
    .command('split')
    .description('write a labeled/unlabeled partition into a prepared data folder, or import an official one')
    .argument('[list]', 'with --import: the published labeled.txt, or the folder holding labeled.txt/unlabeled.txt')
    .requiredOption('--data <dir>', 'prepared data folder')
    .option('--labeled <spec>', 'labeled share: 1/16 | 1/8 | 1/4 | 1/2 | a count')
    .option('--seed <int>', 'sampling seed (the partition is named 1/8-s<seed> unless seed is 0)', '0')
    .option('--from <split>', 'split to draw the labeled images from (default train)')
    .option('--unlabeled-from <split>', 'split whose remaining images are unlabeled (default: train_aug when drawing from train and it exists, else --from)')
    .option('--import <origin>', 'import a published partition list: u2pl | stpp | unimatch')
    .option('--name <name>', 'partition name (default 1/8, or <origin>/<partition> for imports)')
    .option('--force', 'replace a partition of the same name')
    .action(async (list: string | undefined, opts: SplitArgs) => {
      await runSplit(opts, list, ctx.io);
    });
};
