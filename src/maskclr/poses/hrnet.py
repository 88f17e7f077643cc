"""HRNet (Sun et al., CVPR 2019) for top-down pose, as mmpose's ``hrnet_w32_coco_256x192``.

Parameter names match the mmpose checkpoints (``backbone.conv1``, ``backbone.layer1``,
``backbone.transition1``, ``backbone.stage2.0.branches``/``fuse_layers``, ...,
``keypoint_head.final_layer``), so ``hrnet_w32_coco_256x192-c78dce93_20200708.pth`` loads
strictly with ``mmpose_filter_fn``. Input (B, 3, 256, 192); output (B, 17, 64, 48) from the
highest-resolution branch (stride 4).
"""

import torch.nn as nn

from maskclr.poses.heatmap_head import TopdownHeatmapHead, TopdownPoseModel

VARIANTS = {"w32": dict(width=32), "w48": dict(width=48)}
# (modules, branches) of stages 2–4; every branch has 4 BasicBlocks.
STAGES = ((1, 2), (4, 3), (3, 4))
BLOCKS_PER_BRANCH = 4


def conv_bn(in_channels, out_channels, kernel=3, stride=1, relu=True):
    """Conv (no bias) + BN (+ ReLU), the unit of every transition and fuse path."""
    layers = [
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels)
        self.conv2, self.bn2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


class Bottleneck(nn.Module):
    """ResNet bottleneck with expansion 4 (stage 1 of HRNet)."""

    def __init__(self, in_channels, planes, downsample=False):
        super().__init__()
        out = planes * 4
        self.conv1, self.bn1 = nn.Conv2d(in_channels, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv3, self.bn3 = nn.Conv2d(planes, out, 1, bias=False), nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = conv_bn(in_channels, out, kernel=1, relu=False) if downsample else None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(self.bn3(self.conv3(out)) + shortcut)


def fuse_path(channels, source, target):
    """Map branch ``source`` to the resolution and width of branch ``target`` (None if equal)."""
    if source == target:
        return None
    if source > target:  # lower resolution: 1×1 conv, then nearest upsampling
        return nn.Sequential(
            *conv_bn(channels[source], channels[target], kernel=1, relu=False),
            nn.Upsample(scale_factor=2 ** (source - target), mode="nearest"),
        )
    steps = target - source  # higher resolution: stride-2 3×3 convs, ReLU between them
    return nn.Sequential(
        *(
            conv_bn(
                channels[source],
                channels[target] if k == steps - 1 else channels[source],
                stride=2,
                relu=k != steps - 1,
            )
            for k in range(steps)
        )
    )


class HRModule(nn.Module):
    """Parallel branches of BasicBlocks, then exchange across resolutions (the fuse layers).

    With ``all_outputs=False`` only the highest-resolution output is fused (last module)."""

    def __init__(self, channels, all_outputs=True):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(*(BasicBlock(c) for _ in range(BLOCKS_PER_BRANCH))) for c in channels
        )
        outputs = len(channels) if all_outputs else 1
        self.fuse_layers = nn.ModuleList(
            nn.ModuleList(fuse_path(channels, j, i) for j in range(len(channels))) for i in range(outputs)
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, xs):
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        return [
            self.relu(sum(x if path is None else path(x) for path, x in zip(paths, xs))) for paths in self.fuse_layers
        ]


def transition(previous, current):
    """Adapt the widths of existing branches and create the new, half-resolution branch."""
    layers = [None if c == previous[i] else conv_bn(previous[i], c) for i, c in enumerate(current[: len(previous)])]
    return nn.ModuleList(layers + [nn.Sequential(conv_bn(previous[-1], current[-1], stride=2))])


class HRNetBackbone(nn.Module):
    """(B, 3, H, W) -> (B, width, H/4, W/4), the highest-resolution output of stage 4."""

    def __init__(self, width=32):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64)
        self.conv2, self.bn2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(Bottleneck(64, 64, downsample=True), *(Bottleneck(256, 64) for _ in range(3)))
        previous = [256]
        for stage, (modules, branches) in enumerate(STAGES, start=2):
            channels = [width * 2**b for b in range(branches)]
            last = stage == 2 + len(STAGES) - 1
            setattr(self, f"transition{stage - 1}", transition(previous, channels))
            setattr(
                self,
                f"stage{stage}",
                nn.Sequential(
                    *(HRModule(channels, all_outputs=not (last and m == modules - 1)) for m in range(modules))
                ),
            )
            previous = channels

    def forward(self, x):
        x = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))
        xs = [self.layer1(x)]
        for stage in range(2, 2 + len(STAGES)):
            layers = getattr(self, f"transition{stage - 1}")
            # The new branch grows from the lowest-resolution output of the previous stage.
            xs = [x if layer is None else layer(x) for layer, x in zip(layers, xs + [xs[-1]])]
            xs = getattr(self, f"stage{stage}")(xs)
        return xs[0]


class HRNetPose(TopdownPoseModel):
    """(B, 3, 256, 192) crops -> (B, num_joints, 64, 48) heatmaps (1×1 conv head, no deconv)."""

    def __init__(self, width=32, num_joints=17):
        super().__init__(HRNetBackbone(width), TopdownHeatmapHead(width, num_joints, num_deconv=0))


def create_model(variant="w32", **overrides):
    """HRNet pose model of a named variant (w32/w48) with architecture ``overrides``."""
    return HRNetPose(**{**VARIANTS[variant], **overrides})
