"""The 3D NTU-25 path: PYSKL 3D import, the synthetic Kinect tier, the native preprocessing
(docs/method.md §2.4) step by step against hand-computed examples, and noise in metres."""

import json
import pickle
import re

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import NATIVE3D, SCENES, SENSOR, kinect_cli, native3d_cli, release_3d, run_module
from maskclr.data import kinect, native3d, synthetic
from maskclr.data.dataset import SkeletonDataset
from maskclr.data.joints import NTU25_FLIP_PAIRS, NTU25_JOINTS
from maskclr.data.pyskl import POSES_3D, validate_dataset
from maskclr.data.releases import import_ntu
from maskclr.errors import InputError
from maskclr.fileio import load_pickle
from maskclr.robustness.perturbations import add_noise


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


# MAMP's and STTFormer's values (docs/method.md §2.4), seed 3.
PAPER_3D = {
    "n_frames": 120,
    "train_ratio": [0.5, 1.0],
    "min_crop": 64,
    "test_ratio": 0.95,
    "rotation_rad": 0.3,
    "seed": 3,
}


def test_preprocess_cli_writes_hdf5_that_the_dataset_reads(tmp_path, kinect_tier):
    poses = write(tmp_path / "kinect.pkl", kinect_tier)
    out = tmp_path / "xsub.h5"
    result = native3d_cli(poses, out, PAPER_3D)
    assert result.returncode == 0, result.stderr
    with h5py.File(out) as h5:
        assert h5.attrs["pipeline"] == "native3d" and h5.attrs["num_classes"] == 24 and h5.attrs["split"] == "xsub"
        assert {key: np.asarray(h5.attrs[key]).tolist() for key in PAPER_3D} == PAPER_3D  # every parameter
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


def test_preprocess_cli_settings_reach_the_data(tmp_path, kinect_tier):
    poses = write(tmp_path / "kinect.pkl", kinect_tier)
    settings = {**NATIVE3D, "n_frames": 10, "test_ratio": 0.5}
    assert native3d_cli(poses, tmp_path / "a.h5", settings).returncode == 0
    members = [a for a in kinect_tier["annotations"] if a["frame_dir"] in set(kinect_tier["split"]["xsub_val"])]
    # Built from the steps (each checked by hand above), so a preprocess_test that dropped a
    # setting would be caught too.
    x, lengths = native3d.pad(members)
    begin, size = native3d.crop_windows(lengths, test_ratio=0.5)
    expected = native3d.resize(native3d.centre(x), begin, size, 10).astype(np.float32)
    assert not np.array_equal(size, native3d.crop_windows(lengths)[1])  # 0.5 is not the default
    with h5py.File(tmp_path / "a.h5") as h5:
        np.testing.assert_array_equal(h5["test/x"][()], expected)
        assert (h5["test/length"][()] == 10).all()


def test_preprocess_cli_refuses_a_2d_file(tmp_path):
    poses = write(tmp_path / "mq.pkl", synthetic.generate(**SCENES))
    result = native3d_cli(poses, tmp_path / "o.h5")
    assert result.returncode == 2 and "mq.pkl" in result.stderr and "key 'keypoint'" in result.stderr
    assert not (tmp_path / "o.h5").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"n_frames": 0}, "key 'n_frames': unexpected value 0"),
        ({"n_frames": 1.5}, "key 'n_frames': unexpected value 1.5"),
        ({"train_ratio": [0.8, 0.5]}, r"key 'train_ratio': unexpected value \[0.8, 0.5\]"),
        ({"train_ratio": [0.0, 1.0]}, "key 'train_ratio'"),
        ({"train_ratio": 0.5}, "key 'train_ratio'"),
        ({"min_crop": 0}, "key 'min_crop'"),
        ({"test_ratio": 0}, "key 'test_ratio'"),
        ({"test_ratio": 1.2}, "key 'test_ratio'"),
        ({"rotation_rad": -0.1}, "key 'rotation_rad'"),
        ({"seed": "0"}, "key 'seed'"),
        ({"window": 3}, r"unknown keys \['window'\]"),
        ({"min_crop": None}, "key 'min_crop'"),
    ],
)
def test_native3d_settings_name_the_flag_and_the_key(change, message):
    with pytest.raises(InputError, match=rf"^--preprocess-json: {message}"):
        native3d.native3d_settings(json.dumps({**NATIVE3D, **change}))


