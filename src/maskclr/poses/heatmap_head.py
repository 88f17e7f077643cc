"""mmpose's ``TopdownHeatmapSimpleHead`` (deconvolutions then a 1×1 conv to one heatmap per
joint) and the top-down model around it (``backbone`` + ``keypoint_head``).

Parameter names match mmpose checkpoints (``deconv_layers.{3i}`` transposed conv,
``deconv_layers.{3i+1}`` batch norm, ``final_layer``), so they load strictly under the
``keypoint_head.`` prefix.
"""

import torch.nn as nn


class TopdownHeatmapHead(nn.Module):
    """(B, C, h, w) features -> (B, J, h·2^D, w·2^D) heatmaps, D = ``num_deconv`` stride-2 layers."""

    def __init__(self, in_channels, num_joints=17, num_deconv=2, deconv_channels=256):
        super().__init__()
        layers = []
        for _ in range(num_deconv):
            layers += [
                nn.ConvTranspose2d(in_channels, deconv_channels, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(deconv_channels),
                nn.ReLU(inplace=True),
            ]
            in_channels = deconv_channels
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(in_channels, num_joints, 1)

    def forward(self, x):
        return self.final_layer(self.deconv_layers(x))


class TopdownPoseModel(nn.Module):
    """(B, 3, 256, 192) crops -> (B, J, 64, 48) heatmaps: a ``backbone`` and its ``keypoint_head``,
    named as in mmpose's ``TopDown`` models so that their checkpoints load strictly."""

    def __init__(self, backbone, keypoint_head):
        super().__init__()
        self.backbone = backbone
        self.keypoint_head = keypoint_head

    def forward_features(self, x):
        return self.backbone(x)

    def forward_head(self, features):
        return self.keypoint_head(features)

    def forward(self, x):
        return self.forward_head(self.forward_features(x))
