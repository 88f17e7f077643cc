"""The 3D NTU-25 path: PYSKL 3D import, the synthetic Kinect tier, the native preprocessing
(docs/method.md §2.4) step by step against hand-computed examples, and noise in metres."""

import pickle

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import run_module
from maskclr.data import kinect, native3d, synthetic
from maskclr.data.dataset import SkeletonDataset
from maskclr.data.joints import NTU25_FLIP_PAIRS, NTU25_JOINTS
from maskclr.data.pyskl import POSES_3D, validate_dataset
from maskclr.data.releases import import_ntu
from maskclr.errors import InputError
from maskclr.fileio import load_pickle
from maskclr.robustness.perturbations import add_noise

SCENES = {"seed": 0, "subjects": 2, "replications": 1, "min_frames": 20, "max_frames": 40}


def annotation_3d(frame_dir, label, persons=1, frames=5, seed=0):
    """One annotation exactly as in PYSKL's ntu60_3danno.pkl: float16 metres, no scores."""
    rng = np.random.default_rng(seed)
    keypoint = rng.uniform(-1.0, 1.0, (persons, frames, 25, 3)) + np.array([0.0, 0.0, 3.0])
    return {"frame_dir": frame_dir, "label": label, "total_frames": frames, "keypoint": keypoint.astype(np.float16)}


def release_3d(count=6, num_classes=3):
    anns = [annotation_3d(f"S001C001P{i + 1:03d}R001A{i % num_classes + 1:03d}", i % num_classes, 1 + i % 2, seed=i)
            for i in range(count)]  # fmt: skip
    names = [a["frame_dir"] for a in anns]
    return {"split": {"xsub_train": names[:4], "xsub_val": names[4:]}, "annotations": anns}


def write(path, obj):
    path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


@pytest.fixture(scope="module")
def kinect_tier():
    return kinect.generate(**SCENES)


# ---- import ----------------------------------------------------------------------------------


def test_3d_release_is_imported_in_its_exact_format(tmp_path):
    path = write(tmp_path / "ntu60_3danno.pkl", release_3d())
    data = import_ntu(path, 3, POSES_3D)
    ann = data["annotations"][1]
    assert ann["keypoint"].dtype == np.float32 and ann["keypoint"].shape == (2, 5, 25, 3)
    assert "keypoint_score" not in ann and "img_shape" not in ann
    assert data["split"]["xsub_val"] == [a["frame_dir"] for a in data["annotations"][4:]]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"keypoint": np.zeros((1, 5, 17, 2), np.float32)}, r"key 'keypoint': expected shape \[M, T, 25, 3\]"),
        ({"keypoint": np.full((1, 5, 25, 3), 3000.0, np.float32)}, r"key 'keypoint': values must lie in .*\(metres\)"),
        ({"total_frames": 7}, r"key 'total_frames': is 7 but keypoint has 5 frames"),
        ({"label": 3}, r"key 'label': expected an integer in 0\.\.2"),
        ({"keypoint": None}, r"key 'keypoint': expected a float array"),
    ],
)
def test_bad_3d_files_are_refused_naming_the_key(tmp_path, change, message):
    data = release_3d()
    data["annotations"][2] = {**data["annotations"][2], **change}
    path = write(tmp_path / "bad.pkl", data)
    with pytest.raises(InputError, match=rf"bad\.pkl: annotation 2 .*{message}"):
        import_ntu(path, 3, POSES_3D)


def test_missing_keypoint_names_the_3d_required_keys(tmp_path):
    data = release_3d()
    del data["annotations"][0]["keypoint"]
    with pytest.raises(
        InputError, match=r"key 'keypoint': missing \(required: frame_dir, total_frames, label, keypoint\)"
    ):
        import_ntu(write(tmp_path / "bad.pkl", data), 3, POSES_3D)


def test_releases_cli_imports_3d_and_refuses_a_2d_file_as_3d(tmp_path):
    good = write(tmp_path / "ntu60_3danno.pkl", release_3d())
    out = tmp_path / "kinect.pkl"
    args = ["--splits", "xsub", "--num-classes", "3", "--expected-json", '{"xsub_train": 4, "xsub_val": 2}']
    result = run_module("maskclr.data.releases", "ntu", "--format", "3d", "--release", good, *args, "--out", out)
    assert result.returncode == 0, result.stderr
    assert load_pickle(out)["annotations"][0]["keypoint"].shape == (1, 5, 25, 3)
    flat = write(tmp_path / "hrnet.pkl", synthetic.generate(**SCENES))
    result = run_module("maskclr.data.releases", "ntu", "--format", "3d", "--release", flat, *args, "--out", out)
    assert result.returncode == 2 and "key 'keypoint': expected shape [M, T, 25, 3]" in result.stderr