def test_native3d_cli_refuses_a_missing_key(tmp_path, kinect_tier):
    poses = write(tmp_path / "kinect.pkl", kinect_tier)
    settings = {key: value for key, value in NATIVE3D.items() if key != "min_crop"}
    result = native3d_cli(poses, tmp_path / "o.h5", settings)
    assert result.returncode == 2 and "--preprocess-json: missing keys ['min_crop']" in result.stderr
    assert not (tmp_path / "o.h5").exists()


# ---- the Kinect tier's command line ------------------------------------------------------------


def test_kinect_cli_records_the_same_scenes_as_the_2d_cli(tmp_path):
    """Same --synthetic-json → same sequences: frame_dir, label, length and split membership."""
    assert kinect_cli(tmp_path / "kinect.pkl").returncode == 0
    flat = run_module("maskclr.data.synthetic", "--out", tmp_path / "hq.pkl", "--synthetic-json", json.dumps(SCENES))
    assert flat.returncode == 0, flat.stderr
    tier, flat = load_pickle(tmp_path / "kinect.pkl"), load_pickle(tmp_path / "hq.pkl")
    assert tier["split"] == flat["split"]

    def sequences(data):
        return [(a["frame_dir"], a["label"], a["total_frames"]) for a in data["annotations"]]

    assert sequences(tier) == sequences(flat) and len(tier["annotations"]) == 2 * 24 * 3
    noise = kinect.SensorNoise(**SENSOR)
    assert pickle.dumps(tier, protocol=4) == pickle.dumps(kinect.generate(noise, **SCENES), protocol=4)


@pytest.mark.parametrize(
    "flag, value, message",
    [
        (
            "--sensor-json",
            {"jitter_m": 0.01, "swap_rate": 0.0},
            r"--sensor-json: missing keys \['extremity_jitter_m'\]",
        ),
        ("--sensor-json", {**SENSOR, "swap_rate": 2}, "--sensor-json: key 'swap_rate': unexpected value 2"),
        ("--sensor-json", {**SENSOR, "jitter_m": -0.01}, "--sensor-json: key 'jitter_m'"),
        ("--sensor-json", {**SENSOR, "dropout": 0.1}, r"--sensor-json: unknown keys \['dropout'\]"),
        ("--synthetic-json", {"seed": 0, "subjects": 2}, r"--synthetic-json: missing keys \['replications'"),
    ],
)
def test_kinect_cli_names_bad_settings(tmp_path, flag, value, message):
    settings = {"--synthetic-json": None, "--sensor-json": None, flag: value}
    result = kinect_cli(tmp_path / "kinect.pkl", settings["--synthetic-json"], settings["--sensor-json"])
    assert result.returncode == 2 and re.search(message, result.stderr), result.stderr
    assert not (tmp_path / "kinect.pkl").exists()


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


# ---- evaluation settings and the 3D path end to end ----------------------------------------------


