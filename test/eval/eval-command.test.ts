/**
 * `sssseg eval` end to end on injected sources: a "network" that returns its input as logits, so
 * the prediction is the argmax of the image channels and every number is known by hand.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { memoryIo } from '../helpers/io.ts';
import { runEval } from '../../src/commands/eval.ts';
import { chooseProtocol } from '../../src/eval/protocol.ts';
import { defaultEvalSources, evalDefaultsFromConfig, type EvalData, type EvalDefaults, type EvalSources } from '../../src/eval/sources.ts';
import type { EvalSample } from '../../src/eval/evaluate.ts';
import { savePrediction, type Rgb } from '../../src/eval/save-pred.ts';
import { decodePng, encodePng } from '../../src/data/png.ts';
import { SsssegError } from '../../src/errors.ts';

before(() => useTestBackend());

const H = 4;
const W = 4;
const CLASSES = ['road', 'car', 'sky'];
const PALETTE: Rgb[] = [[128, 64, 128], [0, 0, 142], [70, 130, 180]];

/** Image whose channel `pred[i]` is high at pixel i: the identity net predicts `pred`. */
function imageFor(pred: number[]): Float32Array {
  const img = new Float32Array(pred.length * 3);
  pred.forEach((c, i) => (img[i * 3 + c] = 5));
  return img;
}

// image a: top half predicted 0, bottom half 1; GT has one 0→1 error and one ignore pixel
const predA = [...Array(8).fill(0), ...Array(8).fill(1)];
const gtA = [...predA];
gtA[3] = 1;
gtA[12] = 255;
// image b: all predicted 1; two GT pixels are 0
const predB = Array(16).fill(1);
const gtB = [...predB];
gtB[0] = 0;
gtB[5] = 0;
// hence confusion (rows GT): [[7,2,0],[1,21,0],[0,0,0]]; class 2 ("sky") absent everywhere
const SAMPLES: EvalSample[] = [
  { id: 'seq/a', image: imageFor(predA), label: Uint8Array.from(gtA), h: H, w: W },
  { id: 'seq/b', image: imageFor(predB), label: Uint8Array.from(gtB), h: H, w: W },
];

interface FakeState {
  disposed: number;
  reads: string[];
  openedDir?: string;
}

// `null` data folder: a checkpoint that does not record one (undefined would take the default)
function fakeSources(state: FakeState, defaults: EvalDefaults = {}, classes = CLASSES, dataDir: string | null = '/data/fake'): EvalSources {
  const data: EvalData = {
    name: 'fakeset',
    classes: CLASSES,
    palette: PALETTE,
    splits: { val: SAMPLES.map((s) => s.id), train: [] },
    async read(id) {
      state.reads.push(id);
      const s = SAMPLES.find((x) => x.id === id);
      if (!s) throw new Error(`no sample ${id}`);
      return s;
    },
  };
  return {
    async loadModel() {
      return {
        predict: (x: tf.Tensor4D) => tf.clone(x),
        classes,
        datasetName: 'fakeset',
        method: 'sup',
        dataDir: dataDir ?? undefined,
        defaults,
        dispose: () => void state.disposed++,
      };
    },
    async openData(dir) {
      state.openedDir = dir;
      return data;
    },
  };
}

const newState = (): FakeState => ({ disposed: 0, reads: [] });
const tmp = () => mkdtempSync(path.join(tmpdir(), 'sssseg-eval-'));

