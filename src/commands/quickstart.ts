import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Io } from '../output.ts';
import { SsssegError } from '../errors.ts';
import { isMethodName, isPipelineName, METHODS } from '../methods/index.ts';
import { runLocal } from './sweep/local.ts';
import { logFile, runEntry, type SweepEntry } from './sweep/plan.ts';

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
 * The quick-start's regime: 1/8 of the synthetic set labeled (8 images) and 240 iterations. Measured
 * on another synthetic set (`synthetic --seed 1`, 3 seeds, native): at 120 iterations SupOnly has
 * already flattened (66.1 vs 66.2 at 240) while U2PL, half of whose run is the profile's supervised
 * warm-up, has had too few semi-supervised steps (58.9); at 240 it is 75.5 ± 1.9 against 66.2 ± 1.8.
 */
const SPLIT = '1/8';
const ITERATIONS = 240;

/**
 * The whole chain on the embedded default, each step through the same command line a user would
 * type, so the quick-start exercises exactly the documented commands. The training runs go side by
 * side, one process each (wasm runs on one thread; two runs fill two cores), output in
 * `<out>/<method>.log`. A step whose output is complete is skipped and an interrupted training run
 * is resumed: running quickstart twice is cheap.
 */
export async function runQuickstart(args: QuickstartArgs, io: Io, runCommandLine: RunCommandLine, childFlags: string[] = []): Promise<void> {
  const methods = parseMethods(args.methods);
  const step = async (argv: string[]) => {
    io.err(`\n$ sssseg ${argv.join(' ')}`);
    const code = await runCommandLine(argv);
    if (code !== 0) throw new SsssegError('quickstart.step', `quickstart stopped: \`sssseg ${argv.join(' ')}\` failed (exit ${code})`);
  };
  const data = path.join(args.out, 'data');
  const splitDir = path.join(data, 'splits', SPLIT.replace('/', '_'), 'labeled.txt');
  if (!existsSync(path.join(data, 'dataset.json'))) await step(['synthetic', '--out', data, '--force']);
  if (!existsSync(splitDir)) await step(['split', '--data', data, '--labeled', SPLIT, '--seed', '0']);
  const runs = methods.map((m) => path.join(args.out, m));
  const todo = await Promise.all(methods.map((m, i) => trainEntry(m, runs[i]!, data)));
  const pending = todo.filter((e) => e.state !== 'done');
  for (const e of pending) io.err(`\n$ sssseg ${[...childFlags, ...e.argv].join(' ')}    # log: ${logFile(e)}`);
  const failed = await runLocal(pending, Math.min(pending.length, os.availableParallelism()), childFlags, io);
  if (failed.length) throw new SsssegError('quickstart.step', `quickstart stopped: training failed for ${failed.join(', ')} (see the logs above); run quickstart again to resume`);
  for (const dir of runs) await step(['eval', path.join(dir, 'best.bin'), '--data', data]);
  await step(['table', ...runs, '--out', path.join(args.out, 'table')]);
}

/** The training run of one method: its synthetic config on the quick-start's split and schedule. */
function trainEntry(method: string, outDir: string, data: string): Promise<SweepEntry> {
  const config = path.join(REPO_ROOT, 'experiments', 'synthetic', `${method}.yaml`);
  const trainFlags = ['--method', method, '--data', data, '--split', SPLIT, '--set', `train.iterations=${ITERATIONS}`];
  return runEntry({ config, outDir, pipeline: isPipelineName(method), trainFlags }, method);
}
