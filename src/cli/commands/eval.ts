import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerEval: RegisterCommand = (program) => {
  program
    .command('eval')
    .description('evaluate a checkpoint (mIoU, per-class IoU, pixel accuracy)')
    .allowUnknownOption(false)
    .action(() => notYet('eval', 'issue #5'));
};
