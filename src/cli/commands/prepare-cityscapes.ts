import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerPrepareCityscapes: RegisterCommand = (program) => {
  program
    .command('prepare-cityscapes')
    .description('convert a Cityscapes root (leftImg8bit + gtFine) to the prepared format')
    .allowUnknownOption(false)
    .action(() => notYet('prepare-cityscapes', 'issue #3'));
};
