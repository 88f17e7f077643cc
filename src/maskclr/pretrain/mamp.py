"""MAMP, masked motion prediction (Mao et al., ICCV 2023; docs/method.md §3.3), for the Transformer.

Masking is motion-aware: a token's motion is the mean |difference| of its patch from the
previous patch, π = softmax(motion / (τ · max motion)) per sequence, and K tokens are drawn ∝ π.
The decoder predicts, for every masked token, the motion x[t + s] − x[t] of its frames
(normalised per token), not the coordinates.
"""

import torch

from maskclr.pretrain.decoder import TokenDecoder
from maskclr.pretrain.masking import sample_mask
from maskclr.pretrain.model import VisibleTokenPretrainer
from maskclr.pretrain.targets import motion, patchify

# As MAMP's config/ntu60_xsub_joint/pretrain_mamp_t120_layer8+5_mask90.yaml.
DEFAULTS = {
    "transformer": {
        "mask_ratio": 0.9,
        "tau": 0.8,
        "motion_stride": 1,
        "decoder_dim": 256,
        "decoder_depth": 5,
        "decoder_heads": 8,
        "norm_target": True,
    }
}


def motion_logits(x, t_patch, tau):
    """x (B, T, J, C) → logits (B, T'·J) whose softmax is MAMP's masking distribution.

    Patch motion m = mean over a patch's t_patch·C values of |patch_t − patch_{t−1}|, the first
    patch taking the second's; logits m / (τ · max m) per sequence.
    """
    patches = patchify(x, t_patch)
    b, length, size = patches.shape
    patches = patches.view(b, -1, x.shape[2], size)
    if patches.shape[1] < 2:
        raise ValueError(f"motion-aware masking needs at least 2 temporal patches, got {patches.shape[1]}")
    moved = (patches[:, 1:] - patches[:, :-1]).abs().mean(dim=-1)
    moved = torch.cat([moved[:, :1], moved], dim=1).flatten(1)
    return moved / (moved.amax(dim=1, keepdim=True) * tau + 1e-10)


def motion_aware_mask(x, t_patch, ratio, tau, generator=None):
    """x (B, T, J, C) → bool (B, T'·J), exactly ``masked_count`` True per row, drawn ∝ softmax(motion logits)."""
    return sample_mask(motion_logits(x, t_patch, tau), ratio, generator)


def motion_target(x, t_patch, stride=1):
    """x (B, T, J, C) → (B, T'·J, t_patch·C): each token's frame-to-frame motion (before normalisation)."""
    return patchify(motion(x, stride), t_patch)


def build(encoder, mask_ratio, tau, motion_stride, decoder_dim, decoder_depth, decoder_heads, norm_target):
    """MAMP pretrainer around a ``Transformer`` encoder."""
    t_patch = encoder.t_patch
    decoder = TokenDecoder.for_encoder(encoder, decoder_dim, decoder_depth, decoder_heads)
    return VisibleTokenPretrainer(
        encoder,
        decoder,
        masking=lambda x, generator: motion_aware_mask(x, t_patch, mask_ratio, tau, generator),
        target=lambda x: motion_target(x, t_patch, motion_stride),
        norm_target=norm_target,
    )
