"""``python -m maskclr.paper.grid_markdown``: the noise and occlusion tables as Markdown, for the README.

    python -m maskclr.paper.grid_markdown {noise,occlusion} --table results/tables/noise.csv \\
        --settings-json '{...}' --out results/tables/noise.md

One row per level of the grid (σ; nothing occluded, the occluded body part, the share of joints
zeroed), one column group per kind of perturbation (spatiotemporal and spatial noise; one for
occlusion): the first table method's top-1, mean over seeds [95 % CI], then each other table
method's difference to it, paired by seed, with its interval, bold where the interval excludes 0.
It formats the unrounded numbers that ``maskclr.paper.tables`` wrote to the table's CSV and
computes none itself (the CSV's own 95 % half-widths give the intervals).
"""

import argparse
from pathlib import Path

import pandas as pd

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output
from maskclr.paper import metrics as mt
from maskclr.paper.stats import interval, significant
from maskclr.paper.style import describe_model, method_label, noise_unit
from maskclr.paper.tables import NOISE, OCCLUSION, occlusion_label

COLUMNS = ("perturbation", "method", "top1", "top1_ci95", "n_seeds", "delta", "delta_ci95")
# table → (its level column in the CSV, the header of the level column, its kinds of perturbation)
GRIDS = {"noise": ("sigma", "σ", NOISE), "occlusion": ("level", "occluded", OCCLUSION)}


def load_table(path, table):
    """The table's CSV with its levels as written (``0.0025``, ``head``), checked for its columns."""
    level = GRIDS[table][0]
    try:
        cells = pd.read_csv(path, dtype={level: str}, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"{path}: not a readable CSV of the {table} table: {err}") from err
    missing = [c for c in (level, *COLUMNS) if c not in cells.columns]
    if missing or cells.empty:
        raise InputError(
            f"{path}: expected the {table} table's rows with columns {', '.join((level, *COLUMNS))}; "
            f"missing: {', '.join(missing) or 'every row'}"
        )
    return cells.rename(columns={level: "level"})


def cell(row, first):
    """One cell (``row``: the CSV's row of a method at a point): the first method's top-1 [CI], or
    another's difference to it [CI], bold where significant; ``--`` where the point was not run."""
    if row is None:
        return "--"
    if first:
        return interval(row["top1"], row["top1_ci95"])
    text = interval(row["delta"], row["delta_ci95"], sign=True)
    return f"**{text}**" if significant(row["delta"], row["delta_ci95"]) else text


def rows_of(cells, table, kinds):
    """[(row label, the (kind, level) of each column group)]: for the noise table one row per σ
    with a column group per kind of noise; for the occlusion table one row per (kind, level)."""
    levels = lambda kind: dict.fromkeys(cells.loc[cells["perturbation"] == kind, "level"])  # noqa: E731 (CSV order)
    if table == "noise":
        return [(f"{float(level):g}", [(kind, level) for kind, _ in kinds]) for level in levels(kinds[0][0])]
    return [
        (occlusion_label(kind, level, percent=" %"), [(kind, level)]) for kind, _ in kinds for level in levels(kind)
    ]


def markdown(cells, table, settings):
    """The table as Markdown, with the sentence that says what its cells are."""
    methods = settings["table_methods"]
    first = method_label(methods[0])
    _, level_header, grid = GRIDS[table]
    kinds = [(kind, name) for kind, name in grid if kind in set(cells["perturbation"])]
    names = [first, *(f"{method_label(m)} − {first}" for m in methods[1:])]
    groups = [f"{name} noise: " for _, name in kinds] if table == "noise" else [""]
    header = [level_header, *(group + name for group in groups for name in names)]
    by_point = {(r.perturbation, r.level, r.method): r._asdict() for r in cells.itertuples(index=False)}
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for label, points in rows_of(cells, table, kinds):
        row = [label, *(cell(by_point.get((*point, m)), i == 0) for point in points for i, m in enumerate(methods))]
        lines.append("| " + " | ".join(row) + " |")
    seeds = sorted(set(cells["n_seeds"].astype(int)))
    over = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]}"
    over += " seed" if seeds == [1] else " seeds"
    unit = f"; σ in {noise_unit(settings)}" if table == "noise" else "; occluded joints zeroed in the model input"
    note = f"Top-1 (%) of {describe_model(settings)}{unit}: {first}'s mean over {over} [95 % CI, Student's t]"
    if len(methods) > 1:
        note += f"; each other method's difference to {first}, paired by seed, in points"
        note += ", bold where its interval excludes 0"
    note += "."
    if seeds[-1] < 2:
        note += " One seed: no intervals, no claim."
    return "\n".join(lines) + "\n\n" + note + "\n"


# The settings each table reads; the workflow passes each these keys only (common.smk).
REQUIRED = {
    "noise": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods"),
    "occlusion": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.paper.grid_markdown", description=__doc__.split("\n")[0])
    parser.add_argument("table", choices=sorted(GRIDS))
    parser.add_argument("--csv", required=True, help="the table's CSV: results/tables/{noise,occlusion}.csv")
    parser.add_argument("--settings-json", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    settings = mt.load_settings(args.settings_json, REQUIRED[args.table])
    text = markdown(load_table(args.csv, args.table), args.table, settings)
    with atomic_output(args.out) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    run_cli(main)
