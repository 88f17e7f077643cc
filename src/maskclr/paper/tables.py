"""``python -m maskclr.paper.tables``: Tables 1–3 as a booktabs ``tabular`` and a CSV twin.

    python -m maskclr.paper.tables {table1,table2,table3} --metrics results/metrics.csv \\
        --paper resources/paper_numbers.csv --settings-json '{...}' --out-tex T.tex --out-csv T.csv

- table1: clean top-1 (%) per backbone × dataset and split (every dataset with models), each
  method's Δ to the first table method (the baseline), beside the paper's Table 1 for each
  dataset's reference dataset (labelled as such);
- table2: the settings' model tested, unchanged, on the LQ / MQ / HQ test poses (clean);
- table3: the same on skeletons with frames masked plus Gaussian noise (``frames_noise``).

Numbers are the mean over seeds (± sample std where there are several). The CSV twin holds the
same numbers unrounded to one decimal, one row per cell. Both files depend only on their
inputs: fixed formats, fixed row order, no timestamps.
"""

import argparse
from pathlib import Path

import pandas as pd

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output
from maskclr.paper import metrics as mt
from maskclr.paper.style import (BACKBONES, DATASETS, ESTIMATORS, SPLITS, describe_model, display_name, method_label,
                                 ordered)

PAPER_COLUMNS = ("method", "backbone", "dataset", "split", "top1")
# The paper's row that each of our methods is compared with, per backbone (method.md §8.1).
PAPER_BASELINE = {"dstformer": "MotionBERT", "transformer": "MAMP", "sttformer": "SkeletonMAE"}
PAPER_METHOD = {"maskclr": "MaskCLR"}
NAN = float("nan")
DASH = "--"  # an en dash in LaTeX
NOTE = (r"Top-1 (\%) of the standard pathway; mean $\pm$ std over seeds where there are several; "
        r"in parentheses the difference to {first}.")


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
    return settings.get("reference_dataset", {}).get(dataset)


def paper_top1(paper, dataset, backbone, method, split):
    """The paper's top-1 of our ``method`` on ``backbone`` (NaN where the paper has none)."""
    row = PAPER_BASELINE.get(backbone) if method == "baseline" else PAPER_METHOD.get(method)
    return paper.get((dataset, backbone, row, split), NAN), row


# ---- formatting -------------------------------------------------------------------------------


def tex(text):
    """Escape LaTeX specials outside ``$…$`` (method labels carry mathtext)."""
    parts = text.split("$")
    parts[::2] = [p.replace("\\", r"\textbackslash{}").replace("%", r"\%").replace("_", r"\_")
                  .replace("&", r"\&").replace("#", r"\#") for p in parts[::2]]
    return "$".join(parts)


