import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { after } from 'node:test';

/**
 * A tmpfs of `size` (e.g. '2m') mounted at `dir`, unmounted when the test file ends; undefined
 * where this process may not mount (not root, no mount namespace): callers skip with one line.
 */
export function mountTmpfs(dir: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  after(() => {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  });
  return dir;
}

/**
 * Make `dir` unwritable to this process after `fill` has put files in it: a tmpfs remounted
 * read-only as root, write permission removed otherwise (root ignores modes). Returns the cause the error
 * should name, or undefined when neither works here.
 */
export async function readOnlyDir(dir: string, fill: (dir: string) => Promise<void>): Promise<RegExp | undefined> {
  if (process.getuid?.() === 0) {
    if (!mountTmpfs(dir, '64m')) return undefined;
    await fill(dir);
    execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'ignore' });
    return /read-only file system/;
  }
  mkdirSync(dir, { recursive: true });
  await fill(dir);
  execFileSync('chmod', ['-R', 'a-w', dir]);
  after(() => execFileSync('chmod', ['-R', 'u+w', dir]));
  return /permission denied/;
}
