"""Reconstruction targets and the masked loss shared by the pretraining methods."""

import torch.nn.functional as F


def patchify(x, t_patch):
    """x (B, T, J, C) → (B, T'·J, t_patch·C): each token's t_patch frames of one joint, frame-major
    (MAMP's order), T zero-padded at the end to T' = ⌈T / t_patch⌉ patches as the Transformer's
    embedding pads it."""
    b, t, j, c = x.shape
    x = F.pad(x, (0, 0, 0, 0, 0, -t % t_patch))
    return x.reshape(b, -1, t_patch, j, c).transpose(2, 3).reshape(b, -1, t_patch * c)


def motion(x, stride=1):
    """Frame differences x[t + s] − x[t] (B, T, J, C); the last s frames have no successor and are 0."""
    out = x.new_zeros(x.shape)
    out[:, :-stride] = x[:, stride:] - x[:, :-stride]
    return out


def normalize_tokens(target, eps=1e-6):
    """Each token's values (B, L, P) to zero mean and unit variance (unbiased, as MAMP's ``norm_skes_loss``)."""
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, keepdim=True)
    return (target - mean) / (var + eps).sqrt()


def masked_mse(pred, target, mask):
    """Mean squared error per token (B, L, P) → (B, L), averaged over the masked tokens only (mask (B, L) bool)."""
    per_token = (pred - target).square().mean(dim=-1)
    weights = mask.to(per_token.dtype)
    return (per_token * weights).sum() / weights.sum()
