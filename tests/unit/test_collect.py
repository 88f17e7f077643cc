"""Collecting evaluation CSVs and training metrics into results/metrics.csv."""

import csv
import json

import pytest

from conftest import run_module
from maskclr.evaluate.collect import COLUMNS, EVAL_COLUMNS

TIERS = {"synth": "mq"}  # the training tier of each dataset the metrics name

MASKCLR_SEED2 = ("synth", "xsub", "dstformer", "maskclr", "stage2", 2, "mamp")
STAGE1 = {
    "dataset": "synth",
    "split": "xsub",
    "backbone": "dstformer",
    "method": "stage1",
    "stage": "stage1",
    "seed": 0,
    "pretrain": "none",
}


def write_eval(path, rows, identity=MASKCLR_SEED2):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(EVAL_COLUMNS)
        writer.writerows((*identity, *row) for row in rows)
    return path


def write_metrics(path, identity=STAGE1):
    path.parent.mkdir(parents=True, exist_ok=True)
    history = [{"epoch": 3, "loss": 1.5, "test_top1": 0.4, "seconds": 2.0, "samples_per_s": 10.0}]
    path.write_text(
        json.dumps(
            {
                **identity,
                "best_top1": 0.4,
                "last_top1": 0.4,
                "best_epoch": 3,
                "wall_time_s": 2.0,
                "samples_per_s": 10.0,
                "history": history,
            }
        )
    )
    return path


# A pretraining's metrics.json as maskclr.pretrain writes it: the identity, one mean loss per epoch
PRETRAINING = {
    "dataset": "synth",
    "split": "xsub",
    "backbone": "transformer",
    "method": "mamp",
    "stage": "pretrain",
    "seed": 1,
    "pretrain": "mamp_long",
    "losses": [0.9, 0.5, 0.25],
    "processes": 1,
    "wall_time_s": 3.0,
    "config": {"sizes": {}, "method": {"method": "mamp"}, "schedule": {"epochs": 3}},
}


def collect(tmp_path, *inputs):
    out = tmp_path / "metrics.csv"
    return run_module(
        "maskclr.evaluate.collect", *inputs, "--train-estimators-json", json.dumps(TIERS), "--out", out
    ), out


def test_long_table(tmp_path):
    ev = write_eval(
        tmp_path / "results/eval/synth/xsub/dstformer/maskclr/seed2.csv",
        [
            ("clean", "0", "mq", 0.5, 0.9, 0.5, 10, 6.5, 0.4, "", ""),
            ("clean", "0", "mq", 0.75, "", "", 4, "", "", 0.25, 3),  # class 3 alone, a quarter to its partner
            ("clean", "0", "mq", 1.0, "", "", 2, "", "", "", 5),  # class 5: no partner
            ("part", "head", "mq", 0.25, 0.8, 0.3, 10, "", "", "", ""),
        ],
    )
    tr = write_metrics(tmp_path / "results/models/synth/xsub/dstformer/stage1/seed0/metrics.json")
    result, out = collect(tmp_path, ev, tr)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(out)))
    assert tuple(rows[0]) == COLUMNS
    # The columns readers rely on, in their order; the pretraining appended after them
    assert ",".join(COLUMNS) == (
        "dataset,split,backbone,method,seed,kind,test_estimator,perturbation,level,metric,value,pretrain,label"
    )
    assert {r["pretrain"] for r in rows if r["kind"].startswith("eval")} == {"mamp"}
    assert {r["pretrain"] for r in rows if not r["kind"].startswith("eval")} == {"none"}
    # A class's row: its own kind and label, top1 and n, and to_partner where it has a partner
    per_class = {(r["label"], r["metric"]): (r["kind"], r["value"]) for r in rows if r["label"]}
    assert per_class == {
        ("3", "top1"): ("eval_class", "0.75"),
        ("3", "n"): ("eval_class", "4.0"),
        ("3", "to_partner"): ("eval_class", "0.25"),
        ("5", "top1"): ("eval_class", "1.0"),
        ("5", "n"): ("eval_class", "2.0"),
    }
    assert {r["label"] for r in rows if r["kind"] != "eval_class"} == {""}
    head = [r for r in rows if r["level"] == "head" and r["metric"] == "top1"]
    assert len(head) == 1 and head[0]["method"] == "maskclr" and head[0]["seed"] == "2"
    assert float(head[0]["value"]) == 0.25 and head[0]["kind"] == "eval"
    train = {r["metric"]: r for r in rows if r["kind"] == "train"}
    assert train["best_top1"]["method"] == "stage1" and train["best_top1"]["seed"] == "0"
    history = [r for r in rows if r["kind"] == "history"]
    assert {r["metric"] for r in history} == {"loss", "test_top1"} and history[0]["level"] == "3"
    spread = {r["metric"]: float(r["value"]) for r in rows if r["metric"] in ("joints_effective", "top3_share")}
    assert spread == {"joints_effective": 6.5, "top3_share": 0.4}  # the clean row only
    assert len(rows) == 10 + 3 + 2 + 5 + 2  # two whole-set rows, class 3 (and its partner share), class 5, training


