"""The embedded synthetic NTU-like dataset: determinism, PYSKL schema, splits and difficulty."""

import json
import pickle
import re
from collections import Counter

import numpy as np
import pytest

from conftest import run_module
from maskclr.data import synthetic
from maskclr.fileio import load_pickle

SMALL = {"subjects": 4, "replications": 2, "min_frames": 20, "max_frames": 60}
NAME = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")


@pytest.fixture(scope="module")
def data():
    return synthetic.generate(seed=0, **SMALL)


def _fields(frame_dir):
    """(setup, camera, performer, replication, action), all 1-based, from an NTU name."""
    return tuple(int(g) for g in NAME.match(frame_dir).groups())


def test_same_seed_gives_identical_bytes_and_other_seed_differs(data):
    again = synthetic.generate(seed=0, **SMALL)
    other = synthetic.generate(seed=1, **SMALL)
    assert pickle.dumps(data, protocol=4) == pickle.dumps(again, protocol=4)
    assert pickle.dumps(data, protocol=4) != pickle.dumps(other, protocol=4)


def test_class_list_has_enough_classes_and_mutual_ones():
    assert len(synthetic.CLASS_NAMES) >= 12
    assert len(synthetic.MUTUAL_CLASSES) >= 2
    assert synthetic.MUTUAL_CLASSES <= set(range(len(synthetic.CLASS_NAMES)))


def test_annotations_follow_the_pyskl_schema(data):
    keys = {"frame_dir", "total_frames", "img_shape", "original_shape", "label", "keypoint", "keypoint_score"}
    subjects = SMALL["subjects"]
    for ann in data["annotations"]:
        assert set(ann) == keys
        setup, camera, performer, _, action = _fields(ann["frame_dir"])
        assert setup == 1 and 1 <= camera <= 3 and 1 <= performer <= subjects
        assert action == ann["label"] + 1
        assert ann["img_shape"] == ann["original_shape"] == (1080, 1920)
        kp, score = ann["keypoint"], ann["keypoint_score"]
        persons = 2 if ann["label"] in synthetic.MUTUAL_CLASSES else 1
        assert kp.dtype == score.dtype == np.float32
        assert kp.shape == (persons, ann["total_frames"], 17, 2)
        assert score.shape == kp.shape[:-1]
        assert np.isfinite(kp).all()
        assert set(np.unique(score)) <= {0.0, 1.0}
        assert (kp[score == 0] == 0).all()


def test_every_sequence_exists_once_and_classes_are_balanced(data):
    names = [a["frame_dir"] for a in data["annotations"]]
    assert len(names) == len(set(names))
    expected = SMALL["subjects"] * SMALL["replications"] * 3
    counts = Counter(a["label"] for a in data["annotations"])
    assert counts == {label: expected for label in range(len(synthetic.CLASS_NAMES))}


def test_splits_are_disjoint_and_cover_everything(data):
    split, names = data["split"], {a["frame_dir"] for a in data["annotations"]}
    assert set(split) == {"xsub_train", "xsub_val", "xview_train", "xview_val"}
    for protocol, field in (("xsub", 2), ("xview", 1)):
        train, val = set(split[f"{protocol}_train"]), set(split[f"{protocol}_val"])
        assert train and val and not train & val
        assert train | val == names
        assert len(split[f"{protocol}_train"]) + len(split[f"{protocol}_val"]) == len(names)
        # The protocol's grouping field (performer or camera) never crosses the split.
        assert not {_fields(n)[field] for n in train} & {_fields(n)[field] for n in val}
    assert {_fields(n)[1] for n in split["xview_val"]} == {1}
    assert {_fields(n)[1] for n in split["xview_train"]} == {2, 3}


@pytest.mark.parametrize("subjects", [2, 3, 5, 12])
def test_xsub_rule_keeps_both_sides_non_empty(subjects):
    train = synthetic.xsub_train_subjects(subjects)
    assert 1 <= len(train) <= subjects - 1 and train <= set(range(subjects))


def test_lengths_vary_within_bounds(data):
    lengths = {a["total_frames"] for a in data["annotations"]}
    assert len(lengths) > 1
    assert SMALL["min_frames"] <= min(lengths) and max(lengths) <= SMALL["max_frames"]


def test_skeletons_are_mostly_inside_the_image(data):
    scores = np.concatenate([a["keypoint_score"].ravel() for a in data["annotations"]])
    assert scores.mean() > 0.99


