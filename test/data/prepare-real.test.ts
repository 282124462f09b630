/**
 * The prepare commands on real files from ../shared/data (skipped without it): three VOC 2012
 * photos with labelme palette masks, datumaro's RGB-mask VOC tree, one Cityscapes frame as mmseg's
 * converter wrote it (downscaled), and real CamVid frames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runPrepareCamvid, runPrepareCityscapes, runPrepareVoc } from '../../src/commands/data.ts';
import { openDataset, readSample } from '../../src/data/index.ts';
import { readLabelMap, readLabelPng } from '../../src/data/image-io.ts';
import { vocColourMap } from '../../src/data/sources/voc.ts';
import { needsShared, sharedPath } from '../helpers/shared.ts';
import { makeCamvidLike } from './camvid-like.ts';
import { quiet, tempDir } from './helpers.ts';

const fixture = (...parts: string[]) => sharedPath('data', 'fixtures', ...parts)!;

test('real VOC: prepare-voc reads palette labels by index', needsShared('data/fixtures/voc'), async () => {
  const out = path.join(await tempDir('voc'), 'voc');
  const voc = fixture('voc/VOCdevkit/VOC2012');
  await runPrepareVoc({ voc, out }, quiet);
  const data = await openDataset(out);
  assert.deepEqual(data.split('train'), ['2011_000003', '2011_000006', '2011_000025']);
  const expected: Record<string, number[]> = { '2011_000003': [0, 5, 15, 255], '2011_000006': [0, 9, 15, 18, 255], '2011_000025': [0, 6, 7] };
  for (const id of data.split('train')) {
    const s = await readSample(data, id);
    assert.deepEqual([...new Set(s.label)].sort((a, b) => a - b), expected[id]);
    const src = await readLabelPng(path.join(voc, 'SegmentationClass', `${id}.png`));
    assert.equal(src.colorType, 3);
    assert.deepEqual(s.label, src.data);
  }
});

test('real VOC tree with an RGB colour mask (datumaro)', needsShared('data/fixtures/voc_datumaro_synthetic'), async () => {
  const out = path.join(await tempDir('voc'), 'vocd');
  const voc = fixture('voc_datumaro_synthetic/VOCdevkit/VOC2012');
  await runPrepareVoc({ voc, out }, quiet);
  const data = await openDataset(out);
  assert.deepEqual(data.split('train'), ['2007_000001']);
  const s = await readSample(data, '2007_000001');
  const rgb = await readLabelPng(path.join(voc, 'SegmentationClass/2007_000001.png'));
  const cmap = vocColourMap();
  for (let p = 0; p < s.label.length; p++) {
    assert.deepEqual(cmap[s.label[p]!], [rgb.data[p * 3], rgb.data[p * 3 + 1], rgb.data[p * 3 + 2]]);
  }
});

/**
 * The fixture's labelIds and labelTrainIds were downscaled separately (256x128 from 2048x1024),
 * so they disagree at object borders; the official table applied to labelIds matches the
 * reference everywhere the labelIds neighbourhood is uniform.
 */
test('real Cityscapes frame: labelTrainIds as is, labelIds through the official table', needsShared('data/fixtures/cityscapes'), async () => {
  const root = await tempDir('cs');
  await runPrepareCityscapes({ root: fixture('cityscapes'), out: path.join(root, 'auto') }, quiet);
  const data = await openDataset(path.join(root, 'auto'));
  assert.deepEqual(data.split('val'), ['frankfurt_000000_000294']);
  const base = path.join(fixture('cityscapes'), 'gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_');
  const ref = await readLabelMap(`${base}labelTrainIds.png`);
  assert.deepEqual((await readSample(data, 'frankfurt_000000_000294')).label, ref.data);
  await runPrepareCityscapes({ root: fixture('cityscapes'), out: path.join(root, 'ids'), labels: 'labelIds' }, quiet);
  const s = await readSample(await openDataset(path.join(root, 'ids')), 'frankfurt_000000_000294');
  const ids = await readLabelMap(`${base}labelIds.png`);
  const table: Record<number, number> = { 1: 255, 2: 255, 3: 255, 4: 255, 7: 0, 8: 1, 11: 2, 13: 4, 17: 5, 20: 7, 21: 8, 23: 10, 24: 11, 26: 13 };
  let interior = 0;
  let interiorMismatch = 0;
  for (let p = 0; p < s.label.length; p++) {
    assert.equal(s.label[p], table[ids.data[p]!], `pixel ${p}`);
    const [x, y] = [p % 256, Math.floor(p / 256)];
    if (x === 0 || y === 0 || x === 255 || y === 127) continue;
    if (![-257, -256, -255, -1, 1, 255, 256, 257].every((d) => ids.data[p + d] === ids.data[p])) continue;
    interior++;
    if (s.label[p] !== ref.data[p]) interiorMismatch++;
  }
  assert.ok(interior > 20000);
  assert.ok(interiorMismatch <= 1, `${interiorMismatch} interior pixels differ`);
});

test('real CamVid frames: void 11 → 255 and --size', needsShared('data/camvid'), async () => {
  const root = await tempDir('camvid');
  const src = await makeCamvidLike(path.join(root, 'src'), sharedPath('data', 'camvid')!, 2);
  await runPrepareCamvid({ root: src, out: path.join(root, 'full') }, quiet);
  const data = await openDataset(path.join(root, 'full'));
  const id = data.split('train')[0]!;
  const s = await readSample(data, id);
  const raw = await readLabelMap(path.join(src, 'trainannot', `${id}.png`));
  assert.deepEqual([s.h, s.w], [360, 480]);
  for (let p = 0; p < raw.data.length; p++) assert.equal(s.label[p], raw.data[p] === 11 ? 255 : raw.data[p]);
  assert.ok(raw.data.includes(11), 'the sample has void pixels to map');
  await runPrepareCamvid({ root: src, out: path.join(root, 'small'), size: '180x240' }, quiet);
  const t = await readSample(await openDataset(path.join(root, 'small')), id);
  assert.deepEqual([t.h, t.w], [180, 240]);
  assert.ok([...t.label].every((v) => v <= 10 || v === 255));
});
