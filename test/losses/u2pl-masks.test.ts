import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { fixturePath } from '../helpers/shared.ts';
import { readSafetensors, type StoredTensor } from '../../src/io/safetensors.ts';
import { pixelEntropy } from '../../src/losses/entropy.ts';
import {
  concatPixelMaps,
  entropyPartition,
  forEachRankClass,
  resizeNearest,
  selectContrastPixels,
  type PixelMaps,
  type SelectOptions,
} from '../../src/losses/u2pl-masks.ts';

/** Golden data from upstream train_semi.py / compute_contra_memobank_loss (test/fixtures/golden/README.md, u2pl/entropy_prt). */
const REF = fixturePath('golden', 'u2pl', 'entropy_prt.safetensors');
const C = 6;
const OPTS: SelectOptions = { lowRank: 3, highRank: 5, anchorThreshold: 0.3, negativeThreshold: 1, codeFaithful: true, prt: true };

describe('U2PL entropy partition, rank and anchor masks (golden)', () => {
  let t: Map<string, StoredTensor>;
  const get = (name: string): StoredTensor => {
    const v = t.get(name);
    assert.ok(v, `reference tensor ${name} missing`);
    return v;
  };
  /** NCHW class maps → class-minor (NHWC) flat array */
  const classMinor = (s: StoredTensor): Float32Array | Uint8Array => {
    const [n, c, h, w] = s.shape as [number, number, number, number];
    const out = s.data instanceof Uint8Array ? new Uint8Array(s.data.length) : new Float32Array(s.data.length);
    for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let p = 0; p < h * w; p++) out[(b * h * w + p) * c + k] = s.data[(b * c + k) * h * w + p] as number;
    return out;
  };
  const maskOf = (lists: Int32Array[], pixels: number): Uint8Array => {
    const m = new Uint8Array(pixels * C);
    lists.forEach((l, k) => l.forEach((p) => (m[p * C + k] = 1)));
    return m;
  };
  let maps: PixelMaps;
  let entropy: Float32Array;
  let labelU: Int32Array;

  before(async () => {
    await useTestBackend();
    t = (await readSafetensors(REF)).tensors;
    const logits = get('teacher_logits_u');
    const e = tf.tidy(() => pixelEntropy(tf.transpose(tf.tensor4d(logits.data as Float32Array, logits.shape as [number, number, number, number]), [0, 2, 3, 1])));
    entropy = e.dataSync() as Float32Array;
    e.dispose();
    labelU = get('label_u').data as Int32Array;
    const part = entropyPartition(entropy, labelU, 20);
    const prob = new Float32Array(4 * 64 * C);
    prob.set(classMinor(get('prob_l')) as Float32Array);
    prob.set(classMinor(get('prob_u')) as Float32Array, 2 * 64 * C);
    const own = concatPixelMaps(get('label_l').data as Int32Array, labelU, part.low, part.high, prob, C);
    // The stored onehot_all is not the one-hot of label_l/label_u (rows 0 and 2 hold the union of
    // images 0+1 and 2+3, rows 1 and 3 are empty: an artefact of how the reference was made), and
    // every reference mask was computed from it; so the selection is fed that one-hot.
    maps = { ...own, onehot: classMinor(get('onehot_all')) as Uint8Array };
  });

  it('entropy within atol 1e-6', () => {
    const ref = get('entropy_u').data as Float32Array;
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(entropy[i]! - ref[i]!) <= 1e-6, `entropy[${i}] ${entropy[i]} vs ${ref[i]}`);
  });

  it('percentile thresholds within atol 1e-6 and reliable/unreliable masks exact', () => {
    const part = entropyPartition(entropy, labelU, 20);
    const th = get('thresholds').data as Float64Array;
    assert.ok(Math.abs(part.lowThresh - th[0]!) <= 1e-6, `low ${part.lowThresh} vs ${th[0]}`);
    assert.ok(Math.abs(part.highThresh - th[1]!) <= 1e-6, `high ${part.highThresh} vs ${th[1]}`);
    assert.deepEqual(Array.from(part.low), Array.from(get('low_entropy_mask_u').data as Uint8Array));
    assert.deepEqual(Array.from(part.high), Array.from(get('high_entropy_mask_u').data as Uint8Array));
    assert.deepEqual(Array.from(maps.low), Array.from(get('low_mask_all').data as Uint8Array));
    assert.deepEqual(Array.from(maps.high), Array.from(get('high_mask_all').data as Uint8Array));
  });

  it('rank-based class mask exact (labeled: top r_l and ≠ GT; unlabeled: ranks [r_l, r_h))', () => {
    const got = new Uint8Array(4 * 64 * C);
    forEachRankClass(maps, OPTS, null, (p, c) => (got[p * C + c] = 1));
    assert.deepEqual(Array.from(got), Array.from(classMinor(get('rank_class_mask'))));
  });

  it('code-faithful negative mask and anchor mask exact', () => {
    const sel = selectContrastPixels(maps, OPTS);
    assert.deepEqual(Array.from(maskOf(sel.negatives, 256)), Array.from(classMinor(get('negative_mask'))));
    assert.deepEqual(Array.from(maskOf(sel.anchors, 256)), Array.from(classMinor(get('anchor_mask'))));
    assert.deepEqual(sel.negatives.map((l) => l.length), [0, 0, 0, 1, 2, 0]);
    assert.deepEqual(sel.anchors.map((l) => l.length), [5, 1, 7, 4, 11, 5]);
  });

  it('paper negatives = rank mask ∧ negative candidates, labeled ones included', () => {
    const sel = selectContrastPixels(maps, { ...OPTS, codeFaithful: false });
    const rank = classMinor(get('rank_class_mask'));
    const high = get('high_mask_all').data as Uint8Array;
    const expected = new Uint8Array(rank.length);
    for (let i = 0; i < rank.length; i++) expected[i] = rank[i]! && high[Math.floor(i / C)]! ? 1 : 0;
    assert.deepEqual(Array.from(maskOf(sel.negatives, 256)), Array.from(expected));
    const labeledNeg = sel.negatives.reduce((s, l) => s + l.filter((p) => p < 128).length, 0);
    assert.ok(labeledNeg > 0, 'paper-faithful negatives include labeled pixels');
    // prototypes come from every reliable pixel of the class, anchors are a subset
    sel.anchors.forEach((a, k) => a.forEach((p) => assert.ok(sel.lowValid[k]!.includes(p))));
  });

  it('PRT off: unlabeled negatives take every class but the top-1', () => {
    const sel = selectContrastPixels(maps, { ...OPTS, codeFaithful: false, prt: false });
    const p = sel.negatives.flatMap((l) => Array.from(l)).find((q) => q >= 128)!;
    const probs = Array.from(maps.prob.subarray(p * C, p * C + C));
    const top = probs.indexOf(Math.max(...probs));
    for (let k = 0; k < C; k++) assert.equal(sel.negatives[k]!.includes(p), k !== top, `class ${k}`);
  });

  it('nearest downsampling follows PyTorch (src = floor(dst·in/out))', () => {
    const src = Int32Array.from({ length: 9 * 9 }, (_, i) => i);
    const out = resizeNearest(src, 1, 9, 9, 3, 3);
    assert.deepEqual(Array.from(out), [0, 3, 6, 27, 30, 33, 54, 57, 60]);
  });
});
