"""``python -m maskclr.paper.by_model``: every model's methods against its baseline, perturbation
group by group, with 95 % confidence intervals over seeds.

    python -m maskclr.paper.by_model --metrics results/metrics.csv --settings-json '{...}' \\
        --out-csv results/tables/robustness_by_model.csv --out-tex results/tables/robustness_by_model.tex \\
        --out-md results/tables/robustness_by_model.md

The robustness summary (``maskclr.paper.summary``) compares MaskCLR with the baseline on the
paper's one model; a study trains many (every backbone and split, the single-loss ablations,
random masking). Here every model of metrics.csv (dataset, split, backbone, pretraining, tested on
its dataset's training tier) that has the first table method (the baseline) and another stage-2
method is compared: each other method, in Fig. 5's legend order, against that
baseline in each of the summary's perturbation groups (``summary.compare``: the mean over seeds,
the difference paired by seed and its 95 % CI).

The tables show, per model, the baseline's top-1 and under it each method's difference, in bold
where its interval excludes 0. Under the Markdown table, generated from these numbers, stand the
counts of significant differences in each direction beside the count expected by chance: at
95 % each, about one comparison in twenty comes out significant when no method differs from the
baseline, so with many comparisons a few significant ones are no evidence by themselves.
"""

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from maskclr.errors import run_cli
from maskclr.fileio import atomic_output
from maskclr.paper import metrics as mt
from maskclr.paper import summary
from maskclr.paper.stats import difference, interval, mean_ci
from maskclr.paper.style import METHODS, describe_model, method_label, model_order, rank
from maskclr.paper.tables import tabular, tex

MODEL = ("dataset", "split", "backbone", "pretrain")
COLUMNS = (*MODEL, "train_estimator", "method", "baseline", *summary.COLUMNS)
CHANCE = 0.05  # the share of comparisons significant at 95 % when nothing differs
STAGE1 = "stage1"  # the run name of a stage-1 model in metrics.csv's method column


def models(metrics, settings):
    """[(model, methods)]: each model with clean top-1 rows of the baseline (the first table
    method) and of another stage-2 method, as the settings ``summary.compare`` reads (its keys in
    ``MODEL`` and its dataset's ``train_estimator``), with those other methods in the style's order
    (Fig. 5's legend; not the config's, so that reordering its keys reruns nothing); in the tables'
    model order."""
    baseline = settings["table_methods"][0]
    rows = metrics.on_training_tier(settings["train_estimators"])
    rows = rows.match(kind="eval", metric="top1", perturbation="clean")
    found = []
    for key, block in rows.groupby(list(MODEL)):
        present = set(block["method"])
        others = sorted(present - {baseline, STAGE1}, key=lambda m: (rank(m, METHODS), m))
        if baseline in present and others:
            model = dict(zip(MODEL, key))
            found.append(({**model, "train_estimator": settings["train_estimators"][model["dataset"]]}, others))
    return sorted(found, key=lambda item: model_order(*(item[0][k] for k in MODEL)))


def by_model(metrics, settings):
    """One row per model, method and perturbation group both methods were tested in
    (``COLUMNS``): ``summary.compare`` of the method against the model's baseline."""
    baseline = settings["table_methods"][0]
    frames = [
        summary.compare(metrics, model, baseline, method).assign(**model, method=method, baseline=baseline)
        for model, methods in models(metrics, settings)
        for method in methods
    ]
    return pd.concat(frames, ignore_index=True)[list(COLUMNS)] if frames else pd.DataFrame(columns=COLUMNS)


@dataclass(frozen=True)
class Block:
    """One model's lines: the baseline over all its seeds, then each method's differences."""

    model: dict
    baseline_seeds: int
    baseline: dict  # group → (mean, 95 % half-width) of the baseline's top-1 (%)
    methods: list  # [(method, its rows of the table indexed by group)]


def blocks(table, metrics):
    """The table's ``Block`` of each model, in its order."""
    out = []
    for _, rows in table.groupby(list(MODEL), sort=False):
        first = rows.iloc[0]
        model = {key: first[key] for key in (*MODEL, "train_estimator")}
        scores = summary.group_scores(metrics, model, first["baseline"])
        cells = {group: mean_ci(values) for group, values in scores.items()}
        methods = [(m, r.set_index("group")) for m, r in rows.groupby("method", sort=False)]
        seeds = max(n for _, _, n in cells.values())
        out.append(Block(model, seeds, {g: cell[:2] for g, cell in cells.items()}, methods))
    return out


def group_names(table):
    """The perturbation groups present, in the summary's order."""
    return [name for name, _, _ in summary.GROUPS if name in set(table["group"])]


