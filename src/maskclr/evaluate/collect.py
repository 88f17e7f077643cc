"""``python -m maskclr.evaluate.collect``: every number of the run in one long table.

    python -m maskclr.evaluate.collect --train-estimator mq --out results/metrics.csv \\
        results/eval/.../{method}.csv ... results/models/.../metrics.json ...

Rows: ``dataset, split, backbone, method, seed, kind, test_estimator, perturbation, level,
metric, value``. ``kind`` is ``eval`` (an evaluation CSV row), ``train`` (a training summary)
or ``history`` (one epoch of training; ``level`` is the epoch). The model is read from the path
(``.../{dataset}/{split}/{backbone}/{run}``); a run named ``{method}-seed{k}`` is seed k, any
other run has the schedule's seed. This table is the single source of every table and figure.
"""

import argparse
import csv
import json
import re
from pathlib import Path

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output

EVAL_COLUMNS = (
    "perturbation",
    "level",
    "test_estimator",
    "top1",
    "top5",
    "mean_class_acc",
    "n",
    "joints_effective",
    "top3_share",
)
EVAL_METRICS = EVAL_COLUMNS[3:]
# The activation spread is on the training tier's clean row only, empty on the others. The header
# check stays strict: an evaluation CSV written before these columns existed is refused (rerun it).
OPTIONAL_METRICS = ("joints_effective", "top3_share")
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
)
EVAL_PATH = re.compile(r"(?:^|/)eval/(?P<dataset>[^/]+)/(?P<split>[^/]+)/(?P<backbone>[^/]+)/(?P<run>[^/]+)\.csv$")
TRAIN_PATH = re.compile(
    r"(?:^|/)models/(?P<dataset>[^/]+)/(?P<split>[^/]+)/(?P<backbone>[^/]+)/(?P<run>[^/]+)/metrics\.json$"
)
SUMMARY = ("best_top1", "last_top1", "best_epoch", "wall_time_s", "samples_per_s")
SEED_SUFFIX = re.compile(r"^(?P<method>.+)-seed(?P<seed>\d+)$")


def model_of(path, pattern, default_seed):
    match = pattern.search(str(path))
    if not match:
        raise InputError(f"{path}: not a path of the form {pattern.pattern}")
    ident = match.groupdict()
    run = ident.pop("run")
    seeded = SEED_SUFFIX.match(run)
    ident["method"], ident["seed"] = (seeded["method"], int(seeded["seed"])) if seeded else (run, default_seed)
    return ident


def eval_rows(path, default_seed):
    ident = model_of(path, EVAL_PATH, default_seed)
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != EVAL_COLUMNS:
                raise InputError(f"{path}: expected the columns {','.join(EVAL_COLUMNS)}, got {reader.fieldnames}")
            rows = list(reader)
    except OSError as err:
        raise InputError(f"{path}: cannot read evaluation CSV ({err.strerror})") from err
    for number, row in enumerate(rows, start=2):
        for metric in EVAL_METRICS:
            if metric in OPTIONAL_METRICS and row[metric] in ("", None):
                continue
            try:
                value = float(row[metric])
            except (TypeError, ValueError):
                raise InputError(f"{path}: line {number}: column '{metric}': not a number: {row[metric]!r}") from None
            yield {
                **ident,
                "kind": "eval",
                "test_estimator": row["test_estimator"],
                "perturbation": row["perturbation"],
                "level": row["level"],
                "metric": metric,
                "value": value,
            }


def train_rows(path, train_estimator, default_seed):
    ident = model_of(path, TRAIN_PATH, default_seed)
    try:
        metrics = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: not a readable training metrics.json: {err}") from err
    common = {**ident, "test_estimator": train_estimator, "perturbation": ""}
    for metric in SUMMARY:
        yield {**common, "kind": "train", "level": "", "metric": metric, "value": metrics[metric]}
    for epoch in metrics["history"]:
        for metric, value in epoch.items():
            if metric not in ("epoch", "seconds", "samples_per_s"):
                yield {**common, "kind": "history", "level": epoch["epoch"], "metric": metric, "value": value}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.evaluate.collect", description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="+", help="evaluation CSVs and training metrics.json files")
    parser.add_argument("--train-estimator", required=True)
    parser.add_argument("--seed", type=int, default=0, help="seed of runs without a -seed suffix")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    rows = []
    for path in args.inputs:
        if path.endswith(".csv"):
            rows += eval_rows(path, args.seed)
        else:
            rows += train_rows(path, args.train_estimator, args.seed)
    with atomic_output(args.out) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    run_cli(main)