# ---- synthetic Kinect tier ---------------------------------------------------------------------


def test_kinect_tier_has_pyskl_3d_format_and_the_2d_scenes_splits(kinect_tier):
    flat = synthetic.generate(**SCENES)
    assert kinect_tier["split"] == flat["split"]
    validate_dataset(kinect_tier, "kinect", len(synthetic.CLASS_NAMES), POSES_3D)
    for ann, ann2d in zip(kinect_tier["annotations"], flat["annotations"]):
        assert set(ann) == {"frame_dir", "label", "total_frames", "keypoint"}
        assert ann["frame_dir"] == ann2d["frame_dir"] and ann["label"] == ann2d["label"]
        assert ann["keypoint"].dtype == np.float32
        assert ann["keypoint"].shape == ann2d["keypoint"].shape[:2] + (25, 3)
    assert pickle.dumps(kinect.generate(**SCENES)) == pickle.dumps(kinect_tier)


def test_noise_free_kinect_joints_project_onto_the_2d_pixels():
    clean = kinect.generate(kinect.SensorNoise(0.0, 0.0, 0.0), **SCENES)
    flat = synthetic.generate(**SCENES)
    ntu_to_coco = {5: 7, 6: 9, 9: 8, 10: 10, 13: 13, 14: 15, 17: 14, 18: 16}
    for ann, ann2d in zip(clean["annotations"][:12], flat["annotations"][:12]):
        xyz = ann["keypoint"][:, :, list(ntu_to_coco)].astype(np.float64)
        # Kinect x points to the sensor's left and y up: pixel u = 960 − f·x/z, v = 540 − f·y/z.
        pixels = np.stack([960 - 1064 * xyz[..., 0] / xyz[..., 2], 540 - 1064 * xyz[..., 1] / xyz[..., 2]], -1)
        seen = ann2d["keypoint_score"][:, :, list(ntu_to_coco.values())] == 1
        assert seen.mean() > 0.5
        np.testing.assert_allclose(pixels[seen], ann2d["keypoint"][:, :, list(ntu_to_coco.values())][seen], atol=0.05)
        assert 2.0 < xyz[..., 2].min() and xyz[..., 2].max() < 5.0  # metres from the sensor


def test_kinect_segments_are_rigid_and_jitter_has_the_set_scale():
    clean = kinect.generate(kinect.SensorNoise(0.0, 0.0, 0.0), **SCENES)["annotations"]
    noisy = kinect.generate(kinect.SensorNoise(0.01, 0.02, 0.0), **SCENES)["annotations"]
    names = {name: i for i, name in enumerate(NTU25_JOINTS)}
    for ann in clean[:10]:
        kp = ann["keypoint"][0]
        for a, b in (("left_shoulder", "left_elbow"), ("right_knee", "right_ankle"), ("left_wrist", "left_hand")):
            length = np.linalg.norm(kp[:, names[a]] - kp[:, names[b]], axis=-1)
            assert length.std() < 1e-4 and 0.03 < length.mean() < 0.6
    diff = np.concatenate([(n["keypoint"] - c["keypoint"]).reshape(-1, 25, 3) for n, c in zip(noisy, clean)])
    extremity = list(kinect._EXTREMITIES)
    body = [j for j in range(25) if j not in extremity]
    assert diff[:, body].std() == pytest.approx(0.01, rel=0.05)
    assert diff[:, extremity].std() == pytest.approx(0.02, rel=0.05)


def test_swap_exchanges_left_and_right_joints():
    keypoint = np.arange(2 * 3 * 25 * 3, dtype=np.float64).reshape(2, 3, 25, 3)
    swapped = kinect.sensor_noise(keypoint, kinect.SensorNoise(0.0, 0.0, 1.0), np.random.default_rng(0))
    for left, right in NTU25_FLIP_PAIRS:
        np.testing.assert_array_equal(swapped[..., left, :], keypoint[..., right, :])
    np.testing.assert_array_equal(swapped[..., (0, 1, 2, 3, 20), :], keypoint[..., (0, 1, 2, 3, 20), :])


# ---- native preprocessing, step by step ---------------------------------------------------------


