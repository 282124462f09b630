import { convBnRelu, type Exec } from '../nn/exec.ts';
import { convBn, type ConvBn } from '../nn/layers.ts';
import { child, type Scope } from '../nn/params.ts';

/**
 * Atrous spatial pyramid pooling: image-pool 1×1, plain 1×1 and three dilated 3×3 branches, each
 * conv→BN→ReLU, concatenated. Two layouts with their upstream names:
 * - textbook (ST++/UniMatch `ASPPModule`): `b0` 1×1, `b1..b3` atrous, `b4.gap` image pool, concat in
 *   that order, then a 1×1 `project` (+ optional Dropout2d);
 * - U2PL (`u2pl/models/base.py`): `conv1` image pool, `conv2` 1×1, `conv3..5` atrous, concat in that
 *   order, and no projection (1280 channels out).
 */
export interface Aspp {
  style: 'textbook' | 'u2pl';
  pool: ConvBn;
  point: ConvBn;
  atrous: ConvBn[];
  project: ConvBn | null;
  projectDropout: number;
  outChannels: number;
}

export function buildAspp(
  s: Scope,
  style: 'textbook' | 'u2pl',
  cin: number,
  ch: number,
  dilations: readonly number[],
  projectDropout = 0,
): Aspp {
  const atrousOpts = (d: number) => ({ k: 3, pad: d, dilation: d });
  if (style === 'u2pl') {
    const pool = convBn(s, 'conv1', cin, ch, { k: 1 }, 2, 1);
    const point = convBn(s, 'conv2', cin, ch, { k: 1 });
    const atrous = dilations.map((d, i) => convBn(s, `conv${i + 3}`, cin, ch, atrousOpts(d)));
    return { style, pool, point, atrous, project: null, projectDropout: 0, outChannels: ch * (dilations.length + 2) };
  }
  const point = convBn(s, 'b0', cin, ch, { k: 1 });
  const atrous = dilations.map((d, i) => convBn(s, `b${i + 1}`, cin, ch, atrousOpts(d)));
  const pool = convBn(child(s, `b${dilations.length + 1}`), 'gap', cin, ch, { k: 1 }, 2, 1);
  const project = convBn(s, 'project', ch * (dilations.length + 2), ch, { k: 1 });
  return { style, pool, point, atrous, project, projectDropout, outChannels: ch };
}

export function asppForward<T>(ex: Exec<T>, a: Aspp, x: T): T {
  return ex.scope(() => {
    const [, h, w] = ex.dims(x);
    const pooled = ex.resize(convBnRelu(ex, a.pool, ex.adaptiveAvgPool(x, 1)), h, w);
    const point = convBnRelu(ex, a.point, x);
    const atrous = a.atrous.map((u) => convBnRelu(ex, u, x));
    if (a.style === 'u2pl') return ex.concat([pooled, point, ...atrous]);
    const y = convBnRelu(ex, a.project!, ex.concat([point, ...atrous, pooled]));
    return ex.dropout(y, a.projectDropout, true);
  });
}
