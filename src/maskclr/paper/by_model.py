"""``python -m maskclr.paper.by_model``: every model's methods against its baseline, perturbation
group by group, with 95 % confidence intervals over seeds.

    python -m maskclr.paper.by_model --metrics results/metrics.csv --settings-json '{...}' \\
        --out-csv results/tables/robustness_by_model.csv --out-tex results/tables/robustness_by_model.tex \\
        --out-md results/tables/robustness_by_model.md

The robustness summary (``maskclr.paper.summary``) compares MaskCLR with the baseline on the
paper's one model; a study trains many (every backbone and split, the single-loss ablations,
random masking). Here every model of metrics.csv (dataset, split, backbone, pretraining, tested on
its dataset's training tier) that has the first table method (the baseline) and another stage-2
method is compared: each other method, in the config's order of ``methods``, against that
baseline in each of the summary's perturbation groups (``summary.compare``: the mean over seeds,
the difference paired by seed and its 95 % CI).

The tables show, per model, the baseline's top-1 and under it each method's difference, in bold
where its interval excludes 0. Under the Markdown table, generated from these numbers, stand the
counts of significant differences in each direction beside the count expected by chance: at
95 % each, about one comparison in twenty comes out significant when no method differs from the
baseline, so with many comparisons a few significant ones are no evidence by themselves.
"""

import argparse
from pathlib import Path

import pandas as pd

from maskclr.errors import run_cli
from maskclr.fileio import atomic_output
from maskclr.paper import metrics as mt
from maskclr.paper import summary
from maskclr.paper.stats import interval, mean_ci
from maskclr.paper.style import BACKBONES, PRETRAININGS, SCRATCH, SPLITS, describe_model, method_label, rank
from maskclr.paper.tables import tabular, tex

MODEL = ("dataset", "split", "backbone", "pretrain")
COLUMNS = (
    *MODEL,
    *("train_estimator", "method", "baseline", "group", "baseline_mean", "baseline_ci95"),
    *("method_mean", "method_ci95", "delta_mean", "delta_ci95", "significant", "seeds_ahead", "seeds"),
)
CHANCE = 0.05  # the share of comparisons significant at 95 % when nothing differs


def models(metrics, settings):
    """[(model, methods)]: each model with clean top-1 rows of the baseline (the first table
    method) and of another stage-2 method, as the settings ``summary.compare`` reads (its keys in
    ``MODEL`` and its dataset's ``train_estimator``), with those other methods in the order of
    ``settings["methods"]``; sorted by dataset, split, backbone and pretraining."""
    baseline = settings["table_methods"][0]
    rows = metrics.on_training_tier(settings["train_estimators"])
    rows = rows.match(kind="eval", metric="top1", perturbation="clean")
    found = []
    for key, block in rows.groupby(list(MODEL)):
        present = set(block["method"])
        others = [m for m in settings["methods"] if m in present and m != baseline]
        if baseline in present and others:
            model = dict(zip(MODEL, key))
            found.append(({**model, "train_estimator": settings["train_estimators"][model["dataset"]]}, others))

    def order(item):
        model = item[0]
        ranks = (rank(model["split"], SPLITS), rank(model["backbone"], BACKBONES))
        return model["dataset"], *ranks, rank(model["pretrain"], [SCRATCH, *PRETRAININGS]), *model.values()

    return sorted(found, key=order)


def by_model(metrics, settings):
    """One row per model, method and perturbation group (``COLUMNS``): ``summary.compare`` of the
    method against the model's baseline."""
    baseline = settings["table_methods"][0]
    frames = [
        summary.compare(metrics, model, baseline, method).assign(**model, method=method, baseline=baseline)
        for model, methods in models(metrics, settings)
        for method in methods
    ]
    return pd.concat(frames, ignore_index=True)[list(COLUMNS)] if frames else pd.DataFrame(columns=COLUMNS)


def group_names(table):
    """The perturbation groups present, in the summary's order."""
    return [name for name, _, _ in summary.GROUPS if name in set(table["group"])]


def baseline_cells(metrics, model, baseline, groups):
    """{group: (mean, 95 % half-width, seeds)} of the baseline's top-1 over all its seeds."""
    scores = summary.group_scores(metrics, model, baseline)
    return {group: mean_ci(scores[group]) if group in scores else None for group in groups}


def blocks(table, metrics):
    """Per model: (model settings, baseline cells, [(method, its rows indexed by group)])."""
    groups = group_names(table)
    out = []
    for _, rows in table.groupby(list(MODEL), sort=False):
        first = rows.iloc[0]
        model = {key: first[key] for key in (*MODEL, "train_estimator")}
        methods = [(m, r.set_index("group")) for m, r in rows.groupby("method", sort=False)]
        out.append((model, baseline_cells(metrics, model, first["baseline"], groups), methods))
    return out


