import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initNativeBackend, nativeInfo } from '../../src/backend/native/index.ts';
import { nativeAddon } from '../../src/backend/native/addon.ts';
import { conv2dPruned } from '../../src/backend/kernels/tap-pruning.ts';
import { BF16_EMULATE_ENV } from '../../src/backend/precision.ts';
import { buildSegNet, modelConfig } from '../../src/models/index.ts';
import { crossEntropy } from '../../src/losses/ce.ts';
import { relError, size, values, type Shape4 } from '../backend/conv-reference.ts';

const info = nativeInfo();
const skip = nativeAddon() == null ? `native addon not built: ${info.reason ?? ''}` : false;
const hardwareSkip = skip || (info.bf16 ? false : `bf16 kernels not supported by this CPU (oneDNN ISA ${info.isa ?? '?'}); the emulated tests cover the numerics`);

/** x rounded to the nearest bf16 (ties to even), as float32. */
function toBf16(x: Float32Array): Float32Array {
  const u = new Uint32Array(Float32Array.from(x).buffer);
  for (let i = 0; i < u.length; i++) u[i] = (u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) & 0xffff0000;
  return new Float32Array(u.buffer);
}

const bf16Tensor = <T extends tf.Tensor>(t: T): T => tf.tensor(toBf16(t.dataSync() as Float32Array), t.shape) as T;

function withEmulation<T>(on: boolean, f: () => T): T {
  const old = process.env[BF16_EMULATE_ENV];
  if (on) process.env[BF16_EMULATE_ENV] = '1';
  else delete process.env[BF16_EMULATE_ENV];
  try {
    return f();
  } finally {
    if (old === undefined) delete process.env[BF16_EMULATE_ENV];
    else process.env[BF16_EMULATE_ENV] = old;
  }
}

/** Forward and both gradients of one conv at `precision`. */
function convAndGrads(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D, pad: number, dil: number, precision: 'fp32' | 'bf16'): tf.Tensor[] {
  const f = (a: tf.Tensor, b: tf.Tensor) => conv2dPruned(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad, dil, precision);
  return [f(x, w), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dy)))([x, w])];
}

/** Logits, representation and all parameter gradients of a small U2PL-style net on one batch. */
function netRun(precision: 'fp32' | 'bf16'): Float32Array[] {
  const cfg = modelConfig({
    backbone: 'resnet50', deep_stem: true, base_width: 8, stem_width: 8, output_stride: 8, multi_grid: true, zero_init_residual: true,
    head: 'deeplabv3plus_u2pl', aspp_channels: 8, head_channels: 8, low_level_channels: 8, rep_dim: 8, dropout: 0,
  });
  const net = buildSegNet(cfg, 5, 3, { precision });
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(values(2 * 49 * 49 * 3, 4), [2, 49, 49, 3]);
      const y = tf.tensor3d(Int32Array.from({ length: 2 * 49 * 49 }, (_, i) => (i >> 6) % 5), [2, 49, 49], 'int32');
      const vars = net.params().filter((p) => p.trainable).map((p) => p.variable);
      let out: Float32Array[] = [];
      const { grads } = tf.variableGrads(() => {
        const o = net.forward(x, { training: true });
        out = [o.logits.dataSync() as Float32Array, o.rep!.dataSync() as Float32Array];
        // the representation head enters the loss too, so that every parameter has a gradient
        return tf.add(crossEntropy(o.logits, y), tf.mean(tf.square(o.rep!))) as tf.Scalar;
      }, vars);
      return [...out, ...vars.map((v) => grads[v.name]!.dataSync() as Float32Array)];
    });
  } finally {
    net.dispose();
  }
}

