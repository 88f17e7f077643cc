"""A job that asks for a GPU and finds no CUDA stops with a message; the CPU demo still runs.

The failing half needs a machine without CUDA (this project's test machines); the rule half is
a dry run: the rules pass their ``device`` resource to the CLIs, ``auto`` unless overridden
(the SLURM profile sets ``cuda``).
"""

import json
import re
import sys

import pytest
import torch
import yaml

from conftest import REPO, preprocess_json, run_module, snakemake, tiny_config, workdir_with

sys.path.insert(0, str(REPO / "tests" / "unit"))
from test_train import SCHEDULE  # noqa: E402

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


def assert_stops_for_want_of_cuda(result):
    assert result.returncode == 2, result.stderr
    assert "error: --device cuda: no CUDA device is usable here" in result.stderr
    assert "stopping rather than running on the CPU" in result.stderr
    assert "Traceback" not in result.stderr


@no_cuda
def test_training_that_asks_for_cuda_stops_before_it_reads_anything(tmp_path):
    result = run_module(
        "maskclr.train",
        "--device",
        "cuda",
        "--data",
        tmp_path / "xsub.h5",
        "--stage",
        "stage1",
        "--dataset",
        "synth",
        "--split",
        "xsub",
        "--method",
        "stage1",
        "--backbone",
        "transformer",
        "--backbone-json",
        '{"dim": 8, "depth": 1, "num_heads": 2}',
        "--schedule-json",
        json.dumps(SCHEDULE),
        "--work-dir",
        tmp_path / "work",
        "--out-model",
        tmp_path / "model.pt",
        "--out-metrics",
        tmp_path / "metrics.json",
    )
    assert_stops_for_want_of_cuda(result)
    assert not list(tmp_path.iterdir())  # no work dir, no model, no metrics


@no_cuda
def test_evaluation_that_asks_for_cuda_stops_before_it_reads_anything(tmp_path):
    result = run_module(
        "maskclr.evaluate",
        "--device",
        "cuda",
        "--model",
        tmp_path / "model.pt",
        "--poses",
        f"mq={tmp_path / 'mq.pkl'}",
        "--train-estimator",
        "mq",
        "--split",
        "xsub",
        "--preprocess-json",
        preprocess_json(16),
        "--grid-json",
        json.dumps(tiny_config()["robustness"]),
        "--out-csv",
        tmp_path / "eval.csv",
        "--out-activation",
        tmp_path / "activation.npz",
        "--out-confusion",
        tmp_path / "confusion.npz",
    )
    assert_stops_for_want_of_cuda(result)


def test_rules_pass_their_device_resource(tmp_path):
    result = snakemake(
        workdir_with(tmp_path, tiny_config()),
        "-n",
        "-p",
        "--set-resources",
        "train_stage1:device=cuda",
        "evaluate:device=cpu",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    commands = result.stdout.splitlines()

    def devices(stage):
        return {m[1] for line in commands if stage in line for m in [re.search(r"--device (\S+)", line)] if m}

    assert devices("--stage stage1") == {"cuda"}
    assert devices("--stage stage2") == {"auto"}  # the default: the CPU demo runs as before
    assert devices("python -m maskclr.evaluate") == {"cpu"}


def test_training_environment_pins_a_cuda_build_of_torch():
    # Unpinned, a solve on a GPU-less login node takes the CPU build, and every GPU job stops.
    env = yaml.safe_load((REPO / "envs" / "train.yaml").read_text())
    assert [d for d in env["dependencies"] if d.startswith("pytorch ")] == ["pytorch =2.13.0=*cuda*"]
