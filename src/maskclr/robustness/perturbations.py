"""Skeleton perturbations for the robustness suite (docs/method.md §7.3, index sets §7.4).

Two places in the pipeline are perturbed:

- Gaussian noise goes onto the raw PYSKL pixel keypoints, before preprocessing, with σ in
  make_cam units (1 unit = max(H, W)/2 px), as in the MaskCLR development code. On 3D NTU-25
  input (Kinect camera space) σ is in metres, also before preprocessing. At NTU's geometry
  (focal ≈ 1064 px at 2.8–4 m, a 1.7 m body ≈ 480 px tall) 1 make_cam unit ≈ 960 px ≈ 3.4 m,
  so the 2D grid σ ∈ [0, 0.01] corresponds to about 0–3.4 cm; Kinect v2's own joint jitter
  is about 1–2 cm, so a 3D grid reaching 0.03–0.05 m spans "below" to "well above" the
  sensor noise the models were trained with.
- Occlusion and frame masking zero entries (x, y and score) of the final model input
  (after crop_scale), which is backbone-agnostic.

Every function is pure: it returns a new array and leaves its input untouched. Random ones
take an explicit ``numpy.random.Generator``.
"""

import math

import numpy as np

PART_NAMES = ("head", "left_arm", "right_arm", "left_leg", "right_leg")

# 0-based joint indices per layout and body part. Arms and legs include the shoulder and hip;
# the head excludes the neck. "Left" is the subject's anatomical left.
PARTS = {
    "h36m": {
        "head": (9, 10),  # nose, head (mean of the eyes)
        "left_arm": (11, 12, 13),
        "right_arm": (14, 15, 16),
        "left_leg": (4, 5, 6),
        "right_leg": (1, 2, 3),
    },
    "coco": {
        "head": (0, 1, 2, 3, 4),  # nose, eyes, ears
        "left_arm": (5, 7, 9),
        "right_arm": (6, 8, 10),
        "left_leg": (11, 13, 15),
        "right_leg": (12, 14, 16),
    },
    "ntu25": {
        "head": (3,),
        "left_arm": (4, 5, 6, 7, 21, 22),  # shoulder, elbow, wrist, hand, hand tip, thumb
        "right_arm": (8, 9, 10, 11, 23, 24),
        "left_leg": (12, 13, 14, 15),  # hip, knee, ankle, foot
        "right_leg": (16, 17, 18, 19),
    },
}


def _check_fraction(fraction):
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")


def add_noise(keypoint, img_shape, sigma, rng, spatial=False):
    """Add Gaussian noise of std ``sigma`` to 2D pixel keypoints or (``img_shape`` None) 3D ones.

    2D: keypoint float (M, T, J, 2) pixels, as in a PYSKL annotation; img_shape (H, W) pixels;
    sigma in make_cam units, so the pixel std is sigma · max(H, W)/2. The result is clipped to
    make_cam [-1, 1], i.e. pixels [0, max(H, W)] for both x and y (make_cam divides both by the
    longer side). Missing joints at (0, 0) get noise too; that is harmless because crop_scale
    ignores entries whose score is 0.
    3D: keypoint float (M, T, J, 3) in metres, sigma in metres, no clipping; an absent skeleton
    (a person's frame of all zeros) stays zero, since zeros mark absence in the 3D pipeline.
    spatial=False (spatiotemporal): i.i.d. per person, frame, joint and coordinate.
    spatial=True: one offset per (person, joint, coordinate), shared by all frames.
    sigma = 0 returns an exact copy (no clipping). Returns an array of the input's shape and dtype.
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    if sigma == 0:
        return keypoint.copy()
    scale = 1.0 if img_shape is None else max(img_shape) / 2
    m, _, j, c = keypoint.shape
    shape = (m, 1, j, c) if spatial else keypoint.shape  # size-1 time axis broadcasts over frames
    noisy = keypoint + rng.normal(0.0, sigma * scale, shape)
    if img_shape is None:
        present = (keypoint != 0).any(axis=(-1, -2), keepdims=True)
        return np.where(present, noisy, 0).astype(keypoint.dtype)
    return np.clip(noisy, 0.0, 2 * scale).astype(keypoint.dtype)


def occlude_joints(x, joints):
    """Zero all channels of ``joints`` in x (..., J, C): every frame and person. Returns a copy."""
    out = x.copy()
    out[..., list(joints), :] = 0
    return out


def occlude_part(x, part, layout="h36m"):
    """Zero all channels of one body part (docs/method.md §7.4) in x (..., J, C); see ``PARTS``."""
    if layout not in PARTS:
        raise ValueError(f"unknown layout {layout!r}; known: {tuple(PARTS)}")
    if part not in PARTS[layout]:
        raise ValueError(f"unknown part {part!r}; known: {PART_NAMES}")
    return occlude_joints(x, PARTS[layout][part])


def _random_subsets(rng, n, size, k):
    """Boolean (n, size): each row marks k distinct positions, uniform, independent across rows."""
    # The first k columns of a row's argsort of i.i.d. uniforms form a uniform random k-subset.
    chosen = rng.random((n, size)).argsort(axis=1)[:, :k]
    mask = np.zeros((n, size), bool)
    np.put_along_axis(mask, chosen, True, axis=1)
    return mask


def occlude_random_joints(x, fraction, rng):
    """Zero round(fraction · J) random joints per sample of x (N, M, T, J, C), all channels.

    Each sample draws its own subset uniformly without replacement; the subset is shared by
    its persons and frames (a fixed subset per sequence, docs/method.md Q9). Python's ``round``
    (half to even) sets the count: 15/30/45/60 % of 17 joints → 3/5/8/10. Returns a copy.
    """
    _check_fraction(fraction)
    n, j = x.shape[0], x.shape[-2]
    mask = _random_subsets(rng, n, j, round(fraction * j))
    mask = mask.reshape((n,) + (1,) * (x.ndim - 3) + (j, 1))  # broadcast over M, T and C
    return np.where(mask, x.dtype.type(0), x)


def mask_frames(x, fraction, rng):
    """Zero floor(fraction · T) random frames per sample of x (N, M, T, J, C).

    A masked frame loses every person, joint and channel. Each sample draws its own frames
    uniformly without replacement (50 % of 243 → 121). Returns a copy.
    """
    _check_fraction(fraction)
    n, t = x.shape[0], x.shape[-3]
    # The epsilon keeps products such as 0.29 · 100 = 28.999… from flooring one frame short.
    count = math.floor(fraction * t + 1e-9)
    mask = _random_subsets(rng, n, t, count)
    mask = mask.reshape((n,) + (1,) * (x.ndim - 4) + (t, 1, 1))  # broadcast over M, J and C
    return np.where(mask, x.dtype.type(0), x)
