"""Token masks for masked pretraining: exactly K tokens per sequence, drawn ∝ a weight.

Masks are bool (B, L) over the flattened token grid (L = T'·J'), True = masked. Nothing here
carries gradient.
"""

import torch


def masked_count(tokens, ratio):
    """K, the tokens masked out of ``tokens`` at ``ratio``, counted as MAE / MAMP do: the visible
    int(L·(1 − ρ)) tokens are rounded down, so K = L − int(L·(1 − ρ)) (676 of 750 at ρ = 0.9,
    since 750·(1 − 0.9) is 74.99… in floating point)."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"mask ratio must be in [0, 1), got {ratio}")
    return tokens - int(tokens * (1 - ratio))


@torch.no_grad()
def sample_mask(logits, ratio, generator=None):
    """logits (B, L) → bool (B, L) with exactly K = ``masked_count(L, ratio)`` True per row.

    The K tokens are drawn without replacement with probability ∝ softmax(logits): the K
    largest log-softmax(logits) + Gumbel(0, 1) noise (MAMP's "gumble" argsort).
    """
    k = masked_count(logits.shape[1], ratio)
    uniform = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=torch.float32)
    gumbel = -torch.log(-torch.log(uniform.clamp(1e-7, 1 - 1e-7)))  # finite Gumbel(0, 1)
    scores = torch.log_softmax(logits.float(), dim=1) + gumbel
    mask = torch.zeros(logits.shape, dtype=torch.bool, device=logits.device)
    return mask.scatter_(1, scores.topk(k, dim=1).indices, True)


def uniform_mask(batch, tokens, ratio, generator=None, device=None):
    """Uniform random masking (MAE, SkeletonMAE): bool (batch, tokens), exactly K True per row."""
    return sample_mask(torch.zeros(batch, tokens, device=device), ratio, generator)
