import type { RegisterCommand } from '../context.ts';
import { runPrepareCityscapes, type PrepareArgs } from '../../commands/data.ts';

export const registerPrepareCityscapes: RegisterCommand = (program, ctx) => {
  program
    .command('prepare-cityscapes')
    .description('convert Cityscapes (leftImg8bit + gtFine labelIds → 19 train ids) to the prepared format')
    .requiredOption('--root <dir>', 'folder holding leftImg8bit/ and gtFine/')
    .requiredOption('--out <dir>', 'prepared data folder to write')
    .option('--labels <kind>', 'auto (labelTrainIds when present, else labelIds mapped) | labelIds | labelTrainIds', 'auto')
    .option('--size <HxW>', 'rescale every frame (image area/bilinear, label nearest), e.g. 512x1024')
    .option('--interp <mode>', 'image interpolation for --size: area | bilinear', 'area')
    .option('--skip-bad', 'warn about and skip unreadable or inconsistent samples instead of stopping')
    .option('--force', 'replace an existing output folder')
    .action(async (opts: PrepareArgs & { root: string; labels?: string }) => {
      await runPrepareCityscapes(opts, ctx.io);
    });
};