@dataclass(frozen=True)
class Format:
    """How a table writes text: ``escape`` for labels, ``bold`` for a significant difference, the minus."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    minus: str


MARKDOWN = Format(escape=str, bold=lambda text: f"**{text}**", minus="−")
TEX = Format(escape=tex, bold=lambda text: rf"\textbf{{{text}}}", minus="$-$")


def lines_of(block, groups, baseline, fmt):
    """The table rows of one ``Block`` as lists of cells: model, method, seeds, one per group
    (``--`` for a group not compared), written in ``fmt``."""
    base = [interval(*block.baseline[g]) if g in block.baseline else "--" for g in groups]
    rows = [[fmt.escape(describe_model(block.model)), fmt.escape(baseline), str(block.baseline_seeds), *base]]
    for method, cells in block.methods:
        name = f"{fmt.escape(method_label(method))} {fmt.minus} {fmt.escape(baseline)}"
        rows.append(["", name, str(int(cells["seeds"].min())), *(delta(cells, g, fmt) for g in groups)])
    return rows


def delta(cells, group, fmt):
    """One method's difference in ``group`` with its interval, bold where significant."""
    if group not in cells.index:
        return "--"
    row = cells.loc[group]
    return difference(row["delta_mean"], row["delta_ci95"], fmt.bold)


def markdown(table, blocks_, settings):
    """The comparison as a Markdown table and the sentences that read it."""
    baseline = method_label(settings["table_methods"][0])
    if table.empty:
        return f"No model has {baseline} and another method: nothing to compare.\n"
    groups = group_names(table)
    lines = ["| model | method | seeds | " + " | ".join(groups) + " |", "|---" * (3 + len(groups)) + "|"]
    for block in blocks_:
        lines += ["| " + " | ".join(row) + " |" for row in lines_of(block, groups, baseline, MARKDOWN)]
    return "\n".join(lines) + "\n\n" + "\n\n".join(reading(table, baseline)) + "\n"


def reading(table, baseline):
    """Sentences under the table: the significant differences in each direction, the count
    expected by chance, and the comparisons without an interval."""
    with_interval = table[table["seeds"] >= 2]
    n = len(with_interval)
    better = with_interval[with_interval["significant"] & (with_interval["delta_mean"] > 0)]
    worse = with_interval[with_interval["significant"] & (with_interval["delta_mean"] < 0)]
    lines = [
        f"Top-1 (%) on each model's training tier: the baseline's mean over all its seeds [95 % CI]; under it "
        f"each method − {baseline}, paired by seed over the seeds both have (its seeds column), in points; "
        "bold where the interval excludes 0."
    ]
    if n:
        lines.append(
            f"Of the {n} differences with an interval, significantly positive: {len(better)}, significantly "
            f"negative: {len(worse)}; if no method differed from {baseline}, about {CHANCE * n:.1f} of {n} would "
            f"be significant by chance (5 %), in either direction. By method (positive / negative of all): "
            + "; ".join(
                f"{method_label(m)} {len(better[better['method'] == m])} / {len(worse[worse['method'] == m])} "
                f"of {len(rows)}"
                for m, rows in with_interval.groupby("method", sort=False)
            )
            + "."
        )
        for word, rows in (("positive", better), ("negative", worse)):
            lines.append(f"Significantly {word}: {listing(rows, with_group=True)}.")
    for seeds, words in ((1, "One seed in common, so no interval and no claim"), (0, "No seed in common")):
        rows = table[table["seeds"] == seeds].drop_duplicates(["method", *MODEL])
        if len(rows):
            lines.append(f"{words}: {listing(rows, with_group=False)}.")
    return lines


def listing(rows, with_group):
    """``method on model[, group (Δ [CI])]``, …, or "none"."""
    return (
        "; ".join(
            f"{method_label(r.method)} on {describe_model(r._asdict())}"
            + (f", {r.group} ({interval(r.delta_mean, r.delta_ci95, sign=True)})" if with_group else "")
            for r in rows.itertuples()
        )
        or "none"
    )


def tex_table(table, blocks_, settings):
    """The comparison as a booktabs tabular."""
    groups = group_names(table)
    baseline = method_label(settings["table_methods"][0])
    header = [" & ".join(["Model", "Method", "Seeds", *(tex(g) for g in groups)]) + r" \\"]
    body = [lines_of(block, groups, baseline, TEX) for block in blocks_]
    note = (
        rf"Top-1 (\%): {tex(baseline)}'s mean over all its seeds [95\,\% CI]; each method's difference to "
        r"it, paired by seed over the seeds both have, in points; bold: the interval excludes 0."
    )
    return tabular("lll" + "c" * len(groups), header, body, note)


# The settings the comparison reads; the workflow passes it these keys only (common.smk).
REQUIRED = {"robustness_by_model": ("train_estimators", "table_methods")}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.paper.by_model", description=__doc__.split("\n")[0])
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--settings-json", required=True)
    parser.add_argument("--out-csv", required=True)
    parser.add_argument("--out-tex", required=True)
    parser.add_argument("--out-md", required=True)
    args = parser.parse_args(argv)
    settings = mt.load_settings(args.settings_json, REQUIRED["robustness_by_model"])
    metrics = mt.load(args.metrics)
    table = by_model(metrics, settings)
    lines = blocks(table, metrics)
    with atomic_output(args.out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4f", lineterminator="\n")
    with atomic_output(args.out_tex) as tmp:
        Path(tmp).write_text(tex_table(table, lines, settings), encoding="utf-8")
    with atomic_output(args.out_md) as tmp:
        tmp.write_text(markdown(table, lines, settings))


if __name__ == "__main__":
    run_cli(main)
