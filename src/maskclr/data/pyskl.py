"""Load and validate PYSKL skeleton files (docs/method.md §2.1), accepting real files as they come.

A PYSKL file is ``{"split": {name: [frame_dir, ...]}, "annotations": [ann, ...]}`` where each
``ann`` holds ``frame_dir``, ``total_frames``, ``img_shape`` (H, W), ``label`` (0-based),
``keypoint`` (M, T, 17, 2) in pixels (COCO order) and ``keypoint_score`` (M, T, 17).
PYSKL's 3D files (``ntu60_3danno.pkl``, ``ntu120_3danno.pkl``; ``POSES_3D``) hold ``keypoint``
(M, T, 25, 3) in metres (Kinect camera space, NTU-25 order) and neither ``img_shape`` nor
``keypoint_score``; every function takes the expected ``PoseFormat``, 2D by default.

Accepted as they come, not errors: float16 arrays (cast to float32), extra keys (``modality``,
``start_index``, ...), keypoints outside the image, all-zero persons, M = 0 (nothing detected),
and a bare annotation or list of annotations without the wrapper: it is wrapped with one split
``"all"``. ``python -m maskclr.data.pyskl wrap`` wraps such files under chosen split names;
``python -m maskclr.data.pyskl splits`` writes each split as a plain list of ``frame_dir``.

Everything else that would silently corrupt training is an ``InputError`` naming the file, the
sample and the key.
"""

import argparse
import dataclasses
import numbers
from pathlib import Path

import numpy as np

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output, brief, dump_pickle, load_pickle

NUM_JOINTS = 17
# Bounds far above any real clip (NTU and Kinetics clips have <= 300 frames and a few persons)
# that keep a hostile file from making preprocessing allocate gigabytes.
MAX_FRAMES = 100_000
MAX_PERSONS = 100
# Value ranges: pixel coordinates may lie outside the image, but not beyond float16's range
# (PYSKL's storage type; larger values overflow the preprocessing); scores are confidences in
# [0, 1], and the heatmap peaks of top-down estimators (HRNet, ViTPose) overshoot 1 slightly.
COORDINATE_RANGE = (-65504.0, 65504.0)
SCORE_RANGE = (0.0, 1.5)
REQUIRED_KEYS = ("frame_dir", "total_frames", "img_shape", "label", "keypoint", "keypoint_score")
# Kinect v2 tracks bodies within about 0.5-8 m of the sensor: a bound of 100 m refuses files in
# millimetres or pixels (a unit mistake) while accepting any real camera-space skeleton.
METRE_RANGE = (-100.0, 100.0)


@dataclasses.dataclass(frozen=True)
class PoseFormat:
    """What a PYSKL file's ``keypoint`` holds: (M, T, joints, channels) within ``coordinate_range``
    (``unit``); ``scored`` files also carry ``img_shape`` and ``keypoint_score`` (M, T, joints)."""

    joints: int
    channels: int
    coordinate_range: tuple
    unit: str
    scored: bool

    @property
    def required_keys(self):
        return (
            REQUIRED_KEYS
            if self.scored
            else tuple(k for k in REQUIRED_KEYS if k not in ("img_shape", "keypoint_score"))
        )


POSES_2D = PoseFormat(NUM_JOINTS, 2, COORDINATE_RANGE, "pixels", scored=True)
POSES_3D = PoseFormat(25, 3, METRE_RANGE, "metres", scored=False)
FORMATS = {"2d": POSES_2D, "3d": POSES_3D}


def _fail(path, where, key, problem):
    raise InputError(f"{path}: {where}: key '{key}': {problem}")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _checked_array(path, where, ann, key, shape, bounds, unit):
    """Return ``ann[key]`` as float32 after checking its type, shape pattern, size, finiteness
    and that its values lie in ``bounds`` (low, high), in ``unit``."""
    value = ann[key]
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
        kind = type(value).__name__ if not isinstance(value, np.ndarray) else f"{value.dtype} array"
        _fail(path, where, key, f"expected a float array of shape {shape}, got {kind}")
    dims = shape.strip("[]").split(", ")
    if value.ndim != len(dims) or any(d.isdigit() and value.shape[i] != int(d) for i, d in enumerate(dims)):
        _fail(path, where, key, f"expected shape {shape}, got {list(value.shape)}")
    if value.shape[0] > MAX_PERSONS or value.shape[1] > MAX_FRAMES:
        _fail(
            path,
            where,
            key,
            f"{value.shape[0]} persons x {value.shape[1]} frames exceeds the limit "
            f"of {MAX_PERSONS} persons x {MAX_FRAMES} frames",
        )
    value = value.astype(np.float32, copy=False)
    if not np.isfinite(value).all():  # after the cast: 1e300 in float64 becomes inf in float32
        _fail(path, where, key, "contains NaN or infinite values (after the cast to float32)")
    if value.size and (value.min() < bounds[0] or value.max() > bounds[1]):
        _fail(
            path,
            where,
            key,
            f"values must lie in [{bounds[0]:g}, {bounds[1]:g}], found {value.min():g} to {value.max():g} ({unit})",
        )
    return value


