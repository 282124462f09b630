/**
 * Turn a network's logits into a per-pixel class map under one of the paper protocols.
 * Every pass produces softmax probabilities at the input size; passes (scales × flip, sliding
 * windows) are summed, and the class is the argmax of the sum, as ST++/U2PL/UniMatch do.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SsssegError } from '../errors.ts';
import { IGNORE_INDEX } from './metrics.ts';
import { resolveProtocol, type InferenceProtocol } from './protocol.ts';

/** Forward pass in inference mode: NHWC normalised images → NHWC logits at any resolution. */
export type PredictFn = (x: tf.Tensor4D) => tf.Tensor4D;

/** The part of the image that was predicted (and is evaluated), in image coordinates. */
export interface Region {
  top: number;
  left: number;
  height: number;
  width: number;
}

export interface Segmentation {
  /** H×W class ids; IGNORE_INDEX outside `region` (center-crop only) */
  pred: Uint8Array;
  h: number;
  w: number;
  region: Region;
  /** H×W×C mean probabilities over all passes (zeros outside `region`), when asked for */
  probs?: Float32Array;
}

export interface SegmentOptions {
  keepProbs?: boolean;
}

/**
 * Predict one image given as HWC normalised floats. Tensors made here are all released before it
 * returns, so the caller only owns the returned typed arrays.
 */
export async function segment(
  image: Float32Array,
  h: number,
  w: number,
  predict: PredictFn,
  protocol: InferenceProtocol,
  options: SegmentOptions = {},
): Promise<Segmentation> {
  if (image.length % (h * w) !== 0 || image.length === 0) {
    throw new SsssegError('eval.shapeMismatch', `image buffer of ${image.length} floats does not fit ${h}×${w}`);
  }
  const p = resolveProtocol(protocol);
  const channels = image.length / (h * w);
  const window = p.mode === 'center-crop' ? centerWindow(h, w, p.crop) : null;
  const probs = tf.tidy(() => {
    let x = tf.tensor4d(image, [1, h, w, channels]);
    if (window) x = cropOrPad(x, window);
    return imageProbs(x, predict, p);
  });
  try {
    const [ph, pw, numClasses] = [probs.shape[1], probs.shape[2], probs.shape[3]];
    const labels = tf.argMax(probs, 3);
    const ids = await labels.data();
    labels.dispose();
    const probData = options.keepProbs ? ((await probs.data()) as Float32Array) : undefined;
    if (!window) {
      return { pred: Uint8Array.from(ids), h, w, region: { top: 0, left: 0, height: h, width: w }, probs: probData };
    }
    return placeWindow(ids, probData, ph, pw, numClasses, h, w, window);
  } finally {
    probs.dispose();
  }
}

/**
 * Mean softmax probabilities [1,H,W,C] over scales × flips for one image tensor [1,H,W,ch].
 * The caller disposes the result; intermediates of each pass are released as it goes, so memory
 * stays at one pass plus the running sum (tidy would hold every pass until the end).
 */
export function imageProbs(x: tf.Tensor4D, predict: PredictFn, protocol: InferenceProtocol): tf.Tensor4D {
  const p = resolveProtocol(protocol);
  const [h, w] = [x.shape[1], x.shape[2]];
  let acc: tf.Tensor4D | null = null;
  let passes = 0;
  for (const scale of p.scales) {
    for (const flipped of p.flip ? [false, true] : [false]) {
      const probs = tf.tidy(() => {
        let xs = scale === 1 ? x : resize(x, Math.max(1, Math.floor(h * scale)), Math.max(1, Math.floor(w * scale)));
        if (flipped) xs = tf.reverse(xs, 2);
        let out = p.mode === 'sliding' ? slidingProbs(xs, predict, p.crop, p.stride) : wholeProbs(xs, predict, p.sizeDivisor);
        if (flipped) out = tf.reverse(out, 2);
        return resize(out, h, w);
      });
      acc = accumulate(acc, probs);
      passes++;
    }
  }
  const sum = acc!;
  const mean = tf.tidy(() => tf.div(sum, passes) as tf.Tensor4D);
  sum.dispose();
  return mean;
}

/** Softmax probabilities of one forward pass, upsampled to the input size. */
export function forwardProbs(x: tf.Tensor4D, predict: PredictFn): tf.Tensor4D {
  return tf.tidy(() => {
    const logits = predict(x);
    if (logits.rank !== 4 || logits.shape[0] !== x.shape[0]) {
      throw new SsssegError('eval.predictShape', `predict returned shape [${logits.shape.join(',')}] for input [${x.shape.join(',')}]`);
    }
    return tf.softmax(resize(logits, x.shape[1], x.shape[2]));
  });
}

/** Whole image; optionally resized to a multiple of `divisor` first and back after (PS-MT). */
function wholeProbs(x: tf.Tensor4D, predict: PredictFn, divisor: number): tf.Tensor4D {
  const [h, w] = [x.shape[1], x.shape[2]];
  if (divisor <= 1) return forwardProbs(x, predict);
  const hd = Math.ceil(h / divisor) * divisor;
  const wd = Math.ceil(w / divisor) * divisor;
  return tf.tidy(() => resize(forwardProbs(resize(x, hd, wd), predict), h, w));
}

