/**
 * `npm run bench -- native [--json] [--reps N]`: conv forward / input-gradient / filter-gradient
 * and matmul times on backend `native` (oneDNN) against `wasm`, on the ResNet-50 layers of the
 * kernels benchmark (129×129, batch 4). Each figure is the best of N (default 5), run round-robin.
 * Both backends share one tfjs wasm instance, so the same input tensors feed both.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initNativeBackend } from '../src/backend/native/index.ts';
import { LAYERS } from './kernels.ts';
import type { Benchmark, BenchResult } from './types.ts';

type Op = () => tf.Tensor;

/**
 * Best-of-reps ms of `fn` on `backend` (switching backends is synchronous once both exist). Both
 * backends run kernels synchronously, so no read-back is timed.
 */
function timeOn(backend: string, fn: Op, reps: number): number {
  void tf.setBackend(backend);
  tf.dispose(fn());
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = fn();
    best = Math.min(best, performance.now() - t0);
    out.dispose();
  }
  return best;
}

interface Row {
  op: string;
  wasm_ms: number;
  native_ms: number;
  speedup: number;
}

function convOps(l: (typeof LAYERS)[number]): Record<string, Op> {
  const x = tf.randomNormal(l.x) as tf.Tensor4D;
  const w = tf.randomNormal(l.w, 0, 0.05) as tf.Tensor4D;
  const fwd = (): tf.Tensor4D => tf.conv2d(x, w, l.stride, l.pad, 'NHWC', l.dilation);
  const dy = tf.tidy(() => tf.randomNormal(fwd().shape)) as tf.Tensor4D;
  const attrs = { strides: l.stride, pad: l.pad, dataFormat: 'NHWC', dilations: l.dilation } as unknown as tf.NamedAttrMap;
  // the registered Conv2D gradient picks each backend's own route (composed on wasm for atrous)
  const grads = (): Record<string, () => tf.Tensor> => tf.getGradient(tf.Conv2D)!.gradFunc(dy, [x, w], attrs);
  return {
    forward: () => tf.tidy(() => tf.conv2d(x, tf.add(w, 0) as tf.Tensor4D, l.stride, l.pad, 'NHWC', l.dilation)),
    input_grad: () => tf.tidy(() => grads()['x']!()),
    filter_grad: () => tf.tidy(() => grads()['filter']!()),
  };
}

export const benchmark: Benchmark = {
  async run(args: string[], progress: (line: string) => void): Promise<BenchResult> {
    const i = args.indexOf('--reps');
    const reps = i >= 0 ? Number(args[i + 1]) : 5;
    await initNativeBackend();
    const rows: Row[] = [];
    const add = (op: string, fn: Op): void => {
      const wasm = timeOn('wasm', fn, reps);
      const native = timeOn('native', fn, reps);
      rows.push({ op, wasm_ms: +wasm.toFixed(2), native_ms: +native.toFixed(2), speedup: +(wasm / native).toFixed(2) });
      progress(`${op}: wasm ${wasm.toFixed(1)} ms, native ${native.toFixed(1)} ms`);
    };
    for (const l of LAYERS) {
      for (const [name, fn] of Object.entries(convOps(l))) add(`${l.name} ${name}`, fn);
    }
    const a = tf.randomNormal([4, 1089, 256]);
    const b = tf.randomNormal([4, 256, 1089]);
    add('batch matmul 4×1089×256×1089', () => tf.matMul(a, b));
    const x = tf.randomNormal([4, 33, 33, 256]);
    const ch = tf.randomNormal([256]);
    add('mul 4×33×33×256 by channel', () => tf.mul(x, ch));
    add('batchNorm 4×33×33×256', () => tf.batchNorm(x, ch, tf.abs(ch), ch, ch, 1e-5));
    const stem = tf.randomNormal([4, 65, 65, 64]) as tf.Tensor4D;
    add('maxPool 3×3 s2 gradient 4×65×65×64', () => tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 3, 2, 'valid'))(stem));
    const table2d = tf.randomNormal([16900, 256]);
    const idx = tf.tensor1d(Array.from({ length: 8000 }, (_, i) => (i * 7919) % 16900), 'int32');
    add('gather 8000 of 16900×256 rows', () => tf.gather(table2d, idx));
    void tf.setBackend('native');
    const table = ['| op | wasm ms | native ms | speed-up |', '|---|---|---|---|']
      .concat(rows.map((r) => `| ${r.op} | ${r.wasm_ms} | ${r.native_ms} | ${r.speedup}× |`))
      .join('\n');
    const summary = rows.map((r) => ({ figure: `${r.op} wasm / native`, value: `${r.wasm_ms} / ${r.native_ms}`, unit: 'ms' }));
    return { table, json: { reps, rows }, rows: summary };
  },
};
