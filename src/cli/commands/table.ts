import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerTable: RegisterCommand = (program) => {
  program
    .command('table')
    .description('gather run results into a method x split table')
    .allowUnknownOption(false)
    .action(() => notYet('table', 'issue #5'));
};
