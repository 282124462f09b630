import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerQuickstart: RegisterCommand = (program) => {
  program
    .command('quickstart')
    .description('synthetic data, split, SupOnly (+U2PL), eval and table in one go')
    .allowUnknownOption(false)
    .action(() => notYet('quickstart', 'issue #5'));
};
