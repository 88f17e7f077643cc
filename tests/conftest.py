"""Shared helpers: small PYSKL annotations, the package's command-line tools, training histories,
the tiny workflow."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

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
    anns = [
        make_annotation(f"S001C001P{i + 1:03d}R001A{i % num_classes + 1:03d}", persons, frames, i % num_classes, seed=i)
        for i in range(count)
    ]
    names = [a["frame_dir"] for a in anns]
    return {"split": {"xsub_train": names[::2], "xsub_val": names[1::2]}, "annotations": anns}


def ntu_release(count=8, num_classes=4):
    """An NTU-style release: float16 keypoints and PYSKL's extra keys, xsub and xview splits."""
    anns = []
    for i in range(count):
        ann = make_annotation(
            f"S001C00{i % 3 + 1}P{i + 1:03d}R001A{i % num_classes + 1:03d}",
            persons=1 + i % 2,
            frames=6,
            label=i % num_classes,
            seed=i,
        )
        anns.append({**ann, "keypoint": ann["keypoint"].astype(np.float16), "modality": "Pose"})
    names = [a["frame_dir"] for a in anns]
    split = {"xsub_train": names[:5], "xsub_val": names[5:], "xview_train": names[3:], "xview_val": names[:3]}
    return {"split": split, "annotations": anns}


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


def write_video(path, frames=4, size=(120, 160)):
    """A short H.264 video: a bright 'person' rectangle walking right on a dark background."""
    iio = pytest.importorskip("imageio.v3")
    video = np.full((frames, *size, 3), 30, dtype=np.uint8)
    for t in range(frames):
        video[t, 20:110, 40 + 5 * t : 80 + 5 * t] = (200, 150, 120)
    iio.imwrite(path, video, fps=10, plugin="FFMPEG", codec="libx264", macro_block_size=1)
    return str(path)


def preprocess_json(n_frames, seed=0, max_persons=2, score_channel="motionbert"):
    """A ``--preprocess-json`` argument (the config's ``preprocess`` section)."""
    return json.dumps(dict(n_frames=n_frames, score_channel=score_channel, max_persons=max_persons, seed=seed))


def preprocess_cli(poses, out, n_frames=8, seed=0, num_classes=3):
    """``python -m maskclr.data.preprocess`` of the xsub split of ``poses`` into ``out``."""
    return run_module(
        "maskclr.data.preprocess",
        *("--poses", poses, "--split", "xsub", "--out", out, "--num-classes", num_classes),
        *("--preprocess-json", preprocess_json(n_frames, seed=seed)),
    )


# The 3D path's settings as the workflow passes them: datasets.synth.synthetic, the Kinect sensor
# model and preprocess_3d (small: short sequences, 12 frames per clip).
SCENES = {"seed": 0, "subjects": 2, "replications": 1, "min_frames": 20, "max_frames": 40, "pair_contrast": 1.0}
SENSOR = {"jitter_m": 0.01, "extremity_jitter_m": 0.02, "swap_rate": 0.01}
NATIVE3D = {
    "n_frames": 12,
    "train_ratio": [0.5, 1.0],
    "min_crop": 8,
    "test_ratio": 0.95,
    "rotation_rad": 0.3,
    "seed": 0,
}


def kinect_cli(out, scenes=None, sensor=None):
    """``python -m maskclr.data.kinect``: the Kinect 3D tier of the synthetic scenes."""
    return run_module(
        "maskclr.data.kinect",
        *("--out", out, "--synthetic-json", json.dumps(scenes or SCENES)),
        *("--sensor-json", json.dumps(sensor or SENSOR)),
    )


def native3d_cli(poses, out, settings=None, num_classes=24):
    """``python -m maskclr.data.native3d`` of the xsub split of the 3D ``poses`` into ``out``."""
    return run_module(
        "maskclr.data.native3d",
        *("--poses", poses, "--split", "xsub", "--out", out, "--num-classes", num_classes),
        *("--preprocess-json", json.dumps(settings or NATIVE3D)),
    )


def run_module(module, *args, cwd=REPO):
    """Run ``python -m module args`` with the package importable; returns the CompletedProcess."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True
    )


def training_history(metrics_json):
    """The per-epoch rows of a training's metrics.json, without the timings (they differ between runs)."""
    rows = json.loads(Path(metrics_json).read_text())["history"]
    return [{k: v for k, v in row.items() if k not in ("seconds", "samples_per_s")} for row in rows]


@pytest.fixture
def repo():
    return REPO


# Jobs call `python`: the interpreter running the tests must come first, as with an active venv.
ENV = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])}


def snakemake(workdir, *args):
    """Run the repository's workflow in ``workdir`` (which holds its own config.yaml)."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", REPO / "Snakefile", "--directory", workdir, *args]
    return subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=600, env=ENV)


def planned_jobs(workdir, *args):
    """{rule: count} of what a dry run of ``workdir`` would execute; ``args``: targets first, then
    options (--configfile takes the words after it as files)."""
    result = snakemake(workdir, *args, "-n", "--quiet", "rules")  # after the targets: --quiet takes words
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = [line.split() for line in result.stdout.splitlines()]
    return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit() and row[0] != "total"}


def workdir_with(tmp_path, config):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def tiny_config():
    return yaml.safe_load((REPO / "tests" / "config" / "config.yaml").read_text())


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """The tiny workflow run once per session (minutes on 2 cores), shared by every module.

    Tests that change it (sources, config, results) restore it, mtimes included.
    """
    workdir = workdir_with(tmp_path_factory.mktemp("run"), tiny_config())
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir
