import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerSplit: RegisterCommand = (program) => {
  program
    .command('split')
    .description('write labeled/unlabeled partitions, or import official ones')
    .allowUnknownOption(false)
    .action(() => notYet('split', 'issue #3'));
};
