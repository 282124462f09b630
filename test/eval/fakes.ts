/** Small predictors whose behaviour is known, standing in for a segmentation network. */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/util/rng.ts';
import type { PredictFn } from '../../src/eval/inference.ts';

export interface FakeNet {
  predict: PredictFn;
  dispose(): void;
}

function randomKernel(rng: Rng, k: number, cin: number, cout: number, mirror: boolean): tf.Tensor4D {
  const data = new Float32Array(k * k * cin * cout);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  if (mirror) {
    // w[y][x] = w[y][k-1-x]: the conv then commutes with a horizontal flip
    const row = cin * cout;
    for (let y = 0; y < k; y++) {
      for (let x = 0; x < k; x++) {
        const src = (y * k + (k - 1 - x)) * row;
        if (x > k - 1 - x) data.copyWithin((y * k + x) * row, src, src + row);
      }
    }
  }
  return tf.tensor4d(data, [k, k, cin, cout]);
}

/** k×k 'same' conv with random weights; stride 1, so its logits are at the input size. */
export function convNet(seed: number, numClasses: number, k = 1, mirror = false): FakeNet {
  const w = randomKernel(new Rng(seed), k, 3, numClasses, mirror);
  return {
    predict: (x) => tf.conv2d(x, w, 1, 'same'),
    dispose: () => w.dispose(),
  };
}

/** 1×1 conv after a stride-`factor` average pool: logits at 1/factor resolution like a real net. */
export function lowResNet(seed: number, numClasses: number, factor: number): FakeNet {
  const w = randomKernel(new Rng(seed), 1, 3, numClasses, false);
  return {
    predict: (x) => tf.conv2d(tf.avgPool(x, factor, factor, 'same'), w, 1, 'same'),
    dispose: () => w.dispose(),
  };
}

/** Seeded HWC float image. */
export function randomImage(seed: number, h: number, w: number, c = 3): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: h * w * c }, () => rng.normal());
}
