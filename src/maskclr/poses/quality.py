"""Pose quality of an estimator against ground truth (synthetic data only).

    python -m maskclr.poses.quality --truth SCENES --poses POSES --out QUALITY.json

Over every ground-truth-visible joint of every ground-truth person (estimated person m is
compared with true person m; spurious tracks are appended after the real ones):
``detected`` (fraction with score > 0), ``mean_error_px``/``median_error_px`` of detected joints,
``pck_10px`` (fraction detected within 10 px), ``mean_score`` of detected joints, and
``score_error_corr``, the Pearson correlation of score and error over detected joints (negative
when scores are meaningful), plus ``extra_tracks`` (samples with more persons than the truth).
"""

import argparse
import json

import numpy as np

from maskclr.data.pyskl import load_pyskl
from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output


def pose_quality(truth, poses):
    """Quality figures (dict) of PYSKL ``poses`` against PYSKL ``truth`` with the same frame_dirs."""
    estimated = {a["frame_dir"]: a for a in poses["annotations"]}
    errors, scores, visible, extra = [], [], 0, 0
    for gt in truth["annotations"]:
        est = estimated.get(gt["frame_dir"])
        if est is None:
            raise InputError(f"poses: frame_dir '{gt['frame_dir']}' of the truth is missing")
        m = gt["keypoint"].shape[0]
        extra += est["keypoint"].shape[0] > m
        seen = gt["keypoint_score"] > 0
        hit = seen & (est["keypoint_score"][:m] > 0)
        visible += seen.sum()
        errors.append(np.linalg.norm(est["keypoint"][:m] - gt["keypoint"], axis=-1)[hit])
        scores.append(est["keypoint_score"][:m][hit])
    errors, scores = np.concatenate(errors), np.concatenate(scores)
    return {
        "detected": float(len(errors) / visible),
        "mean_error_px": float(errors.mean()),
        "median_error_px": float(np.median(errors)),
        "pck_10px": float((errors <= 10).sum() / visible),
        "mean_score": float(scores.mean()),
        "score_error_corr": float(np.corrcoef(scores, errors)[0, 1]),
        "extra_tracks": int(extra),
        "samples": len(truth["annotations"]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.poses.quality", description=__doc__.split("\n")[0])
    parser.add_argument("--truth", required=True)
    parser.add_argument("--poses", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    quality = pose_quality(load_pyskl(args.truth), load_pyskl(args.poses))
    with atomic_output(args.out) as tmp:
        tmp.write_text(json.dumps(quality, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    run_cli(main)