test('default (ST++) rule: absent class excluded; JSON, CSV and Markdown agree with the hand count', async () => {
  const dir = tmp();
  const checkpoint = path.join(dir, 'best.bin');
  const io = memoryIo();
  const state = newState();
  const r = await runEval({ checkpoint, backend: 'wasm' }, io, fakeSources(state));
  assert.deepEqual(r.confusion, [[7, 2, 0], [1, 21, 0], [0, 0, 0]]);
  assert.ok(Math.abs(r.iou[0]! - 0.7) < 1e-12);
  assert.ok(Math.abs(r.iou[1]! - 21 / 24) < 1e-12);
  assert.ok(Number.isNaN(r.iou[2]!));
  assert.ok(Math.abs(r.miou - (0.7 + 21 / 24) / 2) < 1e-12);
  assert.ok(Math.abs(r.pixelAcc - 28 / 31) < 1e-12);
  assert.equal(r.n, 2);
  assert.equal(state.openedDir, '/data/fake', 'the data folder recorded in the checkpoint is used');
  assert.equal(state.disposed, 1);

  assert.equal(r.files.json, path.join(dir, 'best.eval-val.json'));
  const json = JSON.parse(readFileSync(r.files.json, 'utf8')) as Record<string, unknown>;
  assert.equal(json['split'], 'val');
  assert.equal(json['absent_as_zero'], false);
  assert.deepEqual(json['iou'], [r.iou[0], r.iou[1], null]);
  assert.equal(json['miou'], r.miou);
  assert.deepEqual(json['classes'], CLASSES);

  const csv = readFileSync(r.files.csv, 'utf8').trim().split('\n');
  assert.equal(csv[0], 'class,iou,acc');
  assert.equal(csv[3], 'sky,,', 'an excluded class has empty cells');
  assert.equal(csv[4], `mIoU,${r.miou},`);

  const md = io.stdout.join('\n');
  assert.match(md, /\| class \| IoU \(%\) \| acc \(%\) \|/);
  assert.match(md, /\| road \| 70\.00 \| 77\.78 \|/);
  assert.match(md, /\| car \| 87\.50 \| 95\.45 \|/);
  assert.match(md, /\| sky \| n\/a \| n\/a \|/);
  assert.match(md, /\*\*mIoU\*\* \| \*\*78\.75\*\*/);
  assert.match(md, /absent classes excluded \(ST\+\+ rule\)/);
  assert.match(md, /protocol whole, scales 1, no flip/);
});

test('--absent-as-zero (U2PL rule) counts the absent class as 0; the checkpoint config can ask for it too', async () => {
  const flag = await runEval({ checkpoint: path.join(tmp(), 'm.bin'), absentAsZero: true }, memoryIo(), fakeSources(newState()));
  assert.equal(flag.iou[2], 0);
  assert.ok(Math.abs(flag.miou - (0.7 + 21 / 24) / 3) < 1e-9);
  assert.equal(flag.absentAsZero, true);
  const fromCfg = await runEval({ checkpoint: path.join(tmp(), 'm.bin') }, memoryIo(), fakeSources(newState(), { absentAsZero: true }));
  assert.equal(fromCfg.absentAsZero, true);
  const overridden = await runEval({ checkpoint: path.join(tmp(), 'm.bin'), absentAsZero: false }, memoryIo(), fakeSources(newState(), { absentAsZero: true }));
  assert.equal(overridden.absentAsZero, false);
});

test('--save-pred writes class-id and palette PNGs that decode to the prediction', async () => {
  const dir = tmp();
  const predDir = path.join(dir, 'pred');
  await runEval({ checkpoint: path.join(dir, 'm.bin'), savePred: predDir }, memoryIo(), fakeSources(newState()));
  const ids = decodePng(readFileSync(path.join(predDir, 'ids', 'seq', 'a.png')), 'a.png');
  assert.equal(ids.width, W);
  assert.equal(ids.height, H);
  assert.equal(ids.channels, 1);
  assert.deepEqual(Array.from(ids.data), predA);
  const color = decodePng(readFileSync(path.join(predDir, 'color', 'seq', 'b.png')), 'b.png');
  assert.equal(color.channels, 3);
  assert.deepEqual(Array.from(color.data.subarray(0, 3)), PALETTE[1]);
  assert.ok(existsSync(path.join(predDir, 'ids', 'seq', 'b.png')));
});

test('--split, --limit, --net and --data choose what is evaluated and name the output files', async () => {
  const dir = tmp();
  const state = newState();
  const r = await runEval({ checkpoint: path.join(dir, 'last.bin'), limit: 1, net: 'teacher', data: '/elsewhere' }, memoryIo(), fakeSources(state));
  assert.equal(r.n, 1);
  assert.deepEqual(state.reads, ['seq/a']);
  assert.equal(state.openedDir, '/elsewhere');
  assert.equal(r.files.json, path.join(dir, 'last.teacher.eval-val.json'));
  await assert.rejects(
    runEval({ checkpoint: path.join(dir, 'last.bin'), split: 'test' }, memoryIo(), fakeSources(newState())),
    (e: unknown) => e instanceof SsssegError && e.code === 'data.missingSplit' && /has: val, train/.test(e.message),
  );
  await assert.rejects(
    runEval({ checkpoint: path.join(dir, 'last.bin'), split: 'train' }, memoryIo(), fakeSources(newState())),
    (e: unknown) => e instanceof SsssegError && e.code === 'data.emptySplit',
  );
});

