"""``python -m maskclr.paper.tables``: Tables 1–3 as a booktabs ``tabular`` and a CSV twin.

    python -m maskclr.paper.tables {table1,table2,table3} --metrics results/metrics.csv \\
        --paper resources/paper_numbers.csv --settings-json '{...}' --out-tex T.tex --out-csv T.csv

- table1: clean top-1 (%) per backbone × dataset and split (every dataset with models), each
  method's Δ to the first table method (the baseline), beside the paper's Table 1 for each
  dataset's reference dataset (labelled as such);
- table2: the settings' model tested, unchanged, on the LQ / MQ / HQ test poses (clean);
- table3: the same on skeletons with frames masked plus Gaussian noise (``frames_noise``);
- activation_spread: for every evaluated model (stage 1 and each method), the spread of its joint
  activation on the clean test set: the effective number of joints and the top-3 share, with the
  paired difference to the baseline (the paper's mechanism, measured rather than assumed).

Every table evaluates the final (last-epoch) ``model.pt`` of each run; the best epoch's test top-1
is only in the training summaries (``kind=train``, ``best_top1``).

Numbers are the mean over seeds ± the half-width of its 95 % confidence interval (Student's t)
where there are several seeds; the difference to the baseline is paired by seed, with its own
95 % interval, over the seeds both methods have (the means use each method's own seeds; the
workflow trains both methods on the same seeds) (``maskclr.paper.stats``). The CSV twin holds the same
numbers unrounded, one row per cell (``top1``, ``top1_std``, ``top1_ci95``, ``n_seeds``, ``delta``,
``delta_ci95``). Both files depend only on their inputs: fixed formats, fixed row order, no timestamps.
"""

import argparse
from pathlib import Path

import pandas as pd

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output
from maskclr.paper import metrics as mt
from maskclr.paper.style import (
    BACKBONES,
    DATASETS,
    ESTIMATORS,
    SPLITS,
    describe_model,
    display_name,
    method_label,
    ordered,
)

PAPER_COLUMNS = ("method", "backbone", "dataset", "split", "top1")
# The paper's row that each of our methods is compared with, per backbone (docs/method.md §8.1).
PAPER_BASELINE = {"dstformer": "MotionBERT", "transformer": "MAMP", "sttformer": "SkeletonMAE"}
PAPER_METHOD = {"maskclr": "MaskCLR"}
NAN = float("nan")
DASH = "--"  # an en dash in LaTeX
NOTE = (
    r"Top-1 (\%) of the standard pathway: mean over seeds $\pm$ 95\,\% CI (Student's t) where there are "
    r"several; in parentheses the difference to {first}, paired by seed, $\pm$ its 95\,\% CI."
)


def load_paper(path):
    """The transcribed Table 1 (``resources/paper_numbers.csv``), validated."""
    path = Path(path)
    try:
        paper = pd.read_csv(path, dtype={"top1": float})
    except FileNotFoundError:
        raise InputError(f"{path}: paper numbers file not found") from None
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"{path}: not a readable CSV of paper numbers: {err}") from err
    missing = [c for c in PAPER_COLUMNS if c not in paper.columns]
    if missing:
        raise InputError(f"{path}: missing columns {', '.join(missing)}")
    paper["backbone"] = paper["backbone"].str.lower()  # "DSTFormer" in the paper, "dstformer" here
    return paper.set_index(["dataset", "backbone", "method", "split"])["top1"]


def reference_dataset(settings, dataset):
    """The paper's dataset ``dataset`` stands in for (synth → ntu60); None: no reference columns."""
    return settings["reference_dataset"].get(dataset)


def paper_top1(paper, dataset, backbone, method, split):
    """The paper's top-1 of our ``method`` on ``backbone`` (NaN where the paper has none)."""
    row = PAPER_BASELINE.get(backbone) if method == "baseline" else PAPER_METHOD.get(method)
    return paper.get((dataset, backbone, row, split), NAN), row


# ---- formatting -------------------------------------------------------------------------------


def tex(text):
    """Escape LaTeX specials outside ``$…$`` (method labels carry mathtext)."""
    parts = text.split("$")
    parts[::2] = [
        p.replace("\\", r"\textbackslash{}")
        .replace("%", r"\%")
        .replace("_", r"\_")
        .replace("&", r"\&")
        .replace("#", r"\#")
        for p in parts[::2]
    ]
    return "$".join(parts)


