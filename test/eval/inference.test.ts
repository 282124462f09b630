import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { segment, windowStarts } from '../../src/eval/inference.ts';
import { describeProtocol, parseScales, resolveProtocol, type InferenceProtocol } from '../../src/eval/protocol.ts';
import { convNet, lowResNet, randomImage } from './fakes.ts';

before(async () => {
  await useTestBackend();
});

const K = 5;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function run(image: Float32Array, h: number, w: number, predict: (x: tf.Tensor4D) => tf.Tensor4D, p: InferenceProtocol) {
  return segment(image, h, w, predict, p, { keepProbs: true });
}

test('sliding with a window >= the image equals whole for a same-padded conv', async () => {
  const net = convNet(1, K, 3);
  const [h, w] = [13, 17];
  const img = randomImage(2, h, w);
  const whole = await run(img, h, w, net.predict, { mode: 'whole' });
  for (const crop of [17, 24]) {
    const slid = await run(img, h, w, net.predict, { mode: 'sliding', crop });
    assert.deepEqual(slid.pred, whole.pred, `crop ${crop}`);
    assert.ok(maxAbsDiff(slid.probs!, whole.probs!) < 1e-6);
  }
  net.dispose();
});

test('overlapping sliding windows average to the whole-image answer for a per-pixel net', async () => {
  const net = convNet(3, K, 1);
  const [h, w] = [20, 31];
  const img = randomImage(4, h, w);
  const whole = await run(img, h, w, net.predict, { mode: 'whole' });
  const slid = await run(img, h, w, net.predict, { mode: 'sliding', crop: 9, stride: 4 });
  assert.deepEqual(slid.pred, whole.pred);
  assert.ok(maxAbsDiff(slid.probs!, whole.probs!) < 1e-6);
  // probabilities stay a distribution after dividing by the window counts
  for (let i = 0; i < h * w; i += 37) {
    const s = slid.probs!.subarray(i * K, (i + 1) * K).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
  net.dispose();
});

test('flip TTA of a flip-equivariant predictor equals no flip', async () => {
  const net = convNet(5, K, 3, true);
  const [h, w] = [12, 15];
  const img = randomImage(6, h, w);
  const plain = await run(img, h, w, net.predict, { mode: 'whole' });
  const flipped = await run(img, h, w, net.predict, { mode: 'whole', flip: true });
  assert.deepEqual(flipped.pred, plain.pred);
  assert.ok(maxAbsDiff(flipped.probs!, plain.probs!) < 1e-6);
  // the check has teeth: an asymmetric kernel is not equivariant
  const asym = convNet(5, K, 3, false);
  const a = await run(img, h, w, asym.predict, { mode: 'whole' });
  const b = await run(img, h, w, asym.predict, { mode: 'whole', flip: true });
  assert.ok(maxAbsDiff(a.probs!, b.probs!) > 1e-3);
  net.dispose();
  asym.dispose();
});

test('multi-scale on a constant image equals single scale', async () => {
  const net = lowResNet(7, K, 4);
  const [h, w] = [16, 24];
  const img = new Float32Array(h * w * 3);
  for (let i = 0; i < img.length; i++) img[i] = [0.3, -1.2, 0.7][i % 3]!;
  const one = await run(img, h, w, net.predict, { mode: 'whole' });
  const ms = await run(img, h, w, net.predict, { mode: 'whole', scales: [0.5, 0.75, 1, 1.5, 2], flip: true });
  assert.deepEqual(ms.pred, one.pred);
  assert.ok(maxAbsDiff(ms.probs!, one.probs!) < 1e-5);
  net.dispose();
});

test('low-resolution logits are upsampled bilinearly with align_corners=true', async () => {
  // class 0: constant 6; class 1: [[0,4],[8,12]] -> upsampled to 3x3: [[0,2,4],[4,6,8],[8,10,12]]
  const predict = (x: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const c1 = tf.tensor4d([0, 4, 8, 12], [1, 2, 2, 1]);
      return tf.tile(tf.concat([tf.fill([1, 2, 2, 1], 6), c1], 3), [x.shape[0], 1, 1, 1]) as tf.Tensor4D;
    });
  const seg = await run(new Float32Array(9 * 3), 3, 3, predict, { mode: 'whole' });
  // ties (6 vs 6 in the centre) go to the lower class, as torch.argmax does
  assert.deepEqual(Array.from(seg.pred), [0, 0, 0, 0, 0, 1, 1, 1, 1]);
  const p1 = Array.from({ length: 9 }, (_, i) => seg.probs![i * 2 + 1]!);
  const expected = [0, 2, 4, 4, 6, 8, 8, 10, 12].map((v) => 1 / (1 + Math.exp(6 - v)));
  p1.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `pixel ${i}: ${v} vs ${expected[i]}`));
});

