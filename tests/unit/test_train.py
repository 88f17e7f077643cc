"""Training: learning, stage continuation, DDP equivalence, kill-and-resume, locks, bad input."""

import csv
import dataclasses
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from conftest import REPO, make_dataset, preprocess_cli, preprocess_json, run_module, tiny_config, training_history
from maskclr.models.losses import class_contrastive, sample_contrastive
from maskclr.train import checkpoint
from maskclr.train.loop import Pathways

sys.path.insert(0, str(Path(__file__).parent))
from step_fixture import METHOD, batch, tiny_model  # noqa: E402

BACKBONE = {"dim": 8, "depth": 1, "num_heads": 2, "mlp_ratio": 2, "maxlen": 8, "t_patch": 2}
# Complete sections, as the workflow passes them (the schema fills the defaults; the trainer has none)
SCHEDULE = {
    "batch_size": 8,
    "epochs_stage1": 6,
    "epochs_stage2": 3,
    "optimizer": "adamw",
    "lr_backbone": 0.003,
    "lr_head": 0.003,
    "weight_decay": 0.01,
    "layer_decay": 1.0,
    "lr_decay": 0.99,
    "lr_schedule": "exponential",
    "warmup_epochs": 0,
    "label_smoothing": 0.0,
    "head": "mlp",
    "head_hidden": 16,
    "head_dropout": 0.0,
    "seed": 0,
    "test_every": 1,
}
MASKCLR = {
    "masking": "agpm",
    "level": "token",
    "mask_ratio": 0.5,
    "tau_prop": 0.7,
    "tau_sim": 0.7,
    "alpha": 0.9,
    "beta": 0.1,
    "gamma": 0.9,
    "delta": 0.7,
    "bn_running_stats": "standard",
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    poses = folder / "poses.pkl"
    poses.write_bytes(pickle.dumps(make_dataset(count=32, persons=2, frames=20), protocol=4))
    out = folder / "xsub.h5"
    result = preprocess_cli(poses, out, 8)
    assert result.returncode == 0, result.stderr
    return out


def train_args(
    data,
    folder,
    stage="stage1",
    method=None,
    schedule=None,
    backbone=None,
    init=None,
    pretrained=None,
    pretrain=None,
    pretrain_name=None,
):
    folder = Path(folder)
    args = [
        "--data",
        data,
        "--stage",
        stage,
        "--dataset",
        "synth",
        "--split",
        "xsub",
        "--method",
        "stage1" if stage == "stage1" else "maskclr",
        "--backbone",
        "transformer",
        "--backbone-json",
        json.dumps(backbone or BACKBONE),
        "--schedule-json",
        json.dumps(schedule or SCHEDULE),
        "--work-dir",
        folder / "work",
        "--out-model",
        folder / "model.pt",
        "--out-metrics",
        folder / "metrics.json",
    ]
    args += ["--method-json", json.dumps(method)] if method else []
    args += ["--init", init] if init else []
    args += ["--pretrained", pretrained] if pretrained else []
    args += ["--pretrain", pretrain] if pretrain else []
    return args + (["--pretrain-name", pretrain_name] if pretrain_name else [])


def train(*args, **kwargs):
    return run_module("maskclr.train", *train_args(*args, **kwargs))


def history(folder):
    return training_history(Path(folder) / "metrics.json")


@pytest.fixture(scope="module")
def stage1(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stage1")
    result = train(data, folder)
    assert result.returncode == 0, result.stderr
    return folder


def test_loss_decreases_and_metrics_are_complete(stage1):
    metrics = json.loads((stage1 / "metrics.json").read_text())
    losses = [row["loss"] for row in metrics["history"]]
    assert losses[-1] < losses[0]
    assert len(metrics["history"]) == SCHEDULE["epochs_stage1"]
    assert metrics["best_top1"] == max(r["test_top1"] for r in metrics["history"])
    assert metrics["last_top1"] == metrics["history"][-1]["test_top1"]
    assert metrics["config"]["schedule"] == SCHEDULE and metrics["wall_time_s"] > 0 and metrics["samples_per_s"] > 0
    assert not (stage1 / "work" / "checkpoint.pt").exists()  # removed once the outputs exist


def test_testing_every_4th_epoch_leaves_the_model_as_it_is(data, stage1, tmp_path):
    """6 epochs, test_every 4: test top-1 after epochs 4 and 6 (the last) only, the best epoch
    among them, and the same weights and training rows as testing after every epoch."""
    result = train(data, tmp_path, schedule={**SCHEDULE, "test_every": 4})
    assert result.returncode == 0, result.stderr
    every, fourth = history(stage1), history(tmp_path)
    assert [row["epoch"] for row in fourth if "test_top1" in row] == [3, 5]
    assert fourth == [{k: v for k, v in row.items() if k != "test_top1" or row["epoch"] in (3, 5)} for row in every]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    tested = {row["epoch"]: row["test_top1"] for row in fourth if "test_top1" in row}
    assert (metrics["best_top1"], metrics["last_top1"]) == (max(tested.values()), tested[5])
    assert tested[metrics["best_epoch"]] == metrics["best_top1"]
    weights = [checkpoint.load(folder / "model.pt", keys=("model",))["model"] for folder in (stage1, tmp_path)]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


IDENTITY = {"dataset": "synth", "split": "xsub", "backbone": "transformer", "method": "stage1", "stage": "stage1"}


def test_model_and_metrics_record_what_the_command_line_says(stage1):
    """The identity comes from the arguments and the schedule's seed, not from any path."""
    expected = {**IDENTITY, "seed": 0, "pretrain": "none"}  # from scratch: no pretraining
    metrics = json.loads((stage1 / "metrics.json").read_text())
    assert {key: metrics[key] for key in expected} == expected
    assert checkpoint.load(stage1 / "model.pt", keys=("identity",))["identity"] == expected


@pytest.mark.parametrize("stage, method", [("stage2", "stage1"), ("stage1", "maskclr")])
def test_stage1_is_the_name_of_stage1_only(data, tmp_path, stage, method):
    args = [str(a) for a in train_args(data, tmp_path, stage=stage)]
    args[args.index("--method") + 1] = method
    result = run_module("maskclr.train", *args)
    assert result.returncode == 2 and f"--method {method}: stage1 names stage 1 and only stage 1" in result.stderr
    assert not list(tmp_path.iterdir())


def test_stage2_continues_the_learning_rate_decay(data, stage1, tmp_path):
    result = train(data, tmp_path, stage="stage2", method=MASKCLR, init=stage1 / "model.pt")
    assert result.returncode == 0, result.stderr
    rows = history(tmp_path)
    assert [r["epoch"] for r in rows] == [6, 7, 8]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (metrics["method"], metrics["stage"], metrics["pretrain"]) == ("maskclr", "stage2", "none")
    assert rows[0]["lr_backbone"] == pytest.approx(0.003 * 0.99**6)
    assert all(r["l_sc"] > 0 and r["l_cc"] > 0 and r["ce_m"] > 0 for r in rows)
    assert "ce_m 0." in result.stderr or "ce_m 1." in result.stderr  # a progress line per epoch


def test_stage2_counts_tested_epochs_over_both_stages(data, stage1, tmp_path):
    """Stage 2's epochs are 6–8 after stage 1's six: test_every 2 tests after epochs 8 and 9
    (indices 7, the 8th over both stages, and 8, the last)."""
    schedule = {**SCHEDULE, "test_every": 2}
    result = train(data, tmp_path, stage="stage2", method=MASKCLR, init=stage1 / "model.pt", schedule=schedule)
    assert result.returncode == 0, result.stderr
    assert [r["epoch"] for r in history(tmp_path) if "test_top1" in r] == [7, 8]


def test_same_seed_same_result(data, stage1, tmp_path):
    result = train(data, tmp_path)
    assert result.returncode == 0
    assert history(tmp_path) == history(stage1)


def test_ddp_two_processes_equal_one_process(tmp_path):
    out = tmp_path / "ddp.pt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(Path(__file__).parent)])}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    result = subprocess.run(
        [*torchrun, str(Path(__file__).parent / "ddp_step.py"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ddp = torch.load(out, weights_only=True)

    # One process, the same global batch; BatchNorm per half as on two processes (the paper's
    # DataParallel), CE averaged over the batch, contrastive terms over the whole batch.
    model = tiny_model()
    pathways = Pathways(model, METHOD)
    x, y = batch()
    halves = [pathways(x[:4]), pathways(x[4:])]
    ce = [
        sum(torch.nn.functional.cross_entropy(h[i].logits, y[j]) for h, j in zip(halves, (slice(0, 4), slice(4, 8))))
        / 2
        for i in (0, 1)
    ]
    h_s = torch.cat([h[0].hidden for h in halves])
    h_m = torch.cat([h[1].hidden for h in halves])
    contrastive = 0.9 * sample_contrastive(h_s, h_m, 0.7) + 0.7 * class_contrastive(h_s, h_m, y, 0.7)
    loss = 0.9 * ce[0] + 0.1 * ce[1] + contrastive
    loss.backward()
    torch.testing.assert_close(ddp["losses"].mean(), loss.detach(), atol=1e-5, rtol=1e-5)
    for name, param in model.named_parameters():
        if param.grad is not None:
            torch.testing.assert_close(ddp["grads"][name], param.grad, atol=1e-5, rtol=1e-4, msg=name)


def running_stats(model):
    return {name: b.clone() for name, b in model.named_buffers() if "running" in name or "num_batches" in name}


@pytest.mark.parametrize("which", ["standard", "both"])
def test_masked_batches_update_batchnorm_running_statistics_only_when_told(which):
    """``standard``: after a step the running statistics are those of the standard forward alone;
    ``both`` (the development code): the masked batch moves them too. The masked forward itself
    normalises with its batch's statistics either way (same masked logits)."""
    method = dataclasses.replace(METHOD, mask_ratio=0.5, bn_running_stats=which)
    x, _ = batch()
    alone = tiny_model().train()
    alone(x, return_activation=True)
    model = tiny_model().train()
    torch.manual_seed(0)
    _, masked = Pathways(model, method)(x)
    assert running_stats(alone).keys() == running_stats(model).keys() and running_stats(alone)
    same = all(torch.equal(a, b) for a, b in zip(running_stats(alone).values(), running_stats(model).values()))
    assert same == (which == "standard")
    other = tiny_model().train()
    torch.manual_seed(0)
    _, masked_other = Pathways(other, dataclasses.replace(method, bn_running_stats="both"))(x)
    torch.testing.assert_close(masked.logits, masked_other.logits)


def checkpoint_epoch(work):
    try:
        return torch.load(work / "checkpoint.pt", weights_only=True)["epoch"]
    except Exception:  # not there yet, or being replaced
        return 0


def start_training(data, folder, schedule):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "maskclr.train", *map(str, train_args(data, folder, schedule=schedule))]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_run_resumes_to_the_same_metrics(data, tmp_path):
    """Killed after its third epoch or later; tested every 5th epoch, so the resumed run also
    skips the evaluations where the uninterrupted one did."""
    schedule = {**SCHEDULE, "epochs_stage1": 12, "test_every": 5}
    uninterrupted = tmp_path / "full"
    assert train(data, uninterrupted, schedule=schedule).returncode == 0
    killed = tmp_path / "killed"
    process = start_training(data, killed, schedule)
    deadline = time.time() + 120
    while checkpoint_epoch(killed / "work") < 3 and time.time() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (killed / "metrics.json").exists()
    result = train(data, killed, schedule=schedule)
    assert result.returncode == 0, result.stderr
    assert "resuming at epoch" in result.stderr
    assert history(killed) == history(uninterrupted)
    assert [row["epoch"] for row in history(killed) if "test_top1" in row] == [4, 9, 11]


def test_second_copy_refuses_while_the_first_runs(data, tmp_path):
    process = start_training(data, tmp_path, {**SCHEDULE, "epochs_stage1": 10_000})
    try:
        deadline = time.time() + 60
        while not (tmp_path / "work" / "lock.json").exists() and time.time() < deadline:
            time.sleep(0.05)
        result = train(data, tmp_path)
        assert result.returncode == 2 and "already running" in result.stderr
    finally:
        process.kill()
        process.wait()


def test_time_budget_stops_with_a_resumable_state(data, tmp_path):
    # A budget of 60 ns: any first epoch outlasts it, so the stop falls after epoch 1 however fast
    # or loaded the machine is (with 0.06 s, whether a second epoch ran depended on the first's time).
    result = run_module(
        "maskclr.train", *train_args(data, tmp_path), "--time-budget-min", "1e-9", "--time-margin-min", "0"
    )
    assert result.returncode == 3 and "run again to resume" in result.stderr
    assert checkpoint_epoch(tmp_path / "work") == 1 and not (tmp_path / "model.pt").exists()


def test_a_budget_shorter_than_the_margin_still_trains_whole_epochs(data, tmp_path):
    # 4 min, default margin 5 min: the margin is capped at 2 min, and the seconds-long run fits
    result = run_module("maskclr.train", *train_args(data, tmp_path), "--time-budget-min", "4")
    assert result.returncode == 0, result.stderr
    assert len(history(tmp_path)) == SCHEDULE["epochs_stage1"]


def test_sigterm_releases_the_lock_and_keeps_the_last_epoch(data, tmp_path):
    """SLURM's time limit: SIGTERM, then SIGKILL after KillWait."""
    process = start_training(data, tmp_path, {**SCHEDULE, "epochs_stage1": 10_000})
    deadline = time.time() + 120
    while checkpoint_epoch(tmp_path / "work") < 1 and time.time() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "signal SIGTERM: stopping" in stderr
    assert not (tmp_path / "work" / "lock.json").exists() and checkpoint_epoch(tmp_path / "work") >= 1


def test_wrong_architecture_checkpoint(data, stage1, tmp_path):
    result = train(
        data, tmp_path, stage="stage2", method=MASKCLR, init=stage1 / "model.pt", backbone={**BACKBONE, "dim": 16}
    )
    assert result.returncode == 2 and "checkpoint of the wrong architecture" in result.stderr


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(backbone={"dim": 8, "layers": 3}), "backbone 'transformer': bad size arguments"),
        (dict(stage="stage2", method={**MASKCLR, "ratio": 0.5}), "--method-json: unknown keys ['ratio']"),
        (dict(stage="stage2", method={**MASKCLR, "masking": "everything"}), "key 'masking': expected one of"),
        (dict(stage="stage2", method={"masking": "agpm"}), "--method-json: missing keys ['level', 'mask_ratio'"),
        (dict(stage="stage2"), "--method-json: stage 2 needs the method"),
        (dict(method=MASKCLR), "--method-json: stage 1 trains cross-entropy only"),
        (dict(schedule={"batch_size": 8}), "--schedule-json: missing keys ['epochs_stage1'"),
        (dict(schedule={k: v for k, v in SCHEDULE.items() if k != "lr_decay"}), "key 'lr_decay': required by"),
    ],
)
def test_bad_settings(data, tmp_path, change, message):
    result = train(data, tmp_path, **change)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_unknown_backbone(data, tmp_path):
    args = [str(a) for a in train_args(data, tmp_path)]
    args[args.index("transformer")] = "resnet"
    result = run_module("maskclr.train", *args)
    assert result.returncode == 2 and "unknown backbone 'resnet'" in result.stderr


