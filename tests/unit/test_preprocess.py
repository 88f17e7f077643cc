"""Preprocessing steps against small hand-computed examples (docs/method.md §2.3)."""

import numpy as np
import pytest

from conftest import make_annotation
from maskclr.data.joints import COCO_TO_H36M, coco_to_h36m, coco_to_h36m_scores
from maskclr.data.preprocess import make_cam, preprocess, resample_indices, select_persons


def test_resample_test_rule_hand_computed():
    # linspace(0, 10, 4, endpoint=False) = [0, 2.5, 5, 7.5] → floor
    assert resample_indices([10], 4, train=False).tolist() == [[0, 2, 5, 7]]
    # shorter than T: frames repeat
    assert resample_indices([3], 6, train=False).tolist() == [[0, 0, 1, 1, 2, 2]]


def test_resample_test_rule_equals_motionbert_linspace():
    for length in range(1, 300):
        expected = np.linspace(0, length, num=243, endpoint=False, dtype=int)
        assert (resample_indices([length], 243, train=False)[0] == expected).all(), length


def test_resample_train_rule_bins_and_rounding():
    rng = np.random.default_rng(0)
    idx = resample_indices([10] * 200, 4, train=True, rng=rng)
    for k, (lo, hi) in enumerate([(0, 2), (2, 5), (5, 7), (7, 9)]):  # bin [2.5k, 2.5(k+1)) → floor
        assert idx[:, k].min() >= lo and idx[:, k].max() <= hi
    assert len(np.unique(idx[:, 1])) > 1  # jitter is random
    # L = 3 < T = 6: even = [0, .5, 1, 1.5, 2, 2.5], each rounded down or up, clipped to L − 1
    short = resample_indices([3] * 200, 6, train=True, rng=rng)
    allowed = [{0}, {0, 1}, {1}, {1, 2}, {2}, {2}]
    for k, values in enumerate(allowed):
        assert set(np.unique(short[:, k])) <= values
    assert (np.diff(short, axis=1) >= 0).all()  # sorted


def test_make_cam_hand_computed():
    px = np.array([[0.0, 0.0], [1920, 1080], [960, 540]])
    np.testing.assert_allclose(make_cam(px, (1080, 1920)), [[-1, -1], [1, 0.125], [0, -0.4375]])
    # portrait video: the longer side is the height
    np.testing.assert_allclose(make_cam(np.array([[540.0, 960.0]]), (1920, 1080)), [[-0.4375, 0.0]])


def test_coco_to_h36m_mapping_hand_computed():
    coco = np.stack([np.arange(17.0), 10 * np.arange(17.0)], -1)  # joint j at (j, 10 j)
    h36m = coco_to_h36m(coco)[:, 0]
    expected = [11.5, 12, 14, 16, 11, 13, 15, 8.5, 5.5, 0, 1.5, 5, 7, 9, 6, 8, 10]
    np.testing.assert_allclose(h36m, expected)
    np.testing.assert_allclose(coco_to_h36m(coco)[:, 1], 10 * np.array(expected))
    assert np.allclose(COCO_TO_H36M.sum(1), 1)


def test_aligned_scores_take_the_minimum_of_the_sources():
    scores = coco_to_h36m_scores(np.arange(17.0) / 16)
    np.testing.assert_allclose(scores * 16, [11, 12, 14, 16, 11, 13, 15, 5, 5, 0, 1, 5, 7, 9, 6, 8, 10])


def two_person_switch():
    """Person A at x=100, B at x=1500; the file swaps their slots from frame 2 on."""
    a = np.full((17, 2), [100.0, 500.0])
    b = np.full((17, 2), [1500.0, 500.0])
    ann = make_annotation(persons=2, frames=4)
    ann["keypoint"] = np.stack([[a, a, b, b], [b, b, a, a]]).astype(np.float32)
    ann["keypoint_score"] = np.stack([np.full((4, 17), 0.9), np.full((4, 17), 0.5)]).astype(np.float32)
    return ann


