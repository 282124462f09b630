/** `split --import` on the full published lists in ../shared/data/splits (skipped without them). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runSplit } from '../../src/commands/data.ts';
import { openDataset, resolveSplit } from '../../src/data/index.ts';
import { readOfficialList } from '../../src/data/split-import.ts';
import { needsShared, sharedPath } from '../helpers/shared.ts';
import { fakeDataset, quiet, tempDir } from './helpers.ts';

const NEEDS = needsShared('data/splits');
const SPLITS = sharedPath('data', 'splits') ?? '';

test('split --import u2pl|stpp|unimatch reads the full published VOC lists', NEEDS, async () => {
  const trainAug = await readOfficialList(path.join(SPLITS, 'unimatch/splits/pascal/train_aug.txt'));
  const val = await readOfficialList(path.join(SPLITS, 'u2pl/data/splits/pascal/val.txt'));
  assert.equal(trainAug.length, 10582);
  const dir = await fakeDataset(path.join(await tempDir('split'), 'voc'), { train_aug: trainAug, val });
  const u2pl = await runSplit({ data: dir, import: 'u2pl' }, path.join(SPLITS, 'u2pl/data/splits/pascal/92'), quiet);
  assert.deepEqual(u2pl, { name: 'u2pl/92', labeled: 92, unlabeled: 10490 });
  const stpp = await runSplit({ data: dir, import: 'stpp' }, path.join(SPLITS, 'stpp/dataset/splits/pascal/1_8/split_0/labeled.txt'), quiet);
  assert.deepEqual(stpp, { name: 'stpp/1_8/split_0', labeled: 1323, unlabeled: 9259 });
  const uni = await runSplit({ data: dir, import: 'unimatch' }, path.join(SPLITS, 'unimatch/splits/pascal/u2pl_1_16'), quiet);
  assert.equal(uni.name, 'unimatch/u2pl_1_16');
  const data = await openDataset(dir);
  const a = await resolveSplit(data, 'u2pl/92');
  assert.equal(a.labeled[0], (await readFile(path.join(SPLITS, 'u2pl/data/splits/pascal/92/labeled.txt'), 'utf8')).split('\n')[0]!.trim());
  // UniMatch's u2pl_1_16 re-expresses U2PL's 662 blender partition: the same ids
  const u662 = await runSplit({ data: dir, import: 'u2pl' }, path.join(SPLITS, 'u2pl/data/splits/pascal/662'), quiet);
  assert.equal(u662.labeled, 662);
  assert.deepEqual((await resolveSplit(data, 'unimatch/u2pl_1_16')).labeled.sort(), (await resolveSplit(data, 'u2pl/662')).labeled.sort());
  await assert.rejects(
    runSplit({ data: dir, import: 'stpp' }, path.join(SPLITS, 'stpp/dataset/splits/pascal/183/split_1'), quiet),
    { code: 'split.empty' },
  );
});

test('split --import maps the published Cityscapes lists onto frame ids', NEEDS, async () => {
  const base = path.join(SPLITS, 'unimatch/splits/cityscapes/1_30');
  const all = [...(await readOfficialList(path.join(base, 'labeled.txt'))), ...(await readOfficialList(path.join(base, 'unlabeled.txt')))];
  assert.equal(all.length, 2975);
  const dir = await fakeDataset(path.join(await tempDir('split'), 'cs'), { train: all.sort() }, 19);
  const r = await runSplit({ data: dir, import: 'u2pl' }, path.join(SPLITS, 'u2pl/data/splits/cityscapes/186'), quiet);
  assert.deepEqual(r, { name: 'u2pl/186', labeled: 186, unlabeled: 2789 });
});

test('importing a full published list onto a data set that lacks the ids names the missing ones', NEEDS, async () => {
  const dir = await fakeDataset(path.join(await tempDir('split'), 'small'), { train: ['2011_000003'] });
  await assert.rejects(
    runSplit({ data: dir, import: 'u2pl' }, path.join(SPLITS, 'u2pl/data/splits/pascal/92'), quiet),
    (e: Error & { code: string }) => {
      assert.equal(e.code, 'split.unknownIds');
      assert.match(e.message, /10581 id\(s\) not in the data set: \d{4}_\d{6}, .*\(10581 in all\)/);
      return true;
    },
  );
});
