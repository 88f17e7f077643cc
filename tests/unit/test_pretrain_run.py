"""``python -m maskclr.pretrain`` on tiny HDF5s (2D and native 3D): a checkpoint that fine-tuning loads and a
metrics JSON, deterministic on CPU; every setting from its JSON flag; resumable; DDP under torchrun."""

import json
import math
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch

from conftest import REPO, kinect_cli, native3d_cli
from maskclr.errors import InputError
from maskclr.models import ActionModel, build_backbone
from maskclr.pretrain.run import SCHEDULE, SCHEDULE_KEYS, lr_at, main
from maskclr.pretrain.transfer import load_pretrained, read_pretrained

SIZES = {"dim": 16, "depth": 1, "num_heads": 2, "maxlen": 16}
MAMP = '{"method": "mamp", "decoder_dim": 8, "decoder_depth": 1, "decoder_heads": 2}'
# Complete, as the workflow passes it (the schema holds the defaults).
TINY = {"epochs": 2, "batch_size": 2, "lr": 1e-3, "min_lr": 5e-4, "warmup_epochs": 1, "weight_decay": 0.05}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "xsub.h5"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as h5:
        h5.attrs["num_classes"] = 3
        for part in ("train", "test"):
            h5[f"{part}/x"] = rng.normal(size=(4, 2, 16, 17, 3)).astype(np.float32)
            h5[f"{part}/label"] = np.array([0, 1, 2, 0])
            h5[f"{part}/frame_dir"] = np.array([f"S001A00{i}" for i in range(4)], dtype=object).astype("S")
    return path


def pretrain_args(data, out, backbone="transformer", sizes=SIZES, method=MAMP, schedule=TINY):
    return (
        ["--data", str(data), "--dataset", "synth", "--split", "xsub", "--pretrain-name", "tiny"]
        + ["--backbone", backbone, "--backbone-json", json.dumps(sizes)]
        + ["--method-json", method, "--schedule-json", json.dumps(schedule)]
        + ["--out", str(out), "--out-metrics", str(out.with_suffix(".json"))]
        + ["--work-dir", str(out.parent / f"{out.stem}.work")]
    )


def pretrain(data, out, method=MAMP):
    main(pretrain_args(data, out, method=method))
    return torch.load(out, weights_only=True)


def test_pretrain_writes_a_checkpoint_fine_tuning_loads(data, tmp_path):
    first = pretrain(data, tmp_path / "a" / "pretrained.pt")
    assert len(first["meta"]["losses"]) == 2 and all(math.isfinite(v) for v in first["meta"]["losses"])
    assert first["meta"]["method"]["method"] == "mamp" and first["meta"]["sizes"] == SIZES
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == ["pretrained.json", "pretrained.pt", "pretrained.work"]  # no temporary left
    assert [p.name for p in (tmp_path / "a" / "pretrained.work").iterdir()] == ["lock.json.guard"]  # no state, lock
    again = pretrain(data, tmp_path / "b.pt")
    assert first["meta"]["losses"] == again["meta"]["losses"]
    assert all(torch.equal(first["model"][k], again["model"][k]) for k in first["model"])
    model = ActionModel(build_backbone("transformer", **SIZES), num_classes=3, hidden=8)
    new = load_pretrained(model, read_pretrained(tmp_path / "b.pt"), tmp_path / "b.pt")
    assert all(k.startswith("head.") or k == "mask_token" for k in new)


def test_bad_settings_are_named(data, tmp_path):
    with pytest.raises(InputError, match="unknown key 'decoder_width'"):
        pretrain(data, tmp_path / "x.pt", '{"method": "skeletonmae", "decoder_width": 8}')
    with pytest.raises(InputError, match="not a checkpoint written by maskclr.pretrain"):
        torch.save({"weights": {}}, tmp_path / "other.pt")
        read_pretrained(tmp_path / "other.pt")
    with pytest.raises(InputError, match="^--backbone-json: expected a JSON object"):
        main(pretrain_args(data, tmp_path / "x.pt", sizes=[16]))


