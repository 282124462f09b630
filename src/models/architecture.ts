import type { ModelConfig } from './config.ts';
import { buildResNet, resnetForward, type ResNet } from './backbones/resnet.ts';
import type { Exec } from './nn/exec.ts';
import type { ParamStore, Scope } from './nn/params.ts';
import { buildDeepLabV3Plus } from './heads/deeplabv3plus.ts';
import { buildU2plHead } from './heads/u2pl.ts';
import { buildAuxHead, type AuxHead } from './heads/aux.ts';
import { buildDeepLabV2 } from './heads/deeplabv2.ts';
import { buildPspNet } from './heads/pspnet.ts';
import type { HeadArgs, HeadModule } from './heads/types.ts';

/**
 * A segmentation network as declarations (backbone + head + optional aux head) and one forward
 * that is generic over the executor, shared by the tensor forward and the FLOP counter.
 * Backbone parameters are named `backbone.<torchvision / U2PL key>`, head parameters after the
 * upstream decoder (ST++ `head/reduce/fuse/classifier`, U2PL `decoder.*`, `auxor.aux.*`).
 */
export interface Architecture {
  backbone: ResNet;
  head: HeadModule;
  aux: AuxHead | null;
}

export interface ArchOutputs<T> {
  logits: T;
  aux?: T;
  rep?: T;
}

const HEAD_BUILDERS: Record<ModelConfig['head'], (s: Scope, cfg: ModelConfig, a: HeadArgs) => HeadModule> = {
  deeplabv3plus: buildDeepLabV3Plus,
  deeplabv3plus_u2pl: buildU2plHead,
  deeplabv2: buildDeepLabV2,
  pspnet: buildPspNet,
};

export function buildArchitecture(store: ParamStore, cfg: ModelConfig, numClasses: number): Architecture {
  const backbone = buildResNet({ store, prefix: 'backbone.', group: 'backbone', frozenBn: cfg.frozen_bn }, cfg);
  const hs: Scope = { store, prefix: '', group: 'head', frozenBn: false };
  const args: HeadArgs = { channels: backbone.channels, numClasses };
  const head = HEAD_BUILDERS[cfg.head](hs, cfg, args);
  const aux = cfg.aux ? buildAuxHead(hs, cfg, args) : null;
  return { backbone, head, aux };
}

/**
 * `perturb` (UniMatch FP) maps the (c1, c4) features to their batch-doubled clean+dropped form
 * before decoding; the aux head always sees the clean layer3.
 */
export function architectureForward<T>(
  ex: Exec<T>,
  arch: Architecture,
  x: T,
  perturb?: (c1: T, c4: T) => { c1: T; c4: T },
): ArchOutputs<T> {
  const f = resnetForward(ex, arch.backbone, x);
  const input = perturb ? perturb(f.c1, f.c4) : { c1: f.c1, c4: f.c4 };
  const out: ArchOutputs<T> = arch.head.forward(ex, input);
  if (arch.aux) out.aux = arch.aux.forward(ex, f.c3);
  return out;
}
