import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerPrepareVoc: RegisterCommand = (program) => {
  program
    .command('prepare-voc')
    .description('convert VOCdevkit/VOC2012 (+ SegmentationClassAug) to the prepared format')
    .allowUnknownOption(false)
    .action(() => notYet('prepare-voc', 'issue #3'));
};
