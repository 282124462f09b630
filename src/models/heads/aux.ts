import type { ModelConfig } from '../config.ts';
import { convBnRelu, type Exec } from '../nn/exec.ts';
import { conv2d, convBn } from '../nn/layers.ts';
import { child, type Scope } from '../nn/params.ts';
import type { HeadArgs } from './types.ts';

/** U2PL's `Aux_Module` on layer3 (`auxor.aux.*`): 3×3 conv with bias, BN, ReLU, Dropout2d, 1×1. */
export interface AuxHead {
  forward<T>(ex: Exec<T>, c3: T): T;
}

export function buildAuxHead(s: Scope, cfg: ModelConfig, a: HeadArgs): AuxHead {
  const aux = child(s, 'auxor');
  const unit = convBn(aux, 'aux', a.channels[2], cfg.aux_channels, { k: 3, pad: 1, bias: true });
  const out = conv2d(aux, 'aux.4', cfg.aux_channels, a.numClasses, { k: 1, bias: true });
  return {
    forward<T>(ex: Exec<T>, c3: T): T {
      return ex.scope(() => ex.conv(out, ex.dropout(convBnRelu(ex, unit, c3), cfg.dropout, true)));
    },
  };
}
