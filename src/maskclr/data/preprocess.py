"""The MotionBERT offline preprocessing (docs/method.md §2.3 steps 1–6), vectorised over a whole split.

Per sample MotionBERT does: resample indices → make_cam → two-person tracking → COCO→H36M →
append the score channel → pad to two persons. Here every step runs on all samples at once:
the frames of all samples are laid end to end in one flat array, tracking parities come from a
segmented cumulative sum, and resampling is one gather. Results equal MotionBERT's per-sample
code for the test rule; the train rule draws the same distribution from a different stream.

Choices, each configurable and documented:

- ``score_channel="motionbert"`` (default) keeps MotionBERT's quirk (issue #132): the score
  channel is ``keypoint_score`` as stored, in COCO joint order and in the original person order
  (tracking swaps coordinates only). ``"aligned"`` converts scores to H36M order (a derived joint
  gets the minimum of its sources' scores) and swaps them with the coordinates.
- More than ``max_persons`` (2) persons: keep the two with the highest mean score, in their
  original order [INF, docs/method.md §2.3 step 6]. Tracking runs only when two persons remain.
- ``max_persons=1`` keeps only the best person and outputs one person per sample: the model then
  does half the work (a single-person sample no longer carries MotionBERT's zero second person).
  The CPU demo uses it for speed; MotionBERT's (and the paper configuration's) value is 2.

Output per sample: float32 (P, T, 17, 3) with channels (x, y, score), P = min(max_persons, 2).
"""

import argparse
import json

import h5py
import numpy as np

from maskclr import __version__
from maskclr.data.joints import coco_to_h36m, coco_to_h36m_scores
from maskclr.data.pyskl import load_pyskl, split_members
from maskclr.errors import run_cli
from maskclr.fileio import atomic_output, sha256
from maskclr.settings import check_values, json_object

SCORE_CHANNELS = ("motionbert", "aligned")
PERSONS = 2


def resample_indices(lengths, n_frames, train, rng=None):
    """Frame indices (N, n_frames) into sequences of ``lengths`` (N,), as MotionBERT's ``resample``.

    Test: ``floor(linspace(0, L, n_frames, endpoint=False))``. Train: each of the n_frames even
    bins gets a uniform jitter when L >= n_frames; when L < n_frames each position is randomly
    rounded down or up (frames repeat), then sorted.
    """
    lengths = np.asarray(lengths, dtype=np.int64)[:, None]
    even = np.arange(n_frames) * (lengths / n_frames)
    if not train:
        return even.astype(np.int64)
    short = lengths < n_frames
    rounded = np.sort(np.where(rng.integers(0, 2, even.shape) == 1, np.floor(even), np.ceil(even)), axis=1)
    jittered = even + rng.random(even.shape) * (lengths / n_frames)
    picked = np.where(short, rounded, jittered)
    return np.clip(picked, 0, lengths - 1).astype(np.uint32).astype(np.int64)


def make_cam(coords, img_shape):
    """Pixels → [-1, 1] by the longer image side: x ← x / max(H, W) · 2 − 1 (both coordinates).

    ``coords`` (..., 2) in pixels; ``img_shape`` (H, W).
    """
    return coords / max(img_shape) * 2 - 1


def select_persons(keypoint, score, max_persons=PERSONS):
    """Keep at most ``max_persons`` persons of (M, T, 17, 2) / (M, T, 17): the highest mean score."""
    if keypoint.shape[0] <= max_persons:
        return keypoint, score
    keep = np.sort(np.argsort(-score.mean(axis=(1, 2)), kind="stable")[:max_persons])
    return keypoint[keep], score[keep]


def _distance(a, b):
    """Summed per-joint Euclidean distance between skeletons a and b (..., 17, 2) → (...)."""
    d = a - b
    return np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2).sum(-1)


def tracking_parity(coords, first, two_person):
    """Identity-switch parity per flat frame, as MotionBERT's ``human_tracking``.

    coords (F, 2, 17, 2): frames of all samples end to end, persons padded to two.
    first (F,) bool: frame starts a sample. two_person (F,) bool: the frame's sample has M = 2.
    A frame flips the parity when person 0 is closer to person 1 of the previous frame than to
    person 0 of the previous frame (summed per-joint distances); parity is the flips' running sum
    within the sample, modulo 2. Returns (F,) bool: persons 0 and 1 are swapped at that frame.
    """
    frames = np.flatnonzero(two_person & ~first)  # only these can flip
    flips = np.zeros(len(first), np.int64)
    current, previous = coords[frames, 0], coords[frames - 1]
    flips[frames] = _distance(current, previous[:, 0]) > _distance(current, previous[:, 1])
    running = np.cumsum(flips)
    start = np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))
    return ((running - running[start]) % 2).astype(bool)


