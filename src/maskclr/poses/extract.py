"""Entry point of the ``extract_poses`` rule: run one estimator over a dataset's source items.

    python -m maskclr.poses.extract --source SRC --estimator-json '{"type": ...}' \\
        --tier mq --seed 0 --out results/poses/{dataset}/{estimator}.pkl

The output is a PYSKL file with the source's splits. Each item gets its own random generator,
seeded from (seed, tier, frame_dir), so results do not depend on order or sharding.
"""

import argparse
import json
import zlib

import numpy as np

from maskclr.data.pyskl import load_pyskl, validate_dataset
from maskclr.errors import InputError, run_cli
from maskclr.fileio import dump_pickle
from maskclr.poses.base import build_estimator, lazy_class
from maskclr.poses.simulated import SimulatedEstimator

# The real adapters import torch (and openpifpaf) when built: the simulated tier's environment has neither.
ESTIMATORS = {
    "simulated": SimulatedEstimator,
    "vitpose": lazy_class("maskclr.poses.topdown:ViTPoseEstimator"),
    "hrnet": lazy_class("maskclr.poses.topdown:HRNetEstimator"),
    "openpifpaf": lazy_class("maskclr.poses.openpifpaf_adapter:OpenPifPafEstimator"),
}


def item_rng(seed, tier, frame_dir):
    """A generator that depends only on the seed, the tier name and the item."""
    return np.random.default_rng([seed, zlib.crc32(tier.encode()), zlib.crc32(frame_dir.encode())])


def extract(source, estimator, tier, seed):
    """Run ``estimator`` over every annotation of ``source``; returns a PYSKL dict."""
    annotations = []
    for item in source["annotations"]:
        poses = estimator.estimate(item, item_rng(seed, tier, item["frame_dir"]))
        annotations.append({
            "frame_dir": item["frame_dir"], "label": item["label"],
            "total_frames": poses["keypoint"].shape[1], "img_shape": poses["img_shape"],
            "original_shape": poses["img_shape"], **poses,
        })
    return {"split": source["split"], "annotations": annotations}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.poses.extract", description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, help="source items (for synth: the ground-truth scenes)")
    parser.add_argument("--estimator-json", required=True, help="estimator spec: {'type': ..., **arguments}")
    parser.add_argument("--tier", required=True, help="quality tier name (hq/mq/lq), part of the seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        spec = json.loads(args.estimator_json)
    except json.JSONDecodeError as err:
        raise InputError(f"--estimator-json: not valid JSON: {err}") from err
    estimator = build_estimator(spec, ESTIMATORS)
    poses = extract(load_pyskl(args.source), estimator, args.tier, args.seed)
    dump_pickle(validate_dataset(poses, args.out), args.out)


if __name__ == "__main__":
    run_cli(main)
