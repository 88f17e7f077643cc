"""Robustness perturbations: noise statistics, part/joint occlusion and frame masking (docs/method.md §7.3–7.4)."""

import numpy as np
import pytest

from maskclr.data.joints import COCO_JOINTS, H36M_JOINTS
from maskclr.robustness.perturbations import (
    PART_NAMES,
    PARTS,
    add_noise,
    mask_frames,
    occlude_joints,
    occlude_part,
    occlude_random_joints,
)

IMG_SHAPE = (1080, 1920)
HALF_SIDE = 960.0  # max(H, W) / 2: pixels per make_cam unit
LAYOUT_JOINTS = {"h36m": 17, "coco": 17, "ntu25": 25}


def _rng(seed=0):
    return np.random.default_rng(seed)


def _centre_keypoints(m=2, t=200, j=17):
    """Pixel keypoints (m, t, j, 2) at the image centre, far from every clipping bound."""
    return np.full((m, t, j, 2), 540.0)


def _model_input(n=4, m=2, t=10, j=17, seed=1):
    """A random model input (n, m, t, j, 3) with no zero entries, so zeroing is detectable."""
    return _rng(seed).uniform(0.1, 1.0, (n, m, t, j, 3)).astype(np.float32)


# --- noise -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spatial", [False, True])
@pytest.mark.parametrize("sigma", [0.001, 0.01])
def test_noise_mean_and_std_in_make_cam_units(sigma, spatial):
    # Spatial noise has one draw per (person, joint, coordinate): use many persons and joints.
    kp = _centre_keypoints(m=200, t=3, j=100) if spatial else _centre_keypoints(m=2, t=500, j=100)
    noise = (add_noise(kp, IMG_SHAPE, sigma, _rng(), spatial=spatial) - kp) / HALF_SIDE
    draws = noise[:, 0] if spatial else noise  # spatial: frames are copies, count each draw once
    assert abs(draws.mean()) < 0.02 * sigma
    assert draws.std() == pytest.approx(sigma, rel=0.02)


def test_spatial_noise_is_constant_over_time_and_varies_across_joints_and_persons():
    kp = _centre_keypoints(m=2, t=50, j=17)
    noise = add_noise(kp, IMG_SHAPE, 0.01, _rng(), spatial=True) - kp
    assert (noise == noise[:, :1]).all()
    assert len(np.unique(noise[0, 0, :, 0])) == 17
    assert not np.allclose(noise[0], noise[1])


def test_spatiotemporal_noise_differs_across_frames():
    kp = _centre_keypoints(m=2, t=50, j=17)
    noise = add_noise(kp, IMG_SHAPE, 0.01, _rng()) - kp
    assert len(np.unique(noise[0, :, 0, 0])) == 50
    assert not np.allclose(noise[0], noise[1])


def test_noise_clips_to_the_make_cam_range_in_pixels():
    # Points on the border and missing joints at (0, 0), with large noise: many would leave.
    kp = np.zeros((2, 100, 17, 2))
    kp[:, :, 8:] = 1920.0
    out = add_noise(kp, IMG_SHAPE, 0.1, _rng())
    assert out.min() == 0.0 and out.max() == 1920.0
    assert ((out > 0) & (out < 1920)).any()  # missing joints get noise too
    assert (out[..., 1] > 1080).any()  # y shares x's bound: max(H, W), not H


def test_noise_sigma_zero_is_identity_even_out_of_range():
    kp = _rng().uniform(-50, 2500, (2, 10, 17, 2)).astype(np.float32)
    out = add_noise(kp, IMG_SHAPE, 0.0, _rng())
    assert out is not kp and out.dtype == kp.dtype
    np.testing.assert_array_equal(out, kp)


