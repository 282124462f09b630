import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { crossEntropy } from '../../src/losses/ce.ts';
import { classFrequency, medianFrequencyWeights } from '../../src/data/class-frequency.ts';
import { SampleCache, type PreparedDataset, type Sample } from '../../src/data/dataset.ts';
import { resolveClassWeights } from '../../src/train/class-weights.ts';
import { lossSchema } from '../../src/losses/supervised.ts';

/** A dataset of in-memory samples (labels only matter here), served through the sample cache. */
function memoryDataset(labels: Record<string, number[]>, numClasses: number): PreparedDataset {
  const cache = new SampleCache(16);
  for (const [id, l] of Object.entries(labels)) {
    const sample: Sample = { id, image: new Uint8Array(l.length * 3), label: Uint8Array.from(l), h: 1, w: l.length };
    cache.add(id, Promise.resolve(sample));
  }
  const classes = Array.from({ length: numClasses }, (_, c) => `c${c}`);
  return { name: 'mem', classes, numClasses, cache } as unknown as PreparedDataset;
}

describe('class weights of the labeled loss', () => {
  before(() => useTestBackend());

  it('weighted CE is PyTorch CrossEntropyLoss(weight): sum of w_y·ce over sum of w_y, ignored pixels out', () => {
    const logits = [2, 0, -1, 0.5, 0.5, 0, -2, 1, 3, 0, 0, 0];
    const labels = [0, 1, 2, 255];
    const w = [0.5, 2, 4];
    let num = 0;
    let den = 0;
    labels.forEach((y, p) => {
      if (y === 255) return;
      const row = logits.slice(p * 3, p * 3 + 3);
      const lse = Math.log(row.reduce((a, x) => a + Math.exp(x), 0));
      num += w[y]! * (lse - row[y]!);
      den += w[y]!;
    });
    const got = tf.tidy(() => crossEntropy(tf.tensor4d(logits, [1, 2, 2, 3]), tf.tensor3d(labels, [1, 2, 2], 'int32'), 255, w).dataSync()[0]!);
    assert.ok(Math.abs(got - num / den) < 1e-5, `${got} vs ${num / den}`);
    const plain = tf.tidy(() => crossEntropy(tf.tensor4d(logits, [1, 2, 2, 3]), tf.tensor3d(labels, [1, 2, 2], 'int32'), 255, [1, 1, 1]).dataSync()[0]!);
    const unweighted = tf.tidy(() => crossEntropy(tf.tensor4d(logits, [1, 2, 2, 3]), tf.tensor3d(labels, [1, 2, 2], 'int32')).dataSync()[0]!);
    assert.ok(Math.abs(plain - unweighted) < 1e-6, 'weights of 1 are the unweighted loss');
  });

  it('median frequency: pixels of a class over the pixels of the images it appears in; absent classes 0', async () => {
    // class 0: 6 of 8 pixels in the two images it is in; class 1: 1 of 4 (image a); class 2: 1 of 4 (b);
    // class 3 never appears; 255 is not counted as a pixel of any image
    const data = memoryDataset({ a: [0, 0, 0, 1], b: [0, 0, 0, 2, 255] }, 4);
    const { freq, images } = await classFrequency(data, ['a', 'b']);
    assert.equal(images, 2);
    assert.deepEqual(freq, [6 / 8, 1 / 4, 1 / 4, 0]);
    const w = medianFrequencyWeights(freq);
    // median of the present classes' frequencies (1/4, 1/4, 3/4) is 1/4
    assert.deepEqual(w, [1 / 3, 1, 1, 0]);
  });

  it('the trainer resolves median_frequency from the labeled ids only, and refuses a list of the wrong length', async () => {
    const data = memoryDataset({ a: [0, 0, 0, 1], u: [2, 2, 2, 2] }, 3);
    const r = await resolveClassWeights(lossSchema.parse({ class_weights: 'median_frequency' }), data, ['a'], 'x.yaml');
    // image u (unlabeled) is all class 2: counted, it would give class 2 a weight
    const w = r.weights ?? [];
    [2 / 3, 2, 0].forEach((x, c) => assert.ok(Math.abs(w[c]! - x) < 1e-12, `class ${c}: ${w[c]} vs ${x}`));
    assert.match(r.line ?? '', /median frequency of 1 labeled images/);
    await assert.rejects(
      resolveClassWeights(lossSchema.parse({ class_weights: [1, 2] }), data, ['a'], 'x.yaml'),
      /x\.yaml: train\.loss\.class_weights has 2 entries; mem has 3 classes/,
    );
    assert.deepEqual((await resolveClassWeights(lossSchema.parse({}), data, ['a'], 'x.yaml')).weights, undefined);
  });
});
