import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { memoryIo } from '../helpers/io.ts';
import { run } from '../../src/cli/main.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { modelConfig, type SegNet } from '../../src/models/index.ts';

await useTestBackend();
const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A stand-in net: the checkpoint code only reads config, numClasses and params(). */
function fakeNet(): SegNet {
  const params = [
    { name: 'backbone.conv1.weight', variable: tf.variable(tf.ones([7, 7, 3, 64])), kind: 'weight', group: 'backbone', trainable: true },
    { name: 'classifier.bias', variable: tf.variable(tf.zeros([3])), kind: 'bias', group: 'head', trainable: true },
  ] as const;
  return {
    config: modelConfig({ backbone: 'resnet50', head: 'deeplabv3plus_u2pl', output_stride: 8 }), numClasses: 3,
    params: () => params.map((p) => ({ ...p })), forward: () => { throw new Error('unused'); }, dispose: () => undefined,
  };
}

test('`sssseg info <checkpoint.bin>` prints its metadata; --json one object', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'info-'));
  const file = path.join(dir, 'checkpoint.bin');
  await saveCheckpoint(file, { student: fakeNet(), teacher: fakeNet() }, {
    method: 'u2pl', config: { method: 'u2pl' }, dataset: { name: 'voc', classes: ['background', 'cat', 'dog'] },
    epoch: 3, iteration: 1200, rng: null, metrics: { mIoU: 0.71234 }, extra: {}, evalNet: 'teacher',
  }, new Map([['optim/momentum/0', tf.zeros([2])]]));
  const io = memoryIo();
  assert.equal(await run(['info', file], io), 0, io.stderr.join('\n'));
  const text = io.stdout.join('\n');
  assert.match(text, /method:\s+u2pl/);
  assert.match(text, /dataset:\s+voc \(3 classes: background, cat, dog\)/);
  assert.match(text, /progress:\s+epoch 3, iteration 1200/);
  assert.match(text, /mIoU=0\.7123/);
  assert.match(text, /net teacher \(evaluated\): resnet50 \+ deeplabv3plus_u2pl, output stride 8, 3 classes, 2 tensors/);
  assert.match(text, /other:\s+1 tensors/);
  const io2 = memoryIo();
  assert.equal(await run(['info', file, '--json'], io2), 0);
  const j = JSON.parse(io2.stdout.join('\n')) as { method: string; evalNet: string; nets: Record<string, { parameters: number }>; dataset: { classes: string[] } };
  assert.equal(j.method, 'u2pl');
  assert.equal(j.evalNet, 'teacher');
  assert.equal(j.nets['student']!.parameters, 7 * 7 * 3 * 64 + 3);
  assert.deepEqual(j.dataset.classes, ['background', 'cat', 'dog']);
  await fs.truncate(file, 100);
  const io3 = memoryIo();
  assert.equal(await run(['info', file], io3), 1);
  assert.equal(io3.stderr.length, 1);
  assert.match(io3.stderr[0]!, /checkpoint\.bin is not a valid safetensors file/);
  await fs.rm(dir, { recursive: true, force: true });
});

test('`sssseg convert-weights in.pth out.safetensors` keeps names and PyTorch layout', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convert-'));
  const out = path.join(dir, 'w.safetensors');
  const io = memoryIo();
  assert.equal(await run(['convert-weights', path.join(FIX, 'tiny_zip.pth'), out], io), 0, io.stderr.join('\n'));
  assert.match(io.stdout.join('\n'), /wrote .*w\.safetensors: 5 tensors/);
  const st = await readSafetensors(out);
  assert.deepEqual([...st.tensors.keys()], ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.num_batches_tracked', 'fc.weight']);
  assert.deepEqual(st.tensors.get('conv1.weight')!.shape, [4, 3, 3, 3]);
  assert.equal(st.metadata['format'], 'pt');
  const io2 = memoryIo();
  assert.equal(await run(['convert-weights', path.join(dir, 'missing.pth'), out], io2), 1);
  assert.match(io2.stderr[0]!, /cannot read pretrained weights .*missing\.pth/);
  await fs.rm(dir, { recursive: true, force: true });
});