def test_evaluation_reads_2d_or_native3d_preprocess_settings():
    from maskclr.evaluate.run import eval_preprocess_settings

    two_d = {"n_frames": 8, "score_channel": "motionbert", "max_persons": 2, "seed": 0}
    assert eval_preprocess_settings(json.dumps(two_d)) == two_d
    three_d = {"pipeline": "native3d", "n_frames": 12, "test_ratio": 0.95}
    assert eval_preprocess_settings(json.dumps(three_d)) == three_d
    for change, message in [
        ({"pipeline": "2d"}, "key 'pipeline': unexpected value '2d'"),
        ({"test_ratio": 0}, "key 'test_ratio'"),
        ({"seed": 0}, r"unknown keys \['seed'\]"),  # the evaluation reads only the test clips' keys
    ]:
        with pytest.raises(InputError, match=f"^--preprocess-json: {message}"):
            eval_preprocess_settings(json.dumps({**three_d, **change}))
    with pytest.raises(InputError, match=r"^--preprocess-json: missing keys \['test_ratio'\]"):
        eval_preprocess_settings('{"pipeline": "native3d", "n_frames": 12}')
    with pytest.raises(InputError, match=r"^--preprocess-json: missing keys \['score_channel'"):
        eval_preprocess_settings('{"n_frames": 8}')


# As the workflow's robustness grid, σ in metres on 3D input.
GRID_3D = {
    "seed": 0,
    "noise_sigmas": [0.0, 0.02],
    "parts": ["head", "left_arm", "right_arm", "left_leg", "right_leg"],
    "joint_fractions": [0.3],
    "frames_noise": {"fraction": 0.5, "sigma": 0.02},
}
TRANSFORMER_25 = {"dim": 8, "depth": 1, "num_heads": 2, "mlp_ratio": 2, "maxlen": 12, "t_patch": 4, "num_joints": 25}


def test_kinect_tier_to_native3d_hdf5_to_the_robustness_grid(tmp_path):
    """kinect CLI → native3d CLI → a Transformer on 25 joints (untrained: only the grid's rows
    matter here) → every grid row for tier kinect."""
    from maskclr.evaluate.run import TestSet, eval_preprocess_settings, evaluate, predict, scores
    from maskclr.models import ActionModel, build_backbone
    from maskclr.robustness.perturbations import PARTS, occlude_part

    poses, data = tmp_path / "kinect.pkl", tmp_path / "xsub.h5"
    assert kinect_cli(poses).returncode == 0
    result = native3d_cli(poses, data)
    assert result.returncode == 0, result.stderr
    train = SkeletonDataset(data, "train")
    assert train[0][0].shape == (2, NATIVE3D["n_frames"], 25, 3)
    torch.manual_seed(0)
    model = ActionModel(build_backbone("transformer", **TRANSFORMER_25), 24, num_joints=25, hidden=8).eval()
    pre = eval_preprocess_settings(json.dumps({"pipeline": "native3d", "n_frames": 12, "test_ratio": 0.95}))
    sets = {"kinect": TestSet(poses, "xsub", pre)}
    clean = {"kinect": sets["kinect"].inputs()}
    with h5py.File(data) as h5:  # the evaluation's clips are the test part the model was trained beside
        np.testing.assert_allclose(clean["kinect"], h5["test/x"][()])
    assert sets["kinect"].layout == "ntu25" and set(PARTS["ntu25"]) == set(GRID_3D["parts"])
    rows, confusions = evaluate(model, sets, clean, "kinect", GRID_3D, 24)
    assert {row["test_estimator"] for row in rows} == {"kinect"}
    whole = [row for row in rows if row["label"] == ""]
    assert [(row["perturbation"], row["level"]) for row in whole] == [
        ("clean", "0"),
        ("noise_st", "0"),  # σ = 0 reuses the clean row
        ("noise_st", "0.02"),
        ("noise_spatial", "0"),
        ("noise_spatial", "0.02"),
        *(("part", part) for part in GRID_3D["parts"]),
        ("joints", "0.3"),
        ("frames_noise", "0.5"),
    ]
    assert all(row["n"] == len(sets["kinect"].labels) == 72 and 0 <= row["top1"] <= 1 for row in whole)
    clean_only = {**GRID_3D, "noise_sigmas": [], "parts": [], "joint_fractions": [], "frames_noise": None}
    only, _ = evaluate(model, sets, clean, "kinect", clean_only, 24)  # a stage-1 model's grid (stage1_grid false)
    assert [(row["perturbation"], row["level"]) for row in only if row["label"] == ""] == [("clean", "0")]
    labels = sets["kinect"].labels
    present = sorted(set(labels.tolist()))
    for i, row in enumerate(rows):  # each grid point's class rows follow it and add up to it
        if row["label"] == "":
            classes = rows[i + 1 : i + 1 + len(present)]
            assert [(c["perturbation"], c["level"], c["label"]) for c in classes] == [
                (row["perturbation"], row["level"], label) for label in present
            ]
            assert sum(c["n"] for c in classes) == row["n"]
            assert sum(c["top1"] * c["n"] for c in classes) == pytest.approx(row["top1"] * row["n"])
            assert np.mean([c["top1"] for c in classes]) == pytest.approx(row["mean_class_acc"])
            # the grid point's confusion: its rows are the classes' samples, its diagonal their hits
            counts = confusions[row["perturbation"], row["level"], "kinect"]
            assert counts.shape == (24, 24) and counts.sum() == row["n"]
            for c in classes:
                assert counts[c["label"]].sum() == c["n"]
                assert counts[c["label"], c["label"]] == round(c["top1"] * c["n"])
    assert list(confusions) == [(row["perturbation"], row["level"], "kinect") for row in whole]
    for row in whole[5:10]:  # the parts zero NTU-25's joints of the model input
        occluded = occlude_part(clean["kinect"], row["level"], "ntu25")
        assert {key: row[key] for key in ("top1", "top5", "mean_class_acc")} == {
            key: value
            for key, value in scores(predict(model, occluded)[0], labels, 24)[0].items()
            if key not in ("n", "label")
        }


