import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerSynthetic: RegisterCommand = (program) => {
  program
    .command('synthetic')
    .description('generate a tiny procedural data set for smoke runs')
    .allowUnknownOption(false)
    .action(() => notYet('synthetic', 'issue #3'));
};
