"""python -m maskclr.plan: the paper DAG's GPU cost, estimated or from a measured report."""

import ast
import json
import math
import re

import pytest
import yaml

from conftest import REPO
from maskclr.data.pyskl import POSES_3D
from maskclr.errors import InputError
from maskclr.plan.cost import (
    MASKCLR,
    NATIVE_BACKBONES,
    NATIVE_FRAMES,
    NATIVE_HEADS,
    NATIVE_JOINTS,
    PAPER_BACKBONES,
    PAPER_BATCH,
    PAPER_FRAMES,
    PAPER_HEAD,
    TRAIN_GPUS,
    pretrain_step_flops,
    pretrainer,
)
from maskclr.plan.project import FRAMES_PER_VIDEO, GPU_RULES, NATIVE_3D, PREPROCESS_PER_S, load_config
from maskclr.plan.project import main as plan
from maskclr.train.settings import Method
from test_workflow import PAPER_JOBS

PAPER = REPO / "workflow" / "configs" / "paper.yaml"
PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.v8+.yaml"


def run_plan(tmp_path, *args):
    out = tmp_path / "plan.json"
    plan(["--configfile", str(PAPER), *map(str, args), "--json", str(out)])
    summary = json.loads(out.read_text())
    return summary, {row["rule"]: row for row in summary["rules"]}


def test_the_paper_constants_are_paper_yaml_s():
    """benchmarks/gpu_check.py runs without PyYAML, so the sizes it times are constants: those of
    paper.yaml merged over config.yaml, as the workflow runs them."""
    config, profile = load_config([PAPER]), yaml.safe_load(PROFILE.read_text())
    assert PAPER_BACKBONES == config["backbones"]
    assert MASKCLR == Method(**config["methods"]["maskclr"])
    assert PAPER_HEAD == {key: config["train"]["schedule"][key] for key in PAPER_HEAD}
    assert PAPER_BATCH == config["train"]["schedule"]["batch_size"]
    assert PAPER_FRAMES == config["preprocess"]["n_frames"]
    assert TRAIN_GPUS == profile["set-resources"]["train_stage1"]["gpu"]
    # the 3D rows: ntu60_3d's sizes over `backbones`, preprocess_3d's frames, each recipe's head
    assert NATIVE_FRAMES == config["preprocess_3d"]["n_frames"] and NATIVE_JOINTS == POSES_3D.joints
    for backbone, recipe in (("sttformer", "sttformer"), ("transformer", "mamp_finetune")):
        assert NATIVE_BACKBONES[backbone] == {
            **config["backbones"][backbone],
            **config["datasets"]["ntu60_3d"]["backbones"][backbone],
        }
        assert NATIVE_HEADS[backbone] == {
            key: {**config["train"]["schedule"], **config["recipes"][recipe]}[key] for key in PAPER_HEAD
        }


def test_the_native_3d_datasets_are_the_workflow_s():
    line = re.search(r"^NATIVE_3D = (.*)$", (REPO / "workflow" / "rules" / "common.smk").read_text(), re.M)
    assert NATIVE_3D == ast.literal_eval(line.group(1))


def test_estimate_of_the_paper_dag(tmp_path, capsys):
    (tmp_path / "retries.yaml").write_text("train: {retries: 7}\n")
    summary, rules = run_plan(tmp_path, tmp_path / "retries.yaml")
    # the GPU jobs of the workflow's own dry run of paper.yaml
    assert {rule: row["jobs"] for rule, row in rules.items()} == {rule: PAPER_JOBS[rule] for rule in GPU_RULES}
    assert {row["gpus_per_job"] for rule, row in rules.items() if rule.startswith("train") or rule == "pretrain"} == {8}
    total = summary["total"]
    assert total["jobs"] == sum(row["jobs"] for row in rules.values())
    assert total["gpu_hours"] == pytest.approx(sum(row["gpu_hours"] for row in rules.values()))
    assert max(row["longest_job_h"] for row in rules.values()) <= total["critical_path_h"]
    assert total["one_node_h"] == pytest.approx(total["gpu_hours"] / 8)
    for row in rules.values():
        assert "estimated" in row["source"] and "measured" not in row["source"]
        assert row["runtime_suggested_min"] % 30 == 0 and row["runtime_suggested_min"] >= 60 * row["longest_job_h"]
    out = capsys.readouterr().out
    assert "| pretrain | 12 | 8 |" in out and "| train_stage2 | 57 | 8 |" in out
    assert "no GPU measurement given" in out and "30% of A100" in out
    # train.retries (7 here, 3 by default): the resumable jobs' attempts
    assert "at most 8 times" in out and summary["retries"] == 7
    assert {rule: row["max_attempts"] for rule, row in rules.items()} == {
        rule: 8 if rule in ("pretrain", "train_stage1", "train_stage2") else 1 for rule in rules
    }