@pytest.mark.parametrize("key", SCHEDULE_KEYS)
def test_the_schedule_is_complete_or_refused_naming_the_key(data, tmp_path, key):
    """No defaults behind the command line: the workflow's schema holds them."""
    schedule = {k: v for k, v in TINY.items() if k != key}
    with pytest.raises(InputError, match=rf"^--schedule-json: missing keys \['{key}'\]"):
        main(pretrain_args(data, tmp_path / "x.pt", schedule=schedule))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"epochs": 0}, "key 'epochs': unexpected value 0"),
        ({"batch_size": 2.5}, "key 'batch_size'"),
        ({"lr": 0}, "key 'lr'"),
        ({"weight_decay": -1}, "key 'weight_decay'"),
        ({"momentum": 0.9}, r"unknown keys \['momentum'\]"),
    ],
)
def test_bad_schedule_values_are_named(data, tmp_path, change, message):
    with pytest.raises(InputError, match=f"^--schedule-json: {message}"):
        main(pretrain_args(data, tmp_path / "x.pt", schedule={**TINY, **change}))


@pytest.fixture(scope="module")
def native3d_data(tmp_path_factory):
    """A native 3D HDF5 of the synthetic Kinect tier: items (2, 12, 25, 3) in metres."""
    folder = tmp_path_factory.mktemp("native3d")
    assert kinect_cli(folder / "kinect.pkl").returncode == 0
    result = native3d_cli(folder / "kinect.pkl", folder / "xsub.h5")
    assert result.returncode == 0, result.stderr
    return folder / "xsub.h5"


# Native 3D sizes: 25 joints, conftest.NATIVE3D's 12 frames (paper: 120).
SIZES_3D = {
    "transformer": {"dim": 8, "depth": 1, "num_heads": 2, "mlp_ratio": 2, "maxlen": 12, "t_patch": 4, "num_joints": 25},
    "sttformer": {"num_joints": 25, "num_frames": 12, "len_parts": 3, "config": [[8, 8, 4], [8, 16, 4]]},
}


@pytest.mark.parametrize(
    "method, backbone", [("mamp", "transformer"), ("skeletonmae", "transformer"), ("skeletonmae", "sttformer")]
)
def test_pretraining_on_native3d_data(native3d_data, tmp_path, method, backbone):
    entry = {"method": method, "decoder_dim": 8, "decoder_depth": 1, "decoder_heads": 2}
    schedule = {**TINY, "epochs": 1, "batch_size": 24}
    out = tmp_path / "pretrained.pt"
    main(pretrain_args(native3d_data, out, backbone, SIZES_3D[backbone], json.dumps(entry), schedule) + ["--seed", "2"])
    meta = torch.load(out, weights_only=True)["meta"]
    metrics = json.loads(out.with_suffix(".json").read_text())
    assert metrics["config"] == {"sizes": SIZES_3D[backbone], "method": entry, "schedule": schedule}
    identity = {k: metrics[k] for k in ("dataset", "split", "backbone", "method", "stage", "seed", "pretrain")}
    assert identity == {
        "dataset": "synth",
        "split": "xsub",
        "backbone": backbone,
        "method": method,  # the pretraining method; the entry's name is the pretraining
        "stage": "pretrain",
        "seed": 2,
        "pretrain": "tiny",
    }
    assert metrics["wall_time_s"] > 0
    assert len(metrics["losses"]) == 1 and math.isfinite(metrics["losses"][0]) and metrics["losses"] == meta["losses"]
    model = ActionModel(build_backbone(backbone, **SIZES_3D[backbone]), num_classes=24, num_joints=25, hidden=8)
    new = load_pretrained(model, read_pretrained(out), out)
    assert all(k.startswith("head.") or k == "mask_token" for k in new)


def test_lr_warms_up_then_follows_a_half_cosine_to_min_lr():
    schedule = {**SCHEDULE, "epochs": 10, "warmup_epochs": 2, "lr": 1.0, "min_lr": 0.2}
    assert [lr_at(e, schedule) for e in (0, 1, 2, 6, 10)] == pytest.approx([0.0, 0.5, 1.0, 0.6, 0.2])


