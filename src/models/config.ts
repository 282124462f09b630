import { z } from 'zod';

/**
 * The `model:` section of an experiment. Defaults live here once. Three keys may be left out and are
 * resolved after parsing, so that the resolved config (the one stored in checkpoints) is explicit:
 * `aspp_dilations` follows the output stride (OS8 → 12/24/36, OS16 → 6/12/18, OS32 → 3/6/9, as in
 * the DeepLabv3 paper), and `stem_pool_ceil` follows `deep_stem` (U2PL's deep stem pools with
 * ceil_mode=True, torchvision's 7×7 stem does not). `low_level_channels` follows the head (48, or 256
 * for U2PL's decoder).
 */
export const BACKBONES = ['resnet18', 'resnet34', 'resnet50', 'resnet101'] as const;
export const HEADS = ['deeplabv3plus', 'deeplabv3plus_u2pl', 'deeplabv2', 'pspnet'] as const;

const channels = z.number().int().positive();
const rate = z.number().min(0).lt(1);

export const modelConfigObject = z
  .object({
    backbone: z.enum(BACKBONES).default('resnet101'),
    /** three 3×3 stem convs (U2PL/UniMatch/CPS "v1c" style) instead of one 7×7 */
    deep_stem: z.boolean().default(false),
    /** deep stem widths: stem_width, stem_width, 2·stem_width (64 → 64/64/128 as U2PL; timm's resnet*d use 32) */
    stem_width: channels.default(64),
    /** channels of the 7×7 stem and of layer1 (doubling per stage): 64 is torchvision's ResNet;
     * narrower nets (e.g. 16) train from scratch in seconds on a CPU but cannot load ImageNet weights */
    base_width: channels.default(64),
    stem_pool_ceil: z.boolean().optional(),
    output_stride: z.union([z.literal(8), z.literal(16), z.literal(32)]).default(16),
    /** layer4 block dilations × (2,2,4), U2PL's rule: first block previous·2, then d·2, d·4 */
    multi_grid: z.boolean().default(false),
    zero_init_residual: z.boolean().default(false),
    head: z.enum(HEADS).default('deeplabv3plus'),
    aspp_dilations: z.tuple([channels, channels, channels]).nullable().optional(),
    /** width of each ASPP branch (textbook: also the projection); PSPNet: each pyramid branch */
    aspp_channels: channels.default(256),
    /** decoder width: DeepLabv3+ fuse convs, U2PL head/classifier, PSPNet 3×3 conv */
    head_channels: channels.default(256),
    /** low-level (layer1) reduction; left out: 48 (textbook), 256 (deeplabv3plus_u2pl) */
    low_level_channels: channels.optional(),
    /** U2PL representation head output width; null = no representation head */
    rep_dim: channels.nullable().default(256),
    /** auxiliary classifier on layer3 (U2PL Cityscapes) */
    aux: z.boolean().default(false),
    aux_channels: channels.default(256),
    /** decoder dropout (textbook: element-wise after fuse; U2PL: Dropout2d in head/classifier) */
    dropout: rate.default(0.1),
    /** Dropout2d after the textbook ASPP projection (ST++ 0.5, UniMatch 0) */
    aspp_dropout: rate.default(0),
    /** backbone BatchNorm always in eval mode, gamma/beta not trained (head BN still trains) */
    frozen_bn: z.boolean().default(false),
    /** ImageNet weights for the backbone: .safetensors or .pth */
    pretrained: z.string().nullable().default(null),
  })
  .strict()
  // U2PL's multi-grid on an undilated layer4 would need a stride-2 dilated conv, which tfjs lacks
  .refine((c) => !c.multi_grid || c.output_stride !== 32, {
    message: 'multi_grid needs output_stride 8 or 16 (it multiplies the dilation of layer4)',
    path: ['multi_grid'],
  });

const DEFAULT_DILATIONS: Record<8 | 16 | 32, [number, number, number]> = {
  8: [12, 24, 36],
  16: [6, 12, 18],
  32: [3, 6, 9],
};

export const modelConfigSchema = modelConfigObject.transform((c) => ({
  ...c,
  aspp_dilations: c.aspp_dilations ?? DEFAULT_DILATIONS[c.output_stride],
  stem_pool_ceil: c.stem_pool_ceil ?? c.deep_stem,
  low_level_channels: c.low_level_channels ?? (c.head === 'deeplabv3plus_u2pl' ? 256 : 48),
}));

export type ModelConfig = z.output<typeof modelConfigSchema>;
export type ModelConfigInput = z.input<typeof modelConfigSchema>;

/** Parse a partial config (tests, defaults); throws zod's error on bad input. */
export function modelConfig(input: ModelConfigInput = {}): ModelConfig {
  return modelConfigSchema.parse(input);
}