@pytest.mark.parametrize("score_channel", ["motionbert", "aligned"])
def test_two_person_tracking_swaps_back(score_channel):
    out = preprocess([two_person_switch()], 4, train=False, score_channel=score_channel)[0]
    x_a = 100 / 1920 * 2 - 1
    np.testing.assert_allclose(out[0, :, :, 0], x_a, atol=1e-6)  # person 0 is A in every frame
    np.testing.assert_allclose(out[1, :, :, 0], 1500 / 1920 * 2 - 1, atol=1e-6)
    # Slot 0 of the file scores 0.9 in every frame, slot 1 scores 0.5. MotionBERT's quirk keeps
    # scores in the file's slot order; "aligned" makes them follow person A to slot 1 at frame 2.
    expected = [0.9] * 4 if score_channel == "motionbert" else [0.9, 0.9, 0.5, 0.5]
    np.testing.assert_allclose(out[0, :, 0, 2], expected, atol=1e-6)


def test_score_channel_quirk_on_and_off():
    ann = make_annotation(frames=3)
    ann["keypoint_score"][:] = np.arange(17) / 16
    quirk = preprocess([ann], 3, train=False, score_channel="motionbert")[0, 0, 0, :, 2]
    fixed = preprocess([ann], 3, train=False, score_channel="aligned")[0, 0, 0, :, 2]
    np.testing.assert_allclose(quirk, np.arange(17) / 16)  # COCO order next to H36M joints
    np.testing.assert_allclose(fixed * 16, [11, 12, 14, 16, 11, 13, 15, 5, 5, 0, 1, 5, 7, 9, 6, 8, 10])


def test_padding_single_person_with_zeros():
    out = preprocess([make_annotation(persons=1, frames=5)], 8, train=False)
    assert out.shape == (1, 2, 8, 17, 3) and out.dtype == np.float32
    assert (out[0, 1] == 0).all() and (out[0, 0, ..., 2] > 0).all()


def test_more_than_two_persons_keeps_the_two_highest_scores_in_order():
    ann = make_annotation(persons=3, frames=4)
    ann["keypoint_score"] = np.stack([np.full((4, 17), s) for s in (0.8, 0.1, 0.6)]).astype(np.float32)
    kp, sc = select_persons(ann["keypoint"], ann["keypoint_score"])
    np.testing.assert_array_equal(kp, ann["keypoint"][[0, 2]])
    out = preprocess([ann], 4, train=False, score_channel="aligned")
    np.testing.assert_allclose(out[0, :, 0, 0, 2], [0.8, 0.6], atol=1e-6)


def test_no_person_gives_zeros():
    ann = make_annotation(frames=4)
    ann["keypoint"], ann["keypoint_score"] = ann["keypoint"][:0], ann["keypoint_score"][:0]
    assert (preprocess([ann], 4, train=False) == 0).all()


def test_batch_equals_one_by_one():
    anns = [make_annotation(persons=1 + i % 2, frames=5 + 7 * i, seed=i) for i in range(6)]
    batch = preprocess(anns, 16, train=False)
    for i, ann in enumerate(anns):
        np.testing.assert_allclose(batch[i], preprocess([ann], 16, train=False)[0], atol=1e-6)


def test_train_rule_is_seeded():
    anns = [make_annotation(frames=50 + i, seed=i) for i in range(4)]
    first = preprocess(anns, 16, True, np.random.default_rng(3))
    np.testing.assert_array_equal(first, preprocess(anns, 16, True, np.random.default_rng(3)))
    assert not np.array_equal(first, preprocess(anns, 16, True, np.random.default_rng(4)))


def test_matches_motionbert_structured_reference(repo):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench", repo / "benchmarks" / "preprocess.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    anns = bench.random_annotations(40)
    out = preprocess(anns, 64, train=False)
    np.testing.assert_allclose(out, bench.preprocess_per_sample(anns, 64), atol=1e-5)
    np.testing.assert_allclose(out, bench.preprocess_loop(anns, 64), atol=1e-5)
