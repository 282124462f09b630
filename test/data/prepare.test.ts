import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runPrepareCamvid, runPrepareCityscapes, runPrepareVoc } from '../../src/data/commands.ts';
import { openDataset, readSample } from '../../src/data/index.ts';
import { readLabelMap, readLabelPng } from '../../src/data/image-io.ts';
import { vocColourMap } from '../../src/data/sources/voc.ts';
import { sharedPath } from '../helpers/shared.ts';
import { makeCamvidLike } from './camvid-like.ts';
import { quiet, tempDir } from './helpers.ts';

const FIX = sharedPath('data', 'fixtures');

test('prepare-voc reads palette labels by index and writes the listed split', async () => {
  const out = path.join(await tempDir('voc'), 'voc');
  const voc = path.join(FIX, 'voc/VOCdevkit/VOC2012');
  await runPrepareVoc({ voc, out }, quiet);
  const data = await openDataset(out);
  assert.equal(data.numClasses, 21);
  assert.deepEqual(data.split('train'), ['2011_000003', '2011_000006', '2011_000025']);
  assert.deepEqual(data.palette[15], [192, 128, 128]);
  const expected: Record<string, number[]> = { '2011_000003': [0, 5, 15, 255], '2011_000006': [0, 9, 15, 18, 255], '2011_000025': [0, 6, 7] };
  for (const id of data.split('train')) {
    const s = await readSample(data, id);
    assert.deepEqual([...new Set(s.label)].sort((a, b) => a - b), expected[id]);
    // the prepared label equals the source palette indices pixel for pixel
    const src = await readLabelPng(path.join(voc, 'SegmentationClass', `${id}.png`));
    assert.equal(src.colorType, 3);
    assert.deepEqual(s.label, src.data);
  }
  assert.equal(data.meta.imageExt, 'jpg');
});

test('prepare-voc maps an RGB colour mask through the VOC palette', async () => {
  const out = path.join(await tempDir('voc'), 'vocd');
  const voc = path.join(FIX, 'voc_datumaro_synthetic/VOCdevkit/VOC2012');
  await runPrepareVoc({ voc, out }, quiet);
  const data = await openDataset(out);
  assert.deepEqual(data.split('train'), ['2007_000001']);
  const s = await readSample(data, '2007_000001');
  const rgb = await readLabelPng(path.join(voc, 'SegmentationClass/2007_000001.png'));
  assert.equal(rgb.channels, 3);
  const cmap = vocColourMap();
  for (let p = 0; p < s.label.length; p++) {
    assert.deepEqual(cmap[s.label[p]!], [rgb.data[p * 3], rgb.data[p * 3 + 1], rgb.data[p * 3 + 2]]);
  }
});

test('prepare-cityscapes equals the fixture labelTrainIds pixel for pixel', async () => {
  const out = path.join(await tempDir('cs'), 'cs');
  await runPrepareCityscapes({ root: path.join(FIX, 'cityscapes'), out }, quiet);
  const data = await openDataset(out);
  assert.equal(data.numClasses, 19);
  assert.deepEqual(data.split('val'), ['frankfurt_000000_000294']);
  assert.equal(data.splits['train'], undefined);
  const s = await readSample(data, 'frankfurt_000000_000294');
  const ref = await readLabelMap(path.join(FIX, 'cityscapes/gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_labelTrainIds.png'));
  assert.equal(s.w, 256);
  assert.equal(s.h, 128);
  assert.deepEqual(s.label, ref.data);
});

/**
 * The fixture's labelIds and labelTrainIds were downscaled separately (256x128 from 2048x1024),
 * so they disagree at object borders; the official table applied to labelIds matches the
 * reference everywhere the labelIds neighbourhood is uniform.
 */
test('prepare-cityscapes --labels labelIds applies the official labelId → trainId table', async () => {
  const out = path.join(await tempDir('cs'), 'cs');
  await runPrepareCityscapes({ root: path.join(FIX, 'cityscapes'), out, labels: 'labelIds' }, quiet);
  const s = await readSample(await openDataset(out), 'frankfurt_000000_000294');
  const base = path.join(FIX, 'cityscapes/gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_');
  const ref = await readLabelMap(`${base}labelTrainIds.png`);
  const ids = await readLabelMap(`${base}labelIds.png`);
  const table: Record<number, number> = { 1: 255, 2: 255, 3: 255, 4: 255, 7: 0, 8: 1, 11: 2, 13: 4, 17: 5, 20: 7, 21: 8, 23: 10, 24: 11, 26: 13 };
  let interior = 0;
  let interiorMismatch = 0;
  for (let p = 0; p < s.label.length; p++) {
    assert.equal(s.label[p], table[ids.data[p]!], `pixel ${p}`);
    const [x, y] = [p % 256, Math.floor(p / 256)];
    if (x === 0 || y === 0 || x === 255 || y === 127) continue;
    const flat = [-257, -256, -255, -1, 1, 255, 256, 257].every((d) => ids.data[p + d] === ids.data[p]);
    if (!flat) continue;
    interior++;
    if (s.label[p] !== ref.data[p]) interiorMismatch++;
  }
  assert.ok(interior > 20000);
  assert.ok(interiorMismatch <= 1, `${interiorMismatch} interior pixels differ`);
});

test('prepare-camvid: void 11 → 255, lists with /SegNet paths, --size rescales', async () => {
  const root = await tempDir('camvid');
  const src = await makeCamvidLike(path.join(root, 'src'), sharedPath('data', 'camvid'), 2);
  const full = path.join(root, 'full');
  await runPrepareCamvid({ root: src, out: full }, quiet);
  const data = await openDataset(full);
  assert.deepEqual(Object.keys(data.splits), ['train', 'val']);
  const id = data.split('train')[0]!;
  const s = await readSample(data, id);
  const raw = await readLabelMap(path.join(src, 'trainannot', `${id}.png`));
  assert.equal(s.h, 360);
  assert.equal(s.w, 480);
  for (let p = 0; p < raw.data.length; p++) assert.equal(s.label[p], raw.data[p] === 11 ? 255 : raw.data[p]);
  assert.ok(raw.data.includes(11), 'the sample has void pixels to map');
  const small = path.join(root, 'small');
  await runPrepareCamvid({ root: src, out: small, size: '180x240' }, quiet);
  const d2 = await openDataset(small);
  const t = await readSample(d2, id);
  assert.equal(t.h, 180);
  assert.equal(t.w, 240);
  assert.ok(new Set(t.label).size <= new Set(s.label).size);
  assert.ok([...t.label].every((v) => v <= 10 || v === 255));
  assert.equal(d2.meta.source['size'], '180x240');
});
