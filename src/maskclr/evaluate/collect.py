"""``python -m maskclr.evaluate.collect``: every number of the run in one long table.

    python -m maskclr.evaluate.collect --train-estimators-json '{"synth": "mq"}' --out results/metrics.csv \\
        results/eval/.../{method}/seed{k}.csv ... results/models/.../metrics.json ... \\
        results/pretrain/.../metrics.json ...

Rows: ``dataset, split, backbone, method, seed, kind, test_estimator, perturbation, level,
metric, value, pretrain, label``. ``kind`` is ``eval`` (an evaluation CSV row of the whole test
set), ``eval_class`` (an evaluation of one class: ``label`` is its index; metrics top1, n and,
for a class with a fine-grained partner, to_partner),
``train`` (a training summary), ``history`` (one epoch of training; ``level`` is the epoch) or
``pretrain_history`` (one epoch of a self-supervised pretraining: metric ``loss``, the epoch's
mean loss; ``level`` is the epoch, from 0 as in ``history``). ``pretrain`` is the
self-supervised pretraining the model started from (``none``: none); it and ``label`` (empty
except on ``eval_class`` rows) come last, so that readers of the older columns by position keep
working. A pretraining's own rows name it there too (its config entry, e.g.
mamp), with its method (e.g. mamp, skeletonmae) as ``method``. The model of each number is
read from the file itself (the identity columns of an evaluation CSV, the identity keys of a
metrics.json: a pretraining's records stage ``pretrain``), never from its path. This table is
the single source of every table and figure.
"""

import argparse
import csv
import json
from pathlib import Path

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output
from maskclr.settings import json_object

# What a model is: written by the trainer into model.pt and metrics.json, and by the evaluation
# into every row of its CSV (``stage`` is recorded but not collected: the method names it).
IDENTITY = ("dataset", "split", "backbone", "method", "stage", "seed", "pretrain")
CONDITION = ("perturbation", "level", "test_estimator")  # a grid point (also of the confusion npz)
EVAL_COLUMNS = (
    *IDENTITY,
    *CONDITION,
    "top1",
    "top5",
    "mean_class_acc",
    "n",
    "joints_effective",
    "top3_share",
    "to_partner",
    "label",
)
EVAL_METRICS = EVAL_COLUMNS[len(IDENTITY) + 3 : -1]
# The activation spread is on the training tier's clean row only, empty on the others; a class's
# row (``label``) has only top1, n and, where the class has a partner, to_partner. The header
# check stays strict: an evaluation CSV written before these columns existed is refused (rerun it).
OPTIONAL_METRICS = ("joints_effective", "top3_share", "to_partner")
CLASS_OPTIONAL_METRICS = (*OPTIONAL_METRICS, "top5", "mean_class_acc")
COLUMNS = (
    "dataset",
    "split",
    "backbone",
    "method",
    "seed",
    "kind",
    "test_estimator",
    "perturbation",
    "level",
    "metric",
    "value",
    "pretrain",
    "label",
)
SUMMARY = ("best_top1", "last_top1", "best_epoch", "wall_time_s", "samples_per_s")
PRETRAIN_STAGE = "pretrain"  # the stage a pretraining's metrics.json records (maskclr.pretrain)


def model_of(record, path, where=""):
    """The model columns of metrics.csv from an identity ``record`` (a CSV row or metrics.json);
    InputError naming the file (and ``where``: its line) and the missing or bad key."""
    missing = [key for key in IDENTITY if record.get(key) in ("", None)]
    if missing:
        raise InputError(f"{path}: {where}key '{missing[0]}': missing (every result records {', '.join(IDENTITY)})")
    seed = str(record["seed"])
    if not (seed.isascii() and seed.isdecimal()):  # a float or bool seed is a foreign file, not rounded
        raise InputError(f"{path}: {where}key 'seed': not a non-negative integer: {record['seed']!r}")
    return {key: str(record[key]) for key in (*COLUMNS[:4], "pretrain")} | {"seed": int(seed)}


def eval_rows(path):
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != EVAL_COLUMNS:
                raise InputError(f"{path}: expected the columns {','.join(EVAL_COLUMNS)}, got {reader.fieldnames}")
            rows = list(reader)
    except OSError as err:
        raise InputError(f"{path}: cannot read evaluation CSV ({err.strerror})") from err
    for number, row in enumerate(rows, start=2):
        ident = model_of(row, path, f"line {number}: ")
        label = row["label"] or ""
        if label and not (label.isascii() and label.isdecimal()):
            raise InputError(f"{path}: line {number}: column 'label': not a class index: {label!r}")
        optional = CLASS_OPTIONAL_METRICS if label else OPTIONAL_METRICS
        for metric in EVAL_METRICS:
            if metric in optional and row[metric] in ("", None):
                continue
            try:
                value = float(row[metric])
            except (TypeError, ValueError):
                raise InputError(f"{path}: line {number}: column '{metric}': not a number: {row[metric]!r}") from None
            yield {
                **ident,
                "kind": "eval_class" if label else "eval",
                "test_estimator": row["test_estimator"],
                "perturbation": row["perturbation"],
                "level": row["level"],
                "metric": metric,
                "value": value,
                "label": label,
            }


def json_rows(path, train_estimators):
    """The rows of a training's or a pretraining's metrics.json (``train_rows``, ``pretrain_rows``:
    the stage it records says which); their test_estimator is the tier its dataset trains and is
    tested on (``train_estimators``: {dataset: tier}), which a pretraining trains on too."""
    try:
        metrics = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: not a readable training metrics.json: {err}") from err
    if not isinstance(metrics, dict):
        raise InputError(f"{path}: expected a JSON object (a training metrics.json), got {type(metrics).__name__}")
    model = model_of(metrics, path)
    if model["dataset"] not in train_estimators:
        raise InputError(
            f"{path}: key 'dataset': '{model['dataset']}' has no training tier in --train-estimators-json "
            f"(given: {', '.join(sorted(train_estimators))})"
        )
    common = {**model, "test_estimator": train_estimators[model["dataset"]], "perturbation": ""}
    rows = pretrain_rows if metrics["stage"] == PRETRAIN_STAGE else train_rows
    return rows(metrics, common)


def train_rows(metrics, common):
    """The summary and history rows of a training's ``metrics`` (``common``: their other columns)."""
    for metric in SUMMARY:
        yield {**common, "kind": "train", "level": "", "metric": metric, "value": metrics[metric]}
    for epoch in metrics["history"]:
        for metric, value in epoch.items():
            if metric not in ("epoch", "seconds", "samples_per_s"):
                yield {**common, "kind": "history", "level": epoch["epoch"], "metric": metric, "value": value}


def pretrain_rows(metrics, common):
    """One row per epoch of a pretraining's ``metrics``: its mean loss (``losses``, one per epoch
    from epoch 0; ``common``: the other columns)."""
    for epoch, loss in enumerate(metrics["losses"]):
        yield {**common, "kind": "pretrain_history", "level": epoch, "metric": "loss", "value": loss}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.evaluate.collect", description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="+", help="evaluation CSVs, training and pretraining metrics.json files")
    parser.add_argument(
        "--train-estimators-json", required=True, help='the tier each dataset trains on, e.g. {"synth": "mq"}'
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    tiers = json_object(args.train_estimators_json, "--train-estimators-json")
    rows = []
    for path in args.inputs:
        if path.endswith(".csv"):
            rows += eval_rows(path)
        else:
            rows += json_rows(path, tiers)
    with atomic_output(args.out) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    run_cli(main)
