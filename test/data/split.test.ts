import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp as cpDir, readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runSplit } from '../../src/commands/data.ts';
import { openDataset, resolveSplit } from '../../src/data/index.ts';
import { readDatasetMeta } from '../../src/data/format.ts';
import { officialLineToId } from '../../src/data/split-import.ts';
import { labeledCount, parseLabeledSpec, partitionDir } from '../../src/data/split.ts';
import { memoryIo } from '../helpers/io.ts';
import { run } from '../../src/cli/main.ts';
import { fakeDataset, quiet, tempDir } from './helpers.ts';

const ids = (n: number, p = 'img') => Array.from({ length: n }, (_, i) => `${p}_${String(i).padStart(3, '0')}`);

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

/**
 * Partition lists written the way each repository publishes them, in a folder of the user's
 * choosing (with a space in its name): U2PL bare ids with a final newline, ST++ and UniMatch
 * "image label" columns, ST++ without a final newline, an empty ST++ placeholder, and Cityscapes
 * leftImg8bit paths.
 */
async function publishedLists(root: string, voc: string[], city: string[]): Promise<string> {
  const dl = path.join(root, 'my downloads');
  const put = async (rel: string, lines: string[], finalNewline = true) => {
    await mkdir(path.dirname(path.join(dl, rel)), { recursive: true });
    await writeFile(path.join(dl, rel), lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : ''));
  };
  const cols = (id: string) => `JPEGImages/${id}.jpg SegmentationClass/${id}.png`;
  const cityPath = (id: string) => `leftImg8bit/train/${id.split('_')[0]}/${id}_leftImg8bit.png`;
  const [labeled, unlabeled] = [voc.slice(0, 4), voc.slice(4)];
  await put('U2PL/data/splits/pascal/4/labeled.txt', labeled);
  await put('U2PL/data/splits/pascal/4/unlabeled.txt', unlabeled);
  await put('ST-PlusPlus/dataset/splits/pascal/1_8/split_0/labeled.txt', voc.slice(-5).map(cols), false);
  await put('ST-PlusPlus/dataset/splits/pascal/1_8/split_0/unlabeled.txt', voc.slice(0, -5).map(cols), false);
  await put('ST-PlusPlus/dataset/splits/pascal/183/split_1/labeled.txt', []);
  await put('ST-PlusPlus/dataset/splits/pascal/183/split_1/unlabeled.txt', []);
  await put('UniMatch/splits/pascal/u2pl_1_16/labeled.txt', [...labeled].reverse().map(cols));
  await put('UniMatch/splits/pascal/u2pl_1_16/unlabeled.txt', unlabeled.map(cols));
  await put('U2PL/data/splits/cityscapes/2/labeled.txt', city.slice(0, 2).map(cityPath));
  await put('U2PL/data/splits/cityscapes/2/unlabeled.txt', city.slice(2).map(cityPath));
  await put('UniMatch/splits/cityscapes/1_4/labeled.txt', city.slice(-2).map((id) => `${cityPath(id)} ${cityPath(id).replace(/^leftImg8bit/, 'gtFine').replace('leftImg8bit.png', 'gtFine_labelTrainIds.png')}`));
  return dl;
}

const VOC_IDS = ids(40).map((_, k) => `${2007 + (k % 5)}_${String(33 + 11 * k).padStart(6, '0')}`);
const CITY_IDS = ['aachen_000000_000019', 'aachen_000001_000019', 'bochum_000000_000313', 'zurich_000121_000019', 'zurich_000122_000019'];

