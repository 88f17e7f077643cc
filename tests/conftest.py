"""Shared helpers: small PYSKL annotations, running the package's command-line tools, training histories."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def make_annotation(frame_dir="S001C001P001R001A001", persons=1, frames=10, label=0, seed=0):
    """A valid PYSKL annotation with random pixel keypoints inside a 1920×1080 image."""
    rng = np.random.default_rng(seed)
    return {
        "frame_dir": frame_dir,
        "total_frames": frames,
        "img_shape": (1080, 1920),
        "original_shape": (1080, 1920),
        "label": label,
        "keypoint": rng.uniform([200, 100], [1700, 1000], (persons, frames, 17, 2)).astype(np.float32),
        "keypoint_score": rng.uniform(0.2, 1.0, (persons, frames, 17)).astype(np.float32),
    }


def make_dataset(count=6, persons=1, frames=10, num_classes=3):
    """A PYSKL dataset with an xsub split: even samples train, odd samples val."""
    anns = [make_annotation(f"S001C001P{i + 1:03d}R001A{i % num_classes + 1:03d}", persons, frames,
                            i % num_classes, seed=i) for i in range(count)]
    names = [a["frame_dir"] for a in anns]
    return {"split": {"xsub_train": names[::2], "xsub_val": names[1::2]}, "annotations": anns}


def run_module(module, *args, cwd=REPO):
    """Run ``python -m module args`` with the package importable; returns the CompletedProcess."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True)


def training_history(metrics_json):
    """The per-epoch rows of a training's metrics.json, without the timings (they differ between runs)."""
    rows = json.loads(Path(metrics_json).read_text())["history"]
    return [{k: v for k, v in row.items() if k not in ("seconds", "samples_per_s")} for row in rows]


@pytest.fixture
def repo():
    return REPO
