import path from 'node:path';
import type { RegisterCommand } from '../context.ts';

interface SweepFlags {
  jobs?: string;
  runs: string;
  dryRun?: boolean;
  table?: string;
  set?: string[];
  seeds?: string;
  pretrained?: string;
  executor: string;
  status?: boolean;
  wait?: boolean;
  poll: string;
  partition?: string;
  time?: string;
  cpusPerTask?: string;
  mem?: string;
  gres?: string;
  sbatchArg: string[];
}

const SLURM_ONLY = ['wait', 'partition', 'time', 'cpusPerTask', 'mem', 'gres'] as const;
const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

async function positiveInt(value: string | undefined, flag: string): Promise<number | undefined> {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (Number.isInteger(n) && n >= 1) return n;
  const { SsssegError } = await import('../../errors.ts');
  throw new SsssegError('cli.badOption', `${flag} must be a positive integer (got ${value})`);
}

async function checkExecutor(flags: SweepFlags): Promise<'local' | 'slurm'> {
  const { SsssegError } = await import('../../errors.ts');
  if (flags.executor !== 'local' && flags.executor !== 'slurm') {
    throw new SsssegError('cli.badOption', `--executor must be local or slurm (got ${flags.executor})`);
  }
  if (flags.executor === 'local') {
    const given = [...SLURM_ONLY.filter((k) => flags[k] !== undefined).map(flagName), ...(flags.sbatchArg.length ? ['--sbatch-arg'] : [])];
    if (given.length) throw new SsssegError('cli.badOption', `${given.join(', ')} ${given.length === 1 ? 'needs' : 'need'} --executor slurm`);
  }
  for (const a of flags.sbatchArg) {
    if (!a.startsWith('-') || /[\n\r]/.test(a)) throw new SsssegError('cli.badOption', `--sbatch-arg takes one sbatch option such as --qos=high (got "${a}")`);
  }
  return flags.executor;
}

/** "0,1,2" → [0, 1, 2]: distinct non-negative integers. */
async function seedList(value: string | undefined): Promise<number[] | undefined> {
  if (value === undefined) return undefined;
  const seeds = value.split(',').map((s) => s.trim());
  const ok = seeds.every((s) => /^\d+$/.test(s)) && new Set(seeds.map(Number)).size === seeds.length;
  if (ok) return seeds.map(Number);
  const { SsssegError } = await import('../../errors.ts');
  throw new SsssegError('cli.badOption', `--seeds takes distinct non-negative integers separated by commas, e.g. 0,1,2 (got ${value})`);
}

export const registerSweep: RegisterCommand = (program, ctx) => {
  program
    .command('sweep')
    .description('train every config (with a run: section) that has no finished result yet, then write the table; resumable')
    .argument('<configs...>', 'config files or folders of them (e.g. experiments/camvid)')
    .option('--executor <name>', 'local (processes on this machine) or slurm (one sbatch array job)', 'local')
    .option('--jobs <n>', 'runs at a time (local: default 1, native threads shared out among them; slurm: the array throttle %N)')
    .option('--runs <dir>', 'runs go to <dir>/<config folder>/<config name>', 'runs')
    .option('--table <prefix>', 'write the table to <prefix>.md/.csv (default <runs>/<folder>/table)')
    .option('--set <key=value...>', 'config overrides passed to every run')
    .option('--seeds <list>', 'run every config once per seed (e.g. 0,1,2: --set seed=<k>, into <name>-s<k>); the table shows mean ± std')
    .option('--pretrained <file>', 'backbone weights passed to every run (.safetensors or .pth)')
    .option('--dry-run', 'list what would run, run nothing (slurm: print the job script)')
    .option('--status', 'show each run as done / pending / running / failed (exit code, last log lines) and exit')
    .option('--wait', 'slurm: after submitting, poll until every run has ended, then write the table')
    .option('--poll <seconds>', 'slurm: seconds between polls of --wait', '30')
    .option('--partition <name>', 'slurm: partition')
    .option('--time <limit>', 'slurm: time limit per run (e.g. 4:00:00); runs checkpoint 5 min before it and requeue')
    .option('--cpus-per-task <n>', 'slurm: CPUs per run (also its OMP_NUM_THREADS)')
    .option('--mem <size>', 'slurm: memory per run (e.g. 32G)')
    .option('--gres <spec>', 'slurm: generic resources per run, e.g. gpu:1 (with --backend tensorflow)')
    .option('--sbatch-arg <option>', 'slurm: any other sbatch option, repeatable (e.g. --sbatch-arg=--qos=high)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (targets: string[], flags: SweepFlags) => {
      const executor = await checkExecutor(flags);
      const jobs = await positiveInt(flags.jobs, '--jobs');
      const pollSeconds = await positiveInt(flags.poll, '--poll');
      const cpusPerTask = await positiveInt(flags.cpusPerTask, '--cpus-per-task');
      const seeds = await seedList(flags.seeds);
      const { runSweep } = await import('../../commands/sweep.ts');
      const backend = program.opts<{ backend?: string }>().backend;
      // a run may start elsewhere and later (Slurm): the weights file by its absolute path
      const pretrained = flags.pretrained ? path.resolve(flags.pretrained) : undefined;
      await runSweep(
        {
          targets, runs: flags.runs, jobs, executor, dryRun: flags.dryRun, table: flags.table, status: flags.status,
          wait: flags.wait, pollSeconds, seeds,
          sbatch: { partition: flags.partition, time: flags.time, cpusPerTask, mem: flags.mem, gres: flags.gres, extra: flags.sbatchArg },
          childFlags: backend ? ['--backend', backend] : [],
          trainFlags: [...(flags.set ?? []).flatMap((kv) => ['--set', kv]), ...(pretrained ? ['--pretrained', pretrained] : [])],
        },
        ctx.io,
      );
    });
};