def accuracy(mean, ci=NAN, delta=NAN, delta_ci=NAN):
    """``93.9 $\\pm$ 0.2 ($+1.1 \\pm 0.4$)``: mean ± CI half-width, Δ ± its CI, each part left out
    where it is NaN (one seed, no Δ); ``–`` if there is no mean."""
    if pd.isna(mean):
        return DASH
    text = f"{mean:.1f}" if pd.isna(ci) else rf"{mean:.1f} $\pm$ {ci:.1f}"
    if pd.isna(delta):
        return text
    # Adding 0.0 turns a rounded -0.0 into +0.0, as the paper prints "(+0.0)".
    change = f"{round(delta, 1) + 0.0:+.1f}" + ("" if pd.isna(delta_ci) else rf" \pm {delta_ci:.1f}")
    return rf"{text} (${change}$)"


def tabular(columns, header, groups, note):
    """A booktabs tabular: ``header`` lines, row ``groups`` separated by midrules, a note line."""
    row = lambda cells: " & ".join(cells) + r" \\"  # noqa: E731 (a one-line formatter)
    lines = [rf"\begin{{tabular}}{{{columns}}}", r"\toprule", *header, r"\midrule"]
    for i, group in enumerate(groups):
        lines += ([r"\midrule"] if i else []) + [row(cells) for cells in group]
    width = len(columns.replace(" ", ""))
    lines += [r"\bottomrule", rf"\multicolumn{{{width}}}{{l}}{{\footnotesize {note}}} \\", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write(tex_text, csv_frame, out_tex, out_csv):
    """Write both files atomically with fixed number formats and ``\\n`` line ends."""
    with atomic_output(out_tex) as tmp:
        Path(tmp).write_text(tex_text, encoding="utf-8")
    with atomic_output(out_csv) as tmp:
        csv_frame.to_csv(tmp, index=False, float_format="%.4f", lineterminator="\n")


# ---- Table 1 ----------------------------------------------------------------------------------


def table1_cells(metrics, paper, settings):
    """One record per (backbone, method, dataset, split) of every dataset with models in the
    metrics: our top-1, Δ to the first method, and the paper's for the reference dataset."""
    methods, first = settings["table_methods"], settings["table_methods"][0]
    where = {
        "kind": "eval",
        "test_estimator": settings["train_estimator"],
        "perturbation": "clean",
        "metric": "top1",
        "method": methods,
    }
    keys = ["dataset", "backbone", "split", "method"]
    stats = metrics.summary(keys, **where).set_index(keys)
    seeds = metrics.per_seed(keys, **where)
    models = sorted({key[:3] for key in stats.index})
    for dataset, backbone, split in models:  # a model trained for one table method must exist for all
        for method in methods:
            if (dataset, backbone, split, method) not in stats.index:
                missing = {**where, "dataset": dataset, "split": split, "backbone": backbone, "method": method}
                raise InputError(f"{metrics.path}: no rows for {mt.describe(missing)}")
    columns = [
        (d, s)
        for d in ordered({m[0] for m in models}, DATASETS)
        for s in ordered({m[2] for m in models if m[0] == d}, SPLITS)
    ]
    records = []
    for backbone in ordered({m[1] for m in models}, BACKBONES):
        for method in methods:
            for dataset, split in columns:
                ours = stats.reindex([(dataset, backbone, split, method)]).iloc[0]  # NaNs: not trained
                reference = reference_dataset(settings, dataset)
                ref, ref_row = paper_top1(paper, reference, backbone, method, split)
                compared = method != first and not pd.isna(ours["mean"])
                delta, delta_ci, _ = (
                    mt.paired(seeds, (dataset, backbone, split, first), (dataset, backbone, split, method))
                    if compared
                    else (NAN, NAN, 0)
                )
                records.append({
                    "dataset": dataset, "backbone": backbone, "method": method, "split": split,
                    "top1": ours["mean"], "top1_std": ours["std"], "top1_ci95": ours["ci95"],
                    "n_seeds": ours["n_seeds"], "delta": delta, "delta_ci95": delta_ci,
                    "paper_dataset": reference, "paper_method": ref_row, "paper_top1": ref,
                    "paper_delta": ref - paper_top1(paper, reference, backbone, first, split)[0] if compared else NAN,
                })  # fmt: skip
    return pd.DataFrame(records).astype({"n_seeds": "Int64"})


def table1(metrics, paper, settings):
    """Table 1 as (TeX, CSV frame): a column per dataset and split, the paper's beside them."""
    cells = table1_cells(metrics, paper, settings)
    columns = list(dict.fromkeys(zip(cells["dataset"], cells["split"])))
    references = [reference_dataset(settings, d) for d, _ in columns]
    n = len(columns)
    groups = [
        rf"\multicolumn{{{n}}}{{c}}{{ours, trained and tested on "
        f"{display_name(ESTIMATORS, settings['train_estimator'])}}}"
    ]
    names = [f"{tex(display_name(DATASETS, d))} {display_name(SPLITS, s)}" for d, s in columns]
    rules = rf"\cmidrule(lr){{3-{2 + n}}}"
    reference = any(references)
    if reference:  # the paper's columns, one per column of ours, after the name of the paper's row
        groups.append(rf"\multicolumn{{{n + 1}}}{{c}}{{paper (reference): MaskCLR CVPR 2024 Table 1}}")
        names += ["paper row"] + [
            f"{display_name(DATASETS, r)} {display_name(SPLITS, s)}" if r else DASH
            for r, (_, s) in zip(references, columns)
        ]
        rules += rf"\cmidrule(lr){{{3 + n}-{3 + 2 * n}}}"
    header = [" & ".join(["", "", *groups]) + r" \\", rules, " & ".join(["Method", "Backbone", *names]) + r" \\"]
    body = []
    for backbone, rows in cells.groupby("backbone", sort=False):
        group = []
        for method, row in rows.groupby("method", sort=False):
            line = [tex(method_label(method)), display_name(BACKBONES, backbone)]
            line += [accuracy(r.top1, r.top1_ci95, r.delta, r.delta_ci95) for r in row.itertuples()]
            if reference:
                paper_rows = row["paper_method"].dropna()
                line += [paper_rows.iloc[0] if len(paper_rows) else DASH]
                line += [accuracy(r.paper_top1, delta=r.paper_delta) for r in row.itertuples()]
            group.append(line)
        body.append(group)
    table_columns = "ll " + "c" * n + (" l" + "c" * n if reference else "")
    return tabular(
        table_columns, header, body, NOTE.format(first=tex(method_label(settings["table_methods"][0])))
    ), cells


# ---- Tables 2 and 3 ---------------------------------------------------------------------------


def estimator_cells(metrics, settings, perturbation):
    """One record per (method, test tier) of the settings' model under one ``perturbation``."""
    methods, first = settings["table_methods"], settings["table_methods"][0]
    where = {
        **mt.model_where(settings),
        "test_estimator": list(ESTIMATORS),
        "kind": "eval",
        "perturbation": perturbation,
        "metric": "top1",
        "method": methods,
    }
    levels = metrics.present("level", **where)
    if len(levels) > 1:
        raise InputError(f"{metrics.path}: expected one level for {mt.describe(where)}, found {levels}")
    stats = metrics.summary(["method", "test_estimator"], **where).set_index(["method", "test_estimator"])
    seeds = metrics.per_seed(["method", "test_estimator"], **where)
    records = []
    for method in methods:
        for tier in ESTIMATORS:
            if (method, tier) not in stats.index:
                missing = {**where, "method": method, "test_estimator": tier}
                raise InputError(f"{metrics.path}: no rows for {mt.describe(missing)}")
            cell = stats.loc[(method, tier)]
            delta, delta_ci, _ = mt.paired(seeds, (first, tier), (method, tier)) if method != first else (NAN, NAN, 0)
            records.append(
                {
                    "method": method,
                    "test_estimator": tier,
                    "level": levels[0],
                    "top1": cell["mean"],
                    "top1_std": cell["std"],
                    "top1_ci95": cell["ci95"],
                    "n_seeds": int(cell["n_seeds"]),
                    "delta": delta,
                    "delta_ci95": delta_ci,
                }
            )
    return pd.DataFrame(records)


def estimator_table(metrics, settings, perturbation):
    """Table 2 (``clean``) or Table 3 (``frames_noise``) as (TeX, CSV frame)."""
    cells = estimator_cells(metrics, settings, perturbation)
    model = describe_model(settings)
    condition = (
        "" if perturbation == "clean" else rf"; {float(cells['level'].iloc[0]) * 100:g}\,\% frames masked + noise"
    )
    header = [
        rf" & \multicolumn{{{len(ESTIMATORS)}}}{{c}}{{{tex(model)}{condition}; tested on}} \\",
        rf"\cmidrule(lr){{2-{1 + len(ESTIMATORS)}}}",
        " & ".join(["Method", *ESTIMATORS.values()]) + r" \\",
    ]
    rows = [
        [tex(method_label(method)), *(accuracy(r.top1, r.top1_ci95, r.delta, r.delta_ci95) for r in row.itertuples())]
        for method, row in cells.groupby("method", sort=False)
    ]
    note = NOTE.format(first=tex(method_label(settings["table_methods"][0])))
    return tabular("l" + "c" * len(ESTIMATORS), header, [rows], note), cells


# ---- Activation spread -------------------------------------------------------------------------

SPREAD = (("joints_effective", "effective joints", 1.0), ("top3_share", r"top-3 share (\%)", 100.0))


def spread_cells(metrics, settings):
    """One record per evaluated (dataset, split, backbone, method): each spread metric's mean,
    95 % CI and its difference to the first table method, paired by seed."""
    first = settings["table_methods"][0]
    keys = ["dataset", "split", "backbone", "method"]
    where = {"kind": "eval", "perturbation": "clean", "test_estimator": settings["train_estimator"]}
    records = {}
    for metric, _, scale in SPREAD:
        stats = metrics.summary(keys, scale=scale, metric=metric, **where).set_index(keys)
        seeds = metrics.per_seed(keys, scale=scale, metric=metric, **where)
        for key, cell in stats.iterrows():
            baseline = (*key[:3], first)
            compared = key[3] != first and baseline in stats.index
            delta, delta_ci, _ = mt.paired(seeds, baseline, key) if compared else (NAN, NAN, 0)
            records.setdefault(key, dict(zip(keys, key), n_seeds=int(cell["n_seeds"])))
            records[key].update(
                {
                    metric: cell["mean"],
                    f"{metric}_ci95": cell["ci95"],
                    f"{metric}_delta": delta,
                    f"{metric}_delta_ci95": delta_ci,
                }
            )
    methods = ["stage1", *settings["table_methods"]]

    def order(key):
        return key[0], _rank(key[1], SPLITS), _rank(key[2], BACKBONES), _rank(key[3], methods), key[3]

    return pd.DataFrame([records[key] for key in sorted(records, key=order)])


def _rank(name, order):
    """Position of ``name`` in ``order``; names outside it after every known one."""
    order = list(order)
    return order.index(name) if name in order else len(order)


def spread_table(metrics, paper, settings):
    """The activation spread of every evaluated model as (TeX, CSV frame)."""
    cells = spread_cells(metrics, settings)
    header = [" & ".join(["Model", "Method", *(label for _, label, _ in SPREAD)]) + r" \\"]
    body = []
    for _, rows in cells.groupby(["dataset", "split", "backbone"], sort=False):
        group = []
        for r in rows.itertuples():
            names = (
                display_name(DATASETS, r.dataset),
                display_name(SPLITS, r.split),
                display_name(BACKBONES, r.backbone),
            )
            model = " ".join(names)
            group.append(
                [
                    tex(model),
                    tex(method_label(r.method)),
                    *(
                        accuracy(
                            getattr(r, m),
                            getattr(r, f"{m}_ci95"),
                            getattr(r, f"{m}_delta"),
                            getattr(r, f"{m}_delta_ci95"),
                        )
                        for m, _, _ in SPREAD
                    ),
                ]
            )
        body.append(group)
    note = (
        r"Spread of the per-joint activation on the clean test set (last-epoch model): $\exp$(entropy) of "
        r"the normalised activation (17 = uniform, 1 = one joint) and the share of the 3 most activated joints; "
        r"mean over seeds $\pm$ 95\,\% CI; in parentheses the difference to "
        + tex(method_label(settings["table_methods"][0]))
        + r", paired by seed."
    )
    return tabular("ll" + "c" * len(SPREAD), header, body, note), cells


TABLES = {
    "table1": table1,
    "activation_spread": spread_table,
    "table2": lambda m, p, s: estimator_table(m, s, "clean"),
    "table3": lambda m, p, s: estimator_table(m, s, "frames_noise"),
}
# The settings each table reads; the workflow passes each table these keys only (common.smk).
REQUIRED = {
    "table1": ("train_estimator", "table_methods", "reference_dataset"),
    "table2": ("dataset", "split", "backbone", "train_estimator", "table_methods"),
    "table3": ("dataset", "split", "backbone", "train_estimator", "table_methods"),
    "activation_spread": ("train_estimator", "table_methods"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.paper.tables", description=__doc__.split("\n")[0])
    parser.add_argument("table", choices=sorted(TABLES))
    parser.add_argument("--metrics", required=True, help="results/metrics.csv")
    parser.add_argument("--paper", help="the paper's Table 1 (resources/paper_numbers.csv); table1 only")
    parser.add_argument("--settings-json", required=True, help="model, methods and reference dataset (JSON)")
    parser.add_argument("--out-tex", required=True)
    parser.add_argument("--out-csv", required=True)
    args = parser.parse_args(argv)
    if args.table == "table1" and not args.paper:
        parser.error("table1 needs --paper")
    settings = mt.load_settings(args.settings_json, REQUIRED[args.table])
    paper = load_paper(args.paper) if args.table == "table1" else None
    tex_text, cells = TABLES[args.table](mt.load(args.metrics), paper, settings)
    write(tex_text, cells, args.out_tex, args.out_csv)


if __name__ == "__main__":
    run_cli(main)
