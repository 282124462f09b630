import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { buildSegNet, modelConfig, type ModelConfigInput, type SegNet } from '../../src/models/index.ts';
import { architectureForward, buildArchitecture } from '../../src/models/architecture.ts';
import { ParamStore } from '../../src/models/nn/params.ts';
import { ShapeExec } from '../../src/models/nn/shape-exec.ts';

before(async () => {
  await useTestBackend();
});

/** ResNet-18 with narrow heads: every head and option at a cost a test can afford. */
const small = (o: ModelConfigInput = {}) =>
  modelConfig({ backbone: 'resnet18', aspp_channels: 16, head_channels: 16, rep_dim: 8, aux_channels: 8, ...o });

const input = (n: number, h: number, w: number, seed = 1) => tf.randomNormal([n, h, w, 3], 0, 1, 'float32', seed) as tf.Tensor4D;

function shapeForward(cfg: ReturnType<typeof small>, classes: number, n: number, h: number, w: number) {
  const ex = new ShapeExec();
  const out = architectureForward(ex, buildArchitecture(new ParamStore(null), cfg, classes), { n, h, w, c: 3 });
  const dims = (s: { n: number; h: number; w: number; c: number } | undefined) => (s ? [s.n, s.h, s.w, s.c] : undefined);
  return { logits: dims(out.logits), aux: dims(out.aux), rep: dims(out.rep) };
}

function withNet<R>(cfg: ReturnType<typeof small>, classes: number, seed: number, fn: (net: SegNet) => R): R {
  const net = buildSegNet(cfg, classes, seed);
  try {
    return fn(net);
  } finally {
    net.dispose();
  }
}

test('every head gives logits (and rep/aux) of the shapes the shape executor predicts', () => {
  // 32×32 inputs: the deep stem's ceil-mode pool gives 9×9 at stride 4 where torchvision gives 8×8
  const cases: [ModelConfigInput, number[], number[] | undefined][] = [
    [{ head: 'deeplabv3plus', output_stride: 16 }, [2, 8, 8, 5], undefined],
    [{ head: 'deeplabv3plus', output_stride: 32, aux: true }, [2, 8, 8, 5], undefined],
    [{ head: 'deeplabv3plus_u2pl', deep_stem: true, output_stride: 8, multi_grid: true, aux: true }, [2, 9, 9, 5], [2, 9, 9, 8]],
    [{ head: 'deeplabv2', output_stride: 8 }, [2, 4, 4, 5], undefined],
    [{ head: 'pspnet', output_stride: 16 }, [2, 2, 2, 5], undefined],
  ];
  for (const [o, logitsShape, repShape] of cases) {
    const cfg = small(o);
    const predicted = shapeForward(cfg, 5, 2, 32, 32);
    withNet(cfg, 5, 0, (net) => {
      const x = input(2, 32, 32);
      const out = net.forward(x, { training: false });
      assert.deepEqual(out.logits.shape, logitsShape, JSON.stringify(o));
      assert.deepEqual(out.logits.shape, predicted.logits);
      assert.deepEqual(out.rep?.shape, repShape);
      assert.deepEqual(out.rep?.shape, predicted.rep);
      assert.deepEqual(out.aux?.shape, predicted.aux);
      if (o.aux) assert.equal(out.aux!.shape[3], 5);
      tf.dispose([x, out.logits, out.rep, out.aux].filter((t): t is tf.Tensor4D => t !== undefined));
    });
  }
});

test('same seed gives the same weights; params() is stable, unique and includes BN buffers', () => {
  const cfg = small({ head: 'deeplabv3plus_u2pl' });
  const a = buildSegNet(cfg, 3, 7);
  const b = buildSegNet(cfg, 3, 7);
  const c = buildSegNet(cfg, 3, 8);
  try {
    const pa = a.params();
    assert.equal(pa, a.params(), 'the same array on every call');
    assert.deepEqual(pa.map((p) => p.name), b.params().map((p) => p.name));
    assert.equal(new Set(pa.map((p) => p.name)).size, pa.length, 'names are unique');
    const buffers = pa.filter((p) => p.kind === 'running_mean' || p.kind === 'running_var');
    assert.ok(buffers.length > 0 && buffers.every((p) => !p.trainable && !p.variable.trainable));
    assert.ok(pa.filter((p) => p.kind === 'weight').every((p) => p.trainable && p.variable.trainable));
    for (const i of [0, pa.length - 3]) {
      assert.deepEqual(pa[i]!.variable.dataSync(), b.params()[i]!.variable.dataSync(), pa[i]!.name);
    }
    assert.notDeepEqual(pa[0]!.variable.dataSync(), c.params()[0]!.variable.dataSync());
    assert.deepEqual(new Set(pa.map((p) => p.group)), new Set(['backbone', 'head']));
  } finally {
    [a, b, c].forEach((n) => n.dispose());
  }
});