def measured_report():
    """A gpu_check report with round figures for DSTFormer, the pose pipeline and preprocessing."""
    sizes = PAPER_BACKBONES["dstformer"]
    rows = [
        {
            "backbone": "dstformer",
            "sizes": sizes,
            "frames": 243,
            "stage": stage,
            "precision": precision,
            "batch": batch,
            "step_s": seconds,
        }
        for stage, precision, batch, seconds in (
            ("stage1", "bf16", 4, 1.0),
            ("eval", "bf16", 32, 0.5),
            ("eval", "fp32", 256, 2.0),
        )
    ]
    poses = {
        "estimators": [{"estimator": "vitpose-b", "arch": {}, "frame_shape": [1080, 1920], "frames_per_s": 20}],
        "detector": {"frame_shape": [1080, 1920], "input_size": None, "frames_per_s": 10},
    }
    return {
        "schema": 1,
        "date": "2030-01-01T00:00:00",
        "sections": {
            "device": {"name": "NVIDIA H100 80GB HBM3", "torch": "2.13.0"},
            "steps": {"rows": rows},
            "poses": poses,
            "evaluate": {"preprocess_frames": 243, "preprocess_samples_per_s": 1000},
        },
    }


def test_measured_figures_add_up(tmp_path):
    """One NTU60-XSub DSTFormer baseline: every job's hours by hand from the measured figures."""
    (tmp_path / "one.yaml").write_text(
        yaml.safe_dump(
            {
                "experiments": [
                    {"dataset": "ntu60", "splits": ["xsub"], "backbones": ["dstformer"], "methods": ["baseline"]}
                ]
            }
        )
    )
    (tmp_path / "measured.json").write_text(json.dumps(measured_report()))
    summary, rules = run_plan(tmp_path, tmp_path / "one.yaml", "--measured", tmp_path / "measured.json")
    train, test = 40091, 16487
    # 300 epochs × (train // 8 GPUs // 4 per GPU steps of 1 s + the rank-0 test pass, batch 32, 0.5 s)
    training = 300 * (train // 8 // 4 * 1.0 + math.ceil(test / 32) * 0.5)
    # 3 tiers: clean and frames_noise each, 4 σ > 0 × 2 noise kinds, 5 parts, 4 fractions, activation
    evaluation = (6 + 8 + 5 + 4 + 1) * math.ceil(test / 256) * 2.0 + (6 + 8) * test / 1000
    shard = (train + test) / 64 * FRAMES_PER_VIDEO * (1 / 20 + 1 / 10)
    assert rules["train_stage1"]["gpu_hours"] == pytest.approx(8 * training / 3600)
    assert rules["train_stage2"]["gpu_hours"] == pytest.approx(8 * training / 3600)  # baseline: one pathway
    assert rules["evaluate"]["gpu_hours"] == pytest.approx(2 * evaluation / 3600)
    (tmp_path / "clean.yaml").write_text(yaml.safe_dump({"robustness": {"stage1_grid": False}}))
    measured = ("--measured", tmp_path / "measured.json")
    _, clean = run_plan(tmp_path, tmp_path / "one.yaml", tmp_path / "clean.yaml", *measured)
    # the stage-1 model clean only: a forward per tier and the activation pass, preprocessing per tier
    stage1 = (3 + 1) * math.ceil(test / 256) * 2.0 + 3 * test / 1000
    assert clean["evaluate"]["gpu_hours"] == pytest.approx((evaluation + stage1) / 3600)
    assert rules["extract_poses"]["gpu_hours"] == pytest.approx(128 * shard / 3600)
    assert summary["total"]["critical_path_h"] == pytest.approx((2 * training + evaluation) / 3600)
    assert rules["train_stage1"]["attempts"] == math.ceil(training / 60 / (2880 - 5))
    assert {row["rule"]: row["source"] for row in summary["rules"]} == {
        "train_stage1": "measured",
        "train_stage2": "measured",
        "evaluate": "measured",
        "extract_poses": "measured + assumed",
    }  # frames per video; OpenPifPaf as ViTPose-B
    assert "H100 80GB HBM3" in summary["basis"] and "of H100's peak" in summary["basis"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--gpu", "Z80"], "--gpu Z80: not a known GPU"),
        (["--mfu", "1.5"], "--mfu 1.5: expected a fraction"),
        (["--measured", PAPER], "not a readable JSON report"),
    ],
)
def test_bad_arguments_are_named(args, message):
    with pytest.raises(InputError, match=message):
        plan(["--configfile", str(PAPER), *map(str, args)])


