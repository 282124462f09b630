import type { ModelConfig } from '../config.ts';
import { convBnRelu, type Exec } from '../nn/exec.ts';
import { batchNorm, conv2d, type BatchNorm2d, type Conv2d, type ConvBn } from '../nn/layers.ts';
import { child, type Scope } from '../nn/params.ts';

/**
 * ResNet-18/34/50/101 with torchvision's parameter names and "v1.5" stride placement (on the 3×3
 * conv), or U2PL's deep stem (`conv1.0/1/3/4/6`, `bn1`, ceil-mode max-pool, layer1 fed 128
 * channels). Output stride 16/8 replaces the stride of layer4 (and layer3) with dilation exactly
 * as torchvision's `replace_stride_with_dilation`: the first block of a dilated layer keeps the
 * previous dilation. Multi-grid follows U2PL's `_make_layer`: layer4's first block gets
 * previous·2, the others dilation·(2, 4) — OS8 gives 4/8/16, OS16 gives 2/4/8 (CPS's layer4).
 */
type BlockKind = 'basic' | 'bottleneck';

const ARCHS: Record<ModelConfig['backbone'], { block: BlockKind; layers: [number, number, number, number] }> = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
};

const MULTI_GRID = [2, 2, 4];

interface Block {
  units: ConvBn[];
  downsample: ConvBn | null;
}

interface Stem {
  /** torchvision: one 7×7 conv; deep stem: three 3×3 convs, BN+ReLU between them */
  convs: Conv2d[];
  innerBns: BatchNorm2d[];
  bn1: BatchNorm2d;
  poolCeil: boolean;
}

export interface ResNet {
  stem: Stem;
  layers: Block[][];
  /** output channels of layer1..layer4 */
  channels: [number, number, number, number];
  /** dilation of the 3×3 convs of each block, per layer (for tests and docs) */
  dilations: number[][];
}

export interface ResNetFeatures<T> {
  c1: T;
  c2: T;
  c3: T;
  c4: T;
}

function buildStem(s: Scope, cfg: ModelConfig): Stem {
  if (!cfg.deep_stem) {
    return {
      convs: [conv2d(s, 'conv1', 3, cfg.base_width, { k: 7, stride: 2, pad: 3, init: 'fan_out' })],
      innerBns: [],
      bn1: batchNorm(s, 'bn1', cfg.base_width),
      poolCeil: cfg.stem_pool_ceil,
    };
  }
  const w = cfg.stem_width;
  // declared in PyTorch's state_dict order
  const c0 = conv2d(s, 'conv1.0', 3, w, { k: 3, stride: 2, pad: 1, init: 'fan_out' });
  const b1 = batchNorm(s, 'conv1.1', w);
  const c3 = conv2d(s, 'conv1.3', w, w, { k: 3, pad: 1, init: 'fan_out' });
  const b4 = batchNorm(s, 'conv1.4', w);
  const c6 = conv2d(s, 'conv1.6', w, 2 * w, { k: 3, pad: 1, init: 'fan_out' });
  return { convs: [c0, c3, c6], innerBns: [b1, b4], bn1: batchNorm(s, 'bn1', 2 * w), poolCeil: cfg.stem_pool_ceil };
}

interface BlockArgs {
  kind: BlockKind;
  inplanes: number;
  planes: number;
  stride: number;
  dilation: number;
  zeroInit: boolean;
}

function buildBlock(s: Scope, a: BlockArgs, needDownsample: boolean): Block {
  const zero = a.zeroInit ? 0 : 1;
  const unit = (i: number, cin: number, cout: number, k: number, stride: number, dil: number, gamma = 1): ConvBn => ({
    conv: conv2d(s, `conv${i}`, cin, cout, { k, stride, pad: k === 3 ? dil : 0, dilation: dil, init: 'fan_out' }),
    bn: batchNorm(s, `bn${i}`, cout, gamma),
  });
  const out = a.kind === 'bottleneck' ? a.planes * 4 : a.planes;
  const units =
    a.kind === 'bottleneck'
      ? [
          unit(1, a.inplanes, a.planes, 1, 1, 1),
          unit(2, a.planes, a.planes, 3, a.stride, a.dilation),
          unit(3, a.planes, out, 1, 1, 1, zero),
        ]
      : // ST++'s BasicBlock: only conv1 dilated (torchvision's refuses dilation > 1)
        [unit(1, a.inplanes, a.planes, 3, a.stride, a.dilation), unit(2, a.planes, a.planes, 3, 1, 1, zero)];
  const downsample = needDownsample
    ? {
        conv: conv2d(s, 'downsample.0', a.inplanes, out, { k: 1, stride: a.stride, init: 'fan_out' }),
        bn: batchNorm(s, 'downsample.1', out),
      }
    : null;
  return { units, downsample };
}