def _class_mean_trajectory(data, label, joint, frames=32):
    """Mean over a class of one joint's path [frames, 2], relative to the first-frame mid-hip
    and scaled by the first-frame torso length, resampled to ``frames`` steps."""
    paths = []
    for ann in data["annotations"]:
        if ann["label"] != label:
            continue
        kp = ann["keypoint"][0].astype(np.float64)
        hip, neck = kp[0, 11:13].mean(0), kp[0, 5:7].mean(0)
        steps = np.linspace(0, len(kp) - 1, frames).round().astype(int)
        paths.append((kp[steps, joint] - hip) / np.linalg.norm(neck - hip))
    return np.mean(paths, axis=0)


def test_no_single_joint_separates_all_classes(data):
    names = synthetic.CLASS_NAMES
    wave_l, wave_r = names.index("wave left hand"), names.index("wave right hand")
    kick_l = names.index("kick left leg")

    def gap(a, b, joint):
        diff = _class_mean_trajectory(data, a, joint) - _class_mean_trajectory(data, b, joint)
        return np.abs(diff).mean()

    right_wrist, left_wrist, left_ankle = 10, 9, 15
    # The right wrist barely tells "wave left" from "kick left"...
    assert gap(wave_l, kick_l, right_wrist) < 0.25 * gap(wave_l, wave_r, right_wrist)
    # ...although the two classes clearly differ at the left wrist and the left ankle.
    assert gap(wave_l, kick_l, left_wrist) > 4 * gap(wave_l, kick_l, right_wrist)
    assert gap(wave_l, kick_l, left_ankle) > 4 * gap(wave_l, kick_l, right_wrist)


def test_cli_writes_a_loadable_dataset(tmp_path):
    out = tmp_path / "synth.pkl"
    result = run_module(
        "maskclr.data.synthetic",
        "--out",
        out,
        "--synthetic-json",
        synthetic_json(seed=3, subjects=2, replications=1, min_frames=10, max_frames=20),
    )
    assert result.returncode == 0, result.stderr
    loaded = load_pickle(out)
    expected = synthetic.generate(seed=3, subjects=2, replications=1, min_frames=10, max_frames=20)
    assert pickle.dumps(loaded, protocol=4) == pickle.dumps(expected, protocol=4)


def synthetic_json(**changes):
    """A ``--synthetic-json`` argument (the config's ``datasets.synth.synthetic``)."""
    return json.dumps(
        {
            "seed": 0,
            "subjects": 2,
            "replications": 1,
            "min_frames": 10,
            "max_frames": 20,
            "pair_contrast": 1.0,
            **changes,
        }
    )


