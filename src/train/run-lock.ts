/**
 * Run folders are owned: one process at a time trains in a folder (a lock file with its pid), and
 * `--force` clears only a folder that is recognisably a run folder of this tool and not in use.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SsssegError } from '../errors.ts';
import { errnoOf, pidAlive, writeError } from '../io/writable.ts';

export const LOCK_FILE = 'run.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  command: string;
}

export interface RunLock {
  file: string;
  /** remove the lock (only if it is still ours); idempotent */
  release(): Promise<void>;
}

/** Files every run folder may hold besides the kind's own: the lock and temp files of atomic writes. */
const COMMON_ENTRIES = [new RegExp(`^${LOCK_FILE.replace('.', '\\.')}$`), /\.tmp-\d+-[\d-]+$/, /\.eval-[^/]+\.(json|csv)$/];

/**
 * Take the lock of `dir` (which must exist), or fail with one line naming the holder. A lock left
 * by a process that no longer runs on this host is taken over, with a line saying so.
 */
export async function lockRunFolder(dir: string, warn: (line: string) => void): Promise<RunLock> {
  const file = path.join(dir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command: process.argv.slice(2).join(' ') };
  const text = JSON.stringify(mine) + '\n';
  // written whole under a temp name, then linked into place: link fails if a lock exists, so of
  // two processes racing for a free folder one wins, and nobody ever reads a half-written lock
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await fs.writeFile(tmp, text).catch((err: unknown) => {
    throw writeError(err, file);
  });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.link(tmp, file);
        heldHere.add(file);
        break;
      } catch (err) {
        if (errnoOf(err)?.code !== 'EEXIST') throw writeError(err, file);
      }
      const held = await readLock(file);
      if ((held && isLive(held, file)) || attempt >= 2) throw lockedError(dir, file, held, mine.host);
      warn(`taking over the lock of ${dir}: ${held ? `pid ${held.pid} is no longer running` : `${LOCK_FILE} was unreadable`}`);
      await fs.rm(file, { force: true });
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
  let released = false;
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(file);
      const now = await readLock(file);
      if (now?.pid === mine.pid && now.started === mine.started) await fs.rm(file, { force: true });
    },
  };
}

function lockedError(dir: string, file: string, held: LockInfo | undefined, host: string): SsssegError {
  const who = held ? `pid ${held.pid}${held.host === host ? '' : ` on ${held.host}`} (since ${held.started}${held.command ? `: sssseg ${held.command}` : ''})` : 'another process';
  return new SsssegError('run.locked', `run folder ${dir} is in use by ${who}`, `wait for it or stop it; if no such sssseg process runs, delete ${file}`);
}

async function readLock(file: string): Promise<LockInfo | undefined> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockInfo>;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? { pid: v.pid, host: v.host, started: String(v.started ?? '?'), command: String(v.command ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

/** Locks this process holds now (a lock with our pid that is not among them is an old one). */
const heldHere = new Set<string>();

/** A lock of another host cannot be checked from here: it counts as live. */
function isLive(l: LockInfo, file: string): boolean {
  if (l.host !== os.hostname()) return true;
  return l.pid === process.pid ? heldHere.has(file) : pidAlive(l.pid);
}

/**
 * What `--force` may delete: an empty folder, or one whose every entry is a file this tool writes
 * into a run folder of this kind (`known`). Anything else (a data set, notes, predictions) stays,
 * and the error names what is not ours.
 */
export async function checkReplaceable(dir: string, known: RegExp[]): Promise<void> {
  const entries = await fs.readdir(dir);
  const patterns = [...COMMON_ENTRIES, ...known];
  const foreign = entries.filter((e) => !patterns.some((p) => p.test(e))).sort();
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} in all)` : '');
  throw new SsssegError(
    'run.notRunFolder',
    `--force replaces only run folders of sssseg, and ${dir} also holds ${shown}`,
    'choose another --out, or move those away first',
  );
}

/** Empty a run folder except its lock (held by this process while it starts over). */
export async function clearRunFolder(dir: string): Promise<void> {
  for (const e of await fs.readdir(dir)) {
    if (e !== LOCK_FILE) await fs.rm(path.join(dir, e), { recursive: true, force: true });
  }
}
