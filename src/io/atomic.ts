import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Write a file so that readers never see a half-written one: write to a sibling temp file,
 * fsync, then rename over the target (rename is atomic on one file system).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
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
  const { SsssegError } = await import('../errors.ts');
  const exists = await fs.stat(target).then(() => true, () => false);
  if (exists && !force) {
    throw new SsssegError('io.exists', `output ${target} already exists`, 'pass --force to replace it');
  }
  const tmp = `${target.replace(/\/+$/, '')}.partial-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  try {
    const result = await build(tmp);
    if (exists) await fs.rm(target, { recursive: true, force: true });
    await fs.rename(tmp, target);
    return result;
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