def test_a_pretraining_gives_one_loss_row_per_epoch(tmp_path):
    pretraining = tmp_path / "metrics.json"
    pretraining.write_text(json.dumps(PRETRAINING))
    tr = write_metrics(tmp_path / "stage1.json")
    result, out = collect(tmp_path, tr, pretraining)
    assert result.returncode == 0, result.stderr
    rows = [r for r in csv.DictReader(open(out)) if r["kind"] == "pretrain_history"]
    model = {"dataset": "synth", "split": "xsub", "backbone": "transformer", "method": "mamp", "seed": "1"}
    expected = {"kind": "pretrain_history", "test_estimator": "mq", "perturbation": "", "metric": "loss"}
    assert rows == [
        {**model, **expected, "level": str(epoch), "value": value, "pretrain": "mamp_long", "label": ""}
        for epoch, value in enumerate(("0.9", "0.5", "0.25"))
    ]
    assert {r["kind"] for r in csv.DictReader(open(out))} == {"train", "history", "pretrain_history"}


def test_the_model_comes_from_the_files_not_their_paths(tmp_path):
    """Files whose paths say nothing (or say something else) collect as what they record."""
    ev = write_eval(tmp_path / "a/seed7/baseline.csv", [("clean", "0", "mq", 0.5, 0.9, 0.5, 10, "", "", "", "")])
    transformer = {**STAGE1, "backbone": "transformer", "split": "xview", "method": "maskclr", "stage": "stage2"}
    tr = write_metrics(tmp_path / "b/stage1/metrics.json", {**transformer, "seed": 3})
    result, out = collect(tmp_path, ev, tr)
    assert result.returncode == 0, result.stderr
    models = {tuple(r[c] for c in COLUMNS[:6]) for r in csv.DictReader(open(out))}
    assert models == {
        ("synth", "xsub", "dstformer", "maskclr", "2", "eval"),
        ("synth", "xview", "transformer", "maskclr", "3", "train"),
        ("synth", "xview", "transformer", "maskclr", "3", "history"),
    }


@pytest.mark.parametrize("key", ["dataset", "split", "backbone", "method", "stage", "seed", "pretrain"])
def test_a_missing_identity_field_is_named(tmp_path, key):
    metrics = write_metrics(tmp_path / "metrics.json", {k: v for k, v in STAGE1.items() if k != key})
    result, out = collect(tmp_path, metrics)
    assert result.returncode == 2 and f"{metrics}: key '{key}': missing" in result.stderr
    assert not out.exists()
    identity = [v if k != key else "" for k, v in STAGE1.items()]
    ev = write_eval(tmp_path / "eval.csv", [("clean", "0", "mq", 0.5, 0.9, 0.5, 10, "", "", "", "")], identity)
    result, out = collect(tmp_path, ev)
    assert result.returncode == 2 and f"{ev}: line 2: key '{key}': missing" in result.stderr


@pytest.mark.parametrize("seed", [1.5, True, "-1", "one"])
def test_a_seed_that_is_not_a_count_is_refused(tmp_path, seed):
    metrics = write_metrics(tmp_path / "metrics.json", {**STAGE1, "seed": seed})
    result, _ = collect(tmp_path, metrics)
    assert result.returncode == 2 and f"{metrics}: key 'seed': not a non-negative integer" in result.stderr


def test_a_dataset_without_a_training_tier_is_named(tmp_path):
    metrics = write_metrics(tmp_path / "metrics.json", {**STAGE1, "dataset": "synth_3d"})
    result, out = collect(tmp_path, metrics)
    assert result.returncode == 2 and not out.exists()
    assert f"{metrics}: key 'dataset': 'synth_3d' has no training tier in --train-estimators-json" in result.stderr


def test_missing_csv_is_named(tmp_path):
    missing = tmp_path / "results/eval/synth/xsub/dstformer/baseline/seed0.csv"
    result, out = collect(tmp_path, missing)
    assert result.returncode == 2 and f"{missing}: cannot read evaluation CSV" in result.stderr
    assert not out.exists()


def test_malformed_csv_is_named(tmp_path):
    bad = tmp_path / "results/eval/synth/xsub/dstformer/baseline/seed0.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("perturbation,level,top1\nclean,0,0.5\n")
    result, _ = collect(tmp_path, bad)
    assert result.returncode == 2 and f"{bad}: expected the columns" in result.stderr
    write_eval(bad, [("clean", "0", "mq", "high", 0.9, 0.5, 10)])
    result, _ = collect(tmp_path, bad)
    assert result.returncode == 2 and "line 2: column 'top1': not a number: 'high'" in result.stderr
    write_eval(
        bad,
        [
            ("clean", "0", "mq", 0.5, 0.9, 0.5, 10, "", "", "", ""),
            ("clean", "0", "mq", 0.5, "", "", 3, "", "", "", "1.5"),
        ],
    )
    result, _ = collect(tmp_path, bad)
    assert result.returncode == 2 and "line 3: column 'label': not a class index: '1.5'" in result.stderr
