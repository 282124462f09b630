import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerStPlusPlus: RegisterCommand = (program) => {
  program
    .command('st-plus-plus')
    .description('run the ST++ multi-stage self-training pipeline')
    .allowUnknownOption(false)
    .action(() => notYet('st-plus-plus', 'issue #7'));
};
