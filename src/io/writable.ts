/**
 * Where output goes: creating folders without Node's recursive mkdir (which reports ENOENT on a
 * read-only file system and never settles under /proc), and turning a failed write into one line
 * that names the path and the cause (read-only, not a directory, permission, disk full).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SsssegError } from '../errors.ts';

/** statfs types of kernel pseudo file systems: they accept no ordinary files or folders. */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x1cd1: 'devpts',
  0xcafe4a11: 'bpf',
  0x6165676c: 'pstore',
  0x62656570: 'configfs',
  0xde5e81e4: 'efivarfs',
  0x42494e4d: 'binfmt_misc',
};

const CAUSES: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
};

/** A Node errno error (has `code`), else undefined. */
export function errnoOf(err: unknown): NodeJS.ErrnoException | undefined {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' ? (err as NodeJS.ErrnoException) : undefined;
}

/**
 * An errno error from writing `target` as one SsssegError naming it and the cause; anything else
 * (including errors that are already SsssegErrors) is returned unchanged.
 */
export function writeError(err: unknown, target: string, what = 'write'): unknown {
  const e = errnoOf(err);
  if (!e || err instanceof SsssegError) return err;
  const cause = CAUSES[e.code!];
  if (!cause) return err;
  return new SsssegError(`io.${e.code!.toLowerCase()}`, `cannot ${what} ${target}: ${cause}`);
}

/** Bytes free to an unprivileged writer on the file system holding `p` (undefined if unknown). */
export async function freeBytes(p: string): Promise<number | undefined> {
  try {
    const s = await fs.statfs(p);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  for (; v >= 1024 && u < units.length - 1; u++) v /= 1024;
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** The disk-full error for `file`: how much the write needed and how much is free now. */
export async function diskFullError(file: string, needed: number | undefined, code = 'ENOSPC'): Promise<SsssegError> {
  const free = await freeBytes(path.dirname(file));
  const parts = [needed === undefined ? '' : `it needs ${formatBytes(needed)}`, free === undefined ? '' : `${formatBytes(free)} free`].filter(Boolean);
  const what = code === 'EDQUOT' ? 'disk quota exceeded' : 'disk full';
  return new SsssegError(`io.${code.toLowerCase()}`, `${what} writing ${file}${parts.length ? `: ${parts.join(', ')}` : ''}`, 'free some space or write elsewhere');
}

/**
 * Create `dir` (and missing parents) for writing, or fail with one line naming the path and why:
 * a parent that is a file, a pseudo file system (/proc, /sys), read-only, permission.
 */
export async function ensureWritableDir(dir: string, label = `folder ${dir}`): Promise<void> {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let existing = abs;
  for (;;) {
    const st = await fs.stat(existing).catch((err: unknown) => {
      const code = errnoOf(err)?.code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw writeError(err, label, 'create');
    });
    if (st?.isDirectory()) break;
    if (st) throw new SsssegError('io.notDirectory', `cannot create ${label}: ${existing} is not a directory`);
    missing.unshift(existing);
    existing = path.dirname(existing);
  }
  const kind = await pseudoFsKind(existing);
  if (kind) throw new SsssegError('io.notWritable', `cannot create ${label}: ${existing} is on ${kind}, not a writable file system`);
  for (const d of missing) {
    await fs.mkdir(d).catch((err: unknown) => {
      if (errnoOf(err)?.code === 'EEXIST') return;
      throw writeError(err, label, 'create');
    });
  }
  await fs.access(abs, fs.constants.W_OK).catch((err: unknown) => {
    throw writeError(err, label, 'write');
  });
}

async function pseudoFsKind(dir: string): Promise<string | undefined> {
  try {
    const type = Number((await fs.statfs(dir)).type);
    return PSEUDO_FS[type] ? `a ${PSEUDO_FS[type]} file system` : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid is running (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err)?.code === 'EPERM';
  }
}
