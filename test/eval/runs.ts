import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeRunResults, type RunResults } from '../../src/io/results.ts';

/** One run folder per result under a fresh temporary root, as `sssseg train` leaves them. */
export async function makeRuns(specs: RunResults[]): Promise<{ root: string; dirs: string[] }> {
  const root = mkdtempSync(path.join(tmpdir(), 'sssseg-table-'));
  const dirs: string[] = [];
  for (const [i, r] of specs.entries()) {
    const dir = path.join(root, `run${i}`);
    mkdirSync(dir);
    await writeRunResults(dir, r);
    dirs.push(dir);
  }
  return { root, dirs };
}
