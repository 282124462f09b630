import type { RegisterCommand } from '../context.ts';
import { runQuickstart, type QuickstartArgs } from '../../commands/quickstart.ts';

export const registerQuickstart: RegisterCommand = (program, ctx) => {
  program
    .command('quickstart')
    .description('synthetic data, 1/8 split, SupOnly and U2PL side by side, eval and table in one go (about 2 minutes on a 2-core CPU)')
    .option('--out <dir>', 'folder for data, runs and the table', 'runs/quickstart')
    .option('--methods <list>', 'comma-separated methods to train', 'sup,u2pl')
    .action(async (opts: QuickstartArgs) => {
      const backend = program.opts<{ backend?: string }>().backend;
      const flags = backend ? ['--backend', backend] : [];
      await runQuickstart(opts, ctx.io, (argv) => ctx.run([...flags, ...argv]), flags);
    });
};