def test_a_user_backbone_trains_and_its_model_rebuilds(data, tmp_path, monkeypatch):
    """A backbone class outside the package, importable from the job's working directory."""
    from maskclr.evaluate.run import load_model

    user_modules = REPO / "tests" / "user_modules"
    args = [str(a) for a in train_args(data, tmp_path, backbone={"class": "my_backbones:TokenMLP", "dim": 8})]
    args[args.index("transformer")] = "tokens"
    result = run_module("maskclr.train", *args, cwd=user_modules)
    assert result.returncode == 0, result.stderr
    monkeypatch.syspath_prepend(str(user_modules))
    model, arch, _ = load_model(tmp_path / "model.pt", threads=1, device="cpu")
    assert arch["class"] == "my_backbones:TokenMLP" and arch["sizes"] == {"dim": 8}
    assert type(model.backbone).__name__ == "TokenMLP"
    result = run_module("maskclr.train", *args)  # elsewhere the module is not found, and named
    assert result.returncode == 2 and "backbone 'tokens': cannot import module 'my_backbones'" in result.stderr


MAMP = {"method": "mamp", "decoder_dim": 8, "decoder_depth": 1, "decoder_heads": 2}
PRETRAIN_SCHEDULE = {"epochs": 1, "batch_size": 4, "lr": 1e-3, "min_lr": 5e-4, "warmup_epochs": 0, "weight_decay": 0.05}


