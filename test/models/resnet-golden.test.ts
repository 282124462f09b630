import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { sharedPath } from '../helpers/shared.ts';
import { readSafetensors, type StoredTensor } from '../../src/io/safetensors.ts';
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

test('ResNet-50 stem, layer1 and layer2 match torchvision (reference/resnet/r50_partial)', async () => {
  await useTestBackend();
  const file = await readSafetensors(sharedPath('reference', 'resnet', 'r50_partial.safetensors'));
  const store = new ParamStore(new Rng(0));
  const net = buildResNet({ store, prefix: '', group: 'backbone', frozenBn: false }, modelConfig({ backbone: 'resnet50', output_stride: 32 }));
  let loaded = 0;
  for (const p of store.params) {
    const t = file.tensors.get(p.decl.name);
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
  assert.equal(loaded, 120, 'the file holds 120 weight tensors of conv1, bn1, layer1, layer2');
  const ex = new TensorExec({ training: false, nextSeed: () => 0 });
  tf.tidy(() => {
    const x = nchwToNhwc(file.tensors.get('input')!);
    const stem = stemForward(ex, net.stem, x);
    const l1 = layerForward(ex, net, 0, stem);
    const l2 = layerForward(ex, net, 1, l1);
    for (const [name, ours] of [['stem_out', stem], ['layer1_out', l1], ['layer2_out', l2]] as const) {
      const ref = nchwToNhwc(file.tensors.get(name)!);
      assert.deepEqual(ours.shape, ref.shape, name);
      const err = maxAbs(tf.sub(ours, ref));
      const tol = 5e-4 * maxAbs(ref);
      assert.ok(err <= tol, `${name}: max|diff| ${err} > ${tol}`);
    }
  });
  for (const p of store.params) variableOf(p).dispose();
});
