"""Simulated pose estimators: ground-truth 2D skeletons degraded by a quality profile.

The synthetic dataset has exact 2D ground truth. A simulated estimator corrupts it the way a
real 2D estimator errs, with one ``QualityProfile`` per quality tier (hq/mq/lq in config). In
the order applied, per person track:

- ``box_jitter_px``: one offset per frame shared by all joints (detector box jitter), N(0, σ²);
- ``noise_px``: i.i.d. N(0, σ²) per joint, frame and coordinate (frame-to-frame jitter);
- ``drift_px``: a slow localisation error per joint and coordinate, N(0, σ²) in every frame but
  correlated over ``drift_frames`` frames (a stationary AR(1), correlation exp(−1/drift_frames)
  between neighbouring frames): a real estimator errs alike on similar neighbouring frames, so
  most of its error moves slowly, and white jitter of the same size is what it rarely produces;
- ``swap_rate``: probability per frame of a left/right confusion (all COCO left/right pairs);
- ``miss_rate``: probability per joint and frame of a miss: coordinates (0, 0) and score 0;
- ``drop_person_rate``: probability per person and frame that the person is not detected;
- ``drop_frame_rate``: probability per frame that nobody is detected;
- ``spurious_rate``: probability per sample of one extra low-score track (a background person:
  a shrunken, shifted copy of a real person over a random span of frames), appended last.

Scores are meaningful: a detected joint gets ``base_score · exp(−½ (err / score_scale_px)²)``
plus N(0, 0.03²) noise, clipped to [0.01, 1], where err is its real pixel error, so swaps, jitter
and noise all lower the score. Joints outside the image in the ground truth stay missed.
"""

from dataclasses import dataclass, fields

import numpy as np

from maskclr.data.joints import COCO_FLIP_PAIRS
from maskclr.poses.base import PoseEstimator

_FLIP = np.arange(17)
for _left, _right in COCO_FLIP_PAIRS:
    _FLIP[[_left, _right]] = _right, _left


@dataclass(frozen=True)
class QualityProfile:
    """How a simulated estimator errs; see the module docstring for each field's meaning."""

    noise_px: float = 2.0
    drift_px: float = 0.0
    drift_frames: float = 10.0
    box_jitter_px: float = 1.0
    swap_rate: float = 0.0
    miss_rate: float = 0.0
    drop_person_rate: float = 0.0
    drop_frame_rate: float = 0.0
    spurious_rate: float = 0.0
    base_score: float = 0.95
    score_scale_px: float = 10.0


def drift(rng, shape, sigma, frames):
    """(P, T, J, 2) stationary AR(1) noise along T: N(0, sigma²) in every frame, correlation
    a = exp(−1/frames) between neighbouring frames (e_t = a·e_{t−1} + √(1 − a²)·w_t)."""
    a = np.exp(-1.0 / frames)
    steps = rng.normal(0, sigma, shape)
    steps[:, 1:] *= np.sqrt(1.0 - a * a)
    for t in range(1, shape[1]):
        steps[:, t] += a * steps[:, t - 1]
    return steps


class SimulatedEstimator(PoseEstimator):
    """Degrades the ground truth of a synthetic source item according to a ``QualityProfile``."""

    def __init__(self, **profile):
        known = {f.name for f in fields(QualityProfile)}
        unknown = set(profile) - known
        if unknown:
            raise TypeError(f"unknown quality-profile keys {sorted(unknown)} (known: {sorted(known)})")
        self.profile = QualityProfile(**profile)

    def estimate(self, item, rng):
        p = self.profile
        truth, visible = item["keypoint"].astype(np.float64), item["keypoint_score"] > 0
        persons, frames = truth.shape[:2]
        est = truth + rng.normal(0, p.box_jitter_px, (persons, frames, 1, 2))
        est += rng.normal(0, p.noise_px, est.shape)
        if p.drift_px:  # drawn only when asked for, so profiles without drift keep their bytes
            est += drift(rng, est.shape, p.drift_px, p.drift_frames)
        swap = rng.random((persons, frames)) < p.swap_rate
        est[swap] = est[swap][:, _FLIP]
        err = np.linalg.norm(est - truth, axis=-1)
        score = p.base_score * np.exp(-0.5 * (err / p.score_scale_px) ** 2) + rng.normal(0, 0.03, err.shape)
        detected = visible & (rng.random(visible.shape) >= p.miss_rate)
        detected &= (rng.random((persons, frames)) >= p.drop_person_rate)[..., None]
        detected &= (rng.random(frames) >= p.drop_frame_rate)[None, :, None]
        keypoint, score = self._spurious(est * detected[..., None], np.clip(score, 0.01, 1) * detected, rng)
        return {
            "keypoint": keypoint.astype(np.float32),
            "keypoint_score": score.astype(np.float32),
            "img_shape": tuple(item["img_shape"]),
        }

    def _spurious(self, keypoint, score, rng):
        """Append, with probability ``spurious_rate``, one low-score background track."""
        if rng.random() >= self.profile.spurious_rate:
            return keypoint, score
        frames = keypoint.shape[1]
        start = rng.integers(0, frames)
        span = slice(start, rng.integers(start + 1, frames + 1))
        source = keypoint[rng.integers(0, keypoint.shape[0])]
        extra = np.zeros_like(source)
        extra[span] = source[span] * rng.uniform(0.4, 0.7) + rng.uniform(100, 600, 2)
        extra_score = np.zeros(score.shape[1:])
        extra_score[span] = rng.uniform(0.05, 0.3, (span.stop - span.start, 17))
        extra_score *= (source != 0).any(-1)
        extra *= (extra_score > 0)[..., None]
        return np.concatenate([keypoint, extra[None]]), np.concatenate([score, extra_score[None]])
