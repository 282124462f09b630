/**
 * Backend `native`: the tfjs wasm backend instance, registered a second time under the name
 * 'native', with all of wasm's kernels copied and the heavy ones replaced by oneDNN kernels
 * (native/src) that read and write tensors in the wasm heap in place. Light kernels keep running
 * in wasm on the very same memory, so no tensor is ever copied between the two.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { SsssegError } from '../../errors.ts';
import { installKernels } from '../kernels/index.ts';
import { nativeAddon, nativeInfo, type NativeAddon } from './addon.ts';
import { nativeConvKernels } from './conv.ts';
import { nativeElementwiseKernels } from './elementwise.ts';
import { nativeGatherKernel } from './gather.ts';
import { nativeConv2DGrad } from './gradient.ts';
import { nativeMatMulKernel } from './matmul.ts';
import { nativeMaxPoolGradKernel } from './pooling.ts';
import { nativeTrainKernels } from './train-kernels.ts';
import { bnTrainGradConfig } from '../kernels/batch-norm.ts';

export { nativeInfo, type NativeInfo } from './addon.ts';

export const NATIVE_BACKEND = 'native';

function nativeKernels(addon: NativeAddon): tf.KernelConfig[] {
  const fallback = (name: string): tf.KernelFunc => {
    const k = tf.getKernel(name, 'wasm');
    if (k == null) throw new Error(`native backend: no wasm kernel ${name} to fall back to`);
    return k.kernelFunc;
  };
  return [
    ...nativeConvKernels(addon, fallback),
    nativeMatMulKernel(addon, fallback),
    ...nativeElementwiseKernels(addon, fallback),
    nativeMaxPoolGradKernel(addon, fallback),
    nativeGatherKernel(addon, fallback),
    ...nativeTrainKernels(addon),
  ];
}

/** Copies every wasm kernel to 'native', then puts the oneDNN ones on top. */
function registerKernels(addon: NativeAddon): void {
  const own = nativeKernels(addon);
  const replaced = new Set(own.map((k) => k.kernelName));
  for (const k of tf.getKernelsForBackend('wasm')) {
    if (replaced.has(k.kernelName) || tf.getKernel(k.kernelName, NATIVE_BACKEND) != null) continue;
    tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  for (const k of own) {
    if (tf.getKernel(k.kernelName, NATIVE_BACKEND) != null) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
    tf.registerKernel(k);
  }
}

let ready: Promise<void> | null = null;

async function setUp(addon: NativeAddon): Promise<void> {
  // the wasm backend must exist (with the project's wasm kernels and gradients) before it is shared
  if (!(await tf.setBackend('wasm'))) {
    throw new SsssegError('backend.initFailed', 'backend "native" needs the wasm backend, which failed to initialise');
  }
  await installKernels('wasm');
  const wasm = tf.findBackend('wasm');
  if (wasm == null) throw new SsssegError('backend.initFailed', 'backend "native": wasm backend missing after init');
  // priority 0: never chosen by tfjs on its own, only through initBackend
  tf.registerBackend(NATIVE_BACKEND, () => wasm, 0);
  registerKernels(addon);
  tf.registerGradient(nativeConv2DGrad(tf.getGradient(tf.Conv2D)));
  tf.registerGradient(bnTrainGradConfig);
}

/**
 * Makes backend 'native' the active tfjs backend. Throws backend.unavailable when the addon is
 * not built or does not load; idempotent.
 */
export async function initNativeBackend(): Promise<void> {
  const addon = nativeAddon();
  if (addon == null) {
    throw new SsssegError(
      'backend.unavailable',
      `backend "native" cannot load: ${nativeInfo().reason ?? 'unknown reason'}`,
      'install oneDNN (`apt-get install libdnnl-dev` on Debian/Ubuntu) and rerun `npm ci` (or `npm run build:native`)',
    );
  }
  ready ??= setUp(addon);
  await ready;
  if (!(await tf.setBackend(NATIVE_BACKEND))) {
    throw new SsssegError('backend.initFailed', 'backend "native" failed to initialise');
  }
}
