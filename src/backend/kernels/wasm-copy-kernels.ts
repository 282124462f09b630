/**
 * wasm Slice and Tile as block copies on views of the wasm heap, and an Identity that copies nothing.
 *
 * tfjs-wasm 4.22's Slice starts with `backend.readSync(x)`, which copies the WHOLE input out of
 * the heap into a fresh JS array, so taking one tap out of a 3×3×… patch tensor cost as much as
 * copying the tensor nine times (it was the largest single item of a training step). Its Tile is
 * an element-wise C++ loop (~140 ns per element) that BatchNorm's gradient runs on every
 * activation. Both here copy contiguous runs only: Slice merges axes that are taken whole into
 * longer runs, Tile writes each input block once and doubles it with `copyWithin`.
 */
import * as tf from '@tensorflow/tfjs-core';

type NumArray = Float32Array | Int32Array | Uint8Array;

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): NumArray;
  incRef(dataId: tf.DataId): void;
}

function isHeapBackend(b: unknown): b is WasmHeapBackend {
  const c = b as Partial<WasmHeapBackend> | null;
  return typeof c?.makeOutput === 'function' && typeof c.typedArrayFromHeap === 'function' && typeof c.incRef === 'function';
}

/** Below this run length a plain loop beats `set(subarray())` (two allocations per run). */
const SHORT_RUN = 64;

function copyRun(src: NumArray, from: number, dst: NumArray, to: number, len: number): void {
  if (len >= SHORT_RUN) {
    dst.set(src.subarray(from, from + len), to);
  } else {
    for (let i = 0; i < len; i++) dst[to + i] = src[from + i]!;
  }
}

export interface SlicePlan {
  /** merged input shape, begin and size: the last axis holds the contiguous run */
  shape: number[];
  begin: number[];
  size: number[];
}

/** Merges axis i into i-1 wherever axis i is taken whole, so the last axis is the longest contiguous run. */
export function planSlice(shape: readonly number[], begin: readonly number[], size: readonly number[]): SlicePlan {
  const s = [shape[shape.length - 1] ?? 1];
  const b = [begin[begin.length - 1] ?? 0];
  const z = [size[size.length - 1] ?? 1];
  for (let i = shape.length - 2; i >= 0; i--) {
    if (z[0] === s[0]) {
      b[0] = begin[i]! * s[0]! + b[0]!;
      z[0] = size[i]! * z[0]!;
      s[0] = shape[i]! * s[0]!;
    } else {
      s.unshift(shape[i]!);
      b.unshift(begin[i]!);
      z.unshift(size[i]!);
    }
  }
  return { shape: s, begin: b, size: z };
}

/** Copies the box `p` of `src` (row-major, merged shape) into `dst` in order. */
export function sliceInto(src: NumArray, dst: NumArray, p: SlicePlan): void {
  const rank = p.shape.length;
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * p.shape[i + 1]!;
  const run = p.size[rank - 1]!;
  const outer = p.size.slice(0, rank - 1);
  const count = outer.reduce((a, v) => a * v, 1);
  if (count === 0 || run === 0) return;
  const idx = new Array<number>(rank - 1).fill(0);
  let base = p.begin.reduce((a, v, i) => a + v * strides[i]!, 0);
  for (let k = 0, to = 0; k < count; k++, to += run) {
    copyRun(src, base, dst, to, run);
    // odometer over the outer axes, keeping `base` in step
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]!++;
      base += strides[ax]!;
      if (idx[ax]! < outer[ax]!) break;
      base -= idx[ax]! * strides[ax]!;
      idx[ax] = 0;
    }
  }
}

/**
 * Tiles `src` (shape) `reps` times into `dst`: the block of axis `ax` is built once from its
 * sub-blocks, then repeated by doubling copies, so the work is O(output) in long runs.
 */
export function tileInto(src: NumArray, shape: readonly number[], reps: readonly number[], dst: NumArray): void {
  const rank = shape.length;
  const inStride = new Array<number>(rank + 1).fill(1);
  const outStride = new Array<number>(rank + 1).fill(1);
  for (let i = rank - 1; i >= 0; i--) {
    inStride[i] = inStride[i + 1]! * shape[i]!;
    outStride[i] = outStride[i + 1]! * shape[i]! * reps[i]!;
  }
  const fill = (ax: number, from: number, to: number): void => {
    if (ax === rank) {
      dst[to] = src[from]!;
      return;
    }
    const block = shape[ax]! * outStride[ax + 1]!;
    if (ax === rank - 1) {
      copyRun(src, from, dst, to, shape[ax]!);
    } else {
      for (let i = 0; i < shape[ax]!; i++) fill(ax + 1, from + i * inStride[ax + 1]!, to + i * outStride[ax + 1]!);
    }
    const total = block * reps[ax]!;
    for (let done = block; done < total; done *= 2) dst.copyWithin(to + done, to, to + Math.min(done, total - done));
  };
  if (rank === 0) dst[0] = src[0]!;
  else fill(0, 0, 0);
}

function wasmSlice(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
    if (x.dtype === 'string' || !isHeapBackend(args.backend)) return original.kernelFunc(args);
    const [b, z] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size) as [number[], number[]];
    // allocate first: a heap growth would detach views taken before it
    const out = args.backend.makeOutput(z, x.dtype);
    const dst = args.backend.typedArrayFromHeap(out);
    sliceInto(args.backend.typedArrayFromHeap(x), dst, planSlice(x.shape, b, z));
    return out;
  };
  const config: tf.KernelConfig = { kernelName: tf.Slice, backendName: 'wasm', kernelFunc };
  if (original.setupFunc) config.setupFunc = original.setupFunc;
  return config;
}

function wasmTile(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const { reps } = args.attrs as unknown as tf.TileAttrs;
    if (x.dtype === 'string' || !isHeapBackend(args.backend)) return original.kernelFunc(args);
    const out = args.backend.makeOutput(x.shape.map((d, i) => d * reps[i]!), x.dtype);
    const dst = args.backend.typedArrayFromHeap(out);
    if (dst.length > 0) tileInto(args.backend.typedArrayFromHeap(x), x.shape, reps, dst);
    return out;
  };
  const config: tf.KernelConfig = { kernelName: tf.Tile, backendName: 'wasm', kernelFunc };
  if (original.setupFunc) config.setupFunc = original.setupFunc;
  return config;
}

/**
 * Identity sharing the input's buffer (as the cpu backend and wasm's own Reshape do). tfjs-wasm's
 * copies it, and the engine runs Identity on every tensor it saves for the backward pass
 * (`saveTensorsForBackwardMode` clones), so each taped activation was stored twice until the
 * forward's scope ended: about double the peak memory of a training step, plus a copy per op.
 * Sharing is safe because no kernel writes into its inputs.
 */
function wasmIdentity(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string' || !isHeapBackend(args.backend)) return original.kernelFunc(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  const config: tf.KernelConfig = { kernelName: tf.Identity, backendName: 'wasm', kernelFunc };
  if (original.setupFunc) config.setupFunc = original.setupFunc;
  return config;
}

/** Replacements for the wasm kernels of the same names (the originals serve string tensors). */
export function wasmCopyKernels(): tf.KernelConfig[] {
  const out: tf.KernelConfig[] = [];
  const slice = tf.getKernel(tf.Slice, 'wasm');
  if (slice) out.push(wasmSlice(slice));
  const tile = tf.getKernel(tf.Tile, 'wasm');
  if (tile) out.push(wasmTile(tile));
  const identity = tf.getKernel(tf.Identity, 'wasm');
  if (identity) out.push(wasmIdentity(identity));
  return out;
}