def delta_text(row, bold):
    """A difference with its interval; ``bold(text)`` where the interval excludes 0."""
    text = interval(row.delta_mean, row.delta_ci95, sign=True)
    return bold(text) if row.significant else text


def markdown(table, metrics, settings):
    """The comparison as a Markdown table and the sentences that read it."""
    groups = group_names(table)
    baseline = method_label(settings["table_methods"][0])
    lines = [
        "| model | method | seeds | " + " | ".join(groups) + " |",
        "|---" * (3 + len(groups)) + "|",
    ]
    for model, base, methods in blocks(table, metrics):
        seeds = max(cell[2] for cell in base.values() if cell)
        cells = [interval(*cell[:2]) if cell else "--" for cell in base.values()]
        lines.append(f"| {describe_model(model)} | {baseline} | {seeds} | " + " | ".join(cells) + " |")
        for method, rows in methods:
            cells = [delta_text(rows.loc[g], lambda t: f"**{t}**") if g in rows.index else "--" for g in groups]
            n = int(rows["seeds"].min())
            lines.append(f"| | {method_label(method)} − {baseline} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + "\n\n".join(reading(table, baseline)) + "\n"


def reading(table, baseline):
    """Sentences under the table: the significant differences in each direction, the count
    expected by chance, and the comparisons of one seed (no interval)."""
    if table.empty:
        return ["No model has the baseline and another method: nothing to compare."]
    with_interval = table[table["seeds"] >= 2]
    n = len(with_interval)
    better = with_interval[with_interval["significant"] & (with_interval["delta_mean"] > 0)]
    worse = with_interval[with_interval["significant"] & (with_interval["delta_mean"] < 0)]
    lines = [
        f"Top-1 (%) on each model's training tier: the baseline's mean over seeds [95 % CI], under it each "
        f"method − {baseline}, paired by seed (points); bold where the interval excludes 0."
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
            lines.append(f"Significantly {word}: {listing(rows)}.")
    single = table[table["seeds"] < 2]
    if len(single):
        names = "; ".join(dict.fromkeys(describe_model(r) for _, r in single.iterrows()))
        lines.append(f"One seed, so no interval and no claim: {names}.")
    return lines


def listing(rows):
    """``method on model, group (Δ [CI])``, …, or "none"."""
    return (
        "; ".join(
            f"{method_label(r.method)} on {describe_model(r._asdict())}, {r.group} "
            f"({interval(r.delta_mean, r.delta_ci95, sign=True)})"
            for r in rows.itertuples()
        )
        or "none"
    )


def tex_table(table, metrics, settings):
    """The comparison as a booktabs tabular."""
    groups = group_names(table)
    baseline = method_label(settings["table_methods"][0])
    header = [" & ".join(["Model", "Method", "Seeds", *(tex(g) for g in groups)]) + r" \\"]
    body = []
    for model, base, methods in blocks(table, metrics):
        seeds = max(cell[2] for cell in base.values() if cell)
        rows = [[tex(describe_model(model)), tex(baseline), str(seeds)]]
        rows[0] += [tex(interval(*cell[:2])) if cell else "--" for cell in base.values()]
        for method, cells in methods:
            line = [f"{tex(method_label(method))} $-$ {tex(baseline)}", str(int(cells["seeds"].min()))]
            bold = lambda t: rf"\textbf{{{t}}}"  # noqa: E731 (a one-line formatter)
            rows.append(["", *line, *(delta_text(cells.loc[g], bold) if g in cells.index else "--" for g in groups)])
        body.append(rows)
    note = (
        rf"Top-1 (\%): {tex(baseline)}'s mean over seeds [95\,\% CI]; each method's difference to it, paired "
        r"by seed, in points; bold: the interval excludes 0."
    )
    return tabular("lll" + "c" * len(groups), header, body, note)


# The settings the comparison reads; the workflow passes it these keys only (common.smk).
REQUIRED = {"robustness_by_model": ("train_estimators", "table_methods", "methods")}


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
    with atomic_output(args.out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4f", lineterminator="\n")
    with atomic_output(args.out_tex) as tmp:
        Path(tmp).write_text(tex_table(table, metrics, settings), encoding="utf-8")
    with atomic_output(args.out_md) as tmp:
        tmp.write_text(markdown(table, metrics, settings))


if __name__ == "__main__":
    run_cli(main)
