import type { BatchNorm2d, Conv2d, ConvBn } from './layers.ts';

/**
 * The operations a network is written against. Every model's forward is generic over the value
 * type T: the tensor executor runs it on NHWC tensors; the shape executor runs the same code on
 * shapes and counts multiply-adds, so parameter and FLOP figures cannot drift from the forward.
 */
/** What follows a BN directly: a residual add, then a ReLU (fused into the BN where the backend can). */
export interface BnAct<T> {
  relu: boolean;
  residual?: T;
}

export interface Exec<T> {
  conv(c: Conv2d, x: T): T;
  /** BN, then `act` when given: relu(bn(x) + residual) */
  bn(b: BatchNorm2d, x: T, act?: BnAct<T>): T;
  relu(x: T): T;
  add(a: T, b: T): T;
  /** along channels */
  concat(xs: T[]): T;
  /** PyTorch MaxPool2d: padding counts as -inf; ceil_mode drops a window that starts in the padding */
  maxPool(x: T, k: number, stride: number, pad: number, ceil: boolean): T;
  /** PyTorch AdaptiveAvgPool2d(bins) */
  adaptiveAvgPool(x: T, bins: number): T;
  /** bilinear, align_corners=True */
  resize(x: T, h: number, w: number): T;
  /** nn.Dropout (element-wise) or nn.Dropout2d (channel-wise); identity outside training */
  dropout(x: T, rate: number, channelwise: boolean): T;
  /** [N, H, W, C] */
  dims(x: T): [number, number, number, number];
  /** release intermediates of `fn` (tf.tidy for tensors) */
  scope<R>(fn: () => R): R;
}

export function convBnRelu<T>(ex: Exec<T>, u: ConvBn, x: T): T {
  return ex.bn(u.bn, ex.conv(u.conv, x), { relu: true });
}

/** Output size of a conv / pool window along one axis (PyTorch's formula, floor mode). */
export function convOutSize(size: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

/** PyTorch pooling output size, including the ceil-mode rule that the last window must start inside input+left pad. */
export function poolOutSize(size: number, k: number, stride: number, pad: number, ceil: boolean): number {
  const span = size + 2 * pad - k;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out -= 1;
  return out;
}

/** PyTorch adaptive pooling bin [start, end) for output index i. */
export function adaptiveBin(i: number, inSize: number, outSize: number): [number, number] {
  return [Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)];
}
