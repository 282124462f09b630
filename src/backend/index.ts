import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { SsssegError } from '../errors.ts';
import { installKernels } from './kernels/index.ts';
import { initNativeBackend, nativeInfo, type NativeInfo } from './native/index.ts';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  /** tfjs backend name actually in use ('tensorflow', 'native', 'wasm' or 'cpu'). */
  name: string;
  requested: BackendChoice;
  /** which npm package provides it */
  provider: string;
  tfjsVersion: string;
  gpu: boolean;
  wasmSimd: boolean | null;
  wasmThreads: boolean | null;
  /** the optional oneDNN addon (backend `native`): loaded or why not, its ISA and threads */
  native: NativeInfo;
  warnings: string[];
}

const NATIVE_PROVIDER = 'native/ addon (oneDNN) on @tensorflow/tfjs-backend-wasm';

const NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** Try the libtensorflow bindings; returns the package that registered 'tensorflow', or null. */
async function loadNodeBinding(): Promise<{ pkg: string; gpu: boolean } | null> {
  for (const pkg of NODE_PACKAGES) {
    try {
      await import(pkg);
    } catch {
      continue;
    }
    if (tf.findBackend('tensorflow') != null || tf.engine().registryFactory['tensorflow'] != null) {
      return { pkg, gpu: pkg.endsWith('-gpu') };
    }
  }
  return null;
}

export function parseBackendChoice(value: string, source: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new SsssegError(
    'backend.unknown',
    `unknown backend "${value}" from ${source}; choose one of ${BACKEND_CHOICES.join(', ')}`,
  );
}

/**
 * Select and initialise the tfjs backend. `auto` prefers libtensorflow (GPU, then CPU), then the
 * native oneDNN addon when it was built, and falls back to wasm, the embedded default: the pure-JS
 * cpu backend is ~1000x slower on convs.
 */
export async function initBackend(requested: BackendChoice): Promise<BackendInfo> {
  const warnings: string[] = [];
  let name: string;
  let provider: string;
  let gpu = false;
  if (requested === 'auto' || requested === 'tensorflow') {
    const node = await loadNodeBinding();
    if (node) {
      name = 'tensorflow';
      provider = node.pkg;
      gpu = node.gpu;
    } else if (requested === 'tensorflow') {
      throw new SsssegError(
        'backend.unavailable',
        'backend "tensorflow" cannot load: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed',
        'run `npm install @tensorflow/tfjs-node-gpu@4.22.0` (needs CUDA 11.2 + cuDNN 8.1) or `npm install @tensorflow/tfjs-node@4.22.0`',
      );
    } else if (nativeInfo().loaded) {
      name = 'native';
      provider = NATIVE_PROVIDER;
    } else {
      name = 'wasm';
      provider = '@tensorflow/tfjs-backend-wasm';
    }
  } else if (requested === 'native') {
    name = 'native';
    provider = NATIVE_PROVIDER;
  } else {
    name = requested;
    provider = requested === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu';
  }
  if (name === 'cpu') {
    warnings.push('the cpu backend is pure JavaScript: conv training on it is orders of magnitude slower than wasm');
  }
  // native shares the wasm backend instance; it throws backend.unavailable when the addon is missing
  if (name === 'native') await initNativeBackend();
  const ok = await tf.setBackend(name);
  if (!ok) {
    throw new SsssegError('backend.initFailed', `backend "${name}" (${provider}) failed to initialise`);
  }
  await tf.ready();
  await installKernels(name);
  const isWasm = name === 'wasm' || name === 'native';
  return {
    name,
    requested,
    provider,
    tfjsVersion: tf.version_core,
    gpu,
    wasmSimd: isWasm ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : null,
    wasmThreads: isWasm ? tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') : null,
    native: nativeInfo(),
    warnings,
  };
}