def test_stage1_starts_from_a_pretraining_and_stage2_inherits_its_name(data, tmp_path):
    pretrained = tmp_path / "pretrain" / "mamp.pt"
    result = run_module(
        "maskclr.pretrain",
        *("--data", data, "--dataset", "synth", "--split", "xsub", "--pretrain-name", "mamp"),
        *("--backbone", "transformer", "--backbone-json", json.dumps(BACKBONE)),
        *("--method-json", json.dumps(MAMP), "--out", pretrained, "--out-metrics", pretrained.with_suffix(".json")),
        *("--work-dir", tmp_path / "pretrain" / "work", "--schedule-json", json.dumps(PRETRAIN_SCHEDULE)),
    )
    assert result.returncode == 0, result.stderr
    # MAMP's fine-tuning recipe on a backbone lr so small that stage 1 leaves the loaded weights as they were
    recipe = {**SCHEDULE, "epochs_stage1": 1, "epochs_stage2": 1, "lr_backbone": 1e-12, "layer_decay": 0.5}
    recipe |= {"label_smoothing": 0.1, "warmup_epochs": 0}
    stage1, stage2 = tmp_path / "stage1", tmp_path / "stage2"
    result = train(data, stage1, schedule=recipe, pretrain=pretrained, pretrain_name="mamp")
    assert result.returncode == 0, result.stderr
    assert "backbone loaded; new: head.bn.bias" in result.stderr  # the head stays new, and is named
    encoder = {k.removeprefix("encoder."): v for k, v in torch.load(pretrained)["model"].items() if "encoder." in k}
    trained = checkpoint.load(stage1 / "model.pt", keys=("model", "identity"))
    for name, weight in encoder.items():
        torch.testing.assert_close(trained["model"][f"backbone.{name}"], weight, atol=1e-8, rtol=0, msg=name)
    assert trained["identity"]["pretrain"] == "mamp"
    metrics = json.loads((stage1 / "metrics.json").read_text())
    assert metrics["pretrain"] == "mamp" and metrics["history"][0]["lr_backbone"] == pytest.approx(1e-12)
    result = train(data, stage2, stage="stage2", method=MASKCLR, schedule=recipe, init=stage1 / "model.pt")
    assert result.returncode == 0, result.stderr
    assert json.loads((stage2 / "metrics.json").read_text())["pretrain"] == "mamp"
    assert checkpoint.load(stage2 / "model.pt", keys=("identity",))["identity"]["pretrain"] == "mamp"


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(stage="stage2", pretrain_name="mamp"), "--pretrain: stage 1 only"),
        (dict(pretrained="motionbert.bin", pretrain_name="mamp"), "--pretrain and --pretrained: stage 1 starts"),
        (dict(pretrain_name=None), "--pretrain and --pretrain-name: each needs the other"),
        (dict(pretrain_name="none"), "--pretrain-name none: 'none' is what a model without pretraining records"),
    ],
)
def test_pretrain_flags_that_contradict_each_other(data, tmp_path, change, message):
    result = train(data, tmp_path, **{"pretrain": tmp_path / "mamp.pt", **change})
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_stage2_needs_the_pretraining_its_init_records(data, stage1, tmp_path):
    state = torch.load(stage1 / "model.pt", weights_only=True)
    del state["identity"]["pretrain"]
    torch.save(state, tmp_path / "old.pt")
    result = train(data, tmp_path / "run", stage="stage2", method=MASKCLR, init=tmp_path / "old.pt")
    assert result.returncode == 2 and "old.pt: key 'identity.pretrain': missing" in result.stderr


