import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './src/backend/index.ts';
import { installKernels } from './src/backend/kernels/index.ts';
import { conv2dInputGrad } from './src/backend/kernels/conv-backprop.ts';
await initBackend('wasm'); await installKernels('wasm');
function race(fns: Record<string, () => tf.Tensor>, reps = 7) {
  const best: Record<string, number> = {};
  for (const k in fns) { tf.dispose(fns[k]!()); best[k] = Infinity; }
  for (let i = 0; i < reps; i++) for (const k in fns) { const t0 = performance.now(); const o = fns[k]!(); best[k] = Math.min(best[k]!, performance.now() - t0); o.dispose(); }
  console.log(Object.entries(best).map(([k, v]) => `${k}=${v.toFixed(1)}`).join('  '));
}
const x = tf.randomNormal([4,33,33,128]) as tf.Tensor4D, w = tf.randomNormal([3,3,128,128]) as tf.Tensor4D;
const dy = tf.randomNormal([4,17,17,128]) as tf.Tensor4D;
const w22 = tf.randomNormal([2,2,128,128]) as tf.Tensor4D, w21 = tf.randomNormal([2,1,128,128]) as tf.Tensor4D, w11 = tf.randomNormal([1,1,128,128]) as tf.Tensor4D;
const pads: any = [[0,0],[1,0],[1,0],[0,0]];
race({
  fwd: () => tf.conv2d(x, w, 2, [[0,0],[1,1],[1,1],[0,0]]),
  dx: () => conv2dInputGrad(dy, w, x.shape, { strides: 2, pad: [[0,0],[1,1],[1,1],[0,0]], dilations: 1 }),
  c22: () => tf.conv2d(dy, w22, 1, pads),
  c22fresh: () => tf.conv2d(dy, tf.add(w22, 0) as tf.Tensor4D, 1, pads),
  c21: () => tf.conv2d(dy, w21, 1, [[0,0],[1,0],[0,0],[0,0]]),
  c11: () => tf.conv2d(dy, w11, 1, 'valid'),
  c11fresh: () => tf.conv2d(dy, tf.add(w11, 0) as tf.Tensor4D, 1, 'valid'),
  fwd_s1_on_dy_3x3: () => tf.conv2d(dy, w, 1, 'same'),
  concat4: () => tf.reshape(tf.concat([dy, dy], 3), [4, 17, 34, 128]),
});
for (let i = 0; i < 2; i++) {
const prof = await tf.profile(() => conv2dInputGrad(dy, w, x.shape, { strides: 2, pad: [[0,0],[1,1],[1,1],[0,0]], dilations: 1 }));
if (i === 1) for (const k of prof.kernels) console.log(k.name, (k.kernelTimeMs as number).toFixed(2), JSON.stringify(k.inputShapes), JSON.stringify(k.outputShapes));
}
