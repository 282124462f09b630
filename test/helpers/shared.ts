import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root and ../shared (read-only data, references); fail loudly if shared/ is missing. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = path.resolve(REPO_ROOT, '..', 'shared');

export function sharedPath(...parts: string[]): string {
  if (!existsSync(SHARED)) {
    throw new Error(`../shared not found at ${SHARED}: tests need the shared data and references beside the repository`);
  }
  return path.join(SHARED, ...parts);
}