def test_a_linear_head_model_evaluates_and_its_rows_carry_the_identity(data, tmp_path):
    """The evaluation takes the class count from the architecture record (the linear head has no
    fc2) and copies the identity, pretrain included, into every row."""
    schedule = {**SCHEDULE, "epochs_stage1": 1, "head": "linear"}
    assert train(data, tmp_path, schedule=schedule).returncode == 0
    out = tmp_path / "eval.csv"
    result = run_module(
        "maskclr.evaluate",
        *("--model", tmp_path / "model.pt", "--poses", f"mq={data.parent / 'poses.pkl'}", "--train-estimator", "mq"),
        *("--split", "xsub", "--preprocess-json", preprocess_json(8), "--out-csv", out),
        *("--grid-json", json.dumps(tiny_config()["robustness"]), "--out-activation", tmp_path / "activation.npz"),
        *("--out-confusion", tmp_path / "confusion.npz"),
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(out)))
    assert rows and all({**IDENTITY, "seed": "0", "pretrain": "none"}.items() <= row.items() for row in rows)
    # test poses of a class the model does not have: named, nothing written
    poses = pickle.loads((data.parent / "poses.pkl").read_bytes())
    first = poses["split"]["xsub_val"][0]
    next(a for a in poses["annotations"] if a["frame_dir"] == first)["label"] = 999
    (tmp_path / "more_classes.pkl").write_bytes(pickle.dumps(poses, protocol=4))
    out.unlink()
    result = run_module(
        "maskclr.evaluate",
        *(
            "--model",
            tmp_path / "model.pt",
            "--poses",
            f"mq={tmp_path / 'more_classes.pkl'}",
            "--train-estimator",
            "mq",
        ),
        *("--split", "xsub", "--preprocess-json", preprocess_json(8), "--out-csv", out),
        *("--grid-json", json.dumps(tiny_config()["robustness"]), "--out-activation", tmp_path / "a2.npz"),
        *("--out-confusion", tmp_path / "c2.npz"),
    )
    assert result.returncode == 2 and "more_classes.pkl: split 'xsub_val': label 999 is beyond the" in result.stderr
    assert not out.exists()


