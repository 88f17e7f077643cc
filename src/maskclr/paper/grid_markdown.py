"""``python -m maskclr.paper.grid_markdown``: the noise and occlusion tables as Markdown, for the README.

    python -m maskclr.paper.grid_markdown {noise,occlusion} --csv results/tables/noise.csv \\
        --settings-json '{...}' --out results/tables/noise.md

One row per level of the grid (σ; nothing occluded, the occluded body part, the share of joints
zeroed), one column group per kind of perturbation (spatiotemporal and spatial noise; one for
occlusion): the first table method's top-1, mean over seeds [95 % CI], then each other table
method's difference to it, paired by seed, with its interval, bold where the interval excludes 0.
It formats the numbers that ``maskclr.paper.tables`` wrote to the table's CSV (4 decimals, its
95 % half-widths giving the intervals) and computes none itself.
"""

import argparse
from pathlib import Path

import pandas as pd

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output
from maskclr.paper import metrics as mt
from maskclr.paper.stats import difference, interval
from maskclr.paper.style import describe_model, method_label, noise_unit
from maskclr.paper.tables import NOISE, OCCLUSION, REQUIRED, kinds_present, occlusion_label

COLUMNS = ("perturbation", "method", "top1", "top1_ci95", "n_seeds", "delta", "delta_ci95")
# table → (its level column in the CSV, the header of the level column, its kinds of perturbation)
GRIDS = {"noise": ("sigma", "σ", NOISE), "occlusion": ("level", "occluded", OCCLUSION)}


def load_table(path, table, methods):
    """The table's CSV, its level column renamed ``level`` and kept as written (``0.0025``,
    ``head``), checked for its columns, its kinds of perturbation and ``methods``."""
    level, _, kinds = GRIDS[table]
    try:
        # levels as text (σ "0.0100" is not the float 0.01 of another file); "" is a missing delta
        cells = pd.read_csv(path, dtype={level: str}, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"{path}: not a readable CSV of the {table} table: {err}") from err
    missing = [c for c in (level, *COLUMNS) if c not in cells.columns]
    if missing or not kinds_present(cells, kinds):
        raise InputError(
            f"{path}: expected the {table} table's rows ({', '.join(k for k, _ in kinds)}) with columns "
            f"{', '.join((level, *COLUMNS))}; missing: {', '.join(missing) or 'every row'}"
        )
    absent = [m for m in methods if m not in set(cells["method"])]
    if absent:
        raise InputError(f"{path}: no rows of {', '.join(absent)} (paper.table_methods: {', '.join(methods)})")
    return cells.rename(columns={level: "level"})


def cell(row, first):
    """One cell (``row``: the CSV's row of a method at a point): the first method's top-1 [CI], or
    another's difference to it [CI], bold where significant; ``--`` where the point was not run."""
    if row is None:
        return "--"
    if first:
        return interval(row["top1"], row["top1_ci95"])
    return difference(row["delta"], row["delta_ci95"], lambda text: f"**{text}**")


def rows_of(cells, table, kinds):
    """[(row label, the (kind, level) of each column group)]: for the noise table one row per σ
    of either kind, ascending, with a column group per kind of noise; for the occlusion table one
    row per (kind, level) in the CSV's order."""
    if table == "noise":
        sigmas = sorted(set(cells["level"]), key=lambda level: (float(level), level))
        return [(f"{float(sigma):g}", [(kind, sigma) for kind, _ in kinds]) for sigma in sigmas]
    levels = lambda kind: dict.fromkeys(cells.loc[cells["perturbation"] == kind, "level"])  # noqa: E731 (CSV order)
    return [(occlusion_label(kind, lv, percent=" %"), [(kind, lv)]) for kind, _ in kinds for lv in levels(kind)]


def note(cells, table, settings):
    """The sentence under the table: whose top-1, over how many seeds, what the intervals are."""
    methods = settings["table_methods"]
    first = method_label(methods[0])
    seeds = sorted(set(cells.loc[cells["method"] == methods[0], "n_seeds"].astype(int)))
    over = (f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]}") + (" seed" if seeds == [1] else " seeds")
    unit = f"; σ in {noise_unit(settings)}" if table == "noise" else "; occluded joints zeroed in the model input"
    text = f"Top-1 (%) of {describe_model(settings)}{unit}: {first}'s mean over {over}"
    if seeds[-1] < 2:
        comparison = f"; each other method's difference to {first}, in points" if len(methods) > 1 else ""
        return f"{text}{comparison}. One seed: no intervals, no claim."
    text += " [95 % CI, Student's t]"
    if len(methods) > 1:
        text += f"; each other method's difference to {first}, paired by seed, in points, bold where its"
        text += " interval excludes 0"
    return text + "."


def markdown(cells, table, settings):
    """The table as Markdown and the sentence under it."""
    methods = settings["table_methods"]
    first = method_label(methods[0])
    _, level_header, grid = GRIDS[table]
    kinds = kinds_present(cells, grid)
    names = [first, *(f"{method_label(m)} − {first}" for m in methods[1:])]
    groups = [f"{name} noise: " for _, name in kinds] if table == "noise" else [""]
    header = [level_header, *(group + name for group in groups for name in names)]
    by_point = {(r.perturbation, r.level, r.method): r._asdict() for r in cells.itertuples(index=False)}
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for label, points in rows_of(cells, table, kinds):
        row = [label, *(cell(by_point.get((*point, m)), i == 0) for point in points for i, m in enumerate(methods))]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n\n" + note(cells, table, settings) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.paper.grid_markdown", description=__doc__.split("\n")[0])
    parser.add_argument("table", choices=sorted(GRIDS))
    parser.add_argument("--csv", required=True, help="the table's CSV: results/tables/{noise,occlusion}.csv")
    parser.add_argument("--settings-json", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    # the table's own settings (tables.REQUIRED): the workflow passes the Markdown job the same keys
    settings = mt.load_settings(args.settings_json, REQUIRED[args.table])
    text = markdown(load_table(args.csv, args.table, settings["table_methods"]), args.table, settings)
    with atomic_output(args.out) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    run_cli(main)