describe('bf16 convolutions on the native backend', { skip }, () => {
  before(async () => {
    await initNativeBackend();
  });
  after(() => withEmulation(false, () => undefined));

  const cases: [Shape4, Shape4, number, number][] = [
    [[2, 9, 9, 16], [3, 3, 16, 24], 1, 1],
    [[2, 9, 9, 16], [3, 3, 16, 8], 2, 2],
    [[2, 9, 9, 32], [1, 1, 32, 16], 0, 1],
  ];
  for (const [xs, ws, pad, dil] of cases) {
    test(`emulated bf16 conv ${ws.join('×')} d${dil}: forward and gradients are fp32 convs of bf16-rounded operands`, () => {
      tf.tidy(() => {
        const x = tf.tensor4d(values(size(xs), 1), xs);
        const w = tf.tensor4d(values(size(ws), 2), ws);
        const y = tf.conv2d(x, w, 1, pad === 0 ? 'valid' : [[0, 0], [pad, pad], [pad, pad], [0, 0]], 'NHWC', dil);
        const dy = tf.tensor4d(values(y.size, 3), y.shape);
        const got = withEmulation(true, () => convAndGrads(x, w, dy, pad, dil, 'bf16'));
        // what bf16 operands with fp32 accumulation give: every product of each output rounded-operand
        const [rx, rw, rdy] = [bf16Tensor(x), bf16Tensor(w), bf16Tensor(dy)];
        const f = (a: tf.Tensor4D, b: tf.Tensor4D) => conv2dPruned(a, b, 1, pad, dil);
        const want = [f(rx, rw), tf.grads((a: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, rw), rdy)))([rx])[0]!,
          tf.grads((b: tf.Tensor) => tf.sum(tf.mul(f(rx, b as tf.Tensor4D), rdy)))([rw])[0]!];
        const fp32 = convAndGrads(x, w, dy, pad, dil, 'fp32');
        ['forward', 'input gradient', 'filter gradient'].forEach((name, i) => {
          const exact = relError(got[i]!.dataSync(), want[i]!.dataSync());
          const vsFp32 = relError(got[i]!.dataSync(), fp32[i]!.dataSync());
          assert.ok(exact < 1e-5, `${name}: ${exact} from the rounded-operand conv`);
          // rounded it is (operands lose 16 bits), but only to bf16's precision
          assert.ok(vsFp32 > 1e-5 && vsFp32 < 1e-2, `${name}: ${vsFp32} from fp32`);
        });
      });
    });
  }

  test('emulated bf16 matrix product is the fp32 product of bf16-rounded operands', () => {
    tf.tidy(() => {
      const a = tf.tensor2d(values(40 * 64, 5), [40, 64]);
      const b = tf.tensor2d(values(64 * 24, 6), [64, 24]);
      const mm = (p: 'bf16' | 'fp32', x: tf.Tensor2D, y: tf.Tensor2D) =>
        tf.engine().runKernel(tf.BatchMatMul, { a: x, b: y }, { transposeA: false, transposeB: false, precision: p } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const got = withEmulation(true, () => mm('bf16', a, b)).dataSync();
      assert.ok(relError(got, tf.matMul(bf16Tensor(a), bf16Tensor(b)).dataSync()) < 1e-6);
      assert.ok(relError(got, tf.matMul(a, b).dataSync()) > 1e-5);
    });
  });

  test('without bf16 kernels or the emulation, a bf16 conv is refused naming the ISA', { skip: info.bf16 ? 'this CPU has bf16 kernels' : false }, () => {
    tf.tidy(() => {
      const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
      const w = tf.ones([1, 1, 2, 2]) as tf.Tensor4D;
      assert.throws(() => withEmulation(false, () => conv2dPruned(x, w, 1, 0, 1, 'bf16')), new RegExp(`oneDNN ISA is ${info.isa}`));
    });
  });

  /** ‖a − b‖ / ‖b‖ over all values of all arrays */
  const l2Error = (a: Float32Array[], b: Float32Array[]): number => {
    let num = 0;
    let den = 0;
    a.forEach((x, k) => x.forEach((v, i) => ((num += (v - b[k]![i]!) ** 2), (den += b[k]![i]! ** 2))));
    return Math.sqrt(num / den);
  };

  // outputs and the whole parameter gradient of a network against fp32. Each of ~60 layers reads
  // its operands with 8 significant bits; a training-mode BN network at its random init is
  // sensitive enough that 0.4 % noise on the input moves its logits by ~2 % and its gradient by
  // ~15 % (L2) in fp32, so these bounds are about that size; a wrong bf16 path is off by ~100 %.
  const netTolerance = (label: string, got: Float32Array[], want: Float32Array[]) => {
    const out = [relError(got[0]!, want[0]!), relError(got[1]!, want[1]!)];
    const grad = l2Error(got.slice(2), want.slice(2));
    assert.ok(out[0]! < 5e-2 && out[1]! < 5e-2, `${label} logits/rep relative error ${out[0]} / ${out[1]}`);
    assert.ok(grad < 0.35, `${label} gradient relative L2 error ${grad}`);
    assert.ok(grad > 1e-4, `${label}: gradient equals fp32's, so bf16 was not used`);
  };

  test('a U2PL-style ResNet-50 in emulated bf16: forward and gradients within bf16 precision of fp32', () => {
    netTolerance('emulated', withEmulation(true, () => netRun('bf16')), netRun('fp32'));
  });

  test('the same on oneDNN bf16 kernels', { skip: hardwareSkip }, () => {
    netTolerance('hardware', withEmulation(false, () => netRun('bf16')), netRun('fp32'));
  });
});
