/** Helpers shared by the source readers: folder checks and list files. */
import { promises as fs } from 'node:fs';
import { SsssegError } from '../../errors.ts';

export async function requireDir(dir: string, what: string, hint?: string): Promise<void> {
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new SsssegError('data.missingFolder', `${what} ${dir} not found (or not a folder)`, hint);
}

export async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}

/** Sorted entries of a folder ([] when it does not exist). */
export async function listDir(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.sort();
}
