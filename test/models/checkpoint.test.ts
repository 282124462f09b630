import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { SsssegError } from '../../src/errors.ts';
import { VERSION } from '../../src/version.ts';
import { buildSegNet, modelConfig, type SegNet } from '../../src/models/index.ts';
import {
  CHECKPOINT_FORMAT, checkpointTensor, loadNetFromCheckpoint, readCheckpoint, restoreNet, saveCheckpoint, type CheckpointMeta,
} from '../../src/models/checkpoint.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';

await useTestBackend();

// the small CPU net: ResNet-18, narrow heads
const CFG = modelConfig({
  backbone: 'resnet18', output_stride: 16, aspp_channels: 16, head_channels: 16, low_level_channels: 8, rep_dim: null,
});
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ckpt-'));
const student = buildSegNet(CFG, 3, 1);
const teacher = buildSegNet(CFG, 3, 2);
const file = path.join(dir, 'checkpoint.bin');
const META: Omit<CheckpointMeta, 'format' | 'version' | 'nets'> = {
  method: 'meanteacher',
  config: { method: 'meanteacher', train: { epochs: 2 } },
  dataset: { name: 'synthetic', classes: ['bg', 'a', 'b'], dir: '/data/syn' },
  epoch: 1, iteration: 40, rng: [1, 2, 3, 4], metrics: { mIoU: 0.4321 }, extra: { emaDecay: 0.99 }, evalNet: 'teacher',
};
const extra = new Map<string, tf.Tensor>([
  ['optim/momentum/0', tf.fill([2, 3], 0.5)],
  ['extra/queue', tf.tensor1d([1, 2, 3], 'int32')],
  ['extra/mask', tf.tensor1d([true, false], 'bool')],
]);
await saveCheckpoint(file, { student, teacher }, META, extra);
after(async () => {
  for (const n of [student, teacher]) n.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

/** All weights as bytes: comparing 11 M numbers one by one with deepEqual takes a minute. */
const values = (net: SegNet) =>
  Buffer.concat(net.params().map((p) => { const d = p.variable.dataSync() as Float32Array; return Buffer.from(d.buffer, d.byteOffset, d.byteLength); }));

test('save + read: metadata, one tensor per parameter per net, extras; atomic (no temp file left)', async () => {
  assert.deepEqual(await fs.readdir(dir), ['checkpoint.bin']);
  const ck = await readCheckpoint(file);
  assert.equal(ck.meta.format, CHECKPOINT_FORMAT);
  assert.equal(ck.meta.version, VERSION);
  assert.deepEqual({ ...ck.meta, format: undefined, version: undefined, nets: undefined }, { ...META, format: undefined, version: undefined, nets: undefined });
  assert.deepEqual(Object.keys(ck.meta.nets), ['student', 'teacher']);
  assert.deepEqual(ck.meta.nets['teacher'], { model: CFG, numClasses: 3 });
  const n = student.params().length;
  assert.equal(ck.tensors.size, 2 * n + 3);
  const p0 = student.params()[0]!;
  assert.deepEqual(ck.tensors.get(`student/${p0.name}`)!.shape, p0.variable.shape);
  assert.ok(student.params().some((p) => ck.tensors.has(`teacher/${p.name}`) && p.kind === 'running_var'), 'BN stats stored');
  assert.deepEqual(Array.from(checkpointTensor(ck, 'optim/momentum/0').dataSync()), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  const q = checkpointTensor(ck, 'extra/queue');
  assert.equal(q.dtype, 'int32');
  assert.deepEqual(Array.from(q.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(checkpointTensor(ck, 'extra/mask').dataSync()), [1, 0]);
});

test('restoreNet and loadNetFromCheckpoint reproduce the weights (default: the evaluation net)', async () => {
  const ck = await readCheckpoint(file);
  const fresh = buildSegNet(CFG, 3, 99);
  restoreNet(ck, 'student', fresh);
  assert.deepEqual(values(fresh), values(student));
  fresh.dispose();
  const { net, meta } = await loadNetFromCheckpoint(file);
  assert.equal(meta.evalNet, 'teacher');
  assert.deepEqual(values(net), values(teacher));
  const x = tf.randomNormal([1, 32, 32, 3]) as tf.Tensor4D;
  const a = teacher.forward(x, { training: false }).logits;
  const b = net.forward(x, { training: false }).logits;
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  tf.dispose([x, a, b]);
  net.dispose();
  await assert.rejects(loadNetFromCheckpoint(file, 'branch2'), /has no network branch2 \(it has student, teacher\)/);
});

test('an architecture mismatch is one SsssegError naming file and tensor', async () => {
  const ck = await readCheckpoint(file);
  const isMismatch = (re: RegExp) => (e: unknown) => e instanceof SsssegError && e.code === 'checkpoint.mismatch' && re.test(e.message);
  const moreClasses = buildSegNet(CFG, 5, 0);
  assert.throws(() => restoreNet(ck, 'student', moreClasses), isMismatch(/checkpoint\.bin: .*student\/.*has shape \[.*3\], the model needs \[.*5\]/));
  moreClasses.dispose();
  const deep = buildSegNet(modelConfig({ ...CFG, deep_stem: true }), 3, 0);
  assert.throws(() => restoreNet(ck, 'teacher', deep), isMismatch(/tensor teacher\/backbone\.conv1\.weight has no parameter in the model/));
  deep.dispose();
  assert.throws(() => restoreNet(ck, 'branch2', student), isMismatch(/has no network branch2/));
});

test('truncated, corrupt or foreign files give one clear error naming the file', async () => {
  const bytes = await fs.readFile(file);
  const cases: [string, Uint8Array, RegExp][] = [
    ['cut.bin', bytes.subarray(0, Math.floor(bytes.length / 2)), /cut\.bin is not a valid safetensors file: tensor .* lies past the end \(truncated file\?\)/],
    ['tiny.bin', bytes.subarray(0, 5), /tiny\.bin is not a valid safetensors file/],
    ['header.bin', Buffer.concat([bytes.subarray(0, 8), Buffer.from('[[[[[['), bytes.subarray(14)]), /header\.bin is not a valid safetensors file: header is not JSON/],
  ];
  for (const [name, data, re] of cases) {
    await fs.writeFile(path.join(dir, name), data);
    await assert.rejects(readCheckpoint(path.join(dir, name)), (e: unknown) => e instanceof SsssegError && re.test(e.message), name);
  }
  const weights = path.join(dir, 'weights.safetensors');
  await writeSafetensors(weights, new Map([['conv1.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) }]]));
  await assert.rejects(readCheckpoint(weights), /weights\.safetensors is not an sssseg checkpoint: .*no sssseg entry/);
  await assert.rejects(readCheckpoint(path.join(dir, 'nope.bin')), /checkpoint .*nope\.bin does not exist/);
  for (const name of ['cut.bin', 'tiny.bin', 'header.bin', 'weights.safetensors']) await fs.rm(path.join(dir, name));
});
