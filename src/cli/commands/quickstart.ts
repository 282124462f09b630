import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RegisterCommand } from '../context.ts';
import { SsssegError } from '../../errors.ts';
import { isMethodName } from '../../methods/index.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface QuickstartOpts {
  out: string;
  methods: string;
}

/**
 * The whole chain on the embedded default, each step through the same CLI a user would type, so
 * the quick-start exercises exactly the documented commands. A step whose output is complete is
 * skipped and an interrupted training run is resumed: running quickstart twice is cheap.
 */
export const registerQuickstart: RegisterCommand = (program, ctx) => {
  program
    .command('quickstart')
    .description('synthetic data, 1/4 split, SupOnly and U2PL, eval and table in one go (a few minutes on a CPU)')
    .option('--out <dir>', 'folder for data, runs and the table', 'runs/quickstart')
    .option('--methods <list>', 'comma-separated methods to train', 'sup,u2pl')
    .action(async (opts: QuickstartOpts) => {
      const { run } = await import('../main.ts');
      const backend = program.opts<{ backend?: string }>().backend;
      const step = async (argv: string[]) => {
        ctx.io.err(`\n$ sssseg ${argv.join(' ')}`);
        const code = await run(backend ? ['--backend', backend, ...argv] : argv, ctx.io);
        if (code !== 0) throw new SsssegError('quickstart.step', `quickstart stopped: \`sssseg ${argv.join(' ')}\` failed (exit ${code})`);
      };
      const data = path.join(opts.out, 'data');
      if (!existsSync(path.join(data, 'dataset.json'))) await step(['synthetic', '--out', data, '--force']);
      if (!existsSync(path.join(data, 'splits', '1_4', 'labeled.txt'))) await step(['split', '--data', data, '--labeled', '1/4', '--seed', '0']);
      const runs: string[] = [];
      for (const method of opts.methods.split(',').map((m) => m.trim()).filter(Boolean)) {
        if (!isMethodName(method)) {
          ctx.io.err(`quickstart: method ${method} is not available yet, skipped`);
          continue;
        }
        const dir = path.join(opts.out, method);
        runs.push(dir);
        if (existsSync(path.join(dir, 'results.json'))) continue;
        const config = path.join(REPO_ROOT, 'experiments', 'synthetic', `${method}.yaml`);
        const resume = existsSync(path.join(dir, 'last.bin')) ? ['--resume', dir] : ['--out', dir, '--force'];
        await step(['train', '--method', method, '--config', config, '--data', data, '--split', '1/4', ...resume]);
        await step(['eval', path.join(dir, 'best.bin'), '--data', data]);
      }
      await step(['table', ...runs, '--out', path.join(opts.out, 'table')]);
    });
};
