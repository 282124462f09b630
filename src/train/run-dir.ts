import { promises as fs, existsSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { SsssegError } from '../errors.ts';
import { appendFileChecked, writeFileAtomic } from '../io/atomic.ts';
import { ensureWritableDir } from '../io/writable.ts';
import { checkReplaceable, clearRunFolder, lockRunFolder } from './run-lock.ts';

/** The files of one run folder; later stages (eval, table, report) read them by these names. */
export const RUN_FILES = {
  config: 'config.yaml',
  log: 'log.jsonl',
  last: 'last.bin',
  best: 'best.bin',
  results: 'results.json',
} as const;

/** What a training run's folder may hold, for `--force` (see run-lock.ts). */
export const TRAIN_ENTRIES: RegExp[] = [...Object.values(RUN_FILES).map((f) => new RegExp(`^${f.replace('.', '\\.')}$`)), /^ckpt-e\d+\.bin$/];

export interface RunDir {
  dir: string;
  file(name: keyof typeof RUN_FILES): string;
  appendLog(record: Record<string, unknown>): Promise<void>;
  /** give up the folder's lock (when the run ends, however it ends) */
  release(): Promise<void>;
}

/**
 * Open and lock the run folder. A new run refuses a non-empty folder unless `force`, and force
 * clears only a recognisable run folder that no other process uses; `resume` requires the folder
 * and its last checkpoint. Nothing is deleted or written before the lock is held.
 */
export async function openRunDir(dir: string, mode: { resume: boolean; force: boolean }, warn: (line: string) => void): Promise<RunDir> {
  let clear = false;
  const noResume = () => new SsssegError('train.noResume', `cannot resume ${dir}: it has no ${RUN_FILES.last}`, 'start a new run without --resume');
  if (mode.resume) {
    if (!existsSync(dir)) throw noResume();
  } else {
    // created first, so that a path under a file, /proc or a read-only mount is one line naming it
    await ensureWritableDir(dir, `run folder ${dir}`);
    if ((await fs.readdir(dir)).length > 0) {
      if (!mode.force) {
        throw new SsssegError('train.runExists', `run folder ${dir} already exists`, 'pass --resume to continue it or --force to start over');
      }
      await checkReplaceable(dir, TRAIN_ENTRIES);
      clear = true;
    }
  }
  // a folder in use is refused naming its holder before anything else is said about it
  const lock = await lockRunFolder(dir, warn);
  if (mode.resume && !existsSync(path.join(dir, RUN_FILES.last))) {
    await lock.release();
    throw noResume();
  }
  if (clear) await clearRunFolder(dir);
  return {
    dir,
    file: (name) => path.join(dir, RUN_FILES[name]),
    appendLog: (record) => appendFileChecked(path.join(dir, RUN_FILES.log), JSON.stringify(record) + '\n'),
    release: () => lock.release(),
  };
}

export async function writeResolvedConfig(run: RunDir, config: unknown): Promise<void> {
  await writeFileAtomic(run.file('config'), yaml.dump(config, { lineWidth: 120 }));
}