def test_a_run_stopped_by_its_time_budget_resumes_to_the_uninterrupted_result(native3d_data, tmp_path, capsys):
    """Each attempt stops after one epoch (status 3, as the rule's retries expect); the last one
    ends with the state dict and losses of one uninterrupted run, bit for bit."""
    entry = json.dumps({"method": "mamp", "decoder_dim": 8, "decoder_depth": 1, "decoder_heads": 2})
    schedule = {**TINY, "epochs": 3, "batch_size": 8}
    args = pretrain_args(native3d_data, tmp_path / "full.pt", "transformer", SIZES_3D["transformer"], entry, schedule)
    main(args)
    args = pretrain_args(native3d_data, tmp_path / "cut.pt", "transformer", SIZES_3D["transformer"], entry, schedule)
    for epoch in (1, 2):
        with pytest.raises(SystemExit) as stopped:
            main(args + ["--time-budget-min", "1e-9", "--time-margin-min", "0"])
        assert stopped.value.code == 3 and not (tmp_path / "cut.pt").exists()
        assert torch.load(tmp_path / "cut.work" / "checkpoint.pt", weights_only=True)["epoch"] == epoch
    main(args + ["--time-budget-min", "1e-9", "--time-margin-min", "0"])  # the last epoch: no stop after it
    assert "resuming at epoch 2" in capsys.readouterr().err
    full, cut = (torch.load(tmp_path / f"{name}.pt", weights_only=True) for name in ("full", "cut"))
    assert cut["meta"] == full["meta"] and len(full["meta"]["losses"]) == 3
    assert full["model"].keys() == cut["model"].keys()
    assert all(torch.equal(full["model"][k], cut["model"][k]) for k in full["model"])
    assert [p.name for p in (tmp_path / "cut.work").iterdir()] == ["lock.json.guard"]


def test_a_changed_argument_starts_afresh(data, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(pretrain_args(data, tmp_path / "a.pt") + ["--time-budget-min", "1e-9", "--time-margin-min", "0"])
    changed = pretrain_args(data, tmp_path / "a.pt", schedule={**TINY, "lr": 2e-3})
    main(changed)
    assert "belongs to other settings or inputs" in capsys.readouterr().err
    main(pretrain_args(data, tmp_path / "fresh.pt", schedule={**TINY, "lr": 2e-3}))
    resumed, fresh = (torch.load(tmp_path / f"{name}.pt", weights_only=True) for name in ("a", "fresh"))
    assert resumed["meta"] == fresh["meta"] and len(resumed["meta"]["losses"]) == 2
    assert all(torch.equal(resumed["model"][k], fresh["model"][k]) for k in fresh["model"])


def torchrun(args, processes=2):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
    command = [*launch, "-m", "maskclr.pretrain", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_two_processes_share_each_batch_and_rank_0_writes(data, tmp_path):
    """DDP over gloo on the CPU: both processes train every epoch (each on half of every batch of
    2, drawn by ``data_loaders``: test_dataset checks the halves) and rank 0 alone reports and writes."""
    result = torchrun(pretrain_args(data, tmp_path / "ddp.pt"))
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "ddp.json").read_text())
    assert metrics["processes"] == 2 and len(metrics["losses"]) == 2
    assert all(math.isfinite(v) and v > 0 for v in metrics["losses"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp.json", "ddp.pt", "ddp.work"]
    assert torch.load(tmp_path / "ddp.pt", weights_only=True)["meta"]["losses"] == metrics["losses"]
    assert result.stderr.count("epoch 2/2 loss") == 1  # rank 0 alone reports and writes


def test_a_batch_the_processes_cannot_share_is_refused(data, tmp_path):
    result = torchrun(pretrain_args(data, tmp_path / "x.pt", schedule={**TINY, "batch_size": 3}))
    assert result.returncode != 0
    assert "--schedule-json: key 'batch_size': 3 is not divisible by 2 processes" in result.stderr
    assert not (tmp_path / "x.pt").exists()