def test_pretrained_weights_need_the_backbones_own_adapter(data, tmp_path):
    """STTFormer has no adapter (DSTFormer reads MotionBERT's checkpoints, the Transformer MAMP's)."""
    sttformer = {"class": "maskclr.models.sttformer:STTFormer", "num_frames": 8, "len_parts": 4, "num_heads": 2}
    sizes = {**sttformer, "config": [[8, 8, 4]]}
    result = train(data, tmp_path, backbone=sizes, pretrained=tmp_path / "weights.bin")
    assert result.returncode == 2
    assert "(STTFormer) has no checkpoint adapter: define load_pretrained(path)" in result.stderr


def test_hdf5_of_the_wrong_shape(tmp_path):
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as h5:
        h5.attrs["num_classes"] = 3
        for part in ("train", "test"):
            h5.create_dataset(f"{part}/x", data=np.zeros((4, 2, 8, 25, 3), np.float32))
            h5.create_dataset(f"{part}/label", data=np.zeros(4, np.int64))
            h5.create_dataset(f"{part}/frame_dir", data=np.array(["a"] * 4, dtype=object), dtype=h5py.string_dtype())
    result = train(bad, tmp_path)
    assert result.returncode == 2 and "key 'x': expected shape (N, 1 or 2, T, 17, 3)" in result.stderr


