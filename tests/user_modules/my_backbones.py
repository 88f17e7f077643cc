"""A backbone of a user's own, outside the package: the tests register it by its class
(``backbones.<name>.class: "my_backbones:TokenMLP"``) from the working directory or PYTHONPATH."""

import torch
import torch.nn as nn

from maskclr.models.base import Backbone


class TokenMLP(Backbone):
    """Each token (frame, joint) embedded alone, then mixed with its frame's mean: (B, T, J, C_in) → (B, T, J, dim)."""

    def __init__(self, dim_in=3, dim=8):
        super().__init__()
        self.dim_rep = self.mask_dim = dim
        self.embed = nn.Linear(dim_in, dim)
        self.mix = nn.Linear(2 * dim, dim)

    def forward_features(self, x, mask=None, mask_token=None, return_activation=False):
        tokens = self.embed(x)
        if mask is not None:
            tokens = torch.where(mask[..., None], mask_token.to(tokens.dtype), tokens)
        context = tokens.mean(dim=2, keepdim=True).expand_as(tokens)
        rep = torch.tanh(self.mix(torch.cat([tokens, context], dim=-1)))
        activation = rep.detach().float().norm(dim=-1) if return_activation else None
        return rep, activation
