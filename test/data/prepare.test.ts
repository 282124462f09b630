/**
 * The prepare commands on the official folder layouts, written by test/helpers/layouts.ts with
 * images of our own (prepare-real.test.ts runs the same commands on real files from ../shared).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { runPrepareCamvid, runPrepareCityscapes, runPrepareVoc } from '../../src/commands/data.ts';
import { openDataset, readSample } from '../../src/data/index.ts';
import { readLabelMap, readLabelPng } from '../../src/data/image-io.ts';
import { writeCamvidLayout, writeCityscapesLayout, writeVocLayout, type Frame } from '../helpers/layouts.ts';
import { quiet, tempDir } from './helpers.ts';

const ids = (frames: Frame[], split: string) => frames.filter((f) => f.split === split).map((f) => f.id);
const labelOf = (frames: Frame[], id: string) => frames.find((f) => f.id === id)!.label;

test('prepare-voc reads palette labels by index and writes the listed splits', async () => {
  const root = await tempDir('voc');
  const { voc, frames } = await writeVocLayout(path.join(root, 'src'), { train: 3, val: 2 });
  const out = path.join(root, 'voc');
  await runPrepareVoc({ voc, out }, quiet);
  const data = await openDataset(out);
  assert.equal(data.numClasses, 21);
  assert.deepEqual(data.split('train'), ids(frames, 'train'));
  assert.deepEqual(data.split('val'), ids(frames, 'val'));
  assert.deepEqual([data.palette[0], data.palette[15], data.palette[20]], [[0, 0, 0], [192, 128, 128], [0, 64, 128]]);
  assert.equal(data.meta.imageExt, 'jpg');
  const first = path.join(voc, 'SegmentationClass', `${frames[0]!.id}.png`);
  // the source mask is what VOC ships: a palette PNG whose colours an ordinary decoder shows
  const src = await readLabelPng(first);
  assert.equal(src.colorType, 3);
  const shown = await sharp(first).removeAlpha().raw().toBuffer();
  assert.deepEqual([...shown.subarray(0, 3)], [0, 0, 0]);
  assert.deepEqual([...shown.subarray(8 * 3 * 56 + 3, 8 * 3 * 56 + 6)], [224, 224, 192], 'void outline in VOC cream');
  for (const id of [...data.split('train'), ...data.split('val')]) {
    const s = await readSample(data, id);
    assert.deepEqual(s.label, labelOf(frames, id), id);
    assert.ok(s.label.includes(255) && s.label.includes(0));
  }
});

test('prepare-voc maps an RGB colour mask through the VOC palette', async () => {
  const root = await tempDir('voc');
  const { voc, frames } = await writeVocLayout(path.join(root, 'src'), { train: 2, val: 0, rgbMasks: true });
  const out = path.join(root, 'vocd');
  await runPrepareVoc({ voc, out }, quiet);
  const data = await openDataset(out);
  assert.equal((await readLabelPng(path.join(voc, 'SegmentationClass', `${frames[0]!.id}.png`))).channels, 3);
  for (const f of frames) assert.deepEqual((await readSample(data, f.id)).label, f.label, f.id);
});

test('prepare-voc --aug: train_aug is every SBD mask outside val; train ids keep their VOC mask', async () => {
  const root = await tempDir('voc');
  const { voc, aug, frames } = await writeVocLayout(path.join(root, 'src'), { train: 3, val: 2, augExtra: 4 });
  const out = path.join(root, 'voc');
  await runPrepareVoc({ voc, aug, out }, quiet);
  const data = await openDataset(out);
  const trainAug = data.split('train_aug');
  assert.deepEqual([...trainAug].sort(), [...ids(frames, 'train'), ...ids(frames, 'sbd')].sort());
  for (const id of trainAug) assert.deepEqual((await readSample(data, id)).label, labelOf(frames, id), id);
  assert.equal(data.split('val').length, 2);
});

test('prepare-cityscapes uses labelTrainIds when present and the official table on labelIds', async () => {
  const root = await tempDir('cs');
  const { frames } = await writeCityscapesLayout(path.join(root, 'src'), { train: 2, val: 1 });
  const byTrainIds = path.join(root, 'auto');
  await runPrepareCityscapes({ root: path.join(root, 'src'), out: byTrainIds }, quiet);
  const data = await openDataset(byTrainIds);
  assert.equal(data.numClasses, 19);
  assert.deepEqual(data.split('train'), ids(frames, 'train'));
  assert.deepEqual(data.split('val'), ['frankfurt_000000_000019']);
  const byLabelIds = path.join(root, 'ids');
  await runPrepareCityscapes({ root: path.join(root, 'src'), out: byLabelIds, labels: 'labelIds' }, quiet);
  const fromIds = await openDataset(byLabelIds);
  for (const f of frames) {
    const s = await readSample(data, f.id);
    assert.deepEqual([s.h, s.w], [32, 64]);
    assert.deepEqual(s.label, f.label, f.id);
    assert.deepEqual((await readSample(fromIds, f.id)).label, f.label, `${f.id} from labelIds`);
  }
  // every one of the 34 label ids was in the source, and all 19 train ids plus 255 come out
  const src = await readLabelMap(path.join(root, 'src/gtFine/val/frankfurt/frankfurt_000000_000019_gtFine_labelIds.png'));
  assert.equal(new Set(src.data).size, 34);
  assert.equal(new Set(frames[2]!.label).size, 20);
});

test('prepare-cityscapes on a download without labelTrainIds files maps labelIds (auto)', async () => {
  const root = await tempDir('cs');
  const { frames } = await writeCityscapesLayout(path.join(root, 'src'), { train: 1, val: 1, trainIds: false });
  const out = path.join(root, 'out');
  await runPrepareCityscapes({ root: path.join(root, 'src'), out }, quiet);
  const data = await openDataset(out);
  for (const f of frames) assert.deepEqual((await readSample(data, f.id)).label, f.label, f.id);
});

test('prepare-camvid: void 11 → 255, lists with /SegNet paths, --size rescales', async () => {
  const root = await tempDir('camvid');
  const { root: src, frames } = await writeCamvidLayout(path.join(root, 'src'), { train: 2, val: 1, lists: ['train'] });
  const full = path.join(root, 'full');
  await runPrepareCamvid({ root: src, out: full }, quiet);
  const data = await openDataset(full);
  assert.deepEqual(Object.keys(data.splits), ['train', 'val']);
  assert.deepEqual(data.split('train'), ['0001TP_000690', '0006R0_f00720']);
  const id = data.split('train')[0]!;
  const s = await readSample(data, id);
  const raw = labelOf(frames, id);
  assert.equal(s.h, 360);
  assert.equal(s.w, 480);
  for (let p = 0; p < raw.length; p++) assert.equal(s.label[p], raw[p] === 11 ? 255 : raw[p]);
  assert.ok(raw.includes(11), 'the sample has void pixels to map');
  const small = path.join(root, 'small');
  await runPrepareCamvid({ root: src, out: small, size: '180x240' }, quiet);
  const d2 = await openDataset(small);
  const t = await readSample(d2, id);
  assert.equal(t.h, 180);
  assert.equal(t.w, 240);
  assert.deepEqual(new Set(t.label), new Set(s.label));
  assert.ok([...t.label].every((v) => v <= 10 || v === 255));
  assert.equal(d2.meta.source['size'], '180x240');
});

test('prepare-camvid --dev: the last training frames of each drive become val, the real val is left out', async () => {
  const root = await tempDir('camvid-dev');
  const { root: src, frames } = await writeCamvidLayout(path.join(root, 'src'), { train: 6, val: 1 });
  await runPrepareCamvid({ root: src, out: path.join(root, 'dev'), size: '36x48', dev: '2' }, quiet);
  const d = await openDataset(path.join(root, 'dev'));
  assert.equal(d.name, 'camvid-dev');
  assert.ok(!Object.hasOwn(d.splits, 'test'));
  const train = ids(frames, 'train');
  assert.equal(new Set([...d.split('train'), ...d.split('val')]).size, train.length, 'train and dev val partition the training frames');
  assert.equal(d.split('val').length, 2);
  // in time order the held-out frames come after every kept frame of their drive
  for (const v of d.split('val')) {
    const drive = v.split('_')[0]!;
    assert.ok(d.split('train').filter((t) => t.startsWith(drive)).every((t) => t < v), `${v} is a drive's last frame`);
  }
  await assert.rejects(runPrepareCamvid({ root: src, out: path.join(root, 'c'), dev: '6' }, quiet), /--dev 6: the train split has 6 images/);
});
