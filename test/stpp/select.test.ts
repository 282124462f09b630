import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, readFileSync as read } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useTestBackend } from '../helpers/backend.ts';
import { fixturePath } from '../helpers/shared.ts';
import { scoreImages, splitReliable, writeSelection, type ReliabilityFile } from '../../src/stpp/select.ts';
import { checkpointEpochs } from '../../src/stpp/config.ts';
import { maskPredictor } from './fake-net.ts';

interface Demo {
  num_classes: number;
  images_in_dataloader_order: string[];
  masks: Record<string, number[][][]>;
  reliabilities_in_order: [string, number][];
  sorted_desc: [string, number][];
  reliable_ids: string[];
  unreliable_ids: string[];
}
const ref = JSON.parse(readFileSync(fixturePath('golden', 'stpp', 'stability.json'), 'utf8')) as {
  single_image: { num_classes: number; masks_HxW_row_major: Record<string, number[][]>; reliability: number };
  selection_demo: Demo;
};
const K = ref.single_image.num_classes;
const demo = ref.selection_demo;
// 'd' reuses the masks of 'a' (the tie on the boundary)
const masksOf = (id: string) => demo.masks[id === 'd' ? 'a' : id]!;

before(() => useTestBackend());

/** The demo through the real stage code: 3 "checkpoints" predicting the reference masks. */
async function scoreDemo(partialFile?: string, signal?: AbortSignal, onImage?: (d: number) => void) {
  let current = '';
  const predicts = [0, 1, 2].map((k) =>
    maskPredictor(K, () => ({ data: Uint8Array.from(masksOf(current)[k]!.flat()), h: 8, w: 8 })),
  );
  const readImage = async (id: string) => {
    current = id;
    return { image: new Float32Array(8 * 8 * 3), h: 8, w: 8 };
  };
  return scoreImages(demo.images_in_dataloader_order, readImage, predicts, K, { partialFile, signal, onImage });
}

test('stage scores and the 50 % split match ST++ select_reliable (golden, atol 1e-12)', async () => {
  const scores = (await scoreDemo())!;
  assert.deepEqual(scores.map((s) => s.id), demo.images_in_dataloader_order);
  demo.reliabilities_in_order.forEach(([id, r], i) => {
    assert.equal(scores[i]!.id, id);
    assert.ok(Math.abs(scores[i]!.score - r) <= 1e-12, `${id}: ${scores[i]!.score} vs ${r}`);
  });
  const split = splitReliable(scores, 0.5);
  assert.deepEqual(split.sorted.map((s) => s.id), demo.sorted_desc.map(([id]) => id));
  assert.deepEqual(split.reliable, demo.reliable_ids);
  assert.deepEqual(split.unreliable, demo.unreliable_ids);
});

test('single image reliability (golden)', async () => {
  const m = ref.single_image.masks_HxW_row_major;
  const order = ['checkpoint1', 'checkpoint2', 'checkpoint3_final'];
  const predicts = order.map((k) => maskPredictor(K, () => ({ data: Uint8Array.from(m[k]!.flat()), h: 8, w: 8 })));
  const [s] = (await scoreImages(['x'], async () => ({ image: new Float32Array(192), h: 8, w: 8 }), predicts, K))!;
  assert.ok(Math.abs(s!.score - ref.single_image.reliability) <= 1e-12);
});

test('other fractions cut at floor(n·f); ties keep input order', () => {
  const scores = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((id, i) => ({ id, score: i % 2 ? 0.5 : 0.9 }));
  assert.deepEqual(splitReliable(scores, 0.3).reliable, ['a', 'c', 'e']);
  assert.deepEqual(splitReliable(scores, 0.7).reliable, ['a', 'c', 'e', 'g', 'i', 'b', 'd']);
  assert.throws(() => splitReliable(scores, 1), { code: 'stpp.fraction' });
});

test('a killed selection continues from reliability.partial.jsonl with the same result', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stpp-sel-'));
  const partial = path.join(dir, 'partial.jsonl');
  const ctrl = new AbortController();
  const first = await scoreDemo(partial, ctrl.signal, (done) => done === 2 && ctrl.abort());
  assert.equal(first, undefined);
  const lines = read(partial, 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  // a line cut short by the kill is ignored
  await import('node:fs/promises').then((fs) => fs.appendFile(partial, '{"id":"c","sco'));
  const resumed = (await scoreDemo(partial))!;
  const fresh = (await scoreDemo())!;
  assert.deepEqual(resumed, fresh);
  await writeSelection(dir, splitReliable(resumed, 0.5), [1, 2, 3], 0.5);
  const file = JSON.parse(read(path.join(dir, 'reliability.json'), 'utf8')) as ReliabilityFile;
  assert.deepEqual(file.scores.filter((s) => s.reliable).map((s) => s.id), demo.reliable_ids);
  assert.equal(read(path.join(dir, 'reliable.txt'), 'utf8'), demo.reliable_ids.join('\n') + '\n');
  assert.equal(read(path.join(dir, 'unreliable.txt'), 'utf8'), demo.unreliable_ids.join('\n') + '\n');
});

test('checkpoint epochs follow ST++ (E//3, 2E//3, E), at least epoch 1', () => {
  assert.deepEqual(checkpointEpochs(80, 3), [26, 53, 80]);
  assert.deepEqual(checkpointEpochs(240, 3), [80, 160, 240]);
  assert.deepEqual(checkpointEpochs(2, 3), [1, 1, 2]);
});