def test_centre_subtracts_spine_mid_of_the_first_present_frame_and_keeps_absent_zero():
    x = np.zeros((1, 2, 3, 25, 3), np.float32)
    x[0, 0, 1:] = 5.0
    x[0, 0, 1, 1] = (1.0, 2.0, 3.0)  # spine middle of person 0 in its first present frame
    x[0, 0, 2, 1] = (2.0, 2.0, 2.0)
    x[0, 1, 2] = 1.0  # person 1 appears in the last frame only
    out = native3d.centre(x)
    np.testing.assert_array_equal(out[0, 0, 0], 0.0)  # absent: stays zero
    np.testing.assert_array_equal(out[0, 0, 1, 1], (0.0, 0.0, 0.0))
    np.testing.assert_array_equal(out[0, 0, 1, 0], (4.0, 3.0, 2.0))
    np.testing.assert_array_equal(out[0, 0, 2, 1], (1.0, 0.0, -1.0))
    np.testing.assert_array_equal(out[0, 1, :2], 0.0)
    np.testing.assert_array_equal(out[0, 1, 2, 7], (0.0, -1.0, -2.0))
    only_second = np.zeros_like(x)
    only_second[0, 1] = 2.0
    np.testing.assert_array_equal(native3d.centre(only_second), only_second)  # no origin: unchanged


def test_test_crop_is_the_95_percent_centre():
    # int((1 − 0.95)·L/2) frames off each end: 100 → 2 (2.5), 40 → 1, 10 → 0, 1 → 0.
    begin, size = native3d.crop_windows([100, 40, 10, 1])
    np.testing.assert_array_equal(begin, [2, 1, 0, 0])
    np.testing.assert_array_equal(size, [96, 38, 10, 1])


def test_training_crop_ratio_and_64_frame_floor():
    lengths = np.array([200, 100, 30] * 200)
    begin, size = native3d.crop_windows(lengths, np.random.default_rng(0))
    p = np.random.default_rng(0).random(len(lengths)) * 0.5 + 0.5  # the same first draws
    np.testing.assert_array_equal(size, np.minimum(np.maximum(np.floor(lengths * p), 64), lengths))
    assert size[0::3].min() >= 100 and size[0::3].max() <= 200 and size[1::3].min() == 64
    assert (size[2::3] == 30).all() and (begin >= 0).all() and (begin + size <= lengths).all()
    assert begin[0::3].max() > 50  # the window moves


def test_resize_interpolates_linearly_with_half_pixel_centres():
    x = np.zeros((2, 1, 6, 25, 3), np.float32)
    x[:, 0, :, :, :] = np.array([99.0, 0.0, 10.0, 20.0, 30.0, 99.0])[:, None, None]
    up = native3d.resize(x, [1, 1], [4, 4], 8)  # s = max((i + 0.5)/2 − 0.5, 0)
    np.testing.assert_allclose(up[0, 0, :, 0, 0], [0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30])
    down = native3d.resize(x, [1, 2], [4, 2], 2)  # 4 → 2: s = 0.5, 2.5; 2 → 2: the frames
    np.testing.assert_allclose(down[:, 0, :, 0, 0], [[5, 25], [10, 20]])


def test_resize_matches_pytorch_bilinear_as_mamp_calls_it():
    x = np.random.default_rng(0).normal(size=(1, 2, 50, 25, 3)).astype(np.float32)
    ours = native3d.resize(x, [7], [33], 120)[0]
    window = torch.from_numpy(np.ascontiguousarray(x[0, :, 7:40].transpose(3, 2, 0, 1)))  # (C, V, M, T)
    flat = window.reshape(1, 1, -1, 33)
    theirs = F.interpolate(flat, size=(flat.shape[2], 120), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(ours, theirs.reshape(3, 25, 2, 120).permute(2, 3, 1, 0).numpy(), atol=1e-5)


def test_rotation_is_rz_ry_rx_as_ctr_gcn():
    quarter = np.pi / 2
    rz = native3d.rotation_matrices(np.array([[0.0, 0.0, quarter]]))[0]
    np.testing.assert_allclose(rz @ [1.0, 0.0, 0.0], [0.0, -1.0, 0.0], atol=1e-12)
    rx = native3d.rotation_matrices(np.array([[quarter, 0.0, 0.0]]))[0]
    np.testing.assert_allclose(rx @ [0.0, 1.0, 0.0], [0.0, 0.0, -1.0], atol=1e-12)
    both = native3d.rotation_matrices(np.array([[quarter, 0.0, quarter]]))[0]  # Rx first, then Rz
    np.testing.assert_allclose(both @ [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], atol=1e-12)
    x = np.zeros((1, 1, 1, 25, 3))
    x[..., 0, :] = (0.0, 0.0, 1.0)
    np.testing.assert_allclose(native3d.rotate(x, both[None])[0, 0, 0, 0], [1.0, 0.0, 0.0], atol=1e-12)
    angles = native3d.rotation_matrices(np.random.default_rng(0).uniform(-0.3, 0.3, (50, 3)))
    np.testing.assert_allclose(angles @ angles.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (50, 3, 3)), atol=1e-12)


