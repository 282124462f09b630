import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runSynthetic } from '../../src/commands/data.ts';
import { openDataset, readSample } from '../../src/data/index.ts';
import { syntheticSample } from '../../src/data/synthetic.ts';
import { quiet, tempDir } from './helpers.ts';

test('synthetic writes a prepared set with train and val splits that readSample decodes', async () => {
  const dir = path.join(await tempDir('syn'), 'syn');
  await runSynthetic({ out: dir, n: '12', size: '32x48', classes: '4', seed: '0' }, quiet);
  const data = await openDataset(dir);
  assert.equal(data.name, 'synthetic');
  assert.deepEqual(data.classes, ['background', 'disc-stripes', 'square-checks', 'triangle-dots']);
  assert.equal(data.split('train').length, 12);
  assert.equal(data.split('val').length, 8, 'val defaults to max(8, n/4)');
  const s = await readSample(data, data.split('val')[0]!);
  assert.equal(s.h, 32);
  assert.equal(s.w, 48);
  assert.equal(s.image.length, 32 * 48 * 3);
  assert.ok(s.label.every((v) => v < 4));
});

test('synthetic is deterministic for a seed and differs across seeds', async () => {
  const root = await tempDir('syn');
  for (const [name, seed] of [['a', '3'], ['b', '3'], ['c', '4']] as const) {
    await runSynthetic({ out: path.join(root, name), n: '4', val: '2', seed }, quiet);
  }
  const bytes = (d: string, f: string) => readFile(path.join(root, d, f));
  for (const f of ['dataset.json', 'images/train_0003.png', 'labels/train_0003.png', 'labels/val_0001.png']) {
    assert.deepEqual(await bytes('a', f), await bytes('b', f), f);
  }
  assert.notDeepEqual(await bytes('a', 'images/train_0000.png'), await bytes('c', 'images/train_0000.png'));
});

test('an existing output needs --force', async () => {
  const dir = path.join(await tempDir('syn'), 'syn');
  await runSynthetic({ out: dir, n: '2', val: '0' }, quiet);
  await assert.rejects(runSynthetic({ out: dir, n: '2', val: '0' }, quiet), { code: 'io.exists' });
  await runSynthetic({ out: dir, n: '3', val: '0', force: true }, quiet);
  assert.equal((await openDataset(dir)).split('train').length, 3);
});

test('bad synthetic options are one clear error', async () => {
  const dir = path.join(await tempDir('syn'), 'x');
  await assert.rejects(runSynthetic({ out: dir, classes: '11' }, quiet), /--classes 11: must be 2\.\.10/);
  await assert.rejects(runSynthetic({ out: dir, size: '64' }, quiet), /--size 64: expected HxW/);
  await assert.rejects(runSynthetic({ out: dir, n: 'many' }, quiet), /--n many/);
});

/**
 * The class must not be readable from colour: a per-colour lookup table fitted on 64 training
 * images (every quantisation from 2 to 5 levels per channel) labels fewer held-out object pixels
 * correctly than guessing among the three object classes would.
 */
test('no colour rule solves the synthetic set', () => {
  const [K, H, W] = [4, 64, 64];
  const train = Array.from({ length: 64 }, (_, i) => syntheticSample(0, 0, i, H, W, K));
  const val = Array.from({ length: 32 }, (_, i) => syntheticSample(0, 1, i, H, W, K));
  const seen = new Set<number>();
  for (const s of train) for (const v of s.label) seen.add(v);
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3], 'every class occurs');
  for (const levels of [2, 3, 4, 5]) {
    const key = (im: Uint8Array, p: number) =>
      ((im[p * 3]! >> (8 - levels)) << (2 * levels)) | ((im[p * 3 + 1]! >> (8 - levels)) << levels) | (im[p * 3 + 2]! >> (8 - levels));
    const table = new Map<number, number[]>();
    for (const s of train) {
      for (let p = 0; p < H * W; p++) {
        const counts = table.get(key(s.image, p)) ?? new Array<number>(K).fill(0);
        counts[s.label[p]!]!++;
        table.set(key(s.image, p), counts);
      }
    }
    let hit = 0;
    let objects = 0;
    for (const s of val) {
      for (let p = 0; p < H * W; p++) {
        if (s.label[p] === 0) continue;
        const c = table.get(key(s.image, p));
        const pred = c ? c.indexOf(Math.max(...c)) : 0;
        objects++;
        if (pred === s.label[p]) hit++;
      }
    }
    assert.ok(objects > 1000);
    assert.ok(hit / objects < 1 / 3, `${levels} levels: colour lookup gets ${(hit / objects).toFixed(3)} of object pixels`);
  }
});
