"""Scaled dot-product attention shared by the backbones.

``attend`` runs PyTorch's fused ``scaled_dot_product_attention`` unless the caller needs the
attention probabilities (AGPM reads them from one layer only) or ``explicit_attention()`` is
active (tests and benchmarks compare both paths).
"""

import contextlib

import torch
import torch.nn.functional as F

_explicit = False


@contextlib.contextmanager
def explicit_attention():
    """Within this block ``attend`` computes softmax(QKᵀ/√d)V explicitly (reference path)."""
    global _explicit
    previous, _explicit = _explicit, True
    try:
        yield
    finally:
        _explicit = previous


def attend(q, k, v, return_probs=False):
    """Attention of q, k, v (..., L, d) → (out (..., L, d), probs (..., L, L) or None).

    Probabilities are computed in fp32 (rows are queries, softmax over keys).
    """
    if not (return_probs or _explicit):
        return F.scaled_dot_product_attention(q, k, v), None
    scores = (q.float() @ k.float().transpose(-2, -1)) * q.shape[-1] ** -0.5
    probs = scores.softmax(dim=-1)
    return (probs.to(v.dtype) @ v), (probs if return_probs else None)