def test_preprocess_cli_writes_hdf5_that_the_dataset_reads(tmp_path, kinect_tier):
    poses = write(tmp_path / "kinect.pkl", kinect_tier)
    out = tmp_path / "xsub.h5"
    args = ["--poses", poses, "--split", "xsub", "--num-classes", "24", "--seed", "3", "--out", out]
    result = run_module("maskclr.data.native3d", *args)
    assert result.returncode == 0, result.stderr
    with h5py.File(out) as h5:
        assert h5.attrs["pipeline"] == "native3d" and h5.attrs["n_frames"] == 120 and h5.attrs["min_crop"] == 64
        assert list(h5.attrs["train_ratio"]) == [0.5, 1.0] and h5.attrs["test_ratio"] == 0.95
        train_x, lengths = h5["train/x"][()], h5["train/length"][()]
        assert h5["test/x"].shape == (len(kinect_tier["split"]["xsub_val"]), 2, 120, 25, 3)
    first = kinect_tier["annotations"][0]
    assert lengths[0] == first["total_frames"] and train_x.shape[2] == lengths.max()
    expected = native3d.centre(native3d.pad([first])[0])[0]
    np.testing.assert_array_equal(train_x[0, :, : lengths[0]], expected)
    train, test = SkeletonDataset(out, "train", seed=3), SkeletonDataset(out, "test")
    item, label = train[0]
    assert item.shape == (2, 120, 25, 3) and label == first["label"]
    assert torch.equal(train[0][0], item)
    train.set_epoch(1)
    assert not torch.equal(train[0][0], item)
    assert test[0][0].shape == (2, 120, 25, 3)


def test_preprocess_cli_refuses_a_2d_file(tmp_path):
    poses = write(tmp_path / "mq.pkl", synthetic.generate(**SCENES))
    result = run_module(
        "maskclr.data.native3d", "--poses", poses, "--split", "xsub", "--num-classes", "24", "--out", tmp_path / "o.h5"
    )
    assert result.returncode == 2 and "mq.pkl" in result.stderr and "key 'keypoint'" in result.stderr
    assert not (tmp_path / "o.h5").exists()


# ---- perturbations on 3D input -----------------------------------------------------------------


def test_noise_in_metres_keeps_absent_skeletons_and_is_not_clipped():
    keypoint = np.full((2, 400, 25, 3), -2.0, np.float32)
    keypoint[1, :100] = 0.0  # person 1 absent in the first 100 frames
    noisy = add_noise(keypoint, None, 0.02, np.random.default_rng(0))
    assert (noisy[1, :100] == 0).all()
    assert (noisy[0] - keypoint[0]).std() == pytest.approx(0.02, rel=0.03)
    assert noisy.min() < -2.05  # no clipping in camera space
    spatial = add_noise(keypoint, None, 0.02, np.random.default_rng(0), spatial=True)
    np.testing.assert_array_equal(spatial[0, 0], spatial[0, 399])


def test_evaluation_inputs_of_a_native3d_tier(tmp_path, kinect_tier):
    from maskclr.evaluate.run import TestSet

    poses = write(tmp_path / "kinect.pkl", kinect_tier)
    test = TestSet(poses, "xsub", {"pipeline": "native3d", "n_frames": 120, "test_ratio": 0.95})
    members = [a for a in kinect_tier["annotations"] if a["frame_dir"] in set(kinect_tier["split"]["xsub_val"])]
    clean = test.inputs()
    assert test.layout == "ntu25" and clean.shape == (len(members), 2, 120, 25, 3)
    np.testing.assert_array_equal(clean, native3d.preprocess_test(members))
    noisy = test.inputs(0.02, False, np.random.default_rng(0))
    assert 0.005 < np.abs(noisy - clean)[:, 0].mean() < 0.05  # centred on a noisy joint: ≈ 2 cm per coordinate
