"""Layers shared by the transformer backbones (parameter names as MotionBERT's and timm's)."""

import torch.nn as nn

from maskclr.models.attention import attend


class MLP(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head self-attention over axis −2 of (..., L, C): the joints of a frame (spatial)
    or, on a transposed input, the frames of a joint (temporal)."""

    def __init__(self, dim, num_heads, qkv_bias=True):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, return_probs=False):
        *batch, length, dim = x.shape
        # qkv channels are ordered (3, heads, head_dim), as MotionBERT's reshape expects.
        qkv = self.qkv(x).reshape(*batch, length, 3, self.num_heads, dim // self.num_heads)
        q, k, v = qkv.movedim(-3, 0).transpose(-3, -2)  # each (..., H, L, d)
        out, probs = attend(q, k, v, return_probs)
        return self.proj(out.transpose(-3, -2).reshape(*batch, length, dim)), probs
