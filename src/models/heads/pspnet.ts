import type { ModelConfig } from '../config.ts';
import { convBnRelu, type Exec } from '../nn/exec.ts';
import { conv2d, convBn, type ConvBn } from '../nn/layers.ts';
import { child, type Scope } from '../nn/params.ts';
import type { HeadArgs, HeadInput, HeadModule } from './types.ts';

const PSP_BINS = [1, 2, 3, 6] as const;

/**
 * PSPNet as ST++ builds it (`head.conv5`): the pyramid (`conv5.0.conv1..4`, 1×1 conv-BN-ReLU on
 * adaptive pools of 1/2/3/6 bins, upsampled align_corners) concatenated after layer4, then 3×3
 * conv-BN-ReLU (`conv5.1/2`), element-wise Dropout and a 1×1 classifier (`conv5.5`). ST++ uses
 * in/4 channels for both widths (512 for ResNet-50/101): set aspp_channels and head_channels.
 */
export function buildPspNet(s: Scope, cfg: ModelConfig, a: HeadArgs): HeadModule {
  const h = child(s, 'head.conv5');
  const cin = a.channels[3];
  const branches: ConvBn[] = PSP_BINS.map((_, i) => convBn(child(h, '0'), `conv${i + 1}`, cin, cfg.aspp_channels, { k: 1 }));
  const fuse = convBn(h, '', cin + PSP_BINS.length * cfg.aspp_channels, cfg.head_channels, { k: 3, pad: 1 }, 2, 1);
  const classifier = conv2d(h, '5', cfg.head_channels, a.numClasses, { k: 1, bias: true });
  return {
    forward<T>(ex: Exec<T>, f: HeadInput<T>) {
      const logits = ex.scope(() => {
        const [, hh, ww] = ex.dims(f.c4);
        const pyramid = PSP_BINS.map((bins, i) => ex.resize(convBnRelu(ex, branches[i]!, ex.adaptiveAvgPool(f.c4, bins)), hh, ww));
        const y = convBnRelu(ex, fuse, ex.concat([f.c4, ...pyramid]));
        return ex.conv(classifier, ex.dropout(y, cfg.dropout, false));
      });
      return { logits };
    },
  };
}
