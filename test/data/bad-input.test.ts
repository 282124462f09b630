import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runPrepareCamvid, runPrepareVoc } from '../../src/commands/data.ts';
import { openDataset, readSample } from '../../src/data/index.ts';
import { readDatasetMeta, writeDatasetMeta } from '../../src/data/format.ts';
import { encodePng } from '../../src/data/png.ts';
import { writeCamvidLayout } from '../helpers/layouts.ts';
import { quiet, recorder, tempDir } from './helpers.ts';

/** SegNet's CamVid layout with `n` train frames (listed in train.txt) and one val frame (no list). */
async function camvid(dir: string, n: number): Promise<string> {
  return (await writeCamvidLayout(dir, { train: n, val: 1, lists: ['train'] })).root;
}

interface Case {
  what: string;
  code: string;
  /** breaks the copy of train frame `file`; returns the path the error must name */
  breakIt: (src: string, file: string) => Promise<string>;
}

const CASES: Case[] = [
  {
    what: 'a label value outside the class ids and void',
    code: 'data.badLabel',
    breakIt: async (src, f) => {
      const file = path.join(src, 'trainannot', f);
      await writeFile(file, encodePng(new Uint8Array(360 * 480).fill(40), 480, 360, 1));
      return file;
    },
  },
  {
    what: 'an image/label size mismatch',
    code: 'data.sizeMismatch',
    breakIt: async (src, f) => {
      const file = path.join(src, 'trainannot', f);
      await writeFile(file, encodePng(new Uint8Array(100 * 50), 50, 100, 1));
      return file;
    },
  },
  {
    what: 'a truncated (corrupt) image',
    code: 'data.corruptImage',
    breakIt: async (src, f) => {
      const file = path.join(src, 'train', f);
      const bytes = await readFile(file);
      await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      return file;
    },
  },
  {
    what: 'a missing label file',
    code: 'data.missingFile',
    breakIt: async (src, f) => {
      const file = path.join(src, 'trainannot', f);
      await rm(file);
      return file;
    },
  },
];

for (const c of CASES) {
  test(`prepare: ${c.what} is one error naming the file; --skip-bad warns, counts and goes on`, async () => {
    const root = await tempDir('bad');
    const src = await camvid(path.join(root, 'src'), 2);
    const [bad] = (await readdir(path.join(src, 'train'))).sort();
    const named = await c.breakIt(src, bad!);
    const out = path.join(root, 'out');
    await assert.rejects(runPrepareCamvid({ root: src, out }, quiet), (e: Error & { code: string }) => {
      assert.equal(e.code, c.code);
      assert.ok(e.message.includes(named), `"${e.message}" names ${named}`);
      return true;
    });
    // nothing is left behind: neither the output nor its temporary folder
    assert.deepEqual((await readdir(root)).sort(), ['src']);
    const io = recorder();
    const r = await runPrepareCamvid({ root: src, out, skipBad: true }, io);
    assert.equal(r.written, 2);
    assert.equal(r.skipped.length, 1);
    assert.ok(io.stderr.some((l) => l.startsWith(`warning: skipping ${bad!.slice(0, -4)}:`) && l.includes(named)));
    assert.ok(io.stderr.some((l) => /skipped 1 bad sample/.test(l)));
    const data = await openDataset(out);
    assert.equal(data.split('train').length, 1);
    assert.ok(!data.split('train').includes(bad!.slice(0, -4)));
  });
}

test('prepare: a missing source folder is named; an existing output needs --force', async () => {
  const root = await tempDir('bad');
  await assert.rejects(runPrepareCamvid({ root: path.join(root, 'nope'), out: path.join(root, 'o') }, quiet), (e: Error & { code: string }) => {
    assert.equal(e.code, 'data.missingFolder');
    assert.match(e.message, /nope not found/);
    return true;
  });
  await assert.rejects(runPrepareVoc({ voc: root, out: path.join(root, 'o') }, quiet), /ImageSets\/Segmentation not found/);
  const src = await camvid(path.join(root, 'src'), 1);
  const out = path.join(root, 'out');
  await runPrepareCamvid({ root: src, out, size: '36x48' }, quiet);
  await assert.rejects(runPrepareCamvid({ root: src, out, size: '36x48' }, quiet), { code: 'io.exists' });
  await runPrepareCamvid({ root: src, out, size: '18x24', force: true }, quiet);
  assert.equal((await readSample(await openDataset(out), (await openDataset(out)).split('val')[0]!)).h, 18);
});

test('readSample checks a prepared folder too: size mismatch and stray label values name the file', async () => {
  const root = await tempDir('bad');
  const src = await camvid(path.join(root, 'src'), 1);
  const out = path.join(root, 'out');
  await runPrepareCamvid({ root: src, out, size: '18x24' }, quiet);
  const id = (await readDatasetMeta(out)).splits['train']![0]!;
  const labelFile = path.join(out, 'labels', `${id}.png`);
  await writeFile(labelFile, encodePng(new Uint8Array(18 * 24).fill(77), 24, 18, 1));
  await assert.rejects(readSample(await openDataset(out), id), (e: Error & { code: string }) => e.code === 'data.badLabel' && e.message.includes(labelFile));
  await writeFile(labelFile, encodePng(new Uint8Array(10 * 24), 24, 10, 1));
  await assert.rejects(readSample(await openDataset(out), id), { code: 'data.sizeMismatch' });
  await assert.rejects(openDataset(path.join(root, 'src')), { code: 'data.notPrepared' });
  const meta = await readDatasetMeta(out);
  await writeDatasetMeta(out, meta);
  await writeFile(path.join(out, 'dataset.json'), '{"format": "sssseg-prepared/1"}');
  await assert.rejects(openDataset(out), /dataset\.json: key name/);
});
