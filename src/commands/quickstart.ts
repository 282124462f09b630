import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Io } from '../output.ts';
import { SsssegError } from '../errors.ts';
import { isMethodName, METHODS } from '../methods/index.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface QuickstartArgs {
  out: string;
  methods: string;
}

/** Runs one sssseg command line in-process and returns its exit code. */
export type RunCommandLine = (argv: string[]) => Promise<number>;

/** `--methods a,b`: every name must be a method with a synthetic config, checked before anything runs. */
function parseMethods(list: string): string[] {
  const methods = list.split(',').map((m) => m.trim()).filter(Boolean);
  if (methods.length === 0) throw new SsssegError('cli.badValue', '--methods: give at least one method, e.g. sup,u2pl');
  for (const m of methods) {
    if (!isMethodName(m)) throw new SsssegError('cli.badValue', `--methods: unknown method "${m}" (one of ${Object.keys(METHODS).join(', ')})`);
  }
  return methods;
}

/**
 * The whole chain on the embedded default, each step through the same command line a user would
 * type, so the quick-start exercises exactly the documented commands. A step whose output is
 * complete is skipped and an interrupted training run is resumed: running quickstart twice is cheap.
 */
export async function runQuickstart(args: QuickstartArgs, io: Io, runCommandLine: RunCommandLine): Promise<void> {
  const methods = parseMethods(args.methods);
  const step = async (argv: string[]) => {
    io.err(`\n$ sssseg ${argv.join(' ')}`);
    const code = await runCommandLine(argv);
    if (code !== 0) throw new SsssegError('quickstart.step', `quickstart stopped: \`sssseg ${argv.join(' ')}\` failed (exit ${code})`);
  };
  const data = path.join(args.out, 'data');
  if (!existsSync(path.join(data, 'dataset.json'))) await step(['synthetic', '--out', data, '--force']);
  if (!existsSync(path.join(data, 'splits', '1_4', 'labeled.txt'))) await step(['split', '--data', data, '--labeled', '1/4', '--seed', '0']);
  const runs: string[] = [];
  for (const method of methods) {
    const dir = path.join(args.out, method);
    runs.push(dir);
    if (existsSync(path.join(dir, 'results.json'))) continue;
    const config = path.join(REPO_ROOT, 'experiments', 'synthetic', `${method}.yaml`);
    const resume = existsSync(path.join(dir, 'last.bin')) ? ['--resume', dir] : ['--out', dir, '--force'];
    await step(['train', '--method', method, '--config', config, '--data', data, '--split', '1/4', ...resume]);
    await step(['eval', path.join(dir, 'best.bin'), '--data', data]);
  }
  await step(['table', ...runs, '--out', path.join(args.out, 'table')]);
}