def steps(sizes, frames, joints, persons, head, figures):
    """gpu_check rows of one model and input shape: (stage, precision, batch, seconds) each."""
    shape = {"sizes": sizes, "frames": frames, "joints": joints, "persons": persons, "head": head}
    keys = ("stage", "precision", "batch", "step_s")
    return [{"backbone": "sttformer", **shape, **dict(zip(keys, row, strict=True))} for row in figures]


def test_the_3d_rows_add_up(tmp_path):
    """SkeletonMAE (STTFormer) on NTU60-XSub 3D, fine-tuned with STTFormer's recipe: measured
    steps of the 3D model (120 frames, 25 joints, 2 persons, STTFormer's linear head) at the
    recipe's batch are found, the recipe's 90 + 30 epochs used, the pretraining's FLOPs counted
    on the native input, and each stage waits for the one before."""
    experiment = {
        "dataset": "ntu60_3d",
        "splits": ["xsub"],
        "backbones": ["sttformer"],
        "pretrain": "skeletonmae",
        "recipe": "sttformer",
        "methods": ["baseline"],
    }
    (tmp_path / "one.yaml").write_text(yaml.safe_dump({"experiments": [experiment]}))
    report = measured_report()
    figures = (("stage1", "bf16", 8, 1.0), ("eval", "bf16", 32, 0.5), ("eval", "fp32", 256, 2.0))
    native = steps(NATIVE_BACKBONES["sttformer"], 120, 25, 2, NATIVE_HEADS["sttformer"], figures)
    # the same sizes on the 2D pipeline's input with the paper's head: ten times slower, not taken
    slower = [(stage, precision, batch, 10 * seconds) for stage, precision, batch, seconds in figures]
    report["sections"]["steps"]["rows"] = native + steps(NATIVE_BACKBONES["sttformer"], 243, 17, 2, PAPER_HEAD, slower)
    (tmp_path / "measured.json").write_text(json.dumps(report))
    summary, rules = run_plan(tmp_path, tmp_path / "one.yaml", "--measured", tmp_path / "measured.json")
    train, test = 40091, 16487
    # batch 64 over 8 GPUs: 8 per process; the rank-0 test pass at batch 32
    epoch = train // 8 // 8 * 1.0 + math.ceil(test / 32) * 0.5
    # one tier (kinect): clean and frames_noise, 4 σ > 0 × 2 noise kinds, 5 parts, 4 fractions, activation
    evaluation = (2 + 8 + 5 + 4 + 1) * math.ceil(test / 256) * 2.0 + (2 + 8) * test / PREPROCESS_PER_S
    # 400 epochs on 8 GPUs of train // 8 // 4 steps of 4 × 2 person-sequences per process, bf16 at
    # 30 % of an H100's 989 TFLOP/s
    model = pretrainer("sttformer", NATIVE_BACKBONES["sttformer"], {"method": "skeletonmae"})
    pretraining = 400 * (train // 8 // 4) * pretrain_step_flops(model, 8, 120, 25) / (0.3 * 989e12)
    assert rules["pretrain"]["jobs"] == 1 and rules["pretrain"]["source"] == "estimated"
    assert rules["pretrain"]["gpu_hours"] == pytest.approx(8 * pretraining / 3600)
    assert rules["train_stage1"]["gpu_hours"] == pytest.approx(8 * 90 * epoch / 3600)
    assert rules["train_stage2"]["gpu_hours"] == pytest.approx(8 * 30 * epoch / 3600)
    assert rules["evaluate"]["gpu_hours"] == pytest.approx(2 * evaluation / 3600)
    assert summary["total"]["critical_path_h"] == pytest.approx((pretraining + 120 * epoch + evaluation) / 3600)
    assert rules["train_stage1"]["source"] == rules["train_stage2"]["source"] == "measured"
    assert rules["evaluate"]["source"] == "measured + assumed"  # the native preprocessing's rate


def test_a_model_trained_with_two_recipes_is_refused(tmp_path):
    experiment = {"dataset": "ntu60_3d", "splits": ["xsub"], "backbones": ["sttformer"], "methods": ["baseline"]}
    experiments = [{**experiment, "recipe": "sttformer"}, {**experiment, "recipe": "mamp_finetune"}]
    (tmp_path / "two.yaml").write_text(yaml.safe_dump({"experiments": experiments}))
    with pytest.raises(
        InputError, match=r"experiments\[1\].recipe: mamp_finetune trains ntu60_3d/xsub/sttformer/stage1/0"
    ):
        plan(["--configfile", str(PAPER), str(tmp_path / "two.yaml")])
