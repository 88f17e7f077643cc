"""Import PYSKL's released 2D skeletons (HRNet = the MQ tier) into the workflow's pose format.

    python -m maskclr.data.releases ntu --release ntu60_hrnet.pkl --splits xsub xview \\
        --num-classes 60 --expected-json '{"xsub_train": 40091, ...}' \\
        --out results/poses/ntu60/mq.pkl
    python -m maskclr.data.releases ntu --format 3d --release ntu60_3danno.pkl ... \\
        --out results/poses/ntu60/kinect.pkl
    python -m maskclr.data.releases k400 --release k400_hrnet.pkl --kpfiles k400_kpfiles_2d.zip ...

NTU60/NTU120 releases are PYSKL files already: they are validated, checked against the expected
split sizes and class count (docs/method.md §2.1) and rewritten. ``--format 3d`` reads PYSKL's 3D
Kinect files instead (``ntu60_3danno.pkl``, ``ntu120_3danno.pkl``: ``keypoint`` (M, T, 25, 3) in
metres, no scores, the same split names), with the same checks. Kinetics-400 is stored compressed
(PYSKL ``tools/data/README.md``): the annotation file holds per video ``raw_file`` (the kpfile
holding its skeletons), ``frame_inds`` and ``box_score`` per skeleton, and each kpfile maps a
``frame_dir`` to ``{"keypoint": (N, 17, 3)}`` (x, y, score). Following docs/method.md Q8, skeletons
with box score >= a threshold are kept, then the top ``max_persons`` per frame by mean keypoint
score; frames without any skeleton are dropped, as PYSKL's ``DecompressPose(squeeze=True)``. A
video left with no skeleton at all is kept, as one empty frame (zero coordinates and scores), with
a warning that counts them: PYSKL keeps such videos in its splits (its K400 configs set
``valid_ratio=0.0`` for training and no ratio for testing), so the split sizes stay PYSKL's.
Kpfiles are read whole into memory, so each is capped (``--max-kpfile-mib``). PYSKL's K400
splits ``train``/``val`` become ``main_train``/``main_val`` (the workflow's split
``main``).
"""

import argparse
import sys
import zipfile
import zlib
from collections import defaultdict
from pathlib import Path, PurePosixPath

import numpy as np

from maskclr.data.pyskl import FORMATS, NUM_JOINTS, POSES_2D, validate_dataset
from maskclr.errors import InputError, run_cli
from maskclr.fileio import brief, dump_pickle, load_pickle, unpickle_bytes
from maskclr.settings import json_object

K400_SPLITS = {"train": "main_train", "val": "main_val"}
# A kpfile is unpickled from memory: a cap far above a real one (PYSKL's hold a few thousand
# videos) keeps a small archive with a huge compressed member from exhausting the memory.
MAX_KPFILE_MIB = 1024


def workflow_splits(split):
    """A release's ``split`` dict under the workflow's names (K400's train/val → main_train/main_val)."""
    return {K400_SPLITS.get(name, name): list(members) for name, members in split.items()}


def split_names(splits):
    """PYSKL split names of the workflow's evaluation protocols: xsub → xsub_train, xsub_val."""
    return [f"{s}_{part}" for s in splits for part in ("train", "val")]


def check_counts(dataset, path, names, num_classes, expected):
    """Every split in ``names`` exists with its expected size, and all classes occur."""
    for name in names:
        if name not in dataset["split"]:
            raise InputError(
                f"{path}: key 'split': no split {brief(name)} (available: {brief(sorted(dataset['split']), 200)})"
            )
    for name, count in expected.items():
        actual = len(dataset["split"].get(name, ()))
        if actual != count:
            raise InputError(
                f"{path}: split '{name}' has {actual} sequences, expected {count} "
                f"(config key expected_sizes.{name}; docs/method.md §2.1): not the "
                "release the paper used, or a truncated download"
            )
    labels = {a["label"] for a in dataset["annotations"]}
    if len(labels) != num_classes:
        raise InputError(
            f"{path}: {len(labels)} distinct labels, expected {num_classes} classes (config key num_classes)"
        )


def import_ntu(release, num_classes, fmt=POSES_2D):
    """An NTU60/120 release of ``fmt`` (a ``PoseFormat``: the 2D HRNet or the 3D Kinect file),
    validated (float16 keypoints and extra keys are accepted)."""
    return validate_dataset(load_pickle(release), release, num_classes, fmt)


