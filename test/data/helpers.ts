import { mkdirSync, writeFileSync } from 'node:fs';
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

/**
 * A prepared folder holding dataset.json and an empty image file per id (enough for split logic,
 * which checks that the images exist but never opens them).
 */
export async function fakeDataset(dir: string, splits: Record<string, string[]>, classes = 21): Promise<string> {
  // synchronous: ten thousand tiny files are much faster without the thread-pool round trips
  const made = new Set<string>();
  for (const id of new Set(Object.values(splits).flat())) {
    const file = path.join(dir, 'images', `${id}.jpg`);
    const parent = path.dirname(file);
    if (!made.has(parent)) mkdirSync(parent, { recursive: true }), made.add(parent);
    writeFileSync(file, '');
  }
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
