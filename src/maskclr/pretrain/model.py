"""The two ways a pretraining method runs an encoder on a masked sequence.

Both take person-sequences x (B, T, J, C) (B = N·M), a ``masking`` callable
(x, generator) → bool (B, L) over the flattened token grid (True = masked, exactly K per
row) and a ``target`` callable x → (B, L, P), and return a ``PretrainOutput`` whose loss is the
mean squared error on the masked tokens only. The encoder is stored as ``encoder`` so that
``maskclr.pretrain.transfer`` finds every encoder weight under one prefix.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn

from maskclr.pretrain.targets import masked_mse, normalize_tokens


@dataclass
class PretrainOutput:
    loss: torch.Tensor  # scalar
    pred: torch.Tensor  # (B, L, P)
    target: torch.Tensor  # (B, L, P), normalised when the method normalises
    mask: torch.Tensor  # (B, L) bool


class _Pretrainer(nn.Module):
    def __init__(self, encoder, decoder, masking, target, norm_target):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.masking = masking
        self.target = target
        self.norm_target = norm_target

    def forward(self, x, generator=None):
        """x (B, T, J, C) → PretrainOutput."""
        mask = self.masking(x, generator)
        pred = self.predict(x, mask)
        target = self.target(x)
        if self.norm_target:
            target = normalize_tokens(target)
        return PretrainOutput(masked_mse(pred, target, mask), pred, target, mask)


class VisibleTokenPretrainer(_Pretrainer):
    """MAE-style, for the ``Transformer``: only the visible tokens pass through the encoder and a
    ``TokenDecoder`` fills in the rest (MAMP, and MAE / SkeletonMAE on the Transformer)."""

    def predict(self, x, mask):
        tokens = self.encoder.tokens(x)
        b, t, j, c = tokens.shape
        # Every row has the same number of visible tokens, so they stack in grid order.
        visible = tokens.flatten(1, 2)[~mask].view(b, -1, c)
        latent, _ = self.encoder.encode(visible)
        return self.decoder(latent, mask, (t, j))


class MaskTokenPretrainer(_Pretrainer):
    """For a backbone that keeps every token (STTFormer): masked tokens become a learned mask token
    right after the embedding, where MaskCLR's masked pathway puts its own, so the trained token
    can start the fine-tuned model's (it is named ``mask_token`` as ``ActionModel``'s)."""

    def __init__(self, encoder, decoder, masking, target, norm_target):
        super().__init__(encoder, decoder, masking, target, norm_target)
        self.mask_token = nn.Parameter(torch.zeros(encoder.mask_dim))
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def predict(self, x, mask):
        grid = self.encoder.token_grid(*x.shape[1:3])
        rep, _ = self.encoder.forward_features(x, mask=mask.view(-1, *grid), mask_token=self.mask_token)
        return self.decoder(rep)
