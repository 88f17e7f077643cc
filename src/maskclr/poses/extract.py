"""Entry points of the pose rules: run one estimator over one shard of a dataset's source items,
then merge the shards.

    python -m maskclr.poses.extract run --source SRC --estimator-json '{"type": ...}' \\
        --tier mq --seed 0 --shard 3 --shards 16 --out results/poses/{dataset}/{estimator}/shard3.pkl
    python -m maskclr.poses.extract merge --source SRC --out results/poses/{dataset}/{estimator}.pkl SHARDS...

A source is a PYSKL-style dict ``{"split", "annotations"}``: for synth the ground-truth scenes,
for real data one item ``{"frame_dir", "label", "video"}`` per video (``maskclr.poses.sources``).
Shard k of n holds the k-th of n contiguous, nearly equal runs of the items, so a SLURM job
array runs one shard per task. Each item gets its own random generator, seeded from
(seed, tier, frame_dir), so results do not depend on order or sharding.
"""

import argparse
import zlib

import numpy as np

from maskclr.data.pyskl import load_pyskl, validate_dataset
from maskclr.errors import InputError, run_cli
from maskclr.fileio import dump_pickle, load_pickle
from maskclr.poses.base import build_estimator, lazy_class, parse_estimator_json
from maskclr.poses.simulated import SimulatedEstimator

# The real adapters import torch (and openpifpaf) when built: the simulated tier's environment has neither.
ESTIMATORS = {
    "simulated": SimulatedEstimator,
    "vitpose": lazy_class("maskclr.poses.topdown:ViTPoseEstimator"),
    "hrnet": lazy_class("maskclr.poses.topdown:HRNetEstimator"),
    "openpifpaf": lazy_class("maskclr.poses.openpifpaf_adapter:OpenPifPafEstimator"),
}
VIDEO_KEYS = ("frame_dir", "label", "video")


def item_rng(seed, tier, frame_dir):
    """A generator that depends only on the seed, the tier name and the item."""
    return np.random.default_rng([seed, zlib.crc32(tier.encode()), zlib.crc32(frame_dir.encode())])


def load_source(path):
    """A source file: video items (checked for their keys) or a PYSKL dataset (fully validated)."""
    data = load_pickle(path)
    items = data.get("annotations") if isinstance(data, dict) else None
    if not items or "video" not in items[0]:
        return load_pyskl(path)
    for i, item in enumerate(items):
        missing = [k for k in VIDEO_KEYS if k not in item]
        if missing:
            raise InputError(f"{path}: item {i}: missing key '{missing[0]}' (video items need {VIDEO_KEYS})")
    return data


def shard_items(items, shard, shards):
    """The ``shard``-th of ``shards`` contiguous runs of ``items``."""
    if not 0 <= shard < shards:
        raise InputError(f"--shard {shard}: expected 0 <= shard < --shards {shards}")
    bounds = np.linspace(0, len(items), shards + 1).round().astype(int)
    return items[bounds[shard] : bounds[shard + 1]]


def extract(items, estimator, tier, seed):
    """Run ``estimator`` over source ``items``; returns PYSKL annotations."""
    annotations = []
    for item in items:
        poses = estimator.estimate(item, item_rng(seed, tier, item["frame_dir"]))
        annotations.append(
            {
                "frame_dir": item["frame_dir"],
                "label": item["label"],
                "total_frames": poses["keypoint"].shape[1],
                "img_shape": poses["img_shape"],
                "original_shape": poses["img_shape"],
                **poses,
            }
        )
    return annotations


def merge(source, shard_files, out):
    """The shards' annotations in source order, with the source's splits, validated."""
    by_dir = {}
    for path in shard_files:
        for ann in load_pickle(path)["annotations"]:
            by_dir[ann["frame_dir"]] = ann
    missing = [item["frame_dir"] for item in source["annotations"] if item["frame_dir"] not in by_dir]
    if missing:
        raise InputError(
            f"{out}: {len(missing)} source items are in no shard, e.g. '{missing[0]}' "
            "(shards from another source or another shard count?)"
        )
    annotations = [by_dir[item["frame_dir"]] for item in source["annotations"]]
    return validate_dataset({"split": source["split"], "annotations": annotations}, out)


def run(args):
    estimator = build_estimator(parse_estimator_json(args.estimator_json), ESTIMATORS)
    items = shard_items(load_source(args.source)["annotations"], args.shard, args.shards)
    annotations = extract(items, estimator, args.tier, args.seed)
    dump_pickle({"annotations": annotations, "shard": args.shard, "shards": args.shards}, args.out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.poses.extract", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="run an estimator over one shard")
    one.add_argument("--source", required=True, help="source items (synth: the ground-truth scenes)")
    one.add_argument("--estimator-json", required=True, help="estimator spec: {'type': ..., **arguments}")
    one.add_argument("--tier", required=True, help="quality tier name (hq/mq/lq), part of the seed")
    one.add_argument("--seed", type=int, default=0)
    one.add_argument("--shard", type=int, default=0)
    one.add_argument("--shards", type=int, default=1)
    one.add_argument("--out", required=True)
    both = sub.add_parser("merge", help="merge the shards of one tier into a PYSKL file")
    both.add_argument("--source", required=True)
    both.add_argument("--out", required=True)
    both.add_argument("shard_files", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args)
    else:
        dump_pickle(merge(load_source(args.source), args.shard_files, args.out), args.out)


if __name__ == "__main__":
    run_cli(main)
