import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { decodePng } from '../../src/data/png.ts';
import { writePseudoMasks } from '../../src/stpp/pseudo.ts';
import type { PredictFn } from '../../src/eval/inference.ts';

before(() => useTestBackend());

const H = 16;
const W = 24;
/** left third class 0, then class 1 on top / class 2 below: the image channels are the one-hot classes */
function truth(): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) m[y * W + x] = x < 8 ? 0 : y < 8 ? 1 : 2;
  return m;
}
const image = (): Float32Array => {
  const t = truth();
  const img = new Float32Array(H * W * 3);
  t.forEach((c, i) => (img[i * 3 + c] = 1));
  return img;
};
/** equivariant to scaling and flipping, as a real network is meant to be: logits = image */
let calls = 0;
const predict: PredictFn = (x) => {
  calls++;
  return tf.mul(x, 10) as tf.Tensor4D;
};
const read = async () => ({ image: image(), h: H, w: W });

test('TTA pseudo-masks: one 8-bit class-id PNG per id, previews on request, existing files skipped', async () => {
  const run = mkdtempSync(path.join(tmpdir(), 'stpp-pseudo-'));
  const palette: [number, number, number][] = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
  calls = 0;
  const n = await writePseudoMasks(run, ['a', 'sub/b'], read, predict, { scales: [0.5, 0.75, 1, 1.5, 2], flip: true, palette });
  assert.equal(n, 2);
  assert.equal(calls, 2 * 10, '5 scales × 2 flips per image');
  // ids with '/' (Cityscapes city/frame) are stored flat, under the name the trainer reads
  for (const [id, file] of [['a', 'a.png'], ['sub/b', 'sub__b.png']] as const) {
    const png = decodePng(readFileSync(path.join(run, 'pseudo', file)), id);
    assert.equal(png.channels, 1);
    assert.deepEqual([png.width, png.height], [W, H]);
    assert.deepEqual(png.data, truth());
    const color = decodePng(readFileSync(path.join(run, 'pseudo-color', file)), id);
    assert.equal(color.channels, 3);
    assert.deepEqual([...color.data.subarray(0, 3)], palette[0]);
  }
  calls = 0;
  assert.equal(await writePseudoMasks(run, ['a', 'sub/b', 'c'], read, predict, { scales: [1], flip: false }), 1);
  assert.equal(calls, 1);
  assert.ok(!existsSync(path.join(run, 'pseudo-color', 'c.png')));
});

test('an aborted pseudo-labelling stops between images and reports it', async () => {
  const run = mkdtempSync(path.join(tmpdir(), 'stpp-pseudo-'));
  const ctrl = new AbortController();
  const r = await writePseudoMasks(run, ['a', 'b', 'c'], read, predict, { scales: [1], flip: false, signal: ctrl.signal, onImage: () => ctrl.abort() });
  assert.equal(r, undefined);
  assert.ok(existsSync(path.join(run, 'pseudo', 'a.png')));
  assert.ok(!existsSync(path.join(run, 'pseudo', 'b.png')));
});