test('split --import u2pl|stpp|unimatch reads the published VOC list formats from the path given', async () => {
  const root = await tempDir('split');
  const dl = await publishedLists(root, VOC_IDS, CITY_IDS);
  const dir = await fakeDataset(path.join(root, 'voc'), { train_aug: VOC_IDS, val: ids(3, 'v') });
  const io = memoryIo();
  assert.equal(await run(['split', '--data', dir, '--import', 'u2pl', path.join(dl, 'U2PL/data/splits/pascal/4')], io), 0, io.stderr.join('\n'));
  assert.match(io.stdout[0]!, /^split u2pl\/4: 4 labeled, 36 unlabeled/);
  // ST++ lists end without a newline: the last id still counts
  const stpp = await runSplit({ data: dir, import: 'stpp' }, path.join(dl, 'ST-PlusPlus/dataset/splits/pascal/1_8/split_0/labeled.txt'), quiet);
  assert.deepEqual(stpp, { name: 'stpp/1_8/split_0', labeled: 5, unlabeled: 35 });
  const uni = await runSplit({ data: dir, import: 'unimatch' }, path.join(dl, 'UniMatch/splits/pascal/u2pl_1_16'), quiet);
  assert.equal(uni.name, 'unimatch/u2pl_1_16');
  const data = await openDataset(dir);
  const u2pl = await resolveSplit(data, 'u2pl/4');
  assert.deepEqual(u2pl.labeled, VOC_IDS.slice(0, 4), 'the list order is kept');
  assert.deepEqual((await resolveSplit(data, 'stpp/1_8/split_0')).labeled, VOC_IDS.slice(-5));
  // the same partition in two formats is the same set of ids
  assert.deepEqual((await resolveSplit(data, 'unimatch/u2pl_1_16')).labeled.sort(), [...u2pl.labeled].sort());
  assert.equal((await readDatasetMeta(dir)).partitions['u2pl/4']!.source, path.join(dl, 'U2PL/data/splits/pascal/4'));
  await assert.rejects(
    runSplit({ data: dir, import: 'stpp' }, path.join(dl, 'ST-PlusPlus/dataset/splits/pascal/183/split_1'), quiet),
    { code: 'split.empty' },
  );
});

test('split --import maps Cityscapes leftImg8bit paths onto frame ids', async () => {
  const root = await tempDir('split');
  const dl = await publishedLists(root, VOC_IDS, CITY_IDS);
  const dir = await fakeDataset(path.join(root, 'cs'), { train: CITY_IDS }, 19);
  const r = await runSplit({ data: dir, import: 'u2pl' }, path.join(dl, 'U2PL/data/splits/cityscapes/2'), quiet);
  assert.deepEqual(r, { name: 'u2pl/2', labeled: 2, unlabeled: 3 });
  // a labeled.txt without unlabeled.txt beside it: the rest of train is unlabeled
  const uni = await runSplit({ data: dir, import: 'unimatch' }, path.join(dl, 'UniMatch/splits/cityscapes/1_4/labeled.txt'), quiet);
  assert.deepEqual(uni, { name: 'unimatch/1_4', labeled: 2, unlabeled: 3 });
  assert.deepEqual((await resolveSplit(await openDataset(dir), 'unimatch/1_4')).labeled, CITY_IDS.slice(-2));
});

test('importing onto a data set that lacks the ids names the missing ones', async () => {
  const root = await tempDir('split');
  const dl = await publishedLists(root, VOC_IDS, CITY_IDS);
  const dir = await fakeDataset(path.join(root, 'small'), { train: [VOC_IDS[0]!] });
  await assert.rejects(
    runSplit({ data: dir, import: 'u2pl' }, path.join(dl, 'U2PL/data/splits/pascal/4'), quiet),
    (e: Error & { code: string }) => {
      assert.equal(e.code, 'split.unknownIds');
      assert.match(e.message, /39 id\(s\) not in the data set: \d{4}_\d{6}, .*\(39 in all\)/);
      return true;
    },
  );
});

