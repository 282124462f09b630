import type { Init, Param, Scope } from './params.ts';

/**
 * Layer declarations: which parameters a layer owns (PyTorch names, our HWIO layout) and its
 * hyper-parameters. How a layer runs lives in the executors (tensor-exec.ts, shape-exec.ts), so
 * FLOP counting walks exactly the code path the real forward takes.
 */
export interface Conv2d {
  readonly type: 'conv';
  readonly name: string;
  readonly cin: number;
  readonly cout: number;
  readonly k: number;
  readonly stride: number;
  /** symmetric zero padding on each side (PyTorch `padding`) */
  readonly pad: number;
  readonly dilation: number;
  readonly weight: Param;
  readonly bias: Param | null;
}

export interface ConvOpts {
  k: number;
  stride?: number;
  pad?: number;
  dilation?: number;
  bias?: boolean;
  /**
   * 'fan_out': kaiming_normal_(mode='fan_out', nonlinearity='relu') as torchvision's ResNet;
   * 'default': PyTorch's Conv2d.reset_parameters (kaiming_uniform a=√5 → U(±1/√fan_in), same for bias);
   * a number: N(0, std) weights (DeepLabv2 classifier), bias still PyTorch default.
   */
  init?: 'fan_out' | 'default' | number;
}

export function conv2d(s: Scope, name: string, cin: number, cout: number, o: ConvOpts): Conv2d {
  const k = o.k;
  const fanIn = cin * k * k;
  const mode = o.init ?? 'default';
  const wInit: Init =
    mode === 'fan_out'
      ? { type: 'normal', std: Math.sqrt(2 / (cout * k * k)) }
      : mode === 'default'
        ? { type: 'uniform', bound: 1 / Math.sqrt(fanIn) }
        : { type: 'normal', std: mode };
  const full = `${s.prefix}${name}`;
  const weight = s.store.declare({
    name: `${full}.weight`, shape: [k, k, cin, cout], kind: 'weight', group: s.group, trainable: true, init: wInit,
  });
  const bias = o.bias
    ? s.store.declare({
        name: `${full}.bias`, shape: [cout], kind: 'bias', group: s.group, trainable: true,
        init: { type: 'uniform', bound: 1 / Math.sqrt(fanIn) },
      })
    : null;
  return {
    type: 'conv', name: full, cin, cout, k, stride: o.stride ?? 1, pad: o.pad ?? 0, dilation: o.dilation ?? 1, weight, bias,
  };
}

export interface BatchNorm2d {
  readonly type: 'bn';
  readonly name: string;
  readonly channels: number;
  /** always eval mode, gamma/beta not trained */
  readonly frozen: boolean;
  readonly gamma: Param;
  readonly beta: Param;
  readonly runningMean: Param;
  readonly runningVar: Param;
}

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export function batchNorm(s: Scope, name: string, channels: number, gammaInit = 1): BatchNorm2d {
  const full = `${s.prefix}${name}`;
  const decl = (suffix: string, kind: 'bn_weight' | 'bn_bias' | 'running_mean' | 'running_var', value: number, trainable: boolean) =>
    s.store.declare({
      name: `${full}.${suffix}`, shape: [channels], kind, group: s.group, trainable, init: { type: 'const', value },
    });
  return {
    type: 'bn',
    name: full,
    channels,
    frozen: s.frozenBn,
    gamma: decl('weight', 'bn_weight', gammaInit, !s.frozenBn),
    beta: decl('bias', 'bn_bias', 0, !s.frozenBn),
    runningMean: decl('running_mean', 'running_mean', 0, false),
    runningVar: decl('running_var', 'running_var', 1, false),
  };
}

/** conv → BN → ReLU, the unit most heads are made of (PyTorch Sequential indices 0, 1). */
export interface ConvBn {
  conv: Conv2d;
  bn: BatchNorm2d;
}

export function convBn(s: Scope, seq: string, cin: number, cout: number, o: ConvOpts, bnIndex = 1, convIndex = 0): ConvBn {
  const p = seq ? `${seq}.` : '';
  return { conv: conv2d(s, `${p}${convIndex}`, cin, cout, o), bn: batchNorm(s, `${p}${bnIndex}`, cout) };
}
