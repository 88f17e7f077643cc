"""AGPM, attention-guided probabilistic masking (docs/method.md §4.2–4.3), and its baselines.

All functions work on a token grid (B, T', J') and return a bool mask, True = masked. Exactly
K = ⌊ρ · T' · J'⌋ tokens are masked per sequence; nothing here carries gradient.
"""

import torch


def _gumbel_top_k(logits, ratio, generator):
    """Mask of the K largest log-softmax(logits) + Gumbel noise per row: K draws without
    replacement with probability ∝ softmax(logits). logits (B, L) → bool (B, L)."""
    k = int(ratio * logits.shape[1])
    mask = torch.zeros_like(logits, dtype=torch.bool)
    if k == 0:
        return mask
    uniform = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=torch.float32)
    gumbel = -torch.log(-torch.log(uniform.clamp(1e-7, 1 - 1e-7)))  # Gumbel(0, 1), finite
    scores = torch.log_softmax(logits.float(), dim=1) + gumbel
    return mask.scatter_(1, scores.topk(k, dim=1).indices, True)


@torch.no_grad()
def agpm_mask(activation, ratio, tau, generator=None):
    """AGPM: activation (B, T', J') ≥ 0 → bool mask (B, T', J').

    Per sequence: â = a / max(a) ("Normalize"), π = softmax(â / τ) over all T'·J' tokens, then
    Gumbel-top-K: high-activation tokens are masked more often, but not deterministically.
    """
    flat = activation.detach().flatten(1).clamp_min(0)
    normalised = flat / flat.amax(dim=1, keepdim=True).clamp_min(1e-12)
    return _gumbel_top_k(normalised / tau, ratio, generator).view_as(activation)


@torch.no_grad()
def random_mask(shape, ratio, generator=None, device=None):
    """Uniform random masking of exactly ⌊ρ · T' · J'⌋ tokens per sequence (MotionBERT-R)."""
    batch, *grid = shape
    logits = torch.zeros(batch, int(torch.tensor(grid).prod()), device=device)
    return _gumbel_top_k(logits, ratio, generator).view(shape)


def mask_input(x, mask):
    """Input-level variant: zero x, y and score of masked entries. x (N, M, T, J, C), mask
    (N·M, T', J') on the token grid, repeated over the T / T' frames of each token."""
    n, m, frames = x.shape[:3]
    mask = mask.view(n, m, *mask.shape[1:])
    mask = mask.repeat_interleave(-(-frames // mask.shape[2]), dim=2)[:, :, :frames]
    return x.masked_fill(mask[..., None], 0.0)
