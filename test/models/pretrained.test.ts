import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { resnetKeys, smallResnetGolden } from '../helpers/golden-weights.ts';
import { SsssegError } from '../../src/errors.ts';
import { modelConfig, type ModelConfigInput, type ParamInfo, type SegNet } from '../../src/models/index.ts';
import { buildArchitecture } from '../../src/models/architecture.ts';
import { buildResNet } from '../../src/models/backbones/resnet.ts';
import { ParamStore } from '../../src/models/nn/params.ts';
import { Rng } from '../../src/util/rng.ts';
import { applyWeights, loadPretrained, planWeights, readWeightsFile, torchStateDict, type ParamSlot } from '../../src/models/pretrained.ts';
import { convertWeights } from '../../src/commands/convert-weights.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';

await useTestBackend();
const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'io', 'fixtures');

type KeyList = [string, number[]][];
const torchvision = resnetKeys('torchvision_keys.json');
const deepStem = resnetKeys('u2pl_deepstem_keys.json');

/** Shape-only slots of a whole segmentation net (no weights allocated). */
function slots(cfg: ModelConfigInput): ParamSlot[] {
  const store = new ParamStore(null);
  buildArchitecture(store, modelConfig(cfg), 21);
  return store.params.map((p) => ({ name: p.decl.name, group: p.decl.group, shape: p.decl.shape }));
}

const shapes = (keys: KeyList, rename: (k: string) => string = (k) => k) =>
  new Map(keys.map(([k, shape]) => [rename(k), { shape }]));

for (const arch of ['resnet18', 'resnet50', 'resnet101'] as const) {
  test(`torchvision ${arch} keys map completely (fc unexpected)`, () => {
    const keys = torchvision[arch]!;
    for (const prefix of ['', 'module.', 'backbone.', 'module.model.']) {
      const plan = planWeights(slots({ backbone: arch }), shapes(keys, (k) => prefix + k), 'tv.safetensors');
      assert.deepEqual(plan.missing, [], `${arch} prefix '${prefix}'`);
      assert.deepEqual(plan.unexpected, [`${prefix}fc.weight`, `${prefix}fc.bias`]);
      const weights = keys.filter(([k]) => !k.endsWith('num_batches_tracked') && !k.startsWith('fc.'));
      assert.equal(plan.pairs.size, weights.length);
      assert.equal(plan.pairs.get(`${prefix}layer1.0.conv1.weight`), 'backbone.layer1.0.conv1.weight');
    }
  });
}

for (const arch of ['resnet50', 'resnet101'] as const) {
  test(`U2PL deep-stem ${arch} keys map completely, also under mmseg stem names`, () => {
    const keys = deepStem[arch]!;
    const cfg = { backbone: arch, deep_stem: true, head: 'deeplabv3plus_u2pl' } as const;
    const plan = planWeights(slots(cfg), shapes(keys), 'u2pl.pth');
    assert.deepEqual([plan.missing, plan.unexpected], [[], []]);
    assert.equal(plan.pairs.get('conv1.6.weight'), 'backbone.conv1.6.weight');
    const mm = (k: string) => `backbone.${k.replace(/^conv1\.(\d)\./, 'stem.$1.').replace(/^bn1\./, 'stem.7.')}`;
    const plan2 = planWeights(slots(cfg), shapes(keys, mm), 'mmseg.pth');
    assert.deepEqual([plan2.missing, plan2.unexpected], [[], []]);
  });
}

test('a shape mismatch is an error naming the key; head keys never match the stem', () => {
  const keys = torchvision['resnet50']!;
  assert.throws(
    () => planWeights(slots({ backbone: 'resnet18' }), shapes(keys), 'r50.safetensors'),
    (e: unknown) => e instanceof SsssegError && e.code === 'weights.shapeMismatch' &&
      /r50\.safetensors: layer1\.0\.conv1\.weight has shape \[64, 64, 1, 1\] but backbone\.layer1\.0\.conv1\.weight needs \[64, 64, 3, 3\]/.test(e.message),
  );
  const plan = planWeights(slots({ backbone: 'resnet18' }), new Map([['decoder.conv1.weight', { shape: [1] }]]), 'x');
  assert.deepEqual(plan.unexpected, ['decoder.conv1.weight']);
});

function backboneParams(cfg: ModelConfigInput): ParamInfo[] {
  // shape-only declarations + zero variables: a seeded init of 23 M values would dominate the test
  const store = new ParamStore(null);
  buildResNet({ store, prefix: 'backbone.', group: 'backbone', frozenBn: false }, modelConfig(cfg));
  return store.params.map((p) => ({
    name: p.decl.name, variable: tf.variable(tf.zeros(p.decl.shape)), kind: p.decl.kind, group: p.decl.group, trainable: p.decl.trainable,
  }));
}