def select_skeletons(keypoint, frame_inds, box_score, box_threshold, max_persons):
    """Compressed K400 skeletons → (keypoint (M, T, 17, 2), score (M, T, 17)), M <= max_persons.

    keypoint: (N, 17, 3) skeletons, frame_inds: (N,) frame of each, box_score: (N,). Keeps boxes
    scoring >= box_threshold, then per frame the ``max_persons`` best by mean keypoint score
    (person slot 0 = the best); frames left without a skeleton are dropped.
    """
    keep = np.asarray(box_score) >= box_threshold
    kp, frames = np.asarray(keypoint, np.float32)[keep], np.asarray(frame_inds)[keep]
    if not len(kp):
        return np.zeros((0, 0, NUM_JOINTS, 2), np.float32), np.zeros((0, 0, NUM_JOINTS), np.float32)
    order = np.lexsort((-kp[..., 2].mean(-1), frames))  # by frame, then best score first
    kp, frames = kp[order], frames[order]
    _, first, frame = np.unique(frames, return_index=True, return_inverse=True)
    rank = np.arange(len(frames)) - first[frame]  # position of each skeleton within its frame
    chosen = rank < max_persons
    persons = int(rank[chosen].max()) + 1
    out = np.zeros((persons, len(first), NUM_JOINTS, 3), np.float32)
    out[rank[chosen], frame[chosen]] = kp[chosen]
    return out[..., :2], out[..., 2]


class Kpfiles:
    """The K400 kpfiles, from their zip archive or an unpacked folder, found by file name.

    ``raw_file`` in the annotations is a path on the release author's machine; only its last
    component is used.
    """

    def __init__(self, source, max_mib=MAX_KPFILE_MIB):
        self.source = Path(source)
        self.max_bytes = max_mib << 20
        if zipfile.is_zipfile(self.source):
            try:
                self.zip = zipfile.ZipFile(self.source)
            except (zipfile.BadZipFile, OSError) as err:
                raise InputError(f"{self.source}: not a readable zip archive: {err}") from err
            self.members = self.by_name([(i.filename, i) for i in self.zip.infolist() if not i.is_dir()])
        elif self.source.is_dir():
            self.zip = None
            self.members = self.by_name([(str(p), p) for p in sorted(self.source.rglob("*")) if p.is_file()])
        else:
            raise InputError(f"{self.source}: expected the K400 kpfiles as a zip archive or a folder")

    def by_name(self, entries):
        """{file name: member} of (path, member) pairs. ``raw_file`` names only the file, so two
        members of one name (in two folders, or twice in the zip) would make the choice arbitrary."""
        members, paths = {}, {}
        for path, member in entries:
            name = PurePosixPath(path).name
            if name in members:
                raise InputError(
                    f"{self.source}: two kpfiles named {brief(name)} ({brief(paths[name])} and "
                    f"{brief(path)}): ambiguous, since an annotation's raw_file names only the file"
                )
            members[name], paths[name] = member, path
        return members

    def load(self, raw_file):
        name = PurePosixPath(str(raw_file)).name
        if name not in self.members:
            raise InputError(
                f"{self.source}: no kpfile '{name}' (named by an annotation's key "
                "'raw_file'): incomplete kpfiles archive"
            )
        where = f"{self.source}:{name}"
        member = self.members[name]
        if self.zip is None:
            self.check_size(member.stat().st_size, where)
            return load_pickle(member), where
        return unpickle_bytes(self.read_member(member, where), where), where

    def read_member(self, info, where):
        """A zip member's bytes, read up to the cap whatever its header claims."""
        if info.flag_bits & 0x1:
            raise InputError(f"{where}: encrypted zip member: password-protected kpfiles are not supported")
        try:
            with self.zip.open(info) as member:
                data = member.read(self.max_bytes + 1)
        except NotImplementedError as err:
            raise InputError(
                f"{where}: zip member compressed with an unsupported method ({err}); re-pack the archive with deflate"
            ) from err
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise InputError(f"{where}: corrupt zip member: {brief(str(err), 200)}") from err
        self.check_size(len(data), where)
        return data

    def check_size(self, size, where):
        if size > self.max_bytes:
            raise InputError(
                f"{where}: kpfile larger than {self.max_bytes >> 20} MiB (--max-kpfile-mib): "
                "not a PYSKL kpfile, or raise the limit"
            )


