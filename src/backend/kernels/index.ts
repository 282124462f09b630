/**
 * Kernels and gradients that tfjs 4.22 lacks or runs slowly on some backends: all of tfjs-core's
 * gradients (not in its Node bundle, see core-gradients.ts), gradients of dilated convs on every
 * backend (atrous-taps.ts), a ReLU gradient that saves the output, a backward pass that frees
 * memory as it goes (lean-backprop.ts), and on wasm: Conv2DBackpropFilter/Input built on XNNPACK
 * forward convs and matrix products, dilated and 'same'-padded Conv2D fixes, copy-free Identity,
 * heap-view Slice/Tile, and per-channel BatchNorm reductions (channel-stats.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadCoreGradients } from './core-gradients.ts';
import { conv2DGradConfig } from './conv-gradient.ts';
import { reluGradConfig } from './relu-gradient.ts';
import { installLeanBackprop } from './lean-backprop.ts';
import { wasmAtrousConv2D } from './wasm-atrous-conv.ts';
import { wasmConvBackpropKernels } from './wasm-conv-backprop.ts';
import { wasmCopyKernels } from './wasm-copy-kernels.ts';
import { wasmChannelKernels } from './channel-stats.ts';
import { wasmMaxPoolGrad } from './wasm-maxpool-grad.ts';

const kernelsDone = new Set<string>();
let gradientsDone: Promise<void> | null = null;

/** Registers `config`, replacing an existing kernel of the same name without tfjs's warning. */
function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) != null) {
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
}

async function installGradients(): Promise<void> {
  await loadCoreGradients();
  // gradients are global, not per backend; ours must come after tfjs-core's to override them
  tf.registerGradient(conv2DGradConfig);
  tf.registerGradient(reluGradConfig);
}

/**
 * Idempotent; initBackend must await it after `backend` is active (training needs the
 * gradients, which load asynchronously).
 */
export async function installKernels(backend: string): Promise<void> {
  if (!kernelsDone.has(backend)) {
    kernelsDone.add(backend);
    if (backend === 'wasm') {
      wasmConvBackpropKernels.forEach(replaceKernel);
      wasmCopyKernels().forEach(replaceKernel);
      wasmChannelKernels.forEach(replaceKernel);
      replaceKernel(wasmMaxPoolGrad);
      const conv = tf.getKernel(tf.Conv2D, 'wasm');
      if (conv) replaceKernel(wasmAtrousConv2D(conv));
    }
  }
  gradientsDone ??= installGradients();
  await gradientsDone;
  installLeanBackprop();
}