def test_predict_classifies_kinect_skeletons_with_a_native3d_model(tmp_path):
    """A model trained on a native3d file records its pipeline, so predict prepares 3D clips as
    the evaluation does (centre crop, resize) and refuses video."""
    from test_train import SCHEDULE, train

    from maskclr.evaluate.run import load_model, model_inputs, predict

    poses, data = tmp_path / "kinect.pkl", tmp_path / "xsub.h5"
    assert kinect_cli(poses).returncode == 0 and native3d_cli(poses, data).returncode == 0
    backbone = {**TRANSFORMER_25, "maxlen": NATIVE3D["n_frames"]}
    result = train(data, tmp_path, schedule={**SCHEDULE, "epochs_stage1": 1}, backbone=backbone)
    assert result.returncode == 0, result.stderr
    model_pt, out = tmp_path / "model.pt", tmp_path / "activation.npz"
    result = run_module("maskclr.predict", "--checkpoint", model_pt, "--poses", poses, "--out-activation", out)
    assert result.returncode == 0, result.stderr
    annotations = load_pickle(poses)["annotations"]
    lines = result.stdout.splitlines()
    assert lines[0] == annotations[0]["frame_dir"] and len(lines) == len(annotations) * (1 + 5)
    for line in lines[1:6]:  # 24 classes mean synth: its class names, by label
        name, label = re.fullmatch(r"  \d\. (.+) \(label (\d+)\): [0-9.]+ %", line).groups()
        assert name == synthetic.CLASS_NAMES[int(label)]
    saved = np.load(out)
    assert saved["activation"].shape == (len(annotations), 25)
    model, arch, _ = load_model(model_pt, 1)
    assert arch["pipeline"] == native3d.PIPELINE and arch["test_ratio"] == NATIVE3D["test_ratio"]
    pre = {"pipeline": native3d.PIPELINE, "n_frames": NATIVE3D["n_frames"], "test_ratio": NATIVE3D["test_ratio"]}
    logits, _ = predict(model, model_inputs(annotations, pre))
    assert list(saved["top5_labels"][:, 0]) == logits.argmax(1).tolist()
    result = run_module(
        "maskclr.predict",
        "--checkpoint",
        model_pt,
        "--video",
        tmp_path / "clip.mp4",
        "--estimator-json",
        '{"type": "hrnet"}',
    )
    assert result.returncode == 2 and "trained on native 3D skeletons" in result.stderr
