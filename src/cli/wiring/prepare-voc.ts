import type { RegisterCommand } from '../context.ts';
import { runPrepareVoc, type PrepareArgs } from '../../commands/data.ts';

export const registerPrepareVoc: RegisterCommand = (program, ctx) => {
  program
    .command('prepare-voc')
    .description('convert PASCAL VOC 2012 (+ SegmentationClassAug) to the prepared format')
    .requiredOption('--voc <dir>', 'the VOCdevkit/VOC2012 folder')
    .option('--aug <dir>', 'SegmentationClassAug folder (SBD masks): adds the train_aug split (10582)')
    .requiredOption('--out <dir>', 'prepared data folder to write')
    .option('--skip-bad', 'warn about and skip unreadable or inconsistent samples instead of stopping')
    .option('--force', 'replace an existing output folder')
    .action(async (opts: PrepareArgs & { voc: string; aug?: string }) => {
      await runPrepareVoc(opts, ctx.io);
    });
};
