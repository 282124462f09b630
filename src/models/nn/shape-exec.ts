import { convOutSize, poolOutSize, type BnAct, type Exec } from './exec.ts';
import type { BatchNorm2d, Conv2d } from './layers.ts';

/** An NHWC shape standing in for a tensor. */
export interface Shape {
  n: number;
  h: number;
  w: number;
  c: number;
}

/**
 * Runs a forward on shapes only and counts convolution multiply-adds (every conv that the forward
 * runs, including the ASPP image-pool 1×1 and the representation head). Checks channel counts, so
 * it doubles as a cheap architecture test.
 */
export class ShapeExec implements Exec<Shape> {
  macs = 0;
  readonly perLayer = new Map<string, number>();

  conv(c: Conv2d, x: Shape): Shape {
    if (x.c !== c.cin) throw new Error(`${c.name}: expects ${c.cin} input channels, got ${x.c}`);
    const h = convOutSize(x.h, c.k, c.stride, c.pad, c.dilation);
    const w = convOutSize(x.w, c.k, c.stride, c.pad, c.dilation);
    const macs = x.n * h * w * c.cout * c.cin * c.k * c.k;
    this.macs += macs;
    this.perLayer.set(c.name, (this.perLayer.get(c.name) ?? 0) + macs);
    return { n: x.n, h, w, c: c.cout };
  }

  bn(b: BatchNorm2d, x: Shape, act?: BnAct<Shape>): Shape {
    if (x.c !== b.channels) throw new Error(`${b.name}: expects ${b.channels} channels, got ${x.c}`);
    return act?.residual ? this.add(x, act.residual) : x;
  }

  relu(x: Shape): Shape {
    return x;
  }

  add(a: Shape, b: Shape): Shape {
    if (a.n !== b.n || a.h !== b.h || a.w !== b.w || a.c !== b.c) {
      throw new Error(`add: shapes differ (${fmt(a)} vs ${fmt(b)})`);
    }
    return a;
  }

  concat(xs: Shape[]): Shape {
    const first = xs[0]!;
    for (const x of xs) {
      if (x.n !== first.n || x.h !== first.h || x.w !== first.w) throw new Error(`concat: spatial shapes differ (${xs.map(fmt).join(', ')})`);
    }
    return { ...first, c: xs.reduce((a, x) => a + x.c, 0) };
  }

  maxPool(x: Shape, k: number, stride: number, pad: number, ceil: boolean): Shape {
    return { ...x, h: poolOutSize(x.h, k, stride, pad, ceil), w: poolOutSize(x.w, k, stride, pad, ceil) };
  }

  adaptiveAvgPool(x: Shape, bins: number): Shape {
    return { ...x, h: bins, w: bins };
  }

  resize(x: Shape, h: number, w: number): Shape {
    return { ...x, h, w };
  }

  dropout(x: Shape): Shape {
    return x;
  }

  dims(x: Shape): [number, number, number, number] {
    return [x.n, x.h, x.w, x.c];
  }

  scope<R>(fn: () => R): R {
    return fn();
  }
}

function fmt(s: Shape): string {
  return `${s.n}×${s.h}×${s.w}×${s.c}`;
}
