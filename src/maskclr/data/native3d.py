"""Native preprocessing of 3D NTU-25 skeletons (docs/method.md §2.4) for the STTFormer and Transformer rows.

MAMP's and STTFormer's pipeline on the CTR-GCN data, vectorised over a whole split:

1. ``centre``: subtract the spine-middle joint (NTU 1-based 2) of person 0 in its first frame
   with a skeleton from every person and frame; absent skeletons (all zeros) stay zero
   (CTR-GCN ``seq_translation``);
2. ``crop_windows``: test, the centre crop keeping 95 % (``int((1 − 0.95)·L/2)`` frames off each
   end); training, a random window of ``floor(L·p)`` frames, p ~ U(0.5, 1), at least 64 (or L),
   at a uniform position (MAMP ``valid_crop_resize``);
3. ``resize``: linear interpolation along time to 120 frames (PyTorch's bilinear resize with
   ``align_corners=False``, which MAMP applies with the other axis unchanged);
4. ``random_rotation`` (training): one rotation Rz·Ry·Rx per sample, angles ~ U(−0.3, 0.3) rad
   (CTR-GCN ``random_rot``).

Where each step runs. Steps 1–3 of the test part run here, once (they are deterministic): its
``x`` is the model input (N, 2, 120, 25, 3). MAMP draws the training crop and rotation afresh in
every ``__getitem__``, and the crop is its main augmentation, so the training part stores the
centred sequences zero-padded to the longest (N, 2, T_max, 25, 3) with each one's ``length``,
and ``SkeletonDataset`` crops, resizes and rotates each item per epoch from (seed, epoch,
index), as it runs MotionBERT's ``random_move`` (the 2D path resamples once only because
MotionBERT does). The file's attributes carry every parameter (``--preprocess-json``, the config's
``preprocess_3d``: ``NATIVE3D_KEYS``); nothing here is random, so its ``seed`` is only recorded
(the per-epoch draws come from the training job's seed).

Persons: PYSKL's 3D files hold at most two (CTR-GCN's denoising); beyond two, the first two
are kept. One person gets an all-zero second person, as in CTR-GCN's data.
"""

import argparse
import json

import numpy as np

from maskclr import __version__
from maskclr.data.preprocess import write_h5
from maskclr.data.pyskl import POSES_3D, load_pyskl, split_members
from maskclr.errors import run_cli
from maskclr.fileio import sha256
from maskclr.settings import check_values, exact_object, is_int, is_number

PERSONS = 2
SPINE_MID = 1  # NTU-25, 0-based
# MAMP's and STTFormer's values (the config schema's defaults of ``preprocess_3d``; the command
# line reads every one from its JSON).
N_FRAMES = 120
TRAIN_RATIO = (0.5, 1.0)
MIN_CROP = 64
TEST_RATIO = 0.95
ROTATION_RAD = 0.3
PIPELINE = "native3d"
NATIVE3D_KEYS = ("n_frames", "train_ratio", "min_crop", "test_ratio", "rotation_rad", "seed")
# What the evaluation reads of it (``maskclr.evaluate``: the test clips only), with the pipeline's name.
TEST_KEYS = ("pipeline", "n_frames", "test_ratio")


def pad(annotations, persons=PERSONS):
    """Validated 3D annotations → x float32 (N, persons, T_max, 25, 3) zero-padded, lengths (N,)."""
    lengths = np.array([a["total_frames"] for a in annotations], np.int64)
    x = np.zeros((len(annotations), persons, max(lengths, default=1), 25, 3), np.float32)
    for i, ann in enumerate(annotations):
        kept = ann["keypoint"][:persons]
        x[i, : len(kept), : lengths[i]] = kept
    return x, lengths


def centre(x):
    """Centre x (N, M, T, 25, 3) on the spine middle of person 0 in its first non-empty frame.

    Absent skeletons (all zeros) stay zero; a sample whose person 0 never appears is unchanged.
    Returns a new array (one copy: a real split is gigabytes).
    """
    present = (x != 0).any(axis=(-1, -2))  # (N, M, T)
    first = present[:, 0].argmax(axis=1)  # (N,): 0 when person 0 never appears (all zeros)
    out = x - x[np.arange(len(x)), 0, first, SPINE_MID][:, None, None, None]
    out[~present] = 0
    return out