test('split names stay inside the data folder: ../ and absolute names are errors, nothing is written', async () => {
  const root = await tempDir('split');
  const dir = await fakeDataset(path.join(root, 'deep', 'd'), { train: ids(8) });
  for (const name of ['../../escape', '/abs/path', 'a/../../b', './x', 'a\\b']) {
    await assert.rejects(runSplit({ data: dir, labeled: '2', seed: '0', name }, undefined, quiet), (e: Error & { code: string }) => {
      assert.equal(e.code, 'split.badName');
      assert.ok(e.message.includes(`"${name}"`), e.message);
      return true;
    });
  }
  assert.deepEqual(await readdir(root), ['deep']);
  assert.deepEqual(await readdir(path.join(root, 'deep')), ['d']);
  assert.deepEqual(Object.keys((await readDatasetMeta(dir)).partitions), []);
  assert.equal(existsSync(path.join(dir, 'splits')), false);
});

test('imported lists with an id twice, or an id both labeled and unlabeled, are errors naming the ids', async () => {
  const root = await tempDir('split');
  const dir = await fakeDataset(path.join(root, 'd'), { train: ids(8) });
  const list = async (name: string, labeled: string[], unlabeled: string[]) => {
    const folder = path.join(root, name);
    await mkdir(folder);
    await writeFile(path.join(folder, 'labeled.txt'), labeled.join('\n') + '\n');
    await writeFile(path.join(folder, 'unlabeled.txt'), unlabeled.join('\n') + '\n');
    return folder;
  };
  const [a, b, c, d, e] = ids(5);
  const dup = await list('dup', [a!, b!, a!], [c!, d!]);
  await assert.rejects(runSplit({ data: dir, import: 'u2pl' }, dup, quiet), new RegExp(`labeled list names id\\(s\\) more than once: ${a}$`));
  const dupU = await list('dupU', [a!], [c!, d!, d!, c!]);
  await assert.rejects(runSplit({ data: dir, import: 'u2pl' }, dupU, quiet), new RegExp(`unlabeled list names id\\(s\\) more than once: ${d}, ${c}$`));
  const both = await list('both', [a!, b!], [b!, c!, e!, a!]);
  await assert.rejects(runSplit({ data: dir, import: 'u2pl' }, both, quiet), { code: 'split.overlap', message: new RegExp(`both labeled and unlabeled: ${b}, ${a}$`) });
  // the same lists given straight to --split as a folder
  await assert.rejects(resolveSplit(await openDataset(dir), both), { code: 'split.overlap' });
  assert.deepEqual(Object.keys((await readDatasetMeta(dir)).partitions), []);
});

test('split refuses dataset.json ids without an image, listed twice, or that are not plain names, naming them', async () => {
  const root = await tempDir('split');
  const ghost = await fakeDataset(path.join(root, 'ghost'), { train: ids(6) });
  const meta = JSON.parse(await readFile(path.join(ghost, 'dataset.json'), 'utf8')) as { splits: Record<string, string[]> };
  const withTrain = async (dir: string, train: string[]) => {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'dataset.json'), JSON.stringify({ ...meta, splits: { train } }));
    return dir;
  };
  await withTrain(ghost, [...ids(6), 'ghost']);
  await assert.rejects(runSplit({ data: ghost, labeled: '1/2', seed: '0' }, undefined, quiet), { code: 'split.missingImages', message: /1 id\(s\) of .*dataset\.json have no image in .*images: ghost$/ });
  await cpDir(path.join(ghost, 'images'), path.join(root, 'twice', 'images'), { recursive: true });
  const twice = await withTrain(path.join(root, 'twice'), [...ids(6), 'img_002']);
  await assert.rejects(runSplit({ data: twice, labeled: '1/2', seed: '0' }, undefined, quiet), { code: 'data.duplicateIds', message: /split train lists id\(s\) more than once: img_002/ });
  const escape = await withTrain(path.join(root, 'escape'), [...ids(6), '../../../../etc/hostname']);
  await assert.rejects(runSplit({ data: escape, labeled: '1/2', seed: '0' }, undefined, quiet), { code: 'data.badId', message: /split train: id\(s\) that are not plain relative names: "\.\.\/\.\.\/\.\.\/\.\.\/etc\/hostname"/ });
  for (const d of [ghost, twice, escape]) assert.equal(existsSync(path.join(d, 'splits')), false, d);
});
