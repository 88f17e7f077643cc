"""Light decoders that predict each masked token's values from the encoder's output.

``TokenDecoder`` is MAE's / MAMP's: visible latents are projected, the masked places filled
with a learned token, and a small transformer with its own positional embeddings predicts
every token (parameter names as MAMP's ``decoder_*`` without the prefix). ``TupleDecoder`` does
the same for STTFormer with STA blocks on its tuple grid, since STTFormer's encoder keeps every
token (the masked ones hold the encoder's mask token).
"""

import torch
import torch.nn as nn

from maskclr.models.sttformer import STABlock, conv_bn
from maskclr.models.transformer import Block, init_weights


class TokenDecoder(nn.Module):
    """Visible latents (B, K_vis, C_enc) + mask (B, L) → predictions (B, L, dim_out), L = T'·J."""

    def __init__(self, dim_enc, dim, depth, num_heads, temporal_patches, num_joints, dim_out, mlp_ratio=4.0):
        super().__init__()
        self.embed = nn.Linear(dim_enc, dim)
        self.mask_token = nn.Parameter(torch.zeros(dim))
        self.temp_embed = nn.Parameter(torch.zeros(1, temporal_patches, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1, num_joints, dim))
        self.blocks = nn.ModuleList(Block(dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.pred = nn.Linear(dim, dim_out)
        for param in (self.mask_token, self.temp_embed, self.pos_embed):
            nn.init.trunc_normal_(param, std=0.02)
        self.apply(init_weights)

    @classmethod
    def for_encoder(cls, encoder, dim, depth, num_heads):
        """A decoder on ``encoder``'s (a ``Transformer``) token grid, predicting each token's t_patch·C_in values."""
        dim_out = encoder.t_patch * encoder.patch_embed.in_channels
        return cls(
            encoder.dim_rep, dim, depth, num_heads, encoder.temp_embed.shape[1], encoder.pos_embed.shape[2], dim_out
        )

    def forward(self, latent, mask, grid):
        """latent (B, K_vis, C_enc): the visible tokens in grid order; mask (B, L) bool; grid (T', J)."""
        b, length = mask.shape
        visible = self.embed(latent)
        # Visible latents go back to their places; the masked places hold the mask token.
        placed = visible.new_zeros(b, length, visible.shape[-1])
        placed[~mask] = visible.flatten(0, 1)
        x = torch.where(mask[..., None], self.mask_token.to(placed.dtype), placed)
        t, j = grid
        x = x.view(b, t, j, -1) + self.temp_embed[:, :t] + self.pos_embed
        x = x.flatten(1, 2)
        for block in self.blocks:
            x, _ = block(x)
        return self.pred(self.norm(x))


class TupleDecoder(nn.Module):
    """STTFormer representation (B, T, V, C_rep) → predictions (B, T·V, dim_out).

    A 1×1 conv to ``dim`` channels, ``depth`` STA blocks on the encoder's tuple grid
    (``len_parts`` frames per tuple), then a 1×1 conv to ``dim_out`` values per frame and joint.
    """

    def __init__(self, dim_rep, dim, depth, num_heads, len_parts, num_joints, dim_out):
        super().__init__()
        self.len_parts = len_parts
        self.embed = conv_bn(dim_rep, dim)
        self.blocks = nn.ModuleList(
            STABlock(dim, dim, max(dim // 4, 1), len_parts * num_joints, num_heads) for _ in range(depth)
        )
        self.pred = nn.Conv2d(dim, dim_out, 1)

    def forward(self, rep):
        b, t, v, _ = rep.shape
        x = self.embed(rep.permute(0, 3, 1, 2)).reshape(b, -1, t // self.len_parts, self.len_parts * v)
        for block in self.blocks:
            x, _ = block(x)
        return self.pred(x).reshape(b, -1, t * v).transpose(1, 2)
