import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutmixMask, resolveCutmix, normalize, normalizeInto, strongAugSchema, strongAugment, weakAugSchema, weakAugment } from '../../src/data/index.ts';
import { Rng } from '../../src/util/rng.ts';

/** A 40x60 test image whose pixel encodes its position, and a label of vertical class bands. */
function sample(h = 40, w = 60) {
  const image = new Uint8Array(h * w * 3);
  const label = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      image.set([x * 4, y * 6, 100], (y * w + x) * 3);
      label[y * w + x] = Math.floor((x * 3) / w);
    }
  }
  return { image, label, h, w };
}

test('schemas give the UniMatch defaults and reject unknown keys', () => {
  const weak = weakAugSchema.parse({});
  assert.deepEqual(weak.resize, { mode: 'longside', range: [0.5, 2] });
  assert.equal(weak.hflip, 0.5);
  assert.equal(weak.label_pad, 255);
  const strong = strongAugSchema.parse({});
  assert.equal(strong.color_jitter.p, 0.8);
  assert.equal(strong.grayscale.p, 0.2);
  assert.deepEqual(strong.blur.sigma, [0.1, 2]);
  // the box generator defaults to the method's own, with UniMatch's parameters for UniMatch
  assert.equal(strong.cutmix.box, 'auto');
  assert.deepEqual(resolveCutmix(strong.cutmix, 'unimatch'), { box: 'unimatch', p: 0.5, scope: 'sample', area: [0.02, 0.4], aspect: [0.3, 1 / 0.3] });
  assert.deepEqual(resolveCutmix(strong.cutmix, 'none'), { box: 'none' });
  // a configured generator of another kind than the method's is refused, not replaced
  const u2plBoxes = strongAugSchema.parse({ cutmix: { box: 'u2pl', p: 0.3 } }).cutmix;
  assert.deepEqual(resolveCutmix(u2plBoxes, 'u2pl'), { box: 'u2pl', p: 0.3, scope: 'batch', ratio: 2 });
  assert.throws(() => resolveCutmix(u2plBoxes, 'unimatch'), /u2pl but the method mixes with unimatch/);
  assert.throws(() => weakAugSchema.parse({ flip: 0.5 }));
  assert.throws(() => strongAugSchema.parse({ blur: { p: 2 } }));
});

test('weak: identity settings return the image; hflip mirrors it', () => {
  const s = sample();
  const id = weakAugSchema.parse({ resize: { mode: 'none' }, hflip: 0 });
  const r = weakAugment(s.image, s.label, s.h, s.w, 40, id, new Rng(1));
  // crop 40 of a 40x60 image: rows intact, a 40-wide window of columns
  const left = r.image[0]! / 4;
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) assert.equal(r.label[y * 40 + x], s.label[y * 60 + x + left]);
  assert.ok(r.pad.every((v) => v === 0));
  const flipped = weakAugment(s.image, s.label, s.h, s.w, 40, { ...id, hflip: 1 }, new Rng(1));
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) assert.equal(flipped.label[y * 40 + x], r.label[y * 40 + 39 - x]);
});

test('weak: padding carries the configured label and is flagged; the same seed gives the same crop', () => {
  const s = sample();
  const cfg = weakAugSchema.parse({ resize: { mode: 'none' }, hflip: 0 });
  const r = weakAugment(s.image, s.label, s.h, s.w, 64, cfg, new Rng(3));
  const padded = r.pad.reduce((a, v) => a + v, 0);
  assert.equal(padded, 64 * 64 - 40 * 60);
  for (let i = 0; i < r.pad.length; i++) if (r.pad[i]) assert.equal(r.label[i], 255);
  const zero = weakAugment(s.image, s.label, s.h, s.w, 64, { ...cfg, label_pad: 0 }, new Rng(3));
  for (let i = 0; i < r.pad.length; i++) if (r.pad[i]) assert.equal(zero.label[i], 0);
  const full = weakAugSchema.parse({});
  const a = weakAugment(s.image, s.label, s.h, s.w, 32, full, new Rng(9));
  const b = weakAugment(s.image, s.label, s.h, s.w, 32, full, new Rng(9));
  assert.deepEqual(a, b);
  // labels are resampled by nearest neighbour: no new class ids appear
  for (const v of a.label) assert.ok(v <= 2 || v === 255);
});

test('strong: does not touch its inputs, keeps the label unless cutout, is seed-deterministic', () => {
  const s = sample();
  const image = s.image.slice(0, 32 * 32 * 3);
  const label = s.label.slice(0, 32 * 32);
  const before = image.slice();
  const cfg = strongAugSchema.parse({ color_jitter: { p: 1 }, blur: { p: 1 } });
  const a = strongAugment(image, label, 32, cfg, new Rng(5));
  const b = strongAugment(image, label, 32, cfg, new Rng(5));
  assert.deepEqual(image, before);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.image, image);
  assert.deepEqual(a.label, label);
  const gray = strongAugment(image, label, 32, strongAugSchema.parse({ color_jitter: { p: 0 }, grayscale: { p: 1 }, blur: { p: 0 } }), new Rng(1));
  for (let p = 0; p < 32 * 32; p++) assert.ok(gray.image[p * 3] === gray.image[p * 3 + 1] && gray.image[p * 3 + 1] === gray.image[p * 3 + 2]);
  const cut = strongAugment(image, label, 32, strongAugSchema.parse({ cutout: { p: 1, label_fill: 254 } }), new Rng(2));
  assert.ok(cut.label.some((v) => v === 254));
});

test('cutmix masks: U2PL half-area box, UniMatch box within its area range, CPS boxes, none', () => {
  const n = 64;
  const count = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);
  const rng = new Rng(0);
  for (let i = 0; i < 20; i++) {
    const u2pl = count(cutmixMask({ box: 'u2pl', p: 0.5, scope: 'batch', ratio: 2 }, n, rng));
    assert.ok(Math.abs(u2pl - (n * n) / 2) <= n, `u2pl box area ${u2pl}`);
    const uni = count(cutmixMask(resolveCutmix(strongAugSchema.parse({}).cutmix, 'unimatch'), n, rng));
    assert.ok(uni <= 0.4 * n * n + 1 && uni >= 0.02 * n * n * 0.5, `unimatch box area ${uni}`);
    const cps = count(cutmixMask(resolveCutmix(strongAugSchema.parse({ cutmix: { box: 'cps' } }).cutmix, 'cps'), n, rng));
    assert.ok(cps > 0 && cps < n * n);
  }
  assert.equal(count(cutmixMask({ box: 'none' }, n, rng)), 0);
});

test('normalizeInto: ImageNet mean/std, padding to zero, written at an offset', () => {
  const img = new Uint8Array([124, 116, 104, 255, 0, 0]);
  const out = new Float32Array(9).fill(7);
  normalizeInto(img, out, 3, new Uint8Array([0, 1]));
  assert.deepEqual([...out.slice(0, 3)], [7, 7, 7]);
  assert.ok(Math.abs(out[3]! - (124 - 123.675) / 58.395) < 1e-6);
  assert.ok(Math.abs(out[5]! - (104 - 103.53) / 57.375) < 1e-6);
  assert.deepEqual([...out.slice(6)], [0, 0, 0]);
  assert.ok(Math.abs(normalize(new Uint8Array([255, 0, 0]))[0]! - (255 - 123.675) / 58.395) < 1e-6);
});
