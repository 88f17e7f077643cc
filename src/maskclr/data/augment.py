"""Per-item augmentations of MotionBERT (docs/method.md §2.3 steps 7–8) on one (M, T, J, 3) sample.

Channels are (x, y, score). Both functions take an explicit numpy ``Generator`` so that a
sample's augmentation depends only on (seed, epoch, index), whatever the DataLoader workers do.
"""

import numpy as np


def random_move(motion, rng, angle=(-10.0, 10.0), scale=(0.9, 1.1), shift=(-0.1, 0.1)):
    """Smoothly varying 2D similarity transform of channels 0–1, as MotionBERT's ``random_move``.

    Rotation (degrees), isotropic scale and x/y translation are drawn uniformly at the first and
    the last frame and interpolated linearly in between; all persons get the same transform (so a
    zero-padded person becomes non-zero, as in MotionBERT). motion (M, T, J, 3) → same shape.
    Returns a new array: MotionBERT writes into the stored sample, which only its per-epoch
    DataLoader worker processes keep from compounding.
    """
    frames = motion.shape[1]
    ends = np.stack([rng.uniform(*angle, 2), rng.uniform(*scale, 2), rng.uniform(*shift, 2), rng.uniform(*shift, 2)])
    a, s, tx, ty = (np.linspace(lo, hi, frames) for lo, hi in ends)
    a = np.deg2rad(a)
    cos, sin = np.cos(a) * s, np.sin(a) * s  # (T,)
    x, y = motion[..., 0], motion[..., 1]  # (M, T, J)
    out = motion.copy()
    out[..., 0] = cos[:, None] * x - sin[:, None] * y + tx[:, None]
    out[..., 1] = sin[:, None] * x + cos[:, None] * y + ty[:, None]
    return out


def crop_scale(motion, ratio):
    """Normalise a sample to its own box, as MotionBERT's ``crop_scale``. motion (..., J, 3).

    The box covers every entry with score ≠ 0; its side is max(width, height) · ``ratio`` and it is
    centred on the valid entries. Coordinates map to ((p − origin) / side − 0.5) · 2 and every
    channel is clipped to [−1, 1]. Fewer than 4 valid entries, or a zero side, give all zeros.
    """
    valid = motion[motion[..., 2] != 0][:, :2]
    if len(valid) < 4:
        return np.zeros_like(motion)
    lo, hi = valid.min(axis=0), valid.max(axis=0)
    side = (hi - lo).max() * ratio
    if side == 0:
        return np.zeros_like(motion)
    origin = (lo + hi - side) / 2
    out = motion.copy()
    out[..., :2] = ((motion[..., :2] - origin) / side - 0.5) * 2
    return np.clip(out, -1, 1)
