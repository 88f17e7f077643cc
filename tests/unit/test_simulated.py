"""The simulated estimators' slow localisation error (drift): its scale, its correlation over time,
and what it changes in an estimate."""

import numpy as np

from maskclr.poses.simulated import SimulatedEstimator, drift


def lag_correlation(x, lag):
    """Correlation between frames t and t + lag of x (P, T, J, 2), pooled over everything else."""
    a, b = x[:, :-lag].ravel(), x[:, lag:].ravel()
    return float(np.corrcoef(a, b)[0, 1])


def test_drift_is_stationary_with_the_set_scale_and_correlation_time():
    x = drift(np.random.default_rng(0), (400, 60, 17, 2), sigma=3.0, frames=10.0)
    a = np.exp(-1 / 10)
    assert abs(x[:, 0].std() - 3.0) < 0.06 and abs(x[:, -1].std() - 3.0) < 0.06  # the first frame too
    assert abs(lag_correlation(x, 1) - a) < 0.01
    assert abs(lag_correlation(x, 10) - a**10) < 0.02  # e^-1 at the correlation time


def test_drift_moves_slowly_where_white_noise_of_the_same_size_jitters():
    """Same total error per joint; the frame-to-frame jitter is √(2(1 − a)) times the error."""
    truth = np.zeros((1, 200, 17, 2))
    truth[..., 0], truth[..., 1] = 500.0, 400.0
    item = {"keypoint": truth, "keypoint_score": np.ones((1, 200, 17)), "img_shape": (1080, 1920)}

    def error(**profile):
        est = SimulatedEstimator(box_jitter_px=0.0, **profile).estimate(item, np.random.default_rng(1))
        return est["keypoint"] - truth

    white, slow = error(noise_px=4.0), error(noise_px=0.0, drift_px=4.0, drift_frames=20.0)
    assert abs(white.std() - slow.std()) < 0.4
    jitter = np.diff(slow, axis=1).std() / np.diff(white, axis=1).std()
    assert abs(jitter - np.sqrt(1 - np.exp(-1 / 20))) < 0.05