test('errors: no data folder anywhere, class-count mismatch; the model is released either way', async () => {
  const state = newState();
  await assert.rejects(
    runEval({ checkpoint: path.join(tmp(), 'x.bin') }, memoryIo(), fakeSources(state, {}, CLASSES, null)),
    (e: unknown) => e instanceof SsssegError && e.code === 'eval.noData' && e.hint === 'pass --data <prepared data folder>',
  );
  await assert.rejects(
    runEval({ checkpoint: path.join(tmp(), 'x.bin') }, memoryIo(), fakeSources(state, {}, ['a', 'b'])),
    (e: unknown) => e instanceof SsssegError && e.code === 'eval.classMismatch' && /predicts 2 classes/.test(e.message),
  );
  assert.equal(state.disposed, 2);
});

test('protocol: flags beat the checkpoint config, which beats whole; center-crop scores only the window', async () => {
  const defaults = evalDefaultsFromConfig({ eval: { mode: 'sliding', stride: 3, flip: true, absent_as_zero: true }, data: { crop: 5 } });
  assert.deepEqual(defaults, { mode: 'sliding', crop: 5, stride: 3, sizeDivisor: undefined, scales: undefined, flip: true, absentAsZero: true });
  assert.deepEqual(evalDefaultsFromConfig('garbage'), evalDefaultsFromConfig({}));
  assert.equal(chooseProtocol({}, {}).mode, 'whole');
  const p = chooseProtocol(defaults, { mode: 'center-crop', crop: 2 });
  assert.deepEqual(p, { mode: 'center-crop', crop: 2, stride: 3, sizeDivisor: undefined, scales: undefined, flip: true });

  const r = await runEval({ checkpoint: path.join(tmp(), 'c.bin'), mode: 'center-crop', crop: 2, limit: 1 }, memoryIo(), fakeSources(newState()));
  // 2×2 window of image a = rows 1..2, cols 1..2: GT [0,0,1,1], pred [0,0,1,1]; the rest is not scored
  assert.deepEqual(r.confusion, [[2, 0, 0], [0, 2, 0], [0, 0, 0]]);
  assert.equal(r.protocol, 'center-crop 2, scales 1, no flip');
});

test('sliding windows and flip TTA leave an identity net exact', async () => {
  const r = await runEval(
    { checkpoint: path.join(tmp(), 's.bin'), mode: 'sliding', crop: 3, stride: 2, scales: [1], flip: true },
    memoryIo(),
    fakeSources(newState()),
  );
  assert.deepEqual(r.confusion, [[7, 2, 0], [1, 21, 0], [0, 0, 0]]);
  assert.equal(r.protocol, 'sliding 3 (stride 2), scales 1, flip');
});

test('the real data adapter reads a prepared folder: palette, splits, ImageNet-normalised pixels', async () => {
  const dir = tmp();
  mkdirSync(path.join(dir, 'images'));
  mkdirSync(path.join(dir, 'labels'));
  const rgb = new Uint8Array(2 * 3 * 3).fill(124); // ≈ ImageNet mean red
  writeFileSync(path.join(dir, 'images', 'x.png'), encodePng(rgb, 3, 2, 3));
  writeFileSync(path.join(dir, 'labels', 'x.png'), encodePng(Uint8Array.from([0, 1, 255, 1, 0, 0]), 3, 2, 1));
  const meta = {
    format: 'sssseg-prepared/1', name: 'tiny', classes: ['a', 'b'], palette: [[1, 2, 3], [4, 5, 6]], ignoreIndex: 255,
    imageExt: 'png', splits: { val: ['x'] }, partitions: {}, source: {},
  };
  writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify(meta));
  const data = await defaultEvalSources.openData(dir);
  assert.equal(data.name, 'tiny');
  assert.deepEqual(data.palette, [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(data.splits, { val: ['x'] });
  const s = await data.read('x');
  assert.equal(s.h, 2);
  assert.equal(s.w, 3);
  assert.deepEqual(Array.from(s.label), [0, 1, 255, 1, 0, 0]);
  assert.ok(Math.abs(s.image[0]! - (124 - 123.675) / 58.395) < 1e-6);
  await assert.rejects(savePrediction(dir, '../escape', new Uint8Array(1), 1, 1, PALETTE), (e: unknown) =>
    e instanceof SsssegError && e.code === 'data.badId');
});
