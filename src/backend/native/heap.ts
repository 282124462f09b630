/**
 * The part of tfjs-backend-wasm's BackendWasm that native kernels use: every tensor lives in the
 * wasm heap at `getMemoryOffset(dataId)`, and `makeOutput` allocates there, so oneDNN reads and
 * writes tensors in place and downstream wasm kernels see the results without a copy.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  getMemoryOffset(dataId: tf.DataId): number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export function asHeapBackend(backend: unknown): WasmHeapBackend {
  const b = backend as Partial<WasmHeapBackend> | null;
  if (typeof b?.getMemoryOffset !== 'function' || typeof b.makeOutput !== 'function' || !(b.wasm?.HEAPU8 instanceof Uint8Array)) {
    throw new Error('native kernels need the tfjs wasm backend instance');
  }
  return b as WasmHeapBackend;
}

/**
 * The heap's current ArrayBuffer. Read it after every allocation: growing wasm memory detaches
 * the old buffer.
 */
export function heapBuffer(backend: WasmHeapBackend): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

export const offsetOf = (backend: WasmHeapBackend, t: tf.TensorInfo): number => backend.getMemoryOffset(t.dataId);

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