test('size divisor (PS-MT) keeps the output at the image size', async () => {
  const net = lowResNet(8, K, 8);
  const seg = await run(randomImage(9, 13, 21), 13, 21, net.predict, { mode: 'whole', sizeDivisor: 8 });
  assert.equal(seg.pred.length, 13 * 21);
  assert.equal(seg.probs!.length, 13 * 21 * K);
  net.dispose();
});

test('center-crop predicts the centred window only and pads small images', async () => {
  const net = convNet(10, K, 1);
  const [h, w] = [9, 14];
  const img = randomImage(11, h, w);
  const whole = await run(img, h, w, net.predict, { mode: 'whole' });
  const cc = await run(img, h, w, net.predict, { mode: 'center-crop', crop: 6 });
  // U2PL: h_off = (9-6)//2 = 1, w_off = (14-6)//2 = 4
  assert.deepEqual(cc.region, { top: 1, left: 4, height: 6, width: 6 });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = y >= 1 && y < 7 && x >= 4 && x < 10;
      assert.equal(cc.pred[y * w + x], inside ? whole.pred[y * w + x] : 255, `(${y},${x})`);
    }
  }
  // image smaller than the crop along one side: zero padding, the region is clipped to the image
  const big = await run(img, h, w, net.predict, { mode: 'center-crop', crop: 12 });
  assert.deepEqual(big.region, { top: 0, left: 1, height: 9, width: 12 });
  net.dispose();
});

test('no tensors leak over several images and protocols', async () => {
  const net = lowResNet(12, K, 4);
  const protocols: InferenceProtocol[] = [
    { mode: 'whole', scales: [0.75, 1.25], flip: true },
    { mode: 'sliding', crop: 12 },
    { mode: 'center-crop', crop: 10, flip: true },
  ];
  const img = randomImage(13, 18, 22);
  await run(img, 18, 22, net.predict, protocols[0]!); // warm-up (kernels may cache constants)
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) for (const p of protocols) await run(img, 18, 22, net.predict, p);
  assert.equal(tf.memory().numTensors, before);
  net.dispose();
});

test('window offsets match U2PL scale_process (Cityscapes 2048x1024, crop 769)', () => {
  const stride = resolveProtocol({ mode: 'sliding', crop: 769 }).stride;
  assert.equal(stride, 513);
  assert.deepEqual(windowStarts(1024, 769, stride), [0, 255]);
  assert.deepEqual(windowStarts(2048, 769, stride), [0, 513, 1026, 1279]);
  assert.deepEqual(windowStarts(769, 769, stride), [0]); // smaller images are padded up to the crop first
});

test('protocol parsing and description', () => {
  assert.deepEqual(parseScales('0.5, 0.75,1'), [0.5, 0.75, 1]);
  assert.throws(() => parseScales('1,x'), { code: 'eval.scales' });
  assert.throws(() => resolveProtocol({ mode: 'sliding' }), { code: 'eval.cropRequired' });
  assert.equal(describeProtocol({ mode: 'sliding', crop: 769 }), 'sliding 769 (stride 513), scales 1, no flip');
  assert.equal(describeProtocol({ mode: 'whole', scales: [0.5, 1], flip: true }), 'whole, scales 0.5/1, flip');
});