def crop_windows(lengths, rng=None, ratio=TRAIN_RATIO, min_frames=MIN_CROP, test_ratio=TEST_RATIO):
    """(begin, size) (N,) int64 of the window kept from sequences of ``lengths`` (N,).

    ``rng`` None: the test centre crop, ``int((1 − test_ratio)·L/2)`` frames off each end.
    Otherwise p ~ U(ratio), size = min(max(floor(L·p), min_frames), L), begin ~ U{0..L − size}.
    """
    lengths = np.asarray(lengths, np.int64)
    if rng is None:
        bias = ((1 - test_ratio) * lengths / 2).astype(np.int64)
        return bias, lengths - 2 * bias
    p = rng.random(len(lengths)) * (ratio[1] - ratio[0]) + ratio[0]
    size = np.minimum(np.maximum(np.floor(lengths * p).astype(np.int64), min_frames), lengths)
    return rng.integers(0, lengths - size + 1), size


def resize(x, begin, size, n_frames):
    """Frames ``begin .. begin + size`` of each sample of x (N, M, T, J, C), linearly resized to
    ``n_frames`` → (N, M, n_frames, J, C).

    Output frame i samples s = max((i + 0.5)·size/n_frames − 0.5, 0) between frames floor(s) and
    floor(s) + 1 (the last frame repeats at the end): PyTorch's ``align_corners=False``.
    """
    size = np.asarray(size, np.float64)[:, None]
    s = np.maximum((np.arange(n_frames) + 0.5) * (size / n_frames) - 0.5, 0.0)  # (N, n_frames)
    low = np.floor(s).astype(np.int64)
    high = np.minimum(low + 1, size.astype(np.int64) - 1)
    weight = (s - low)[:, None, :, None, None].astype(x.dtype)
    rows = np.arange(len(x))[:, None]
    begin = np.asarray(begin, np.int64)[:, None]
    # x[rows, :, frames] puts the gathered axes first: (N, n_frames, M, J, C) → (N, M, n_frames, J, C).
    first, second = (np.moveaxis(x[rows, :, begin + f], 1, 2) for f in (low, high))
    return (1 - weight) * first + weight * second


def rotation_matrices(angles):
    """(N, 3, 3) = Rz·Ry·Rx for angles (N, 3) (radians, about x, y, z), as CTR-GCN's ``_rot``.

    Rx = [[1, 0, 0], [0, c, s], [0, −s, c]], Ry = [[c, 0, −s], [0, 1, 0], [s, 0, c]],
    Rz = [[c, s, 0], [−s, c, 0], [0, 0, 1]].
    """
    c, s = np.cos(angles), np.sin(angles)
    one, zero = np.ones(len(angles)), np.zeros(len(angles))

    def matrix(rows):
        return np.stack([np.stack(r, -1) for r in rows], -2)

    rx = matrix([(one, zero, zero), (zero, c[:, 0], s[:, 0]), (zero, -s[:, 0], c[:, 0])])
    ry = matrix([(c[:, 1], zero, -s[:, 1]), (zero, one, zero), (s[:, 1], zero, c[:, 1])])
    rz = matrix([(c[:, 2], s[:, 2], zero), (-s[:, 2], c[:, 2], zero), (zero, zero, one)])
    return rz @ ry @ rx


def rotate(x, matrices):
    """Apply one rotation per sample: x (N, M, T, J, 3), matrices (N, 3, 3) → R·p for every point."""
    points = x.reshape(len(x), -1, 3)  # row vectors: p·Rᵀ = (R·p)ᵀ
    return np.matmul(points, matrices.transpose(0, 2, 1).astype(x.dtype)).reshape(x.shape)


def random_rotation(x, rng, theta=ROTATION_RAD):
    """``rotate`` x (N, M, T, J, 3) by angles ~ U(−theta, theta) about each axis, per sample."""
    return rotate(x, rotation_matrices(rng.uniform(-theta, theta, (len(x), 3))))


