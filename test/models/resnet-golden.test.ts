import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { needsShared } from '../helpers/shared.ts';
import { sharedResnetGolden, smallResnetGolden, type ResnetGolden } from '../helpers/golden-weights.ts';
import type { StoredTensor } from '../../src/io/safetensors.ts';
import { modelConfig } from '../../src/models/config.ts';
import { buildResNet, layerForward, stemForward } from '../../src/models/backbones/resnet.ts';
import { ParamStore, variableOf } from '../../src/models/nn/params.ts';
import { TensorExec } from '../../src/models/nn/tensor-exec.ts';
import { Rng } from '../../src/util/rng.ts';


function nchwToNhwc(t: StoredTensor): tf.Tensor4D {
  return tf.transpose(tf.tensor4d(Float32Array.from(t.data as Float32Array), t.shape as [number, number, number, number]), [0, 2, 3, 1]);
}

function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
}

/** Load the golden weights into our ResNet-50 and compare stem, layer1 and layer2 (NHWC). */
async function checkAgainst(golden: ResnetGolden): Promise<void> {
  await useTestBackend();
  const store = new ParamStore(new Rng(0));
  const net = buildResNet({ store, prefix: '', group: 'backbone', frozenBn: false }, modelConfig({ backbone: 'resnet50', output_stride: 32 }));
  let loaded = 0;
  for (const p of store.params) {
    const t = golden.tensors.get(p.decl.name);
    if (!t) continue;
    // weights are OIHW; our conv filters are HWIO
    const value = tf.tidy(() => {
      const x = tf.tensor(Float32Array.from(t.data as Float32Array), t.shape, 'float32');
      return t.shape.length === 4 ? tf.transpose(x, [2, 3, 1, 0]) : x;
    });
    assert.deepEqual(value.shape, p.decl.shape, p.decl.name);
    variableOf(p).assign(value);
    value.dispose();
    loaded++;
  }
  assert.equal(loaded, 120, 'the 120 weight tensors of conv1, bn1, layer1, layer2');
  assert.equal(golden.weights, 120);
  const ex = new TensorExec({ training: false, nextSeed: () => 0 });
  tf.tidy(() => {
    const x = nchwToNhwc(golden.tensors.get('input')!);
    const stem = stemForward(ex, net.stem, x);
    const l1 = layerForward(ex, net, 0, stem);
    const l2 = layerForward(ex, net, 1, l1);
    for (const [name, ours] of [['stem_out', stem], ['layer1_out', l1], ['layer2_out', l2]] as const) {
      const ref = nchwToNhwc(golden.tensors.get(name)!);
      assert.deepEqual(ours.shape, ref.shape, name);
      const err = maxAbs(tf.sub(ours, ref));
      const tol = 5e-4 * maxAbs(ref);
      assert.ok(err <= tol, `${golden.name} ${name}: max|diff| ${err} > ${tol}`);
    }
  });
  for (const p of store.params) variableOf(p).dispose();
}

test('ResNet-50 stem, layer1 and layer2 match torchvision on an odd-sized input (golden/resnet/r50_small)', async () => {
  await checkAgainst(await smallResnetGolden());
});

test('ResNet-50 stem, layer1 and layer2 match torchvision with its own init (reference/resnet/r50_partial)', needsShared('reference/resnet/r50_partial.safetensors'), async () => {
  await checkAgainst((await sharedResnetGolden())!);
});
