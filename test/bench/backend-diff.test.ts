import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRecords } from '../../bench/backend-diff-compare.ts';
import { CASES, pack, recordBackend, type BackendRecord, type StepRecord } from '../../bench/backend-diff-step.ts';

function record(backend: string, grads: Record<string, number[]>, logits: number[], loss: number): BackendRecord {
  const step: StepRecord = {
    case: 'c', method: 'u2pl', iteration: 0, semiIteration: 0, logs: { loss_sup: loss, kept_frac: 0.5 },
    grads: Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, pack(Float32Array.from(v))])),
    eval: { 'student.logits': pack(Float32Array.from(logits)) },
  };
  return { backend, detail: '', cases: [step] };
}

test('compareRecords: relative loss and gradient differences, worst parameter first, rounding-only gradients set apart, argmax flips', () => {
  const a = record('a', { w1: [3, 4], w2: [1, 0], b: [1e-9, 0] }, [1, 0, 0, 1], 2);
  const b = record('b', { w1: [3, 4.005], w2: [1, 0], b: [0, 1e-9] }, [1, 0, 1, 0.5], 2.002);
  const [d] = compareRecords(a, b, 2);
  assert.ok(d);
  const sup = d.terms.find((t) => t.term === 'loss_sup')!;
  assert.ok(Math.abs(sup.rel - 1e-3) < 1e-9);
  assert.deepEqual(d.scalars, [{ name: 'kept_frac', ref: 0.5, other: 0.5 }]);
  // ||(0, 0.005)|| / ||(3, 4)|| = 1e-3; w2 identical; b is zero up to rounding and must not count
  assert.deepEqual(d.grads.nullGrads, ['b']);
  assert.equal(d.grads.worst[0]!.param, 'w1');
  assert.ok(Math.abs(d.grads.max - 1e-3) < 1e-6);
  assert.equal(d.grads.worst.length, 2);
  const logits = d.eval[0]!;
  assert.equal(logits.argmaxFlips, 1);
  assert.equal(logits.pixels, 2);
});

test('one recorded U2PL step is bit-identical when repeated on wasm, and the contrastive-off case leaves the representation head without gradient', async () => {
  const cases = CASES.filter((c) => c.name === 'u2pl' || c.name === 'u2pl, contrastive off');
  const first = await recordBackend('wasm', cases);
  const again = await recordBackend('wasm', cases);
  const [full, noContra] = compareRecords(first, again, 4);
  for (const d of [full!, noContra!]) {
    assert.equal(d.grads.global, 0, d.case);
    for (const t of d.terms) assert.equal(t.rel, 0, `${d.case} ${t.term}`);
  }
  assert.ok(full!.terms.find((t) => t.term === 'loss_contra')!.ref > 0);
  const repNull = (names: string[]) => names.filter((n) => n.includes('representation') && n.endsWith('weight'));
  assert.equal(repNull(full!.grads.nullGrads).length, 0);
  assert.ok(repNull(noContra!.grads.nullGrads).length >= 3, noContra!.grads.nullGrads.join(', '));
});