def _is_image_shape(shape):
    """(height, width) positive integers, checked without converting ``shape`` to an array
    (a nested list of shared references would expand exponentially)."""
    if isinstance(shape, np.ndarray):
        shape = shape.tolist() if shape.ndim == 1 and shape.size == 2 else None
    return (
        isinstance(shape, (tuple, list))
        and len(shape) == 2
        and all(_is_int(s) and 0 < s <= COORDINATE_RANGE[1] for s in shape)
    )


def validate_annotation(ann, path, index, num_classes=None, fmt=POSES_2D):
    """Check one annotation (``fmt``: a ``PoseFormat``) and return a copy with float32 arrays
    (extra keys are kept)."""
    where = f"annotation {index}"
    if not isinstance(ann, dict):
        raise InputError(f"{path}: {where}: expected a dict, got {type(ann).__name__}")
    if isinstance(ann.get("frame_dir"), str) and ann["frame_dir"]:
        where = f"annotation {index} (frame_dir {brief(ann['frame_dir'])})"
    for key in fmt.required_keys:
        if key not in ann:
            _fail(path, where, key, "missing (required: " + ", ".join(fmt.required_keys) + ")")
    if not isinstance(ann["frame_dir"], str) or not ann["frame_dir"]:
        _fail(path, where, "frame_dir", "expected a non-empty string")
    total = ann["total_frames"]
    if not _is_int(total) or total < 1:
        _fail(path, where, "total_frames", f"expected a positive integer, got {brief(total)}")
    label = ann["label"]
    if not _is_int(label) or label < 0 or (num_classes is not None and label >= num_classes):
        allowed = f"0..{num_classes - 1}" if num_classes else ">= 0"
        _fail(path, where, "label", f"expected an integer in {allowed}, got {brief(label)}")
    shape = f"[M, T, {fmt.joints}, {fmt.channels}]"
    keypoint = _checked_array(path, where, ann, "keypoint", shape, fmt.coordinate_range, fmt.unit)
    if keypoint.shape[1] != total:
        _fail(path, where, "total_frames", f"is {total} but keypoint has {keypoint.shape[1]} frames")
    clean = {**ann, "keypoint": keypoint, "label": int(label), "total_frames": int(total)}
    return {**clean, **_checked_scores(path, where, ann, keypoint)} if fmt.scored else clean


def _checked_scores(path, where, ann, keypoint):
    """``img_shape`` and ``keypoint_score`` of a 2D annotation, checked against its ``keypoint``."""
    shape = ann["img_shape"]
    if not _is_image_shape(shape):
        _fail(
            path,
            where,
            "img_shape",
            f"expected (height, width) integers in 1..{COORDINATE_RANGE[1]:g}, got {brief(shape)}",
        )
    score = _checked_array(path, where, ann, "keypoint_score", f"[M, T, {keypoint.shape[2]}]", SCORE_RANGE, "scores")
    if keypoint.shape[:2] != score.shape[:2]:
        _fail(
            path, where, "keypoint_score", f"shape {list(score.shape)} does not match keypoint {list(keypoint.shape)}"
        )
    return {"keypoint_score": score, "img_shape": tuple(int(s) for s in shape)}


def wrap(annotations, split_name="all"):
    """Wrap bare annotations into a PYSKL dataset whose one split ``split_name`` lists them all."""
    return {"split": {split_name: [a["frame_dir"] for a in annotations]}, "annotations": list(annotations)}