def test_noise_seeded_pure_and_keeps_dtype():
    kp = _centre_keypoints().astype(np.float32)
    before = kp.copy()
    a = add_noise(kp, IMG_SHAPE, 0.005, _rng(3))
    b = add_noise(kp, IMG_SHAPE, 0.005, _rng(3))
    c = add_noise(kp, IMG_SHAPE, 0.005, _rng(4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(kp, before)
    assert a.dtype == np.float32


def test_noise_rejects_negative_sigma():
    with pytest.raises(ValueError, match="sigma"):
        add_noise(_centre_keypoints(), IMG_SHAPE, -0.1, _rng())


# --- part occlusion --------------------------------------------------------------------------


def test_part_index_sets_by_hand():
    assert PART_NAMES == ("head", "left_arm", "right_arm", "left_leg", "right_leg")
    assert set(PARTS) == {"h36m", "coco", "ntu25"}
    assert all(tuple(parts) == PART_NAMES for parts in PARTS.values())
    assert PARTS["h36m"]["head"] == (9, 10)
    assert PARTS["h36m"]["left_arm"] == (11, 12, 13)
    assert PARTS["h36m"]["right_leg"] == (1, 2, 3)
    assert PARTS["coco"]["head"] == (0, 1, 2, 3, 4)
    assert PARTS["coco"]["left_leg"] == (11, 13, 15)
    assert PARTS["ntu25"]["head"] == (3,)
    assert PARTS["ntu25"]["left_arm"] == (4, 5, 6, 7, 21, 22)  # 1-based 5–8, 22, 23
    assert PARTS["ntu25"]["right_leg"] == (16, 17, 18, 19)


@pytest.mark.parametrize("layout, names", [("h36m", H36M_JOINTS), ("coco", COCO_JOINTS)])
def test_limb_sets_match_joint_names(layout, names):
    for part in PART_NAMES[1:]:
        side, limb = part.split("_")
        expected = ("shoulder", "elbow", "wrist") if limb == "arm" else ("hip", "knee", "ankle")
        assert tuple(names[i] for i in PARTS[layout][part]) == tuple(f"{side}_{e}" for e in expected)


@pytest.mark.parametrize("layout", sorted(PARTS))
@pytest.mark.parametrize("part", PART_NAMES)
def test_occlude_part_zeroes_exactly_the_part(layout, part):
    x = _model_input(j=LAYOUT_JOINTS[layout])
    before = x.copy()
    out = occlude_part(x, part, layout)
    joints = list(PARTS[layout][part])
    others = [j for j in range(x.shape[-2]) if j not in joints]
    assert (out[..., joints, :] == 0).all()
    np.testing.assert_array_equal(out[..., others, :], x[..., others, :])
    np.testing.assert_array_equal(x, before)


def test_part_sets_are_disjoint_and_in_range():
    for layout, parts in PARTS.items():
        flat = [j for part in parts.values() for j in part]
        assert len(flat) == len(set(flat))
        assert max(flat) < LAYOUT_JOINTS[layout]


def test_occlude_part_default_layout_is_h36m():
    x = _model_input()
    np.testing.assert_array_equal(occlude_part(x, "left_arm"), occlude_joints(x, (11, 12, 13)))


def test_occlude_joints_works_on_a_single_sample():
    x = _model_input()[0]  # (M, T, J, C)
    out = occlude_joints(x, (0, 16))
    assert (out[..., [0, 16], :] == 0).all() and (out[..., 1:16, :] == x[..., 1:16, :]).all()


def test_occlude_part_unknown_names():
    with pytest.raises(ValueError, match="left_arm"):
        occlude_part(_model_input(), "tail")
    with pytest.raises(ValueError, match="ntu25"):
        occlude_part(_model_input(), "head", layout="smpl")


# --- random joint occlusion ------------------------------------------------------------------


def _zeroed_joints(out):
    """Per sample, the joints zeroed in every person, frame and channel: bool (N, J)."""
    return (out == 0).all(axis=(1, 2, 4))


@pytest.mark.parametrize("fraction, count", [(0.15, 3), (0.30, 5), (0.45, 8), (0.60, 10)])
def test_random_joints_count_and_sharing(fraction, count):
    x = _model_input(n=50)
    before = x.copy()
    out = occlude_random_joints(x, fraction, _rng())
    zeroed = _zeroed_joints(out)
    assert (zeroed.sum(axis=1) == count).all()
    # Nothing else changed: untouched joints equal the input in every person and frame.
    keep = ~zeroed[:, None, None, :, None]
    np.testing.assert_array_equal(np.where(keep, out, 0), np.where(keep, x, 0))
    assert len({tuple(np.flatnonzero(row)) for row in zeroed}) > 1  # subsets differ across samples
    np.testing.assert_array_equal(x, before)


def test_random_joints_cover_all_joints_roughly_uniformly():
    zeroed = _zeroed_joints(occlude_random_joints(_model_input(n=2000, t=2), 0.30, _rng()))
    # Each joint is chosen with probability 5/17 ≈ 0.294.
    np.testing.assert_allclose(zeroed.mean(axis=0), 5 / 17, atol=0.04)


def test_random_joints_zero_fraction_and_seed():
    x = _model_input()
    out = occlude_random_joints(x, 0.0, _rng())
    assert out is not x
    np.testing.assert_array_equal(out, x)
    a = occlude_random_joints(x, 0.3, _rng(5))
    np.testing.assert_array_equal(a, occlude_random_joints(x, 0.3, _rng(5)))
    assert not np.array_equal(a, occlude_random_joints(x, 0.3, _rng(6)))


def test_random_joints_rejects_bad_fraction():
    with pytest.raises(ValueError, match="fraction"):
        occlude_random_joints(_model_input(), 1.5, _rng())


# --- frame masking ---------------------------------------------------------------------------


# 0.29 · 100 is 28.999… in floating point; the count must still be 29.
@pytest.mark.parametrize("fraction, t, count", [(0.5, 243, 121), (0.1, 243, 24), (1.0, 243, 243), (0.29, 100, 29)])
def test_mask_frames_count_and_untouched_rest(fraction, t, count):
    x = _model_input(n=6, t=t)
    before = x.copy()
    out = mask_frames(x, fraction, _rng())
    zeroed = (out == 0).all(axis=(1, 3, 4))  # (N, T): frame fully zeroed for both persons
    assert (zeroed.sum(axis=1) == count).all()
    for n in range(len(x)):  # every other frame is exactly the input
        np.testing.assert_array_equal(out[n][:, ~zeroed[n]], x[n][:, ~zeroed[n]])
    if 0 < count < t:
        assert len({tuple(np.flatnonzero(row)) for row in zeroed}) > 1
    np.testing.assert_array_equal(x, before)


def test_mask_frames_zero_fraction_and_seed():
    x = _model_input(t=243)
    out = mask_frames(x, 0.0, _rng())
    assert out is not x
    np.testing.assert_array_equal(out, x)
    a = mask_frames(x, 0.5, _rng(5))
    np.testing.assert_array_equal(a, mask_frames(x, 0.5, _rng(5)))
    assert not np.array_equal(a, mask_frames(x, 0.5, _rng(6)))
    assert a.dtype == np.float32
