import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixturePath } from '../helpers/shared.ts';
import { pairMiou, selectReliable, stabilityScore } from '../../src/eval/stability.ts';

interface StabilityRef {
  single_image: {
    num_classes: number;
    masks_HxW_row_major: Record<'checkpoint1' | 'checkpoint2' | 'checkpoint3_final', number[][]>;
    per_checkpoint_vs_final: { mIoU: number }[];
    reliability: number;
  };
  selection_demo: {
    images_in_dataloader_order: string[];
    masks: Record<string, number[][][]>;
    reliabilities_in_order: [string, number][];
    sorted_desc: [string, number][];
    reliable_ids: string[];
    unreliable_ids: string[];
  };
}

const ref = JSON.parse(readFileSync(fixturePath('golden', 'stpp', 'stability.json'), 'utf8')) as StabilityRef;
const flat = (m: number[][]) => Uint8Array.from(m.flat());
const K = ref.single_image.num_classes;

function closeTo(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} vs ${expected}`);
}

test('single image: per-checkpoint mIoU and reliability match ST++', () => {
  const m = ref.single_image.masks_HxW_row_major;
  const preds = [m.checkpoint1, m.checkpoint2, m.checkpoint3_final].map(flat);
  ref.single_image.per_checkpoint_vs_final.forEach((r, j) => closeTo(pairMiou(preds[j]!, preds[2]!, K), r.mIoU, `ckpt ${j + 1}`));
  closeTo(stabilityScore(preds, K), ref.single_image.reliability, 'reliability');
});

test('selection demo: reliabilities, stable descending sort and the len//2 split', () => {
  const demo = ref.selection_demo;
  // 'd' reuses 'a''s masks (the tie), so it is not stored separately
  const masksOf = (id: string) => demo.masks[id === 'd' ? 'a' : id]!.map(flat);
  const scores = demo.images_in_dataloader_order.map((id) => ({ id, score: stabilityScore(masksOf(id), K) }));
  demo.reliabilities_in_order.forEach(([id, r], i) => {
    assert.equal(scores[i]!.id, id);
    closeTo(scores[i]!.score, r, `reliability ${id}`);
  });
  const split = selectReliable(scores);
  assert.deepEqual(split.sorted.map((s) => s.id), demo.sorted_desc.map(([id]) => id));
  assert.deepEqual(split.reliable, demo.reliable_ids);
  assert.deepEqual(split.unreliable, demo.unreliable_ids);
});

test('odd and tiny inputs: the middle image is unreliable; one checkpoint is an error', () => {
  assert.deepEqual(selectReliable([{ id: 'x', score: 0.5 }]), { reliable: [], unreliable: ['x'], sorted: [{ id: 'x', score: 0.5 }] });
  assert.deepEqual(selectReliable([]).reliable, []);
  assert.throws(() => stabilityScore([new Uint8Array(4)], K), { code: 'stpp.tooFewCheckpoints' });
  assert.throws(() => selectReliable([{ id: 'n', score: Number.NaN }]), { code: 'stpp.nanScore' });
});
