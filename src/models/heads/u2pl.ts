import type { ModelConfig } from '../config.ts';
import { convBnRelu, type Exec } from '../nn/exec.ts';
import { conv2d, convBn, type Conv2d, type ConvBn } from '../nn/layers.ts';
import { child, type Scope } from '../nn/params.ts';
import { asppForward, buildAspp } from './aspp.ts';
import type { HeadArgs, HeadInput, HeadModule } from './types.ts';

/**
 * U2PL's `dec_deeplabv3_plus` (`u2pl/models/decoder.py`), names under `decoder.`: ASPP without
 * projection (1280 ch), `head` 3×3 → 256 + Dropout2d, `low_conv` 1×1 with bias (256 ch, not 48),
 * concat [low, ASPP] (512 ch), then `classifier` and `representation`, each two 3×3 convs with
 * bias + BN + ReLU + Dropout2d and a final 1×1 (→ C, → 256).
 */
interface Tower {
  units: ConvBn[];
  out: Conv2d;
}

function buildTower(s: Scope, cin: number, mid: number, cout: number): Tower {
  return {
    units: [
      convBn(s, '', cin, mid, { k: 3, pad: 1, bias: true }, 1, 0),
      convBn(s, '', mid, mid, { k: 3, pad: 1, bias: true }, 5, 4),
    ],
    out: conv2d(s, '8', mid, cout, { k: 1, bias: true }),
  };
}

function towerForward<T>(ex: Exec<T>, t: Tower, x: T, dropout: number): T {
  return ex.scope(() => {
    let y = x;
    for (const u of t.units) y = ex.dropout(convBnRelu(ex, u, y), dropout, true);
    return ex.conv(t.out, y);
  });
}

export function buildU2plHead(s: Scope, cfg: ModelConfig, a: HeadArgs): HeadModule {
  const d = child(s, 'decoder');
  const lowConv = convBn(d, 'low_conv', a.channels[0], cfg.low_level_channels, { k: 1, bias: true });
  const aspp = buildAspp(child(d, 'aspp'), 'u2pl', a.channels[3], cfg.aspp_channels, cfg.aspp_dilations);
  const head = convBn(d, 'head', aspp.outChannels, cfg.head_channels, { k: 3, pad: 1 });
  const fused = cfg.low_level_channels + cfg.head_channels;
  const classifier = buildTower(child(d, 'classifier'), fused, cfg.head_channels, a.numClasses);
  const rep = cfg.rep_dim === null ? null : buildTower(child(d, 'representation'), fused, cfg.head_channels, cfg.rep_dim);
  return {
    forward<T>(ex: Exec<T>, f: HeadInput<T>) {
      const cat = ex.scope(() => {
        const [, h, w] = ex.dims(f.c1);
        const top = ex.dropout(convBnRelu(ex, head, asppForward(ex, aspp, f.c4)), cfg.dropout, true);
        return ex.concat([convBnRelu(ex, lowConv, f.c1), ex.resize(top, h, w)]);
      });
      const logits = towerForward(ex, classifier, cat, cfg.dropout);
      const out = rep ? { logits, rep: towerForward(ex, rep, cat, cfg.dropout) } : { logits };
      return out;
    },
  };
}
