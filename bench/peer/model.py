"""The peer configuration's network in PyTorch, written from sssseg's own architecture
(src/models/backbones/resnet.ts, src/models/heads/{aspp,u2pl}.ts) so that the side-by-side
benchmark times the same network on both sides: a bottleneck ResNet with the deep 3x3 stem
(64-64-128, ceil-mode max-pool), output stride 8 or 16 by dilation, multi-grid in layer4, and
U2PL's decoder (ASPP without projection, 3x3 head, 1x1 low-level conv with bias, classifier and
representation towers). Parameter names equal sssseg's (PyTorch state_dict names), so weights
exported by the bench load with strict names.
"""
import torch
import torch.nn.functional as F
from torch import nn

DEPTHS = {"resnet50": [3, 4, 6, 3], "resnet101": [3, 4, 23, 3]}
MULTI_GRID = [2, 2, 4]


def bn(c):
    return nn.BatchNorm2d(c)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (stride, dilation) -> 1x1 x4, identity or 1x1 projection, ReLU after the sum."""

    def __init__(self, cin, planes, stride, dilation, project):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = bn(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = bn(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (
            nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False), bn(planes * 4)) if project else None
        )

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class DeepStemResNet(nn.Module):
    def __init__(self, depth, stem_width, base_width, output_stride, multi_grid):
        super().__init__()
        w = stem_width
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, w, 3, 2, 1, bias=False), bn(w), nn.ReLU(inplace=True),
            nn.Conv2d(w, w, 3, 1, 1, bias=False), bn(w), nn.ReLU(inplace=True),
            nn.Conv2d(w, 2 * w, 3, 1, 1, bias=False),
        )
        self.bn1 = bn(2 * w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        # layer2/3/4 trade their stride for dilation at OS8 (layer3, layer4) or OS16 (layer4)
        dilate = [False, output_stride == 8, output_stride <= 16]
        cin, dilation = 2 * w, 1
        for li, blocks in enumerate(DEPTHS[depth]):
            planes = base_width * 2 ** li
            stride = 1 if li == 0 else 2
            previous = dilation
            if li > 0 and dilate[li - 1]:
                dilation *= stride
                stride = 1
            grid = MULTI_GRID if multi_grid and li == 3 else [1, 1, 1]
            layer = []
            for bi in range(blocks):
                d = previous * grid[0] if bi == 0 else dilation * grid[min(bi, 2)]
                project = bi == 0 and (stride != 1 or cin != planes * 4)
                layer.append(Bottleneck(cin, planes, stride if bi == 0 else 1, d, project))
                cin = planes * 4
            setattr(self, f"layer{li + 1}", nn.Sequential(*layer))

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c1 = self.layer1(x)
        return c1, self.layer4(self.layer3(self.layer2(c1)))


def conv_bn_relu(cin, cout, k, dilation=1, bias=False):
    pad = dilation if k == 3 else 0
    return [nn.Conv2d(cin, cout, k, padding=pad, dilation=dilation, bias=bias), bn(cout), nn.ReLU(inplace=True)]


def upsample(x, size):
    return F.interpolate(x, size=size, mode="bilinear", align_corners=True)


class Aspp(nn.Module):
    """Image pool, 1x1 and three atrous 3x3 branches, concatenated (no projection)."""

    def __init__(self, cin, ch, dilations):
        super().__init__()
        self.conv1 = nn.Sequential(nn.AdaptiveAvgPool2d(1), *conv_bn_relu(cin, ch, 1))
        self.conv2 = nn.Sequential(*conv_bn_relu(cin, ch, 1))
        for i, d in enumerate(dilations):
            setattr(self, f"conv{i + 3}", nn.Sequential(*conv_bn_relu(cin, ch, 3, d)))
        self.count = len(dilations)

    def forward(self, x):
        pooled = upsample(self.conv1(x), x.shape[2:])
        return torch.cat([pooled, self.conv2(x)] + [getattr(self, f"conv{i + 3}")(x) for i in range(self.count)], 1)


def tower(cin, mid, cout, dropout):
    return nn.Sequential(
        *conv_bn_relu(cin, mid, 3, bias=True), nn.Dropout2d(dropout),
        *conv_bn_relu(mid, mid, 3, bias=True), nn.Dropout2d(dropout),
        nn.Conv2d(mid, cout, 1, bias=True),
    )


class U2plDecoder(nn.Module):
    def __init__(self, m, classes):
        super().__init__()
        low_in, high_in = m["base_width"] * 4, m["base_width"] * 32
        ch = m["aspp_channels"]
        self.low_conv = nn.Sequential(*conv_bn_relu(low_in, m["low_level_channels"], 1, bias=True))
        self.aspp = Aspp(high_in, ch, m["aspp_dilations"])
        self.head = nn.Sequential(*conv_bn_relu(ch * (len(m["aspp_dilations"]) + 2), m["head_channels"], 3),
                                  nn.Dropout2d(m["dropout"]))
        fused = m["low_level_channels"] + m["head_channels"]
        self.classifier = tower(fused, m["head_channels"], classes, m["dropout"])
        self.representation = tower(fused, m["head_channels"], m["rep_dim"], m["dropout"])

    def forward(self, c1, c4):
        low = self.low_conv(c1)
        top = upsample(self.head(self.aspp(c4)), low.shape[2:])
        cat = torch.cat([low, top], 1)
        return self.classifier(cat), self.representation(cat)


class SegNet(nn.Module):
    """Returns (logits, representation) at the low-level (stride 4) resolution, NCHW."""

    def __init__(self, m, classes):
        super().__init__()
        self.backbone = DeepStemResNet(m["backbone"], m["stem_width"], m["base_width"], m["output_stride"], m["multi_grid"])
        self.decoder = U2plDecoder(m, classes)

    def forward(self, x):
        c1, c4 = self.backbone(x)
        return self.decoder(c1, c4)
