import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { FORMAT_TAG, IGNORE_INDEX, writeDatasetMeta } from '../../src/data/format.ts';

/** A fresh temp folder, removed when the test file ends. */
export async function tempDir(tag = 'data'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `sssseg-${tag}-`));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A prepared folder holding only dataset.json (enough for split logic, which never opens images). */
export async function fakeDataset(dir: string, splits: Record<string, string[]>, classes = 21): Promise<string> {
  await writeDatasetMeta(dir, {
    format: FORMAT_TAG,
    name: 'fake',
    classes: Array.from({ length: classes }, (_, i) => `c${i}`),
    palette: Array.from({ length: classes }, () => [0, 0, 0] as [number, number, number]),
    ignoreIndex: IGNORE_INDEX,
    imageExt: 'jpg',
    splits,
    partitions: {},
    source: {},
  });
  return dir;
}

export const quiet = { out: () => {}, err: () => {} };

export function recorder(): { out: (l: string) => void; err: (l: string) => void; stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l) };
}
