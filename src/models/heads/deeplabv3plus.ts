import type { ModelConfig } from '../config.ts';
import { convBnRelu, type Exec } from '../nn/exec.ts';
import { conv2d, convBn, type Conv2d, type ConvBn } from '../nn/layers.ts';
import { child, type Scope } from '../nn/params.ts';
import { asppForward, buildAspp, type Aspp } from './aspp.ts';
import type { HeadArgs, HeadInput, HeadModule } from './types.ts';

/**
 * Textbook DeepLabv3+ as ST++ and UniMatch write it (`model/semseg/deeplabv3plus.py`): ASPP with a
 * 1×1 projection (`head.*`), layer1 reduced to 48 channels (`reduce.0/1`), concat [low, ASPP],
 * two 3×3 fuse convs (`fuse.0/1`, `fuse.3/4`), element-wise Dropout (ST++ 0.1, UniMatch 0) and a
 * 1×1 classifier with bias.
 */
export function buildDeepLabV3Plus(s: Scope, cfg: ModelConfig, a: HeadArgs): HeadModule {
  const aspp: Aspp = buildAspp(child(s, 'head'), 'textbook', a.channels[3], cfg.aspp_channels, cfg.aspp_dilations, cfg.aspp_dropout);
  const reduce: ConvBn = convBn(s, 'reduce', a.channels[0], cfg.low_level_channels, { k: 1 });
  const fuseIn = aspp.outChannels + cfg.low_level_channels;
  const fuse1 = convBn(s, 'fuse', fuseIn, cfg.head_channels, { k: 3, pad: 1 }, 1, 0);
  const fuse2 = convBn(s, 'fuse', cfg.head_channels, cfg.head_channels, { k: 3, pad: 1 }, 4, 3);
  const classifier: Conv2d = conv2d(s, 'classifier', cfg.head_channels, a.numClasses, { k: 1, bias: true });
  return {
    forward<T>(ex: Exec<T>, f: HeadInput<T>) {
      const logits = ex.scope(() => {
        const [, h, w] = ex.dims(f.c1);
        const high = ex.resize(asppForward(ex, aspp, f.c4), h, w);
        const low = convBnRelu(ex, reduce, f.c1);
        const fused = convBnRelu(ex, fuse2, convBnRelu(ex, fuse1, ex.concat([low, high])));
        return ex.conv(classifier, ex.dropout(fused, cfg.dropout, false));
      });
      return { logits };
    },
  };
}
