"""Scaled dot-product attention shared by the backbones.

``attend`` runs PyTorch's fused ``scaled_dot_product_attention`` on GPUs (flash or
memory-efficient kernels). On CPU, PyTorch 2.13's SDPA falls back to a generic math path with
extra checks that measured 10–25 % slower than the explicit softmax(QKᵀ/√d)V for these shapes
(benchmarks/train_step.py), so the explicit form runs there. The explicit form also runs when
the caller needs the attention probabilities (AGPM reads them from one layer only).
``fused_attention()`` and ``explicit_attention()`` force one path (tests and benchmarks).
"""

import contextlib

import torch.nn.functional as F

_forced = None  # None: by device; "fused" or "explicit": forced


@contextlib.contextmanager
def _force(path):
    global _forced
    previous, _forced = _forced, path
    try:
        yield
    finally:
        _forced = previous


def explicit_attention():
    """Within this block ``attend`` computes softmax(QKᵀ/√d)V explicitly (reference path)."""
    return _force("explicit")


def fused_attention():
    """Within this block ``attend`` uses SDPA on every device (unless probabilities are needed)."""
    return _force("fused")


def attend(q, k, v, return_probs=False):
    """Attention of q, k, v (..., L, d) → (out (..., L, d), probs (..., L, L) or None).

    Probabilities are computed in fp32 (rows are queries, softmax over keys).
    """
    fused = _forced == "fused" or (_forced is None and q.is_cuda)
    if fused and not return_probs:
        return F.scaled_dot_product_attention(q, k, v), None
    scores = (q.float() @ k.float().transpose(-2, -1)) * q.shape[-1] ** -0.5
    probs = scores.softmax(dim=-1)
    return (probs.to(v.dtype) @ v), (probs if return_probs else None)
