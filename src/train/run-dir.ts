import { promises as fs, existsSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { SsssegError } from '../errors.ts';
import { appendFileChecked, writeFileAtomic } from '../io/atomic.ts';
import { ensureWritableDir } from '../io/writable.ts';

/** The files of one run folder; later stages (eval, table, report) read them by these names. */
export const RUN_FILES = {
  config: 'config.yaml',
  log: 'log.jsonl',
  last: 'last.bin',
  best: 'best.bin',
  results: 'results.json',
} as const;

export interface RunDir {
  dir: string;
  file(name: keyof typeof RUN_FILES): string;
  appendLog(record: Record<string, unknown>): Promise<void>;
}

/**
 * Open the run folder: a new run refuses an existing folder unless `force` (then it is cleared);
 * `resume` requires the folder and its last checkpoint.
 */
export async function openRunDir(dir: string, mode: { resume: boolean; force: boolean }): Promise<RunDir> {
  // a new run creates the folder first, so that a path under a file, /proc or a read-only mount
  // is one line naming it
  if (!mode.resume) await ensureWritableDir(dir, `run folder ${dir}`);
  const exists = existsSync(dir) && (await fs.readdir(dir)).length > 0;
  if (mode.resume) {
    if (!existsSync(path.join(dir, RUN_FILES.last))) {
      throw new SsssegError('train.noResume', `cannot resume ${dir}: it has no ${RUN_FILES.last}`, 'start a new run without --resume');
    }
  } else if (exists) {
    if (!mode.force) {
      throw new SsssegError('train.runExists', `run folder ${dir} already exists`, 'pass --resume to continue it or --force to start over');
    }
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir);
  }
  return {
    dir,
    file: (name) => path.join(dir, RUN_FILES[name]),
    appendLog: (record) => appendFileChecked(path.join(dir, RUN_FILES.log), JSON.stringify(record) + '\n'),
  };
}

export async function writeResolvedConfig(run: RunDir, config: unknown): Promise<void> {
  await writeFileAtomic(run.file('config'), yaml.dump(config, { lineWidth: 120 }));
}