test('training mode updates BN running stats as PyTorch does (momentum 0.1, unbiased var); eval does not', () => {
  withNet(small({ head: 'deeplabv2', output_stride: 32 }), 2, 3, (net) => {
    const byName = new Map(net.params().map((p) => [p.name, p.variable]));
    const x = input(2, 32, 32);
    // bn1's input is conv1(x): recompute it to know the batch moments
    const conv = tf.conv2d(x, byName.get('backbone.conv1.weight') as tf.Tensor4D, 2, [[0, 0], [3, 3], [3, 3], [0, 0]]);
    const { mean, variance } = tf.moments(conv, [0, 1, 2]);
    const count = conv.shape[0] * conv.shape[1] * conv.shape[2];
    const expectMean = tf.mul(mean, 0.1);
    const expectVar = tf.add(0.9, tf.mul(variance, (0.1 * count) / (count - 1)));
    tf.dispose(net.forward(x, { training: false }).logits);
    assert.deepEqual(byName.get('backbone.bn1.running_mean')!.dataSync(), new Float32Array(64));
    tf.dispose(net.forward(x, { training: true }).logits);
    const close = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    assert.ok(close(byName.get('backbone.bn1.running_mean')!, expectMean) < 1e-5);
    assert.ok(close(byName.get('backbone.bn1.running_var')!, expectVar) < 1e-4);
    tf.dispose([x, conv, mean, variance, expectMean, expectVar]);
  });
});

test('frozen_bn keeps backbone BN in eval mode and its affine parameters untrainable', () => {
  withNet(small({ head: 'deeplabv2', output_stride: 32, frozen_bn: true }), 2, 3, (net) => {
    const p = net.params();
    const bb = p.filter((q) => q.group === 'backbone' && (q.kind === 'bn_weight' || q.kind === 'bn_bias'));
    assert.ok(bb.length > 0 && bb.every((q) => !q.trainable));
    const rm = p.find((q) => q.name === 'backbone.bn1.running_mean')!.variable;
    const x = input(2, 32, 32);
    tf.dispose(net.forward(x, { training: true }).logits);
    assert.deepEqual(rm.dataSync(), new Float32Array(64));
    x.dispose();
  });
});

test('featureDropout returns logitsFp; with p = 0 it equals the clean logits', () => {
  withNet(small({ head: 'deeplabv3plus', output_stride: 16, dropout: 0 }), 4, 5, (net) => {
    const x = input(2, 32, 32);
    const plain = net.forward(x, { training: false });
    const same = net.forward(x, { training: false, featureDropout: 0 });
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    assert.deepEqual(same.logitsFp!.shape, plain.logits.shape);
    assert.ok(diff(same.logits, plain.logits) < 1e-5);
    assert.ok(diff(same.logitsFp!, plain.logits) < 1e-5);
    const fp = net.forward(x, { training: false, featureDropout: 0.5 });
    assert.ok(diff(fp.logits, plain.logits) < 1e-5, 'the clean half is untouched');
    assert.ok(diff(fp.logitsFp!, plain.logits) > 1e-3, 'the perturbed half differs');
    tf.dispose([x, plain.logits, same.logits, same.logitsFp!, fp.logits, fp.logitsFp!]);
  });
});

test('train-mode forward + gradients inside tf.tidy leave no tensors behind', () => {
  // the U2PL head exercises BN updates, Dropout2d, rep and aux; feature dropout doubles the head batch
  const cfg = small({ head: 'deeplabv3plus_u2pl', output_stride: 16, aux: true });
  withNet(cfg, 3, 9, (net) => {
    const vars = net.params().filter((p) => p.trainable).map((p) => p.variable);
    const x = input(2, 16, 16);
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const o = net.forward(x, { training: true, featureDropout: 0.5 });
          return tf.addN([tf.mean(tf.square(o.logits)), tf.mean(tf.square(o.logitsFp!)), tf.mean(o.rep!), tf.mean(o.aux!)]) as tf.Scalar;
        }, vars);
        assert.equal(Object.keys(grads).length, vars.length);
        assert.ok(Number.isFinite(value.dataSync()[0]!));
      });
    const start = tf.memory().numTensors;
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      step();
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(counts, [counts[0], counts[0], counts[0]]);
    // the first step may leave lazily created constants of the kernels (tfjs caches some scalars)
    assert.ok(counts[0]! - start <= 2, `${counts[0]! - start} tensors more after the first step`);
    x.dispose();
  });
});

test('max-pool follows PyTorch: deep stem ceil mode gives 17×17 from 64 and 65, torchvision 16×16', () => {
  const stem = (o: ModelConfigInput, size: number) => {
    const ex = new ShapeExec();
    const arch = buildArchitecture(new ParamStore(null), small(o), 2);
    const f = architectureForward(ex, arch, { n: 1, h: size, w: size, c: 3 });
    return f.logits.h;
  };
  assert.equal(stem({ deep_stem: true, head: 'deeplabv3plus' }, 64), 17);
  assert.equal(stem({ deep_stem: true, head: 'deeplabv3plus' }, 65), 17);
  assert.equal(stem({ head: 'deeplabv3plus' }, 64), 16);
});
