"""Bad input gets a clear error naming file, sample and key, and leaves no output behind."""

import pickle

import numpy as np
import pytest

from conftest import make_dataset, preprocess_cli, run_module


def write(path, obj):
    path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


def corrupt(data, index=1, **changes):
    """The dataset with annotation ``index`` updated (``None`` removes a key)."""
    ann = dict(data["annotations"][index])
    for key, value in changes.items():
        if value is None:
            ann.pop(key)
        else:
            ann[key] = value
    data["annotations"][index] = ann
    return data


def run_preprocess(tmp_path, poses):
    out = tmp_path / "out" / "xsub.h5"
    result = preprocess_cli(poses, out, 8)
    return result, out


def nan_keypoint():
    kp = make_dataset()["annotations"][1]["keypoint"].copy()
    kp[0, 3, 4, 1] = np.nan
    return kp


BAD_ANNOTATIONS = {
    "missing key": ({"keypoint_score": None}, "key 'keypoint_score': missing"),
    "wrong shape": ({"keypoint": np.zeros((1, 10, 25, 2), np.float32)}, "key 'keypoint': expected shape [M, T, 17, 2]"),
    "wrong dtype": ({"keypoint": np.zeros((1, 10, 17, 2), np.int64)}, "key 'keypoint': expected a float array"),
    "nan": ({"keypoint": nan_keypoint()}, "key 'keypoint': contains NaN"),
    "zero frames": ({"total_frames": 0}, "key 'total_frames': expected a positive integer"),
    "inconsistent frames": ({"total_frames": 12}, "key 'total_frames': is 12 but keypoint has 10 frames"),
    "label range": ({"label": 3}, "key 'label': expected an integer in 0..2"),
    "score shape": ({"keypoint_score": np.zeros((2, 10, 17), np.float32)}, "key 'keypoint_score': shape"),
}


@pytest.mark.parametrize("case", sorted(BAD_ANNOTATIONS))
def test_bad_annotation(tmp_path, case):
    changes, message = BAD_ANNOTATIONS[case]
    poses = write(tmp_path / "poses.pkl", corrupt(make_dataset(), **changes))
    result, out = run_preprocess(tmp_path, poses)
    assert result.returncode == 2, result.stderr
    assert str(poses) in result.stderr and "S001C001P002R001A002" in result.stderr
    assert message in result.stderr
    assert not out.parent.exists() or not any(out.parent.iterdir())  # no output, no temp file


BAD_DATASETS = {
    "split member absent": (
        lambda d: d["split"]["xsub_val"].append("S001C001P099R001A001"),
        "key 'split' ['xsub_val']: frame_dir 'S001C001P099R001A001' is not in the annotations",
    ),
    "duplicated frame_dir": (
        lambda d: d["annotations"].append(dict(d["annotations"][0])),
        "key 'frame_dir': 'S001C001P001R001A001' duplicates annotation 0",
    ),
    "split missing": (lambda d: d["split"].pop("xsub_val"), "key 'split': no split 'xsub_val'"),
    "empty train split": (lambda d: d["split"].update(xsub_train=[]), "key 'split' ['xsub_train']: empty"),
    "empty test split": (lambda d: d["split"].update(xsub_val=[]), "key 'split' ['xsub_val']: empty"),
    "split member not a string": (
        lambda d: d["split"]["xsub_val"].append(["S001"]),
        "key 'split' ['xsub_val']: expected a split name mapped to a list of frame_dir",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DATASETS))
def test_bad_dataset(tmp_path, case):
    change, message = BAD_DATASETS[case]
    data = make_dataset()
    change(data)
    poses = write(tmp_path / "poses.pkl", data)
    result, out = run_preprocess(tmp_path, poses)
    assert result.returncode == 2 and str(poses) in result.stderr and message in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (pickle.dumps(make_dataset(), protocol=4)[:500], "truncated or corrupt"),
        (b"this is not a pickle at all", "not a valid pickle"),
        (b"", "truncated or corrupt"),
    ],
)
def test_truncated_or_non_pickle(tmp_path, content, message):
    poses = tmp_path / "poses.pkl"
    poses.write_bytes(content)
    result, out = run_preprocess(tmp_path, poses)
    assert result.returncode == 2 and str(poses) in result.stderr and message in result.stderr
    assert not out.exists()


class Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_unsafe_pickle_is_refused(tmp_path):
    poses = write(tmp_path / "poses.pkl", {"split": {}, "annotations": [Exploit()]})
    result, out = run_preprocess(tmp_path, poses)
    assert result.returncode == 2 and "refusing to load 'posix.system'" in result.stderr
    assert not (tmp_path / "pwned").exists() and not out.exists()


def test_missing_file(tmp_path):
    result, out = run_preprocess(tmp_path, tmp_path / "absent.pkl")
    assert result.returncode == 2 and "absent.pkl: cannot read file" in result.stderr


def test_real_files_are_accepted_as_they_come(tmp_path):
    """float16, extra keys, keypoints outside the image, an all-zero second person: no error."""
    data = make_dataset(persons=2)
    for ann in data["annotations"]:
        ann["keypoint"] = ann["keypoint"].astype(np.float16)
        ann["keypoint_score"] = ann["keypoint_score"].astype(np.float16)
        ann["modality"], ann["start_index"] = "Pose", 0
        ann["keypoint"][1] = 0
        ann["keypoint_score"][1] = 0
    data["annotations"][0]["keypoint"][0, 0, 0] = (-15.0, 1100.0)
    result, out = run_preprocess(tmp_path, write(tmp_path / "poses.pkl", data))
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_wrap_bare_annotations(tmp_path):
    data = make_dataset()
    train = write(tmp_path / "a.pkl", data["annotations"][0])
    val = write(tmp_path / "b.pkl", data["annotations"][1:3])
    wrapped = tmp_path / "wrapped.pkl"
    result = run_module(
        "maskclr.data.pyskl",
        "wrap",
        train,
        val,
        "--split",
        f"xsub_train={train}",
        "--split",
        f"xsub_val={val}",
        "--out",
        wrapped,
    )
    assert result.returncode == 0, result.stderr
    result, out = run_preprocess(tmp_path, wrapped)
    assert result.returncode == 0, result.stderr
    import h5py

    with h5py.File(out) as h5:
        assert h5["train/x"].shape[0] == 1 and h5["test/x"].shape[0] == 2
