import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerConvertWeights: RegisterCommand = (program) => {
  program
    .command('convert-weights')
    .description('convert a PyTorch .pth to safetensors')
    .allowUnknownOption(false)
    .action(() => notYet('convert-weights', 'issue #4'));
};