def _flatten(annotations, max_persons):
    """Lay all samples' frames end to end: make_cam coords (F, 2, 17, 2), scores (F, 2, 17).

    make_cam is applied while copying, when each sample is in cache. Persons beyond a sample's
    M stay zero (they are cleared in the output anyway).
    """
    lengths = np.array([a["total_frames"] for a in annotations], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    coords = np.zeros((lengths.sum(), PERSONS, 17, 2), np.float32)
    scores = np.zeros((lengths.sum(), PERSONS, 17), np.float32)
    persons = np.zeros(len(annotations), np.int64)
    for i, (ann, offset, length) in enumerate(zip(annotations, offsets, lengths)):
        kp, sc = select_persons(ann["keypoint"], ann["keypoint_score"], max_persons)
        persons[i] = kp.shape[0]
        coords[offset : offset + length, : persons[i]] = make_cam(kp, ann["img_shape"]).transpose(1, 0, 2, 3)
        scores[offset : offset + length, : persons[i]] = sc.transpose(1, 0, 2)
    return coords, scores, lengths, offsets, persons


def preprocess(annotations, n_frames, train, rng=None, score_channel="motionbert", max_persons=PERSONS):
    """Run steps 1–6 on validated annotations; returns float32 (N, P, n_frames, 17, 3) with
    P = min(max_persons, 2) (MotionBERT: always 2, the second all zeros for one person).

    Every per-frame step runs once on the flat frames (F, 2, 17, ·); one gather then resamples
    and lays out the result. ``rng`` (numpy Generator) drives the train-time resampling jitter.
    """
    if score_channel not in SCORE_CHANNELS:
        raise ValueError(f"score_channel must be one of {SCORE_CHANNELS}, got {score_channel!r}")
    kept = min(max_persons, PERSONS)
    if not annotations:
        return np.zeros((0, kept, n_frames, 17, 3), np.float32)
    coords, scores, lengths, offsets, persons = _flatten(annotations, max_persons)
    sample_of_frame = np.repeat(np.arange(len(lengths)), lengths)
    first = np.zeros(len(coords), bool)
    first[offsets] = True
    swapped = tracking_parity(coords, first, persons[sample_of_frame] == 2)
    coords[swapped] = coords[swapped][:, ::-1]
    flat = np.empty(coords.shape[:-1] + (3,), np.float32)  # (F, 2, 17, 3)
    flat[..., :2] = coco_to_h36m(coords)
    if score_channel == "aligned":
        scores[swapped] = scores[swapped][:, ::-1]
        scores = coco_to_h36m_scores(scores)
    flat[..., 2] = scores
    frames = offsets[:, None] + resample_indices(lengths, n_frames, train, rng)  # (N, T)
    out = flat[frames[:, None, :], np.arange(PERSONS)[None, :, None]]  # (N, 2, T, 17, 3)
    out[persons < 2, 1] = 0.0  # MotionBERT's fake second person is all zeros
    out[persons < 1, 0] = 0.0
    return out[:, :kept]


PREPROCESS_KEYS = ("n_frames", "score_channel", "max_persons", "seed")


def preprocess_settings(text, flag="--preprocess-json"):
    """The ``preprocess`` config section given to ``flag``, checked (the schema's bounds)."""
    pre = json_object(text, flag, PREPROCESS_KEYS)
    checks = {
        "n_frames": isinstance(pre["n_frames"], int) and pre["n_frames"] >= 1,
        "score_channel": pre["score_channel"] in SCORE_CHANNELS,
        "max_persons": pre["max_persons"] in range(1, PERSONS + 1),
        "seed": isinstance(pre["seed"], int),
    }
    check_values(pre, checks, flag)
    return {key: pre[key] for key in PREPROCESS_KEYS}


def write_h5(path, parts, attrs):
    """Write ``{part: (x, labels, frame_dirs, extra)}`` groups and root ``attrs`` atomically to ``path``;
    ``extra`` maps further dataset names of the group to arrays (e.g. the native 3D ``length``)."""
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            for key, value in attrs.items():
                h5.attrs[key] = value
            for part, (x, labels, frame_dirs, extra) in parts.items():
                group = h5.create_group(part)
                group.create_dataset("x", data=x)
                group.create_dataset("label", data=np.asarray(labels, np.int64))
                group.create_dataset("frame_dir", data=np.asarray(frame_dirs, dtype=object), dtype=h5py.string_dtype())
                for name, value in extra.items():
                    group.create_dataset(name, data=value)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.data.preprocess", description=__doc__.split("\n")[0])
    parser.add_argument("--poses", required=True, help="PYSKL pickle (results/poses/{dataset}/{estimator}.pkl)")
    parser.add_argument("--split", required=True, help="split prefix: uses '<split>_train' and '<split>_val'")
    parser.add_argument("--out", required=True, help="HDF5 output (results/data/{dataset}/{estimator}/{split}.h5)")
    parser.add_argument("--num-classes", type=int, required=True)
    parser.add_argument("--preprocess-json", required=True, help=f"config.preprocess: {', '.join(PREPROCESS_KEYS)}")
    args = parser.parse_args(argv)
    pre = preprocess_settings(args.preprocess_json)
    dataset = load_pyskl(args.poses, num_classes=args.num_classes)
    rng = np.random.default_rng(pre["seed"])
    parts = {}
    for part, suffix in (("train", "_train"), ("test", "_val")):
        members = split_members(dataset, args.split + suffix, args.poses)
        x = preprocess(members, pre["n_frames"], part == "train", rng, pre["score_channel"], pre["max_persons"])
        parts[part] = (x, [a["label"] for a in members], [a["frame_dir"] for a in members], {})
    attrs = {
        **pre,
        "num_classes": args.num_classes,
        "split": args.split,
        "layout": "x: float32 (N, persons (max_persons, at most 2), T, 17 H36M joints, 3 = x, y, score)",
        "source": str(args.poses),
        "source_sha256": sha256(args.poses),
        "maskclr_version": __version__,
        "params_json": json.dumps(vars(args), sort_keys=True),
    }
    write_h5(args.out, parts, attrs)


if __name__ == "__main__":
    run_cli(main)
