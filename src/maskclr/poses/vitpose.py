"""ViTPose (Xu et al., NeurIPS 2022): a plain ViT backbone and a deconvolution heatmap head.

Parameter names match the official ViTPose / mmpose 0.x checkpoints (``backbone.patch_embed.proj``,
``backbone.pos_embed``, ``backbone.blocks.N.attn.qkv``, ``backbone.last_norm``,
``keypoint_head.deconv_layers.*``, ``keypoint_head.final_layer``), so e.g.
``vitpose-b.pth`` loads strictly through ``maskclr.poses.weights.load_weights`` with
``mmpose_filter_fn``. Input (B, 3, 256, 192), ImageNet-normalised RGB; output (B, 17, 64, 48).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from maskclr.poses.heatmap_head import TopdownHeatmapHead, TopdownPoseModel

VARIANTS = {
    "s": dict(embed_dim=384, depth=12, num_heads=12),
    "b": dict(embed_dim=768, depth=12, num_heads=12),
    "l": dict(embed_dim=1024, depth=24, num_heads=16),
    "h": dict(embed_dim=1280, depth=32, num_heads=16),
}


class PatchEmbed(nn.Module):
    """(B, 3, H, W) -> (B, N, C) tokens and the (h, w) token grid.

    ViTPose pads the patch conv by 2, which still gives a 16×12 grid for 256×192 inputs."""

    def __init__(self, patch_size, embed_dim):
        super().__init__()
        self.proj = nn.Conv2d(3, embed_dim, patch_size, stride=patch_size, padding=2)

    def forward(self, x):
        x = self.proj(x)
        return x.flatten(2).transpose(1, 2), x.shape[2:]


class Attention(nn.Module):
    """Multi-head self-attention on (B, N, C) with one fused qkv projection."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-LN transformer block (ViTPose's LayerNorm eps is 1e-6)."""

    def __init__(self, dim, num_heads, mlp_ratio):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention(dim, num_heads)
        self.norm2, self.mlp = nn.LayerNorm(dim, eps=1e-6), Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """ViTPose's backbone: (B, 3, H, W) -> (B, C, H/16, W/16) feature map."""

    def __init__(self, img_size=(256, 192), patch_size=16, embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.0):
        super().__init__()
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        grid = (img_size[0] // patch_size) * (img_size[1] // patch_size)
        # One slot more than patches: the checkpoints keep a (pretraining) class-token position,
        # which ViTPose adds to every patch token instead of using a class token.
        self.pos_embed = nn.Parameter(torch.zeros(1, grid + 1, embed_dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.last_norm = nn.LayerNorm(embed_dim, eps=1e-6)

    def forward(self, x):
        tokens, (h, w) = self.patch_embed(x)
        tokens = tokens + self.pos_embed[:, 1:] + self.pos_embed[:, :1]
        for block in self.blocks:
            tokens = block(tokens)
        return self.last_norm(tokens).transpose(1, 2).reshape(x.shape[0], -1, h, w)


class ViTPose(TopdownPoseModel):
    """(B, 3, 256, 192) crops -> (B, num_joints, 64, 48) heatmaps."""

    def __init__(self, img_size=(256, 192), embed_dim=768, depth=12, num_heads=12, num_joints=17):
        super().__init__(
            ViT(img_size, embed_dim=embed_dim, depth=depth, num_heads=num_heads),
            TopdownHeatmapHead(embed_dim, num_joints, num_deconv=2),
        )


def create_model(variant="b", **overrides):
    """ViTPose of a named variant (s/b/l/h), with architecture ``overrides`` (e.g. depth=2 in tests)."""
    return ViTPose(**{**VARIANTS[variant], **overrides})
