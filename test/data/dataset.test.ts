import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runSynthetic } from '../../src/commands/data.ts';
import { openDataset, readSample } from '../../src/data/index.ts';
import { quiet, tempDir } from './helpers.ts';

test('openDataset exposes classes, palette and splits; a missing split is named', async () => {
  const dir = path.join(await tempDir('ds'), 'syn');
  await runSynthetic({ out: dir, n: '3', val: '1', size: '32x32' }, quiet);
  const data = await openDataset(dir);
  assert.equal(data.numClasses, 4);
  assert.equal(data.palette.length, 4);
  assert.deepEqual(Object.keys(data.splits), ['train', 'val']);
  assert.equal(data.ignoreIndex, 255);
  assert.throws(() => data.split('test'), /has no split "test" \(it has: train, val\)/);
});

test('the decode cache returns the same sample and evicts the least recently used beyond its budget', async () => {
  const dir = path.join(await tempDir('ds'), 'syn');
  await runSynthetic({ out: dir, n: '3', val: '0', size: '32x32' }, quiet);
  // one 32x32 sample is 4 KiB: a 6 KiB budget holds one
  const data = await openDataset(dir, { cache: 6 / 1024 });
  const [a, b] = data.split('train');
  const s1 = await readSample(data, a!);
  assert.equal(await readSample(data, a!), s1);
  await readSample(data, b!);
  assert.equal(data.cache!.size, 1);
  assert.notEqual(await readSample(data, a!), s1, 'a was evicted and decoded afresh');
  assert.deepEqual((await readSample(data, a!)).label, s1.label);
  const uncached = await openDataset(dir);
  assert.notEqual(await readSample(uncached, a!), await readSample(uncached, a!));
});
