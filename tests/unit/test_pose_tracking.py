"""NTU post-processing on synthetic per-frame detections with known answers."""

import numpy as np
import pytest

from maskclr.errors import InputError
from maskclr.poses.tracking import max_persons, remove_duplicates, track_poses

# A standing person's COCO-17 joints relative to the hip centre, in pixels (y down).
TEMPLATE = np.array(
    [
        [0, -160],
        [-6, -166],
        [6, -166],
        [-12, -162],
        [12, -162],
        [-25, -130],
        [25, -130],
        [-32, -90],
        [32, -90],
        [-35, -50],
        [35, -50],
        [-15, 0],
        [15, 0],
        [-16, 60],
        [16, 60],
        [-17, 120],
        [17, 120],
    ],
    dtype=float,
)


def person(x, y=300.0, height=1.0, score=0.9):
    """A (17, 3) pose with its hip centre at (x, y), scaled by ``height``."""
    return np.concatenate([TEMPLATE * height + [x, y], np.full((17, 1), score)], axis=1)


def test_crossing_persons_keep_their_identity():
    # A walks right, B (taller) walks left; they pass each other between frames 10 and 11, where
    # matching on the last pose alone would swap them (A's new pose is nearer B's last one).
    frames = 20
    a = [person(100 + 20 * t) for t in range(frames)]
    b = [person(510 - 20 * t, height=1.1) for t in range(frames)]
    detections = [np.stack([b[t], a[t]] if t % 2 else [a[t], b[t]]) for t in range(frames)]
    keypoint, score = track_poses(detections, persons=2)
    assert keypoint.shape == (2, frames, 17, 2) and score.shape == (2, frames, 17)
    truth = {"a": np.stack(a)[..., :2], "b": np.stack(b)[..., :2]}
    first = "a" if np.allclose(keypoint[0, 0], truth["a"][0]) else "b"
    second = "b" if first == "a" else "a"
    np.testing.assert_allclose(keypoint[0], truth[first], atol=1e-4)
    np.testing.assert_allclose(keypoint[1], truth[second], atol=1e-4)


@pytest.mark.parametrize(
    "label, rule, expected",
    [
        (0, "ntu60", 1),
        (48, "ntu60", 1),
        (49, "ntu60", 2),
        (59, "ntu60", 2),
        (60, "ntu120", 1),
        (105, "ntu120", 2),
        (119, "ntu120", 2),
        (7, "none", None),
    ],
)
def test_persons_by_class(label, rule, expected):
    assert max_persons(label, rule) == expected


def test_bad_label_or_rule_is_an_input_error():
    with pytest.raises(InputError, match="label.*105.*ntu60"):
        max_persons(105, "ntu60", "item 'S001A106'")
    with pytest.raises(InputError, match="max_persons_rule"):
        max_persons(0, "kinetics")


def test_keeps_the_most_confident_persons():
    frames = 8
    detections = [
        np.stack([person(100, score=0.5), person(400, score=0.9), person(700, score=0.7)]) for _ in range(frames)
    ]
    one, _ = track_poses(detections, persons=1)
    two, _ = track_poses(detections, persons=2)
    every, _ = track_poses(detections, persons=None)
    assert one.shape[0] == 1 and np.allclose(one[0, :, 11:13, 0].mean(), 400)
    assert two.shape[0] == 2 and np.allclose(two[:, :, 11:13, 0].mean(axis=(1, 2)), [400, 700])
    assert every.shape[0] == 3


def test_brief_spurious_track_is_removed_even_if_confident():
    frames = 20
    detections = [
        np.stack([person(300, score=0.6)] + ([person(900, score=0.99)] if t == 7 else [])) for t in range(frames)
    ]
    keypoint, score = track_poses(detections, persons=None)
    assert keypoint.shape[0] == 1 and np.allclose(keypoint[0, :, 11:13, 0].mean(), 300)


def test_missing_frames_and_joints_are_zero():
    frames = 12
    detections = []
    for t in range(frames):
        pose = person(200 + 5 * t)
        pose[[3, 4], 2] = 0  # ears not found
        detections.append(pose[None] if t not in (5, 6, 7) else np.zeros((0, 17, 3)))
    keypoint, score = track_poses(detections, persons=1)
    assert keypoint.shape == (1, frames, 17, 2)  # one track across the 3-frame gap
    assert (keypoint[0, 5:8] == 0).all() and (score[0, 5:8] == 0).all()
    assert (keypoint[0, :, [3, 4]] == 0).all() and (score[0, :, [3, 4]] == 0).all()
    np.testing.assert_allclose(keypoint[0, 8, 0], [240, 140])
    assert (score[0, 8, [0, 5, 16]] == np.float32(0.9)).all()


def test_no_detection_gives_no_person():
    keypoint, score = track_poses([np.zeros((0, 17, 3))] * 4, persons=1)
    assert keypoint.shape == (0, 4, 17, 2) and score.shape == (0, 4, 17)


def test_remove_duplicates():
    boxes = np.array(
        [
            [0, 0, 100, 200, 0.9],  # a person
            [10, 10, 90, 190, 0.8],  # inside it, lower score: duplicate
            [5, 5, 95, 195, 0.95],  # 85 % of the first inside it, higher score: the first goes
            [300, 0, 400, 200, 0.6],
        ]
    )  # elsewhere: kept
    assert remove_duplicates(boxes).tolist() == [2, 3]
    assert remove_duplicates(boxes[[0, 1, 3]]).tolist() == [0, 2]