def test_predict_prints_top_classes_and_writes_the_activation(stage1, tmp_path):
    from maskclr.evaluate.run import load_model, model_inputs, predict

    dataset = make_dataset(count=4, persons=2, frames=20)
    poses = tmp_path / "clips.pkl"
    poses.write_bytes(pickle.dumps(dataset, protocol=4))
    out = tmp_path / "activation.npz"
    result = run_module(
        "maskclr.predict", "--checkpoint", stage1 / "model.pt", "--poses", poses, "--out-activation", out
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == dataset["annotations"][0]["frame_dir"] and len(lines) == 4 * (1 + 3)  # 3 classes
    assert lines[1].startswith("  1. class ") and lines[1].endswith(" %")
    saved = np.load(out)
    assert saved["activation"].shape[0] == 4 and np.allclose(saved["activation"].max(axis=1), 1)
    assert (np.diff(saved["top5_probs"], axis=1) <= 0).all() and list(saved["frame_dir"]) == [
        a["frame_dir"] for a in dataset["annotations"]
    ]
    # the same top-1 as the evaluation code path on the same inputs (T = the model's maxlen)
    model, _, _ = load_model(stage1 / "model.pt", 1)
    logits, _ = predict(
        model, model_inputs(dataset["annotations"], {"n_frames": 8, "score_channel": "motionbert", "max_persons": 2})
    )
    assert list(saved["top5_labels"][:, 0]) == logits.argmax(1).tolist()


def test_predict_bad_input_is_named(stage1, tmp_path):
    result = run_module("maskclr.predict", "--checkpoint", stage1 / "model.pt", "--video", tmp_path / "clip.mp4")
    assert result.returncode == 2 and "--video needs --estimator-json" in result.stderr
    result = run_module("maskclr.predict", "--checkpoint", tmp_path / "absent.pt", "--poses", tmp_path / "p.pkl")
    assert result.returncode == 2 and "absent.pt" in result.stderr


def test_predict_runs_a_pose_estimator_on_a_video(stage1, tmp_path):
    from conftest import write_video

    video = write_video(tmp_path / "my_clip.avi", frames=3, size=(96, 128))
    spec = {
        "type": "hrnet",
        "variant": "w32",
        "arch": {"width": 8},
        "random_init": True,
        "flip_test": False,
        "detector": {"type": "whole_frame"},
        "max_persons_rule": "none",
    }
    result = run_module(
        "maskclr.predict",
        "--checkpoint",
        stage1 / "model.pt",
        "--video",
        video,
        "--estimator-json",
        json.dumps(spec),
        "--out-activation",
        tmp_path / "a.npz",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "my_clip" and len(result.stdout.splitlines()) == 1 + 3
    assert np.load(tmp_path / "a.npz")["frame_dir"].tolist() == ["my_clip"]
