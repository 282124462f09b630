import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixturePath } from '../helpers/shared.ts';
import { ConfusionMatrix, nanMean } from '../../src/eval/metrics.ts';

interface MiouRef {
  classes: number;
  inputs: { gt: number[][][]; pred: number[][][] };
  confusion_matrix_rows_gt_cols_pred: number[][];
  u2pl: {
    per_image: { intersection: number[]; union: number[]; target: number[] }[];
    area_intersection: number[];
    area_union: number[];
    area_target: number[];
    iou_class: number[];
    mIoU: number;
  };
  stpp: { iou_class: (number | null)[]; mIoU: number; classes_counted: number[] };
}

const ref = JSON.parse(readFileSync(fixturePath('golden', 'metrics', 'miou.json'), 'utf8')) as MiouRef;
const flat = (m: number[][]) => Uint8Array.from(m.flat());
const gts = ref.inputs.gt.map(flat);
const preds = ref.inputs.pred.map(flat);

function accumulate(): ConfusionMatrix {
  const cm = new ConfusionMatrix(ref.classes);
  gts.forEach((gt, i) => cm.add(gt, preds[i]!));
  return cm;
}

function closeTo(actual: number, expected: number, atol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= atol, `${what}: ${actual} vs ${expected}`);
}

test('confusion matrix and areas match the upstream histograms exactly', () => {
  const cm = accumulate();
  assert.deepEqual(cm.toArray(), ref.confusion_matrix_rows_gt_cols_pred);
  assert.deepEqual(cm.intersection(), ref.u2pl.area_intersection);
  assert.deepEqual(cm.union(), ref.u2pl.area_union);
  assert.deepEqual(cm.target(), ref.u2pl.area_target);
});

test('per-image areas match U2PL intersectionAndUnion', () => {
  gts.forEach((gt, i) => {
    const cm = new ConfusionMatrix(ref.classes);
    cm.add(gt, preds[i]!);
    const r = ref.u2pl.per_image[i]!;
    assert.deepEqual(cm.intersection(), r.intersection);
    assert.deepEqual(cm.union(), r.union);
    assert.deepEqual(cm.target(), r.target);
  });
});

test('default rule = ST++ meanIOU: absent class NaN and excluded', () => {
  const m = accumulate().metrics();
  ref.stpp.iou_class.forEach((v, c) => {
    if (v === null) assert.ok(Number.isNaN(m.iou[c]!), `class ${c} should be NaN`);
    else closeTo(m.iou[c]!, v, 1e-12, `iou[${c}]`);
  });
  closeTo(m.miou, ref.stpp.mIoU, 1e-12, 'mIoU');
  assert.deepEqual(m.classesCounted, ref.stpp.classes_counted);
});

test('absentAsZero = U2PL rule: absent class 0 and included', () => {
  const m = accumulate().metrics({ absentAsZero: true });
  ref.u2pl.iou_class.forEach((v, c) => closeTo(m.iou[c]!, v, 1e-12, `iou[${c}]`));
  closeTo(m.miou, ref.u2pl.mIoU, 1e-12, 'mIoU');
  assert.equal(m.classesCounted.length, ref.classes);
});

test('pixel accuracy and mean class accuracy follow from the reference areas', () => {
  const m = accumulate().metrics();
  const inter = ref.u2pl.area_intersection;
  const target = ref.u2pl.area_target;
  const total = target.reduce((a, b) => a + b, 0);
  closeTo(m.pixelAcc, inter.reduce((a, b) => a + b, 0) / total, 1e-15, 'pixelAcc');
  const accs = inter.flatMap((i, c) => (target[c]! > 0 ? [i / target[c]!] : []));
  closeTo(m.meanAcc, accs.reduce((a, b) => a + b, 0) / accs.length, 1e-15, 'meanAcc');
});

test('ignore pixels never count, whatever is predicted there', () => {
  const cm = new ConfusionMatrix(3);
  cm.add(Uint8Array.from([255, 255, 0]), Uint8Array.from([2, 1, 0]));
  assert.equal(cm.total(), 1);
  assert.equal(cm.metrics().miou, 1);
});

test('a prediction outside the class range is an error, mismatched sizes too', () => {
  const cm = new ConfusionMatrix(3);
  assert.throws(() => cm.add(Uint8Array.from([0]), Uint8Array.from([7])), { code: 'eval.predOutOfRange' });
  assert.throws(() => cm.add(Uint8Array.from([0, 1]), Uint8Array.from([0])), { code: 'eval.shapeMismatch' });
});

test('merge adds counts; nanMean of nothing is NaN', () => {
  const a = accumulate();
  const b = new ConfusionMatrix(ref.classes);
  b.merge(a);
  b.merge(a);
  assert.deepEqual(b.intersection(), ref.u2pl.area_intersection.map((v) => 2 * v));
  assert.ok(Number.isNaN(nanMean([Number.NaN])));
  assert.ok(Number.isNaN(new ConfusionMatrix(2).metrics().miou));
});