def augment(x, lengths, rng, attrs):
    """The per-epoch training steps 2–4 on stored training samples x (N, M, T_max, 25, 3),
    with the parameters a native3d file records in ``attrs``."""
    begin, size = crop_windows(lengths, rng, tuple(attrs["train_ratio"]), int(attrs["min_crop"]))
    return random_rotation(resize(x, begin, size, int(attrs["n_frames"])), rng, float(attrs["rotation_rad"]))


def preprocess_test(annotations, n_frames=N_FRAMES, test_ratio=TEST_RATIO):
    """Steps 1–3 of the test part: (N, 2, n_frames, 25, 3) float32."""
    x, lengths = pad(annotations)
    begin, size = crop_windows(lengths, test_ratio=test_ratio)
    return resize(centre(x), begin, size, n_frames).astype(np.float32)


def _ratio_range(value):
    """[low, high] with 0 < low <= high <= 1."""
    return isinstance(value, list) and len(value) == 2 and all(map(is_number, value)) and 0 < value[0] <= value[1] <= 1


def _checked(text, flag, keys):
    """The JSON object ``text`` given to ``flag`` with exactly ``keys``, each within the schema's bounds."""
    values = exact_object(text, flag, keys)
    bounds = {
        "pipeline": lambda v: v == PIPELINE,
        "n_frames": lambda v: is_int(v) and v >= 1,
        "train_ratio": _ratio_range,
        "min_crop": lambda v: is_int(v) and v >= 1,
        "test_ratio": lambda v: is_number(v) and 0 < v <= 1,
        "rotation_rad": lambda v: is_number(v) and v >= 0,
        "seed": is_int,
    }
    return check_values(values, {key: bounds[key](values[key]) for key in keys}, flag)


def native3d_settings(text, flag="--preprocess-json"):
    """The ``preprocess_3d`` config section given to ``flag`` (exactly ``NATIVE3D_KEYS``), checked."""
    return _checked(text, flag, NATIVE3D_KEYS)


def evaluation_settings(text, flag="--preprocess-json"):
    """What the evaluation reads of a native 3D tier, given to ``flag``: exactly
    ``{"pipeline": "native3d", "n_frames": int, "test_ratio": float}``, checked."""
    return _checked(text, flag, TEST_KEYS)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.data.native3d", description=__doc__.split("\n")[0])
    parser.add_argument("--poses", required=True, help="PYSKL 3D pickle (results/poses/{dataset}/kinect.pkl)")
    parser.add_argument("--split", required=True, help="split prefix: uses '<split>_train' and '<split>_val'")
    parser.add_argument("--out", required=True, help="HDF5 output")
    parser.add_argument("--num-classes", type=int, required=True)
    parser.add_argument("--preprocess-json", required=True, help=f"config.preprocess_3d: {', '.join(NATIVE3D_KEYS)}")
    args = parser.parse_args(argv)
    pre = native3d_settings(args.preprocess_json)
    dataset = load_pyskl(args.poses, num_classes=args.num_classes, fmt=POSES_3D)
    train = split_members(dataset, args.split + "_train", args.poses)
    test = split_members(dataset, args.split + "_val", args.poses)
    x_train, lengths = pad(train)
    parts = {
        "train": (centre(x_train), [a["label"] for a in train], [a["frame_dir"] for a in train], {"length": lengths}),
        "test": (
            preprocess_test(test, pre["n_frames"], pre["test_ratio"]),
            [a["label"] for a in test],
            [a["frame_dir"] for a in test],
            {"length": np.full(len(test), pre["n_frames"], np.int64)},
        ),
    }
    attrs = {
        "pipeline": PIPELINE,
        **pre,
        "num_classes": args.num_classes,
        "split": args.split,
        "max_persons": PERSONS,
        "layout": "x: float32 (N, 2 persons, T, 25 NTU joints, 3 = x, y, z metres, centred); train: "
        "T = longest sequence, zero-padded, 'length' frames each, cropped/resized/rotated per item; test: final",
        "source": str(args.poses),
        "source_sha256": sha256(args.poses),
        "maskclr_version": __version__,
        "params_json": json.dumps(vars(args), sort_keys=True),
    }
    write_h5(args.out, parts, attrs)


if __name__ == "__main__":
    run_cli(main)
