import type { RegisterCommand } from '../context.ts';

interface SweepFlags {
  jobs: string;
  runs: string;
  dryRun?: boolean;
  table?: string;
  set?: string[];
  pretrained?: string;
}

export const registerSweep: RegisterCommand = (program, ctx) => {
  program
    .command('sweep')
    .description('train every config (with a run: section) that has no finished result yet, then write the table; resumable')
    .argument('<configs...>', 'config files or folders of them (e.g. experiments/camvid)')
    .option('--jobs <n>', 'runs at a time (native threads are shared out among them)', '1')
    .option('--runs <dir>', 'runs go to <dir>/<config folder>/<config name>', 'runs')
    .option('--table <prefix>', 'write the table to <prefix>.md/.csv (default <runs>/<folder>/table)')
    .option('--set <key=value...>', 'config overrides passed to every run')
    .option('--pretrained <file>', 'backbone weights passed to every run (.safetensors or .pth)')
    .option('--dry-run', 'list what would run, run nothing')
    .action(async (targets: string[], flags: SweepFlags) => {
      const jobs = Number(flags.jobs);
      const { SsssegError } = await import('../../errors.ts');
      if (!Number.isInteger(jobs) || jobs < 1) throw new SsssegError('cli.badOption', `--jobs must be a positive integer (got ${flags.jobs})`);
      const { runSweep } = await import('../../commands/sweep.ts');
      const backend = program.opts<{ backend?: string }>().backend;
      await runSweep(
        {
          targets, runs: flags.runs, jobs, dryRun: flags.dryRun, table: flags.table,
          childFlags: backend ? ['--backend', backend] : [],
          trainFlags: [...(flags.set ?? []).flatMap((kv) => ['--set', kv]), ...(flags.pretrained ? ['--pretrained', flags.pretrained] : [])],
        },
        ctx.io,
      );
    });
};
