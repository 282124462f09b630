/**
 * MaxPoolGrad for wasm in JS on views of the wasm heap. tfjs-wasm 4.22's own kernel returns wrong
 * gradients on larger maps (off by up to 2.8 on 4×65×65×16, found against the cpu backend), and
 * every ResNet stem runs it. The gradient of each output goes to the first maximum of its window
 * in row-major window order, padding excluded — the cpu backend's and PyTorch's rule.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

export interface PoolGeometry {
  batch: number;
  inH: number;
  inW: number;
  ch: number;
  outH: number;
  outW: number;
  k: [number, number];
  stride: [number, number];
  pad: [number, number];
}

/** dx of a max-pool given x and dy (NHWC), accumulated into `dx` (which must start at zero). */
export function maxPoolGradInto(x: Float32Array, dy: Float32Array, dx: Float32Array, g: PoolGeometry): void {
  for (let b = 0; b < g.batch; b++) {
    for (let oy = 0; oy < g.outH; oy++) {
      const y0 = oy * g.stride[0] - g.pad[0];
      for (let ox = 0; ox < g.outW; ox++) {
        const x0 = ox * g.stride[1] - g.pad[1];
        const dyBase = ((b * g.outH + oy) * g.outW + ox) * g.ch;
        for (let c = 0; c < g.ch; c++) {
          let best = -Infinity;
          let at = -1;
          for (let ky = 0; ky < g.k[0]; ky++) {
            const iy = y0 + ky;
            if (iy < 0 || iy >= g.inH) continue;
            for (let kx = 0; kx < g.k[1]; kx++) {
              const ix = x0 + kx;
              if (ix < 0 || ix >= g.inW) continue;
              const idx = ((b * g.inH + iy) * g.inW + ix) * g.ch + c;
              const v = x[idx]!;
              if (v > best) {
                best = v;
                at = idx;
              }
            }
          }
          if (at >= 0) dx[at] = dx[at]! + dy[dyBase + c]!;
        }
      }
    }
  }
}

function kernelFunc(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const a = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const backend = args.backend as WasmHeapBackend;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode,
  );
  const out = backend.makeOutput(input.shape, 'float32');
  const dx = backend.typedArrayFromHeap(out);
  dx.fill(0);
  maxPoolGradInto(backend.typedArrayFromHeap(input), backend.typedArrayFromHeap(dy), dx, {
    batch: info.batchSize, inH: info.inHeight, inW: info.inWidth, ch: info.inChannels,
    outH: info.outHeight, outW: info.outWidth, k: [info.filterHeight, info.filterWidth],
    stride: [info.strideHeight, info.strideWidth], pad: [info.padInfo.top, info.padInfo.left],
  });
  return out;
}

export const wasmMaxPoolGrad: tf.KernelConfig = { kernelName: tf.MaxPoolGrad, backendName: 'wasm', kernelFunc };
