/**
 * The local executor: each run in its own `sssseg train` process on this machine (so a crash or an
 * out-of-memory stays in one run), N at a time, output appended to `<run>.log`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Io } from '../../output.ts';
import { ensureWritableDir } from '../../io/writable.ts';
import { RUN_FILES } from '../../train/run-dir.ts';
import { logFile, type SweepEntry } from './plan.ts';

/** The launcher every run starts through (absolute, so Slurm jobs can use it too). */
export const SSSSEG_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/sssseg.js');

/** One `sssseg train` child, output appended to its log. Resolves to its exit code. */
function runChild(e: SweepEntry, flags: string[], threads: number): Promise<number> {
  return new Promise((resolve) => {
    const log = createWriteStream(logFile(e), { flags: 'a' });
    const env = { ...process.env, OMP_NUM_THREADS: process.env['OMP_NUM_THREADS'] ?? String(threads) };
    const child = spawn(process.execPath, [SSSSEG_BIN, ...flags, ...e.argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('close', (code) => log.end(() => resolve(code ?? 1)));
  });
}

/** Run `todo` N at a time; returns the configs that failed. */
export async function runLocal(todo: SweepEntry[], jobs: number, childFlags: string[], io: Io): Promise<string[]> {
  const threads = Math.max(1, Math.floor(os.availableParallelism() / jobs));
  const failed: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const index = next++;
      const e = todo[index]!;
      await ensureWritableDir(path.dirname(e.outDir));
      const t0 = Date.now();
      io.out(`[${index + 1}/${todo.length}] ${e.config} → ${e.outDir} (log: ${logFile(e)})`);
      const code = await runChild(e, childFlags, threads);
      const secs = ((Date.now() - t0) / 1000).toFixed(0);
      if (code === 0 && existsSync(path.join(e.outDir, RUN_FILES.results))) io.out(`  done ${e.config} in ${secs} s`);
      else {
        failed.push(e.config);
        io.err(`  failed ${e.config} (exit ${code}) after ${secs} s: see ${logFile(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
  return failed;
}
