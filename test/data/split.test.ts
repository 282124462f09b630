import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runSplit } from '../../src/data/commands.ts';
import { openDataset, resolveSplit } from '../../src/data/index.ts';
import { readDatasetMeta } from '../../src/data/format.ts';
import { officialLineToId, readOfficialList } from '../../src/data/split-import.ts';
import { labeledCount, parseLabeledSpec, partitionDir } from '../../src/data/split.ts';
import { sharedPath } from '../helpers/shared.ts';
import { fakeDataset, quiet, tempDir } from './helpers.ts';

const ids = (n: number, p = 'img') => Array.from({ length: n }, (_, i) => `${p}_${String(i).padStart(3, '0')}`);
const SPLITS = sharedPath('data', 'splits');

test('labeled specs: fractions round up like U2PL (662 = ⌈10582/16⌉), counts are exact', () => {
  assert.equal(labeledCount(parseLabeledSpec('1/16'), 10582), 662);
  assert.equal(labeledCount(parseLabeledSpec('1/8'), 10582), 1323);
  assert.equal(labeledCount(parseLabeledSpec('1/4'), 10582), 2646);
  assert.equal(labeledCount(parseLabeledSpec('92'), 1464), 92);
  assert.throws(() => parseLabeledSpec('3/8'), { code: 'split.badSpec' });
  assert.throws(() => labeledCount(parseLabeledSpec('500'), 367), { code: 'split.tooMany' });
  assert.equal(partitionDir('1/8'), 'splits/1_8');
  assert.equal(partitionDir('u2pl/92'), 'splits/u2pl/92');
});

test('split --labeled 1/4 --seed 0 is deterministic, disjoint, complete and resolvable', async () => {
  const root = await tempDir('split');
  const train = ids(37);
  const a = await fakeDataset(path.join(root, 'a'), { train, val: ids(5, 'v') });
  const b = await fakeDataset(path.join(root, 'b'), { train, val: ids(5, 'v') });
  await runSplit({ data: a, labeled: '1/4', seed: '0' }, undefined, quiet);
  await runSplit({ data: b, labeled: '1/4', seed: '0' }, undefined, quiet);
  const read = (d: string, f: string) => readFile(path.join(d, 'splits', '1_4', f), 'utf8');
  assert.equal(await read(a, 'labeled.txt'), await read(b, 'labeled.txt'));
  const split = await resolveSplit(await openDataset(a), '1/4');
  assert.equal(split.name, '1/4');
  assert.equal(split.labeled.length, 10);
  assert.equal(split.unlabeled.length, 27);
  assert.deepEqual([...split.labeled, ...split.unlabeled].sort(), train);
  // a different seed is stored beside it under its own name
  await runSplit({ data: a, labeled: '1/4', seed: '1' }, undefined, quiet);
  const other = await resolveSplit(await openDataset(a), '1/4-s1');
  assert.notDeepEqual(other.labeled, split.labeled);
  const meta = await readDatasetMeta(a);
  assert.deepEqual(Object.keys(meta.partitions), ['1/4', '1/4-s1']);
  assert.equal(meta.partitions['1/4']!.seed, 0);
  assert.equal(meta.partitions['1/4']!.dir, 'splits/1_4');
});

test('resolveSplit: all, a folder path, and clear errors', async () => {
  const root = await tempDir('split');
  const dir = await fakeDataset(path.join(root, 'd'), { train: ids(8), val: ids(2, 'v') });
  const data = await openDataset(dir);
  assert.deepEqual(await resolveSplit(data, 'all'), { name: 'all', labeled: ids(8), unlabeled: [] });
  const folder = path.join(root, 'mine');
  await mkdir(folder);
  await writeFile(path.join(folder, 'labeled.txt'), 'img_001\nimg_004\n');
  await writeFile(path.join(folder, 'unlabeled.txt'), 'img_000\n');
  assert.deepEqual(await resolveSplit(data, folder), { name: folder, labeled: ['img_001', 'img_004'], unlabeled: ['img_000'] });
  await assert.rejects(resolveSplit(data, '1/8'), (e: Error & { code: string; hint?: string }) => {
    assert.equal(e.code, 'split.notFound');
    assert.match(e.hint ?? '', /sssseg split --data .* --labeled 1\/8/);
    return true;
  });
  await writeFile(path.join(folder, 'labeled.txt'), 'img_001\nnope_1\n');
  await assert.rejects(resolveSplit(data, folder), /1 id\(s\) not in the data set: nope_1/);
});

test('a different partition under an existing name needs --force', async () => {
  const dir = await fakeDataset(path.join(await tempDir('split'), 'd'), { train: ids(20) });
  await runSplit({ data: dir, labeled: '5', seed: '0', name: 'mine' }, undefined, quiet);
  await runSplit({ data: dir, labeled: '5', seed: '0', name: 'mine' }, undefined, quiet); // same ids: fine
  await assert.rejects(runSplit({ data: dir, labeled: '5', seed: '2', name: 'mine' }, undefined, quiet), { code: 'split.exists' });
  await runSplit({ data: dir, labeled: '5', seed: '2', name: 'mine', force: true }, undefined, quiet);
});

test('official list lines map to prepared ids in all three published formats', () => {
  assert.equal(officialLineToId('2007_000033', 'x'), '2007_000033');
  assert.equal(officialLineToId('JPEGImages/2007_000033.jpg SegmentationClass/2007_000033.png', 'x'), '2007_000033');
  assert.equal(officialLineToId('leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png', 'x'), 'aachen_000000_000019');
  assert.equal(
    officialLineToId('leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png gtFine/train/aachen/aachen_000000_000019_gtFine_labelTrainIds.png', 'x'),
    'aachen_000000_000019',
  );
});

test('split --import u2pl|stpp|unimatch reads the published VOC lists as they are', async () => {
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

test('split --import maps Cityscapes leftImg8bit paths onto frame ids', async () => {
  const base = path.join(SPLITS, 'unimatch/splits/cityscapes/1_30');
  const all = [...(await readOfficialList(path.join(base, 'labeled.txt'))), ...(await readOfficialList(path.join(base, 'unlabeled.txt')))];
  assert.equal(all.length, 2975);
  const dir = await fakeDataset(path.join(await tempDir('split'), 'cs'), { train: all.sort() }, 19);
  const r = await runSplit({ data: dir, import: 'u2pl' }, path.join(SPLITS, 'u2pl/data/splits/cityscapes/186'), quiet);
  assert.deepEqual(r, { name: 'u2pl/186', labeled: 186, unlabeled: 2789 });
});

test('importing onto a data set that lacks the ids names the missing ones', async () => {
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
