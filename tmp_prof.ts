import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './src/backend/index.ts';
import { installKernels } from './src/backend/kernels/index.ts';
import { conv2dFilterGrad, conv2dInputGrad } from './src/backend/kernels/conv-backprop.ts';
import { atrousConv2d, atrousPlan } from './src/backend/kernels/atrous.ts';
await initBackend('wasm'); await installKernels('wasm');
function race(fns: Record<string, () => tf.Tensor>, reps = 7) {
  const best: Record<string, number> = {};
  for (const k in fns) { tf.dispose(fns[k]!()); best[k] = Infinity; }
  for (let i = 0; i < reps; i++) for (const k in fns) { const t0 = performance.now(); const o = fns[k]!(); best[k] = Math.min(best[k]!, performance.now() - t0); o.dispose(); }
  console.log(Object.entries(best).map(([k, v]) => `${k}=${v.toFixed(1)}`).join('  '));
}
const sym = (p: number): any => [[0,0],[p,p],[p,p],[0,0]];
const orig = (x: tf.Tensor4D, w: tf.Tensor4D, d: number, p: number) => tf.conv2d(x, w, 1, sym(p), 'NHWC', [d, d+0]) ;
for (const [shape, ws, s, d] of [[[4,33,33,64],[3,3,64,64],1,1], [[4,33,33,128],[3,3,128,128],2,1], [[4,33,33,64],[1,1,64,256],1,1], [[4,17,17,1024],[1,1,1024,256],1,1], [[4,17,17,256],[3,3,256,256],1,2]] as const) {
  const x = tf.randomNormal(shape as any) as tf.Tensor4D, w = tf.randomNormal(ws as any) as tf.Tensor4D;
  const pad = sym(ws[0] === 1 ? 0 : d);
  const y = tf.conv2d(x, w, s, pad, 'NHWC', d); const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const g = { strides: s, pad, dilations: d };
  console.log(shape, ws, s, d);
  const fns: Record<string, () => tf.Tensor> = {
    fwd: () => tf.conv2d(x, w, s, pad, 'NHWC', d),
    dx: () => conv2dInputGrad(dy, w, x.shape, g),
    dw_conv: () => conv2dFilterGrad(x, dy, w.shape, g, 'conv'),
    dw_im2col: () => conv2dFilterGrad(x, dy, w.shape, g, 'im2col'),
  };
  if (d > 1) {
    const p = atrousPlan(x.shape, w.shape, pad, d);
    fns['fwd_atrous'] = () => atrousConv2d(x, w, p);
  }
  race(fns, 5);
}