export function buildResNet(s: Scope, cfg: ModelConfig): ResNet {
  const arch = ARCHS[cfg.backbone];
  const stem = buildStem(s, cfg);
  const expansion = arch.block === 'bottleneck' ? 4 : 1;
  const dilate = [false, cfg.output_stride === 8, cfg.output_stride <= 16];
  let inplanes = cfg.deep_stem ? 2 * cfg.stem_width : cfg.base_width;
  let dilation = 1;
  const layers: Block[][] = [];
  const dilations: number[][] = [];
  for (let li = 0; li < 4; li++) {
    const planes = cfg.base_width * 2 ** li;
    let stride = li === 0 ? 1 : 2;
    const previous = dilation;
    if (li > 0 && dilate[li - 1]) {
      dilation *= stride;
      stride = 1;
    }
    const grid = (i: number) => (cfg.multi_grid && li === 3 ? MULTI_GRID[Math.min(i, MULTI_GRID.length - 1)]! : 1);
    const blocks: Block[] = [];
    const dils: number[] = [];
    for (let bi = 0; bi < arch.layers[li]!; bi++) {
      const d = bi === 0 ? previous * grid(0) : dilation * grid(bi);
      const args: BlockArgs = {
        kind: arch.block, inplanes, planes, stride: bi === 0 ? stride : 1, dilation: d, zeroInit: cfg.zero_init_residual,
      };
      const needDown = bi === 0 && (stride !== 1 || inplanes !== planes * expansion);
      blocks.push(buildBlock(child(s, `layer${li + 1}.${bi}`), args, needDown));
      dils.push(d);
      inplanes = planes * expansion;
    }
    layers.push(blocks);
    dilations.push(dils);
  }
  const c = (li: number) => cfg.base_width * 2 ** li * expansion;
  return { stem, layers, channels: [c(0), c(1), c(2), c(3)], dilations };
}

export function stemForward<T>(ex: Exec<T>, stem: Stem, x: T): T {
  return ex.scope(() => {
    let y = x;
    stem.convs.forEach((conv, i) => {
      y = ex.conv(conv, y);
      const inner = stem.innerBns[i];
      if (inner) y = ex.bn(inner, y, { relu: true });
    });
    y = ex.bn(stem.bn1, y, { relu: true });
    return ex.maxPool(y, 3, 2, 1, stem.poolCeil);
  });
}

function blockForward<T>(ex: Exec<T>, b: Block, x: T): T {
  return ex.scope(() => {
    const identity = b.downsample ? ex.bn(b.downsample.bn, ex.conv(b.downsample.conv, x)) : x;
    let y = x;
    const last = b.units.length - 1;
    for (const u of b.units.slice(0, last)) y = convBnRelu(ex, u, y);
    const u = b.units[last]!;
    return ex.bn(u.bn, ex.conv(u.conv, y), { relu: true, residual: identity });
  });
}

export function layerForward<T>(ex: Exec<T>, net: ResNet, index: number, x: T): T {
  let y = x;
  for (const b of net.layers[index]!) y = blockForward(ex, b, y);
  return y;
}

export function resnetForward<T>(ex: Exec<T>, net: ResNet, x: T): ResNetFeatures<T> {
  const s = stemForward(ex, net.stem, x);
  const c1 = layerForward(ex, net, 0, s);
  const c2 = layerForward(ex, net, 1, c1);
  const c3 = layerForward(ex, net, 2, c2);
  const c4 = layerForward(ex, net, 3, c3);
  return { c1, c2, c3, c4 };
}