@pytest.mark.parametrize("args, refused", [
    (("--synthetic-json", synthetic_json(subjects=1)), "subjects must be >= 2"),
    (("--cameras", 0), "cameras must be between 1 and 3, got 0"),
    (("--cameras", 4), "cameras must be between 1 and 3, got 4"),
    (("--synthetic-json", synthetic_json(replications=0)), "replications must be >= 1, got 0"),
    (("--synthetic-json", synthetic_json(min_frames=1)), "min_frames=1"),
    (("--synthetic-json", synthetic_json(min_frames=30, max_frames=20)), "min_frames=30, max_frames=20"),
    (("--synthetic-json", '{"seed": 0}'), "--synthetic-json: missing keys ['subjects'"),
    (("--synthetic-json", "[1]"), "--synthetic-json: expected a JSON object, got list"),
    (("--synthetic-json", synthetic_json(pair_contrast=-0.5)), "pair_contrast must be >= 0"),
])  # fmt: skip
def test_cli_rejects_bad_arguments(tmp_path, args, refused):
    out = tmp_path / "synth.pkl"
    if args[0] == "--cameras":
        args = (*args, "--synthetic-json", synthetic_json())
    result = run_module("maskclr.data.synthetic", "--out", out, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and refused in result.stderr and not out.exists()


def _by_name(data):
    return {a["frame_dir"]: a for a in data["annotations"]}


def _same_performance(name, action):
    """The frame_dir of the performance ``name`` as 0-based class ``action`` (a fine pair's partner)."""
    return name[:-3] + f"{action + 1:03d}"


@pytest.mark.parametrize("pair", sorted(synthetic.FINE_PAIRS))
def test_fine_pairs_differ_only_in_their_named_joints(data, pair):
    """Both classes of a pair share one performance's length, timing, idle motion, placement and
    cameras: in every view, the pixels differ only at the pair's named joints, and there by a
    small amount: on average over the frames below 40 px (a tenth of a body), at most 130 px."""
    named = list(synthetic.FINE_PAIRS[pair])
    others = [j for j in range(synthetic.NUM_JOINTS) if j not in named]
    annotations = _by_name(data)
    largest, mean = [], []
    for name, first in annotations.items():
        if first["label"] != pair[0]:
            continue
        second = annotations[_same_performance(name, pair[1])]
        assert first["keypoint"].shape == second["keypoint"].shape
        np.testing.assert_array_equal(first["keypoint"][..., others, :], second["keypoint"][..., others, :])
        diff = np.linalg.norm(first["keypoint"][..., named, :] - second["keypoint"][..., named, :], axis=-1)
        largest.append(diff.max(axis=(0, 1)))
        mean.append(diff.mean(axis=(0, 1)))
    largest, mean = np.max(largest, axis=0), np.mean(mean, axis=0)
    assert (mean > 1.0).any() and mean.max() < 40.0, mean
    assert largest.max() < 130.0, largest


def test_fine_pairs_are_disjoint_single_person_classes():
    classes = [c for pair in synthetic.FINE_PAIRS for c in pair]
    assert len(classes) == len(set(classes)) == 2 * len(synthetic.FINE_PAIRS)
    assert not set(classes) & synthetic.MUTUAL_CLASSES
    assert max(classes) < len(synthetic.CLASS_NAMES)


def test_bodies_have_ntu_pixel_scale(data):
    """Kinect v2 colour frames (1920×1080, ~1064 px focal) at 2.8-4.0 m: nose-to-ankle heights of
    about 380-600 px (5th-95th percentile), median about 480 px, so σ = 0.01 (9.6 px) is about 2 %
    of a body (the README's numbers)."""
    heights = []
    for ann in data["annotations"]:
        kp, score = ann["keypoint"][0], ann["keypoint_score"][0]
        seen = (score[:, [0, 15, 16]] > 0).all(axis=1)
        heights.append(np.median(kp[seen][:, [15, 16], 1].mean(axis=1) - kp[seen][:, 0, 1]))
    assert 455 < np.median(heights) < 505
    assert 360 < np.percentile(heights, 5) < 400 and 580 < np.percentile(heights, 95) < 620


# Mean pixel distance of a fine pair's named joints between its two classes, per joint and frame,
# on the demo's set (config.yaml; the README's numbers).
PAIR_GAP_PX = {(14, 15): 9.3, (16, 17): 19.2, (18, 19): 8.6, (20, 21): 12.5, (22, 23): 7.2}


def test_fine_pairs_are_about_as_far_apart_as_the_readme_says(data):
    """Each pair's gap on the small set is within 25 % of the demo set's (PAIR_GAP_PX)."""
    annotations = _by_name(data)
    for (first, second), named in synthetic.FINE_PAIRS.items():
        gaps = [
            np.linalg.norm(
                annotation["keypoint"][..., named, :]
                - annotations[_same_performance(name, second)]["keypoint"][..., named, :],
                axis=-1,
            ).mean()
            for name, annotation in annotations.items()
            if annotation["label"] == first
        ]
        np.testing.assert_allclose(np.mean(gaps), PAIR_GAP_PX[first, second], rtol=0.25)


@pytest.mark.parametrize("contrast", [0.0, 0.5, 1.5])
def test_pair_contrast_scales_the_pairs_difference_only(data, contrast):
    """``pair_contrast`` moves a pair's named joints about the pair's middle: the two classes'
    difference scales by it (in the world, so about so in pixels), everything else is unchanged;
    1 gives the design's bytes (the ``data`` fixture)."""
    scaled = _by_name(synthetic.generate(seed=0, pair_contrast=contrast, **SMALL))
    design = _by_name(data)
    for (first, second), named in synthetic.FINE_PAIRS.items():
        others = [j for j in range(synthetic.NUM_JOINTS) if j not in named]
        for name, annotation in design.items():
            if annotation["label"] != first:
                continue
            partner = _same_performance(name, second)
            for key in (name, partner):
                np.testing.assert_array_equal(
                    scaled[key]["keypoint"][..., others, :], design[key]["keypoint"][..., others, :]
                )
            gap = scaled[name]["keypoint"][..., named, :] - scaled[partner]["keypoint"][..., named, :]
            designed = design[name]["keypoint"][..., named, :] - design[partner]["keypoint"][..., named, :]
            np.testing.assert_allclose(np.abs(gap).mean(), contrast * np.abs(designed).mean(), rtol=0.15, atol=0.05)


def test_pair_contrast_next_to_one_blends_back_to_the_design(data):
    """At 1 the generator skips the blend (the ``data`` fixture: the design's bytes); just above 1
    it runs the blend, which must land on the same pixels."""
    blended = _by_name(synthetic.generate(seed=0, pair_contrast=1.0 + 1e-9, **SMALL))
    for name, annotation in _by_name(data).items():
        np.testing.assert_allclose(blended[name]["keypoint"], annotation["keypoint"], atol=1e-3)
