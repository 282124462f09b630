import path from 'node:path';
import type { RegisterCommand } from '../context.ts';
import { convertWeights } from '../../commands/convert-weights.ts';

export const registerConvertWeights: RegisterCommand = (program, ctx) => {
  program
    .command('convert-weights')
    .description('convert PyTorch weights (.pth, zip or legacy format) to safetensors, names and layout unchanged')
    .argument('<in>', 'a torch.save file (.pth/.pt) or a .safetensors file')
    .argument('<out>', 'the .safetensors file to write')
    .action(async (input: string, out: string) => {
      const r = await convertWeights(input, out);
      ctx.io.out(`wrote ${path.resolve(out)}: ${r.tensors} tensors, ${(r.values / 1e6).toFixed(2)} M values`);
    });
};