def validate_dataset(data, path, num_classes=None, fmt=POSES_2D):
    """Validate a loaded PYSKL object of ``fmt`` (wrapping bare annotations); return the clean dataset."""
    if isinstance(data, dict) and "annotations" not in data and "keypoint" in data:
        data = wrap([data])
    elif isinstance(data, list):
        data = wrap(data)
    if not isinstance(data, dict) or "annotations" not in data:
        raise InputError(
            f"{path}: expected a PYSKL dict with keys 'split' and 'annotations', "
            f"or a bare annotation; got {type(data).__name__}"
        )
    if not isinstance(data["annotations"], list):
        raise InputError(f"{path}: key 'annotations': expected a list of dicts")
    annotations = [validate_annotation(a, path, i, num_classes, fmt) for i, a in enumerate(data["annotations"])]
    seen = {}
    for i, ann in enumerate(annotations):
        if ann["frame_dir"] in seen:
            raise InputError(
                f"{path}: annotation {i}: key 'frame_dir': {brief(ann['frame_dir'])} "
                f"duplicates annotation {seen[ann['frame_dir']]}"
            )
        seen[ann["frame_dir"]] = i
    split = data.get("split", {"all": list(seen)})
    if not isinstance(split, dict):
        raise InputError(f"{path}: key 'split': expected a dict of split name -> list of frame_dir")
    for name, members in split.items():
        if (
            not isinstance(name, str)
            or not isinstance(members, (list, tuple))
            or not all(isinstance(m, str) for m in members)
        ):
            raise InputError(
                f"{path}: key 'split' [{brief(name)}]: expected a split name mapped to a "
                f"list of frame_dir strings, got {brief(members)}"
            )
        missing = [m for m in members if m not in seen]
        if missing:
            raise InputError(
                f"{path}: key 'split' [{brief(name)}]: frame_dir {brief(missing[0])} is not in "
                f"the annotations ({len(missing)} missing in all)"
            )
    return {**data, "split": {k: list(v) for k, v in split.items()}, "annotations": annotations}


def load_pyskl(path, num_classes=None, fmt=POSES_2D):
    """Safely load and validate a PYSKL file; see the module docstring for what is accepted."""
    return validate_dataset(load_pickle(path), path, num_classes, fmt)


def split_members(dataset, split_name, path):
    """Return the annotations listed in ``dataset['split'][split_name]``, in split order; an
    absent or empty split is an error (training or testing on nothing would report a result)."""
    if split_name not in dataset["split"]:
        raise InputError(
            f"{path}: key 'split': no split {brief(split_name)} (available: {brief(sorted(dataset['split']), 200)})"
        )
    if not dataset["split"][split_name]:
        raise InputError(f"{path}: key 'split' [{brief(split_name)}]: empty: no sequence to train or test on")
    by_dir = {a["frame_dir"]: a for a in dataset["annotations"]}
    return [by_dir[f] for f in dataset["split"][split_name]]


def write_split_lists(dataset, folder):
    """One ``{split}.txt`` per split of ``dataset`` in ``folder``, one ``frame_dir`` per line."""
    for name, members in dataset["split"].items():
        with atomic_output(Path(folder) / f"{name}.txt") as tmp:
            tmp.write_text("".join(f"{d}\n" for d in members))


def wrap_files(args):
    assignment = dict(item.split("=", 1)[::-1] for item in args.split)
    annotations, split = [], {}
    for path in args.inputs:
        loaded = validate_dataset(load_pickle(path), path)["annotations"]
        annotations += loaded
        split.setdefault(assignment.get(path, "all"), []).extend(a["frame_dir"] for a in loaded)
    dump_pickle(validate_dataset({"split": split, "annotations": annotations}, args.out), args.out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m maskclr.data.pyskl", description="Tools for PYSKL files: wrap annotations, list splits."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("wrap", help="wrap annotation files (one per file, or lists) into one dataset")
    cmd.add_argument("inputs", nargs="+", help="pickles holding one annotation or a list of them")
    cmd.add_argument(
        "--split",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="put the annotations of FILE into split NAME (repeatable); files without a --split go into split 'all'",
    )
    cmd.add_argument("--out", required=True)
    lists = sub.add_parser("splits", help="write each split as a plain-text list of frame_dir")
    lists.add_argument("poses", help="a PYSKL file")
    lists.add_argument("--format", choices=sorted(FORMATS), default="2d", help="its skeletons: 2D pixels or 3D metres")
    lists.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    if args.command == "wrap":
        wrap_files(args)
    else:
        write_split_lists(load_pyskl(args.poses, fmt=FORMATS[args.format]), args.out_dir)


if __name__ == "__main__":
    run_cli(main)
