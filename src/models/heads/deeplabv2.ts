import type { ModelConfig } from '../config.ts';
import type { Exec } from '../nn/exec.ts';
import { conv2d } from '../nn/layers.ts';
import type { Scope } from '../nn/params.ts';
import type { HeadArgs, HeadInput, HeadModule } from './types.ts';

/** DeepLabv2's dilations (ST++ `model/semseg/deeplabv2.py`), fixed by the paper. */
const DEEPLABV2_DILATIONS = [6, 12, 18, 24] as const;

/**
 * DeepLabv2 as ST++ builds it: four dilated 3×3 classifiers on layer4 (`classifier.0..3`, weights
 * N(0, 0.01), bias), summed.
 */
export function buildDeepLabV2(s: Scope, _cfg: ModelConfig, a: HeadArgs): HeadModule {
  const convs = DEEPLABV2_DILATIONS.map((d, i) =>
    conv2d(s, `classifier.${i}`, a.channels[3], a.numClasses, { k: 3, pad: d, dilation: d, bias: true, init: 0.01 }),
  );
  return {
    forward<T>(ex: Exec<T>, f: HeadInput<T>) {
      const logits = ex.scope(() => convs.map((c) => ex.conv(c, f.c4)).reduce((acc, y) => ex.add(acc, y)));
      return { logits };
    },
  };
}