test('torchvision ResNet-50 weights (golden tensors, written as a file) load transposed to HWIO', async () => {
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'sssseg-r50-')), 'r50.safetensors');
  await writeSafetensors(file, (await smallResnetGolden()).tensors);
  const weights = await readWeightsFile(file);
  const params = backboneParams({ backbone: 'resnet50' });
  try {
    const r = applyWeights(params, weights, file);
    assert.equal(r.loaded, 120);
    assert.deepEqual(r.unexpected.sort(), ['input', 'layer1_out', 'layer2_out', 'stem_out']);
    assert.ok(r.missing.length > 0 && r.missing.every((n) => /^backbone\.layer[34]\./.test(n)), 'only layer3/4 missing');
    const src = weights.get('layer2.0.conv2.weight')!; // OIHW [128,128,3,3]
    const ours = params.find((p) => p.name === 'backbone.layer2.0.conv2.weight')!.variable; // HWIO
    const v = ours.arraySync() as number[][][][];
    const at = (o: number, i: number, h: number, w: number) => (src.data as Float32Array)[((o * 128 + i) * 3 + h) * 3 + w]!;
    for (const [o, i, h, w] of [[0, 0, 0, 0], [5, 77, 2, 1], [127, 3, 1, 2]] as const) assert.equal(v[h]![w]![i]![o], at(o, i, h, w));
    const rv = params.find((p) => p.name === 'backbone.bn1.running_var')!.variable.dataSync();
    assert.deepEqual(Array.from(rv), Array.from(weights.get('bn1.running_var')!.data as Float32Array));
  } finally {
    for (const p of params) p.variable.dispose();
    await fs.rm(path.dirname(file), { recursive: true, force: true });
  }
});

/** A stand-in SegNet with a 3×3 conv 3→4 and one BN, as in the tiny fixtures. */
function tinyNet(): SegNet {
  const store = new ParamStore(new Rng(2));
  const decl = (name: string, shape: number[], kind: ParamInfo['kind']) =>
    store.declare({ name, shape, kind, group: 'backbone', trainable: true, init: { type: 'const', value: 9 } });
  decl('backbone.conv1.weight', [3, 3, 3, 4], 'weight');
  decl('backbone.bn1.weight', [4], 'bn_weight');
  decl('backbone.bn1.bias', [4], 'bn_bias');
  decl('backbone.bn1.running_var', [4], 'running_var');
  const params = store.params.map((p) => ({ name: p.decl.name, variable: p.variable!, kind: p.decl.kind, group: p.decl.group, trainable: true }));
  return {
    config: modelConfig(), numClasses: 2, params: () => params,
    forward: () => { throw new Error('not used'); },
    dispose: () => params.forEach((p) => p.variable.dispose()),
  };
}

test('.pth (zip and legacy) loads through loadPretrained and convert-weights round-trips', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pretrained-'));
  const converted = path.join(dir, 'tiny.safetensors');
  await convertWeights(path.join(FIX, 'tiny_legacy.pth'), converted);
  for (const file of [path.join(FIX, 'tiny_zip.pth'), path.join(FIX, 'tiny_legacy.pth'), converted]) {
    const net = tinyNet();
    const r = await loadPretrained(net, file);
    assert.deepEqual(r, { loaded: 3, missing: ['backbone.bn1.running_var'], unexpected: ['fc.weight'] }, file);
    const [conv, gamma] = net.params().map((p) => p.variable);
    // file conv1.weight = arange(108) as OIHW [4,3,3,3]: HWIO[h][w][i][o] = ((o*3+i)*3+h)*3+w
    const hwio = conv!.arraySync() as number[][][][];
    assert.equal(hwio[1]![2]![0]![3], ((3 * 3 + 0) * 3 + 1) * 3 + 2);
    assert.equal(hwio[0]![1]![2]![1], ((1 * 3 + 2) * 3 + 0) * 3 + 1);
    assert.deepEqual(Array.from(gamma!.dataSync()), [1, 2, 3, 4]);
    net.dispose();
  }
});

test('a missing weights file is one clear error', async () => {
  await assert.rejects(loadPretrained(tinyNet(), '/nonexistent/r50.pth'), /cannot read pretrained weights \/nonexistent\/r50\.pth/);
});

test('half-precision weights (F16, BF16) are widened to float32', () => {
  for (const [dtype, bits] of [['F16', [0x3c00, 0x4000, 0x3800, 0xc200]], ['BF16', [0x3f80, 0x4000, 0x3f00, 0xc040]]] as const) {
    const net = tinyNet();
    const r = applyWeights(net.params(), new Map([['bn1.weight', { dtype, shape: [4], data: Uint16Array.from(bits) }]]), 'half.safetensors');
    assert.equal(r.loaded, 1);
    assert.deepEqual(Array.from(net.params()[1]!.variable.dataSync()), [1, 2, 0.5, -3], dtype);
    net.dispose();
  }
});

test('torchStateDict exports PyTorch names and OIHW layout that applyWeights reads back unchanged', () => {
  const a = tinyNet();
  const b = tinyNet();
  try {
    // distinct values in a: conv = index, BN = 100 + index
    a.params().forEach((p, k) => p.variable.assign(tf.tidy(() => tf.add(tf.reshape(tf.range(0, p.variable.size), p.variable.shape), 100 * k))));
    const dict = torchStateDict(a.params());
    const conv = dict.get('backbone.conv1.weight')!;
    assert.deepEqual(conv.shape, [4, 3, 3, 3]);
    // HWIO[h][w][i][o] = ((h*3+w)*3+i)*4+o sits at OIHW [o][i][h][w]
    const [o, i, h, w] = [3, 1, 2, 0];
    assert.equal(conv.data[((o * 3 + i) * 3 + h) * 3 + w], ((h * 3 + w) * 3 + i) * 4 + o);
    assert.equal(applyWeights(b.params(), dict, 'export').loaded, 4);
    b.params().forEach((p, k) => assert.deepEqual(Array.from(p.variable.dataSync()), Array.from(a.params()[k]!.variable.dataSync()), p.name));
  } finally {
    a.dispose();
    b.dispose();
  }
});
