import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SsssegError } from '../errors.ts';
import { diskFullError, ensureWritableDir, errnoOf, pidAlive, writeError } from './writable.ts';

/** Writes a finished temp file's bytes and makes them durable; tests pass one that fails. */
export type TempWriter = (tmp: string, data: string | Uint8Array) => Promise<void>;

const writeAndSync: TempWriter = async (tmp, data) => {
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
};

/** Temp files and folders this process is writing right now (never stale, whatever the pid says). */
const inFlight = new Set<string>();
/** Folders already swept for stale temp files by this process. */
const swept = new Set<string>();
let seq = 0;

const STALE = /\.(?:tmp-(\d+)-[\d-]+|partial-(\d+))$/;

/**
 * Remove `<file>.tmp-<pid>-…` and `<dir>.partial-<pid>` left in `dir` by processes that died
 * mid-write (kill -9, disk full before the fix): they hold space and look like output.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = STALE.exec(name);
    if (!m) continue;
    const pid = Number(m[1] ?? m[2]);
    const full = path.join(dir, name);
    if (inFlight.has(full) || (pid !== process.pid && pidAlive(pid))) continue;
    await fs.rm(full, { recursive: true, force: true });
    removed.push(full);
  }
  return removed;
}

/** The folder `file` goes into: created and checked once per process, stale temps removed. */
async function prepareDir(file: string): Promise<void> {
  const dir = path.dirname(file);
  const key = path.resolve(dir);
  if (swept.has(key)) {
    await fs.mkdir(dir, { recursive: true });
    return;
  }
  await ensureWritableDir(dir, file);
  await removeStaleTemps(dir);
  swept.add(key);
}

/**
 * Write a file so that readers never see a half-written one: write to a sibling temp file,
 * fsync, then rename over the target (rename is atomic on one file system). On failure the temp
 * file is removed and the error names `file` (disk full: with the space it needed).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, write: TempWriter = writeAndSync): Promise<void> {
  await prepareDir(file);
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}-${seq++}`;
  inFlight.add(tmp);
  let failure: unknown;
  try {
    await write(tmp, data);
    await fs.rename(tmp, file);
    return;
  } catch (err) {
    failure = err;
    await fs.rm(tmp, { force: true });
  } finally {
    inFlight.delete(tmp);
  }
  const code = errnoOf(failure)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') throw writeError(failure, file);
  // a dead process's temp file that appeared since this folder was swept may be what fills the disk
  if ((await removeStaleTemps(path.dirname(file))).length > 0) return writeFileAtomic(file, data, write);
  throw await diskFullError(file, byteLength(data), code);
}

/** Append to a log file; a full disk or read-only target is one line naming the file. */
export async function appendFileChecked(file: string, text: string): Promise<void> {
  try {
    await fs.appendFile(file, text);
  } catch (err) {
    const code = errnoOf(err)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw await diskFullError(file, Buffer.byteLength(text), code);
    throw writeError(err, file);
  }
}

function byteLength(data: string | Uint8Array): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

/**
 * Build a folder under a temporary name and rename it into place only when `build` succeeds, so
 * a crash never leaves a complete-looking output. An existing target needs `force`.
 */
export async function buildDirAtomic<T>(
  target: string,
  force: boolean,
  build: (tmpDir: string) => Promise<T>,
): Promise<T> {
  const clean = target.replace(/\/+$/, '');
  await ensureWritableDir(path.dirname(path.resolve(clean)), `output ${target}`);
  const exists = await fs.stat(target).then(() => true, () => false);
  if (exists && !force) {
    throw new SsssegError('io.exists', `output ${target} already exists`, 'pass --force to replace it');
  }
  await removeStaleTemps(path.dirname(path.resolve(clean)));
  const tmp = `${clean}.partial-${process.pid}`;
  inFlight.add(path.resolve(tmp));
  try {
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp);
    const result = await build(tmp);
    if (exists) await fs.rm(target, { recursive: true, force: true });
    await fs.rename(tmp, target);
    return result;
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw await namedWriteError(err, tmp, clean);
  } finally {
    inFlight.delete(path.resolve(tmp));
  }
}

/** An errno error from inside the temp folder, told about the file the user will look for. */
async function namedWriteError(err: unknown, tmp: string, target: string): Promise<unknown> {
  const e = errnoOf(err);
  if (!e || err instanceof SsssegError) return err;
  const where = e.path ? e.path.replace(tmp, target) : target;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return diskFullError(where, undefined, e.code);
  return writeError(err, where);
}