def k400_annotation(ann, kpfile, where, box_threshold, max_persons):
    """One compressed K400 annotation and its kpfile entry → a PYSKL annotation."""
    entry = kpfile.get(ann["frame_dir"])
    if entry is None:
        raise InputError(f"{where}: no skeletons for frame_dir '{ann['frame_dir']}'")
    keypoint = entry["keypoint"] if isinstance(entry, dict) else entry
    if (
        np.ndim(keypoint) != 3
        or np.shape(keypoint)[1:] != (NUM_JOINTS, 3)
        or len(keypoint) != len(ann["frame_inds"])
        or len(keypoint) != len(ann["box_score"])
    ):
        raise InputError(
            f"{where}: frame_dir '{ann['frame_dir']}': key 'keypoint': expected "
            f"(N, {NUM_JOINTS}, 3) with N = len(frame_inds) = len(box_score), got "
            f"{np.shape(keypoint)}, {len(ann['frame_inds'])}, {len(ann['box_score'])}"
        )
    kp, score = select_skeletons(keypoint, ann["frame_inds"], ann["box_score"], box_threshold, max_persons)
    if not kp.shape[1]:  # no box reached the threshold: one empty frame (module docstring)
        kp, score = np.zeros((1, 1, NUM_JOINTS, 2), np.float32), np.zeros((1, 1, NUM_JOINTS), np.float32)
    # The label as given and float32 arrays: validate_dataset checks both, and a cast here
    # (int(1.7), float16(70000) = inf) would hide what the file holds.
    return {
        "frame_dir": ann["frame_dir"],
        "label": ann["label"],
        "total_frames": kp.shape[1],
        "img_shape": tuple(ann["img_shape"]),
        "original_shape": tuple(ann.get("original_shape", ann["img_shape"])),
        "keypoint": kp,
        "keypoint_score": score,
    }


def import_k400(release, kpfiles, num_classes, box_threshold, max_persons, max_kpfile_mib=MAX_KPFILE_MIB):
    """The K400 table of contents plus its kpfiles → a PYSKL dataset with main_train/main_val."""
    index = load_pickle(release)
    if not isinstance(index, dict) or not {"split", "annotations"} <= set(index):
        raise InputError(f"{release}: expected a PYSKL dict with keys 'split' and 'annotations'")
    by_file = defaultdict(list)
    for i, ann in enumerate(index["annotations"]):
        missing = [
            k for k in ("frame_dir", "label", "img_shape", "raw_file", "frame_inds", "box_score") if k not in ann
        ]
        if missing:
            raise InputError(
                f"{release}: annotation {i}: missing key '{missing[0]}' (a K400 "
                "table of contents has raw_file, frame_inds and box_score)"
            )
        by_file[ann["raw_file"]].append(ann)
    files = Kpfiles(kpfiles, max_kpfile_mib)
    annotations = []
    for raw_file, anns in by_file.items():
        kpfile, where = files.load(raw_file)
        annotations += [k400_annotation(a, kpfile, where, box_threshold, max_persons) for a in anns]
    empty = [a["frame_dir"] for a in annotations if not a["keypoint_score"].any()]
    if empty:
        print(
            f"warning: {release}: {len(empty)} of {len(annotations)} videos have no scored skeleton with "
            f"box score >= {box_threshold} ({brief(empty, 200)}): kept as one empty frame, as in PYSKL's splits",
            file=sys.stderr,
        )
    return validate_dataset(
        {"split": workflow_splits(index["split"]), "annotations": annotations}, release, num_classes
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.data.releases", description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=("ntu", "k400"), help="release format")
    parser.add_argument("--release", required=True, help="the PYSKL annotation pickle")
    parser.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default="2d",
        help="ntu: 2D HRNet (17 joints, pixels) or 3D Kinect (25, metres)",
    )
    parser.add_argument("--kpfiles", help="k400: the kpfiles zip archive or folder")
    parser.add_argument("--splits", nargs="+", required=True, help="evaluation protocols (xsub, xview, xset, main)")
    parser.add_argument("--num-classes", type=int, required=True)
    parser.add_argument("--expected-json", default="{}", help="expected size per split name")
    parser.add_argument("--box-threshold", type=float, default=0.5, help="k400: minimum box score")
    parser.add_argument("--max-persons", type=int, default=2, help="k400: skeletons kept per frame")
    parser.add_argument("--max-kpfile-mib", type=int, default=MAX_KPFILE_MIB, help="k400: largest kpfile read")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.kind == "ntu":
        dataset = import_ntu(args.release, args.num_classes, FORMATS[args.format])
    elif args.format != "2d":
        raise InputError("k400: --format 3d: PYSKL releases Kinetics-400 as 2D skeletons only")
    elif args.kpfiles is None:
        raise InputError("k400: --kpfiles is required (config key downloads.k400_kpfiles)")
    else:
        dataset = import_k400(
            args.release, args.kpfiles, args.num_classes, args.box_threshold, args.max_persons, args.max_kpfile_mib
        )
    names = split_names(args.splits)
    check_counts(dataset, args.release, names, args.num_classes, json_object(args.expected_json, "--expected-json"))
    dump_pickle(dataset, args.out)


if __name__ == "__main__":
    run_cli(main)
