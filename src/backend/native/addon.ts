/**
 * Loads the optional oneDNN addon built by native/install.mjs. A missing build is normal (no
 * oneDNN headers at install time): the loader then reports why instead of throwing, and the
 * `native` backend is simply unavailable.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Kernel entry points; offsets are bytes into `heap`, shapes are Int32Array fields (see native/src/kernels.h). */
export interface NativeAddon {
  /** kind 0: forward (x, w -> y); 1: input gradient (dy, w -> dx); 2: filter gradient (x, dy -> dw) */
  conv(kind: 0 | 1 | 2, heap: ArrayBuffer, a: number, b: number, out: number, shape: Int32Array): void;
  matmul(heap: ArrayBuffer, a: number, b: number, c: number, shape: Int32Array): void;
  /** op 0 add, 1 sub, 2 mul over n elements; na/nb < n: trailing-dims broadcast (native/src/elementwise.h) */
  binary(op: 0 | 1 | 2, heap: ArrayBuffer, a: number, na: number, b: number, nb: number, out: number, n: number): void;
  /** fields: [rows, c, nMean, nVar, nOffset, nScale]; a count of 0 marks an absent operand */
  batchNorm(
    heap: ArrayBuffer, x: number, mean: number, variance: number, offset: number, scale: number, y: number,
    fields: Int32Array, eps: number,
  ): void;
  /** shape: [n, ih, iw, c, oh, ow, kh, kw, sh, sw, dh, dw, padTop, padLeft] (native/src/pooling.h) */
  maxPoolGrad(heap: ArrayBuffer, x: number, dy: number, dx: number, shape: Int32Array): void;
  /** shape: [outer, axisLen, nIdx, inner]; idx is an int32 tensor */
  gather(heap: ArrayBuffer, x: number, idx: number, out: number, shape: Int32Array): void;
  /**
   * training-mode batch norm over [rows, c] (native/src/batchnorm.h); fields [rows, c, relu,
   * hasResidual]; writes y, mean and biased variance
   */
  bnTrain(
    heap: ArrayBuffer, x: number, gamma: number, beta: number, residual: number, y: number, mean: number, variance: number,
    fields: Int32Array, eps: number,
  ): void;
  /** its gradient: dx, dgamma, dbeta and (with a residual) dres; y is read for the ReLU mask */
  bnTrainGrad(
    heap: ArrayBuffer, dy: number, x: number, y: number, gamma: number, mean: number, variance: number,
    dx: number, dgamma: number, dbeta: number, dres: number, fields: Int32Array, eps: number,
  ): void;
  /** out = alpha·a + beta·b over n floats */
  axpby(heap: ArrayBuffer, a: number, alpha: number, b: number, beta: number, out: number, n: number): void;
  /** PyTorch SGD on n floats: m' = μ·m + g + wd·p, p' = p − lr·m' */
  sgdStep(heap: ArrayBuffer, p: number, g: number, m: number, pOut: number, mOut: number, n: number, lr: number, momentum: number, weightDecay: number): void;
  /** JSON {isa, onednn, threads, bf16} */
  info(): string;
  /** oneDNN implementation name of the last primitive run (e.g. "jit:avx2") */
  lastImpl(): string;
}

export interface NativeInfo {
  loaded: boolean;
  /** oneDNN's effective ISA, e.g. "avx2" */
  isa?: string;
  onednn?: string;
  threads?: number;
  /** whether oneDNN runs bf16 convolutions on this CPU (ISA avx512_core_bf16 or avx512_core_amx) */
  bf16?: boolean;
  /** why it is not loaded */
  reason?: string;
  path: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The addon path; SSSSEG_NATIVE_ADDON overrides it (tests of the unavailable path set it to a missing file). */
export const ADDON_PATH =
  process.env['SSSSEG_NATIVE_ADDON'] ?? path.resolve(here, '../../../native/build/Release/sssseg_native.node');

let cached: { addon: NativeAddon | null; info: NativeInfo } | null = null;

function isAddon(v: unknown): v is NativeAddon {
  const o = v as Partial<Record<keyof NativeAddon, unknown>> | null;
  return ['conv', 'matmul', 'binary', 'batchNorm', 'maxPoolGrad', 'gather', 'bnTrain', 'bnTrainGrad', 'axpby', 'sgdStep', 'info', 'lastImpl'].every((k) => typeof o?.[k as keyof NativeAddon] === 'function');
}

function load(): { addon: NativeAddon | null; info: NativeInfo } {
  if (!existsSync(ADDON_PATH)) {
    return { addon: null, info: { loaded: false, path: ADDON_PATH, reason: 'not built (oneDNN headers were missing at install time)' } };
  }
  // OpenMP workers spinning between kernels steal the only other core from the wasm kernels in
  // between (and from other processes); passive waiting costs microseconds per oneDNN call
  process.env['OMP_WAIT_POLICY'] ??= 'passive';
  try {
    const mod: unknown = createRequire(import.meta.url)(ADDON_PATH);
    if (!isAddon(mod)) throw new Error('unexpected exports');
    const parsed = JSON.parse(mod.info()) as { isa: string; onednn: string; threads: number; bf16: boolean };
    return { addon: mod, info: { loaded: true, path: ADDON_PATH, ...parsed } };
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { addon: null, info: { loaded: false, path: ADDON_PATH, reason: `failed to load: ${reason}` } };
  }
}

/** The addon, or null when it is not built or cannot load (see nativeInfo().reason). */
export function nativeAddon(): NativeAddon | null {
  cached ??= load();
  return cached.addon;
}

export function nativeInfo(): NativeInfo {
  cached ??= load();
  return cached.info;
}
