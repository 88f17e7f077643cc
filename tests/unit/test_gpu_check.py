"""benchmarks/gpu_check.py: its CPU smoke run (what CI checks between GPU loans), the real check
on a CUDA machine, and the planner reading its report."""

import copy
import importlib.util
import json
import math
import os
import subprocess
import sys
import time

import pytest
import torch

from conftest import REPO
from maskclr.plan.cost import PAPER_BACKBONES, PAPER_FRAMES
from maskclr.plan.project import main as plan

SECTIONS = {"device", "steps", "attention", "ddp", "trainer", "evaluate", "poses"}
SMOKE_TO_PAPER_BATCH = {4: 32, 2: 4, 8: 256}  # batch, per-GPU batch, evaluation batch


def run_check(out, *args, timeout):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--out", str(out), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def numbers(value):
    """Every int and float in a JSON value."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [n for item in value for n in numbers(item)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check") / "smoke.json"
    result = run_check(out, "--smoke", timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return json.loads(out.read_text()), result.stdout


def test_every_section_passes_with_finite_numbers(smoke):
    report, _ = smoke
    sections = report["sections"]
    assert report["schema"] == 1 and report["smoke"] and set(sections) == SECTIONS
    assert all(s["ok"] and "error" not in s and "skipped" not in s for s in sections.values()), sections
    assert all(math.isfinite(n) for n in numbers(report))
    assert report["wall_s"] < report["budget_s"]


def test_steps_of_every_backbone_stage_and_precision(smoke):
    steps = smoke[0]["sections"]["steps"]
    kinds = {(r["backbone"], r["stage"], r["precision"], r["batch"]) for r in steps["rows"]}
    assert len(kinds) == len(steps["rows"]) == 3 * 8
    assert {stage for _, stage, _, _ in kinds} == {"stage1", "stage2", "eval"}
    for row in steps["rows"]:
        assert row["step_s"] > 0 and row["tflops"] > 0 and row["tflop_per_step"] > 0 and row["mfu"] > 0
        assert row["samples_per_s"] == pytest.approx(row["batch"] / row["step_s"])
    # bf16 and fp32 at the batch, bf16 at the per-GPU batch, for each backbone
    assert len(steps["stage2_over_stage1"]) == 3 * 3 and all(r > 0 for r in steps["stage2_over_stage1"].values())
    attention = smoke[0]["sections"]["attention"]["rows"]
    assert [r["backbone"] for r in attention] == ["dstformer", "transformer"]
    assert all(r["sdpa_over_explicit"] > 0 for r in attention)


def test_trainer_resumes_to_the_uninterrupted_history_and_evaluates(smoke):
    sections = smoke[0]["sections"]
    trainer = sections["trainer"]
    assert trainer["checks"] and all(trainer["checks"].values()), trainer["checks"]
    assert trainer["epochs"] == {"stage1": 3, "stage1_resumed": 3, "stage2": 2}
    assert trainer["history"]["stage1_resumed"] == trainer["history"]["stage1"]
    assert trainer["max_resume_difference"] == 0
    assert sections["ddp"]["backend"] == "gloo" and sections["ddp"]["world"] == 1
    evaluate = sections["evaluate"]
    # clean, 2 × one σ > 0 (spatiotemporal, spatial) + σ = 0, one part, one fraction, frames_noise
    assert evaluate["rows"] == 1 + 2 * 2 + 1 + 1 + 1 and 0 <= evaluate["top1_clean"] <= 1
    assert evaluate["preprocess_frames"] == 243 and evaluate["preprocess_samples_per_s"] > 0


def test_pose_estimators_and_detector(smoke):
    poses = smoke[0]["sections"]["poses"]
    assert [r["estimator"] for r in poses["estimators"]] == ["vitpose-b", "hrnet-w32"]
    assert all(r["frames_per_s"] > 0 and r["persons_per_frame"] == 2 for r in poses["estimators"])
    detector = poses["detector"]
    assert detector.get("frames_per_s", 0) > 0 or "torchvision is not importable" in detector["skipped"]


def test_prints_a_readable_summary(smoke):
    stdout = smoke[1]
    assert "| backbone | stage | precision | batch |" in stdout and "stage 2 / stage 1:" in stdout
    assert all(f"- {name}: ok" in stdout for name in SECTIONS)


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_failing_section_is_recorded_and_the_next_one_runs(gpu_check, tmp_path):
    ctx = gpu_check.Context(gpu_check.SMOKE, torch.device("cpu"), tmp_path, end=time.monotonic() + 60)
    broken = gpu_check.run_section(ctx, "broken", lambda ctx: 1 / 0, 1.0, 60)
    assert not broken["ok"] and broken["error"].startswith("ZeroDivisionError") and "traceback" in broken
    assert gpu_check.run_section(ctx, "device", gpu_check.device_section, 1.0, 60)["ok"]


def test_the_time_guard_skips_what_would_overrun(gpu_check):
    report = gpu_check.run_check(gpu_check.SMOKE, torch.device("cpu"), budget=0.0)
    assert set(report["sections"]) == SECTIONS
    assert all(not s["ok"] and "time guard" in s["skipped"] for s in report["sections"].values())


def test_the_plan_takes_the_report_as_measured(smoke, tmp_path, capsys):
    """The smoke rows relabelled as paper-size measurements replace the training estimates."""
    report = copy.deepcopy(smoke[0])
    for row in report["sections"]["steps"]["rows"]:
        row.update(
            sizes=PAPER_BACKBONES[row["backbone"]], frames=PAPER_FRAMES, batch=SMOKE_TO_PAPER_BATCH[row["batch"]]
        )
    measured = tmp_path / "measured.json"
    measured.write_text(json.dumps(report))
    plan(
        [
            "--configfile",
            str(REPO / "workflow/configs/paper.yaml"),
            "--measured",
            str(measured),
            "--json",
            str(tmp_path / "plan.json"),
        ]
    )
    summary = json.loads((tmp_path / "plan.json").read_text())
    sources = {row["rule"]: row["source"] for row in summary["rules"]}
    # K400's sizes assumed; the 3D rows' models, which the check does not time, estimated
    for rule in ("train_stage1", "train_stage2", "evaluate"):
        assert sources[rule] == "measured + estimated + assumed"
    assert sources["pretrain"] == "estimated" and sources["extract_poses"] == "estimated + assumed"
    assert "measured by benchmarks/gpu_check.py on cpu" in summary["basis"]
    assert "measured by benchmarks/gpu_check.py on cpu" in capsys.readouterr().out


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_gpu_check_on_a_gpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    result = run_check(out, timeout=600)
    report = json.loads(out.read_text())
    assert result.returncode == 0, result.stdout[-6000:]
    assert report["wall_s"] <= 8 * 60 and not report["smoke"]
    rows = report["sections"]["steps"]["rows"]
    assert {(r["backbone"], r["frames"], r["batch"]) for r in rows if r["stage"] == "stage1"} >= {
        (b, 243, 32) for b in PAPER_BACKBONES
    }
    assert report["sections"]["ddp"]["backend"] == "nccl"