/**
 * U2PL eval.py `scale_process`: zero-pad (symmetrically) up to the window, cover the image with
 * crop×crop windows every `stride` px (the last one flush with the far edge), average each
 * pixel's probabilities over the windows covering it, then cut the padding off.
 */
function slidingProbs(x: tf.Tensor4D, predict: PredictFn, crop: number, stride: number): tf.Tensor4D {
  const [h, w] = [x.shape[1], x.shape[2]];
  const padH = Math.max(crop - h, 0);
  const padW = Math.max(crop - w, 0);
  const top = Math.floor(padH / 2);
  const left = Math.floor(padW / 2);
  const padded = tf.pad(x, [[0, 0], [top, padH - top], [left, padW - left], [0, 0]]);
  const [H, W] = [h + padH, w + padW];
  const rows = windowStarts(H, crop, stride);
  const cols = windowStarts(W, crop, stride);
  const count = new Float32Array(H * W);
  let acc: tf.Tensor4D | null = null;
  for (const r of rows) {
    for (const c of cols) {
      const probs = tf.tidy(() => {
        const win = tf.slice(padded, [0, r, c, 0], [1, crop, crop, -1]);
        return tf.pad(forwardProbs(win, predict), [[0, 0], [r, H - r - crop], [c, W - c - crop], [0, 0]]);
      });
      acc = accumulate(acc, probs);
      for (let y = r; y < r + crop; y++) addOnes(count, y * W + c, crop);
    }
  }
  padded.dispose();
  const sum = acc!;
  const out = tf.tidy(() => {
    const mean = tf.div(sum, tf.tensor4d(count, [1, H, W, 1]));
    return tf.slice(mean, [0, top, left, 0], [1, h, w, -1]) as tf.Tensor4D;
  });
  sum.dispose();
  return out;
}

function addOnes(count: Float32Array, start: number, n: number): void {
  for (let i = start; i < start + n; i++) count[i]! += 1;
}

/** Window offsets along one axis (size >= crop, after padding): every `stride`, the last clamped to end at `size`. */
export function windowStarts(size: number, crop: number, stride: number): number[] {
  const n = Math.ceil(Math.max(size - crop, 0) / stride) + 1;
  return Array.from({ length: n }, (_, i) => Math.min(i * stride + crop, size) - crop);
}

/** Bilinear, align_corners=true, as every upstream F.interpolate in eval; no-op at the same size. */
function resize(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  if (x.shape[1] === h && x.shape[2] === w) return x;
  return tf.image.resizeBilinear(x, [h, w], true);
}

/** Adds `next` into the running sum and frees both inputs. */
function accumulate(acc: tf.Tensor4D | null, next: tf.Tensor4D): tf.Tensor4D {
  if (acc === null) return next;
  const sum = tf.add(acc, next) as tf.Tensor4D;
  acc.dispose();
  next.dispose();
  return sum;
}

/**
 * U2PL `Crop(type="center")`: pad the short side(s) symmetrically with 0 (the normalised mean),
 * then take the centred crop×crop window. Offsets are relative to the original image.
 */
interface CropWindow {
  crop: number;
  padTop: number;
  padLeft: number;
  /** top-left of the window inside the padded image */
  offTop: number;
  offLeft: number;
}

function centerWindow(h: number, w: number, crop: number): CropWindow {
  const padTop = Math.floor(Math.max(crop - h, 0) / 2);
  const padLeft = Math.floor(Math.max(crop - w, 0) / 2);
  return {
    crop,
    padTop,
    padLeft,
    offTop: Math.floor((Math.max(h, crop) - crop) / 2),
    offLeft: Math.floor((Math.max(w, crop) - crop) / 2),
  };
}

function cropOrPad(x: tf.Tensor4D, win: CropWindow): tf.Tensor4D {
  const [h, w] = [x.shape[1], x.shape[2]];
  const padH = Math.max(win.crop - h, 0);
  const padW = Math.max(win.crop - w, 0);
  const padded = tf.pad(x, [[0, 0], [win.padTop, padH - win.padTop], [win.padLeft, padW - win.padLeft], [0, 0]]);
  return tf.slice(padded, [0, win.offTop, win.offLeft, 0], [1, win.crop, win.crop, -1]);
}

/** Map a crop-sized prediction back into an H×W map (IGNORE_INDEX where nothing was predicted). */
function placeWindow(
  ids: ArrayLike<number>,
  probs: Float32Array | undefined,
  ph: number,
  pw: number,
  numClasses: number,
  h: number,
  w: number,
  win: CropWindow,
): Segmentation {
  // window row r shows padded row r + offTop, i.e. image row r + offTop − padTop
  const dy = win.offTop - win.padTop;
  const dx = win.offLeft - win.padLeft;
  const top = Math.max(dy, 0);
  const left = Math.max(dx, 0);
  const height = Math.min(dy + ph, h) - top;
  const width = Math.min(dx + pw, w) - left;
  const pred = new Uint8Array(h * w).fill(IGNORE_INDEX);
  const full = probs ? new Float32Array(h * w * numClasses) : undefined;
  for (let y = top; y < top + height; y++) {
    for (let x = left; x < left + width; x++) {
      const src = (y - dy) * pw + (x - dx);
      pred[y * w + x] = ids[src]!;
      if (full && probs) full.set(probs.subarray(src * numClasses, (src + 1) * numClasses), (y * w + x) * numClasses);
    }
  }
  return { pred, h, w, region: { top, left, height, width }, probs: full };
}