def accuracy(mean, std=NAN, delta=NAN):
    """``93.9 $\\pm$ 0.2 ($+1.1$)``, leaving out the std (one seed) and Δ (none); ``–`` if no mean."""
    if pd.isna(mean):
        return DASH
    text = f"{mean:.1f}" if pd.isna(std) else rf"{mean:.1f} $\pm$ {std:.1f}"
    # Adding 0.0 turns a rounded -0.0 into +0.0, as the paper prints "(+0.0)".
    return text if pd.isna(delta) else rf"{text} (${round(delta, 1) + 0.0:+.1f}$)"


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
    where = {"kind": "eval", "test_estimator": settings["train_estimator"], "perturbation": "clean",
             "metric": "top1", "method": methods}
    keys = ["dataset", "backbone", "split", "method"]
    stats = metrics.summary(keys, **where).set_index(keys)
    models = sorted({key[:3] for key in stats.index})
    for dataset, backbone, split in models:  # a model trained for one table method must exist for all
        for method in methods:
            if (dataset, backbone, split, method) not in stats.index:
                missing = {**where, "dataset": dataset, "split": split, "backbone": backbone, "method": method}
                raise InputError(f"{metrics.path}: no rows for {mt.describe(missing)}")
    columns = [(d, s) for d in ordered({m[0] for m in models}, DATASETS)
               for s in ordered({m[2] for m in models if m[0] == d}, SPLITS)]
    records = []
    for backbone in ordered({m[1] for m in models}, BACKBONES):
        for method in methods:
            for dataset, split in columns:
                ours = stats.reindex([(dataset, backbone, split, method)]).iloc[0]  # NaNs: not trained
                reference = reference_dataset(settings, dataset)
                ref, ref_row = paper_top1(paper, reference, backbone, method, split)
                compared = method != first
                base = stats["mean"].get((dataset, backbone, split, first), NAN)
                records.append({
                    "dataset": dataset, "backbone": backbone, "method": method, "split": split,
                    "top1": ours["mean"], "top1_std": ours["std"], "n_seeds": ours["n_seeds"],
                    "delta": ours["mean"] - base if compared else NAN,
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
    groups = [rf"\multicolumn{{{n}}}{{c}}{{ours, trained and tested on "
              f"{display_name(ESTIMATORS, settings['train_estimator'])}}}"]
    names = [f"{tex(display_name(DATASETS, d))} {display_name(SPLITS, s)}" for d, s in columns]
    rules = rf"\cmidrule(lr){{3-{2 + n}}}"
    reference = any(references)
    if reference:  # the paper's columns, one per column of ours, after the name of the paper's row
        groups.append(rf"\multicolumn{{{n + 1}}}{{c}}{{paper (reference): MaskCLR CVPR 2024 Table 1}}")
        names += ["paper row"] + [f"{display_name(DATASETS, r)} {display_name(SPLITS, s)}" if r else DASH
                                  for r, (_, s) in zip(references, columns)]
        rules += rf"\cmidrule(lr){{{3 + n}-{3 + 2 * n}}}"
    header = [" & ".join(["", "", *groups]) + r" \\", rules, " & ".join(["Method", "Backbone", *names]) + r" \\"]
    body = []
    for backbone, rows in cells.groupby("backbone", sort=False):
        group = []
        for method, row in rows.groupby("method", sort=False):
            line = [tex(method_label(method)), display_name(BACKBONES, backbone)]
            line += [accuracy(r.top1, r.top1_std, r.delta) for r in row.itertuples()]
            if reference:
                paper_rows = row["paper_method"].dropna()
                line += [paper_rows.iloc[0] if len(paper_rows) else DASH]
                line += [accuracy(r.paper_top1, delta=r.paper_delta) for r in row.itertuples()]
            group.append(line)
        body.append(group)
    table_columns = "ll " + "c" * n + (" l" + "c" * n if reference else "")
    return tabular(table_columns, header, body, NOTE.format(first=tex(method_label(settings["table_methods"][0])))), cells


# ---- Tables 2 and 3 ---------------------------------------------------------------------------


def estimator_cells(metrics, settings, perturbation):
    """One record per (method, test tier) of the settings' model under one ``perturbation``."""
    methods, first = settings["table_methods"], settings["table_methods"][0]
    where = {**mt.model_where(settings), "test_estimator": list(ESTIMATORS), "kind": "eval",
             "perturbation": perturbation, "metric": "top1", "method": methods}
    levels = metrics.present("level", **where)
    if len(levels) > 1:
        raise InputError(f"{metrics.path}: expected one level for {mt.describe(where)}, found {levels}")
    stats = metrics.summary(["method", "test_estimator"], **where).set_index(["method", "test_estimator"])
    records = []
    for method in methods:
        for tier in ESTIMATORS:
            if (method, tier) not in stats.index:
                missing = {**where, "method": method, "test_estimator": tier}
                raise InputError(f"{metrics.path}: no rows for {mt.describe(missing)}")
            mean, std, n_seeds = stats.loc[(method, tier)]
            delta = mean - stats.loc[(first, tier), "mean"] if method != first else NAN
            records.append({"method": method, "test_estimator": tier, "level": levels[0], "top1": mean,
                            "top1_std": std, "n_seeds": int(n_seeds), "delta": delta})
    return pd.DataFrame(records)


def estimator_table(metrics, settings, perturbation):
    """Table 2 (``clean``) or Table 3 (``frames_noise``) as (TeX, CSV frame)."""
    cells = estimator_cells(metrics, settings, perturbation)
    model = describe_model(settings)
    condition = "" if perturbation == "clean" else rf"; {float(cells['level'].iloc[0]) * 100:g}\,\% frames masked + noise"
    header = [rf" & \multicolumn{{{len(ESTIMATORS)}}}{{c}}{{{tex(model)}{condition}; tested on}} \\",
              rf"\cmidrule(lr){{2-{1 + len(ESTIMATORS)}}}",
              " & ".join(["Method", *ESTIMATORS.values()]) + r" \\"]
    rows = [[tex(method_label(method)), *(accuracy(r.top1, r.top1_std, r.delta) for r in row.itertuples())]
            for method, row in cells.groupby("method", sort=False)]
    note = NOTE.format(first=tex(method_label(settings["table_methods"][0])))
    return tabular("l" + "c" * len(ESTIMATORS), header, [rows], note), cells


TABLES = {
    "table1": table1,
    "table2": lambda m, p, s: estimator_table(m, s, "clean"),
    "table3": lambda m, p, s: estimator_table(m, s, "frames_noise"),
}
REQUIRED = ("dataset", "train_estimator", "split", "backbone", "table_methods")


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
    settings = mt.load_settings(args.settings_json, REQUIRED)
    paper = load_paper(args.paper) if args.table == "table1" else None
    tex_text, cells = TABLES[args.table](mt.load(args.metrics), paper, settings)
    write(tex_text, cells, args.out_tex, args.out_csv)


if __name__ == "__main__":
    run_cli(main)
