"""Vanilla transformer backbone: the MAMP / SkeletonMAE-style encoder (docs/method.md §3.3).

Each token is ``t_patch`` consecutive frames of one joint; all T'·J tokens attend to each other
in ``depth`` pre-LN blocks. Adapted to the project's (B, T, J, 3) 2D pipeline with any T up to
``maxlen``.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from maskclr.models.base import Backbone
from maskclr.models.layers import MLP, Attention
from maskclr.models.mamp_checkpoint import load_mamp_backbone


def drop_path(x, p, training):
    """Stochastic depth: zero whole samples of the residual branch x (B, ...) with probability p."""
    if p == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(1.0 - p)
    return x * keep / (1.0 - p)


class DropPath(nn.Module):
    def __init__(self, p=0.0):
        super().__init__()
        self.p = p

    def forward(self, x):
        return drop_path(x, self.p, self.training)


class Block(nn.Module):
    """Pre-LN encoder block: x + MHSA(LN(x)), then x + MLP(LN(x)), both with drop-path."""

    def __init__(self, dim, num_heads, mlp_ratio=4.0, drop_path=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, int(dim * mlp_ratio))
        self.drop_path = DropPath(drop_path)

    def forward(self, x, return_probs=False):
        """x (B, L, C) → (x (B, L, C), attention probs (B, H, L, L) or None)."""
        out, probs = self.attn(self.norm1(x), return_probs)
        x = x + self.drop_path(out)
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x, probs


class Transformer(Backbone):
    """(B, T, J, C_in) → (B, ceil(T / t_patch), J, dim) on a temporal-patch × joint token grid.

    ``maxlen`` is in frames; the temporal embedding has ceil(maxlen / t_patch) rows, of which the
    first T' are used. ``drop_path`` is the rate of the last block (linear from 0, as MAMP).
    """

    def __init__(
        self,
        dim_in=3,
        dim=256,
        depth=8,
        num_heads=8,
        mlp_ratio=4.0,
        num_joints=17,
        maxlen=243,
        t_patch=4,
        drop_path=0.0,
    ):
        super().__init__()
        self.dim_rep = self.mask_dim = dim
        self.t_patch = t_patch
        # A strided conv is a Linear over each joint's t_patch·C_in values (MAMP's SkeleEmbed).
        self.patch_embed = nn.Conv2d(dim_in, dim, kernel_size=(t_patch, 1), stride=(t_patch, 1))
        self.temp_embed = nn.Parameter(torch.zeros(1, math.ceil(maxlen / t_patch), 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1, num_joints, dim))
        rates = torch.linspace(0, drop_path, depth).tolist()
        self.blocks = nn.ModuleList(Block(dim, num_heads, mlp_ratio, rate) for rate in rates)
        self.norm = nn.LayerNorm(dim)
        nn.init.trunc_normal_(self.temp_embed, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.apply(init_weights)

    def token_grid(self, frames, joints):
        return math.ceil(frames / self.t_patch), joints

    def load_pretrained(self, path):
        """The backbone's checkpoint adapter (``maskclr.models.base``): a released MAMP checkpoint
        (its pretraining's or a fine-tuned one's encoder, loaded strictly; decoder and head dropped)."""
        load_mamp_backbone(self, path)

    def layer_id(self, name):
        """Depth of parameter ``name`` for layer-wise lr decay (``maskclr.models.layer_decay``),
        0 … depth + 1 (MAMP / BEiT): 0 the embeddings (patch_embed, temp_embed, pos_embed);
        i + 1 blocks.i; depth + 1 the rest (final norm).
        """
        if name.split(".")[0] in ("patch_embed", "temp_embed", "pos_embed"):
            return 0
        if name.startswith("blocks."):
            return int(name.split(".")[1]) + 1
        return len(self.blocks) + 1

    def embed(self, x):
        """x (B, T, J, C_in) → patch tokens (B, T', J, dim).

        T is zero-padded at the end to a multiple of t_patch: zero coordinates with score 0 are
        how the pipeline marks absent data, so the last patch sees "missing" rather than a
        repeated (motionless) frame.
        """
        pad = -x.shape[1] % self.t_patch
        x = F.pad(x, (0, 0, 0, 0, 0, pad)).permute(0, 3, 1, 2)
        return self.patch_embed(x).permute(0, 2, 3, 1)

    def tokens(self, x, mask=None, mask_token=None):
        """x (B, T, J, C_in) → embedded tokens (B, T', J, dim), positional embeddings added.

        mask (B, T', J) bool: tokens replaced by ``mask_token`` (dim,) before positional
        embeddings are added, so a masked token still says where it is.
        """
        x = self.embed(x)
        t = x.shape[1]
        if t > self.temp_embed.shape[1]:
            raise ValueError(f"{t} temporal patches exceed maxlen's {self.temp_embed.shape[1]}")
        if mask is not None:
            x = torch.where(mask[..., None], mask_token.to(x.dtype), x)
        return x + self.temp_embed[:, :t] + self.pos_embed

    def encode(self, x, return_probs=False):
        """Any token subset x (B, L, dim) → (normed x (B, L, dim), last block's probs (B, H, L, L) or None).

        MAE-style pretraining encodes only the visible tokens, fine-tuning all T'·J of them.
        """
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            # Only the layer AGPM reads pays for explicit probabilities.
            x, probs = block(x, return_probs=return_probs and i == last)
        return self.norm(x), probs

    def forward_features(self, x, mask=None, mask_token=None, return_activation=False):
        """x (B, T, J, C_in) → (rep (B, T', J, dim), activation (B, T', J) or None).

        mask (B, T', J) bool: tokens replaced by ``mask_token`` (dim,) before positional
        embeddings are added. activation: last block's attention, heads averaged, summed over
        queries (each sequence sums to L = T'·J).
        """
        x = self.tokens(x, mask, mask_token)
        b, t, j, c = x.shape
        x, probs = self.encode(x.reshape(b, t * j, c), return_probs=return_activation)
        rep = x.reshape(b, t, j, c)
        if not return_activation:
            return rep, None
        return rep, probs.mean(dim=1).sum(dim=1).reshape(b, t, j).detach()


def init_weights(m):
    """Xavier-uniform Linear weights with zero bias, unit LayerNorm (MAMP / JAX ViT)."""
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
