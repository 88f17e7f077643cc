"""``python -m maskclr.paper.confusion``: where the largest noise's errors go.

    python -m maskclr.paper.confusion --confusions results/eval/.../seed0_confusion.npz ... \\
        --settings-json '{...}' --out-csv results/tables/confusion.csv \\
        --out-flow results/tables/error_flow.csv --out-md results/tables/error_flow.md

The classes table says which classes noise costs; this says which classes it sends them to. For
the settings' model and its first two table methods (the baseline, then MaskCLR), each seed's
confusion counts (``maskclr.evaluate``'s ``_confusion.npz``) on the training tier, clean and under
spatiotemporal noise of the largest σ, each row normalised to shares (%) of the true class's
samples. Clean and noisy come from the same model and test samples, so what the noise adds
(noisy − clean) is paired by seed; every number is the mean over seeds with its 95 % CI
(Student's t, ``maskclr.paper.stats``).

- ``confusion.csv``: per method, true class and predicted class, the share clean and noisy and
  what the noise adds; cells that are 0 in both conditions for every seed are left out.
- ``error_flow.csv``: per method, source (all classes, then the dataset's class groups) and
  destination, the share of a source class's samples predicted as: the class itself
  (``correct``: its top-1), its fine-grained partner (``partner``, for sources with a pair;
  a class without one counts 0, so "all classes" gives the pairs' share diluted over every
  class), and the classes of each group (the class itself and its partner left out), averaged
  over the source's classes (each class counts once, as in the classes table). A class's
  destinations sum to 100 %, so what the noise adds sums to 0: the points ``correct`` loses are
  the noise cost of the classes table, and the other rows say where they go.
- ``error_flow.md``: per method and source, the cost and its destinations as a sentence, with
  up to three classes to which the noise adds the most errors (generated text for the README).

Every file must be of the same test set (the same samples per class): classes without test
samples are left out everywhere.
"""

import argparse

import numpy as np
import pandas as pd

from maskclr.data.classes import class_groups, class_names, class_partners
from maskclr.errors import InputError, run_cli
from maskclr.evaluate.collect import CONDITION, IDENTITY
from maskclr.fileio import atomic_output, load_npz
from maskclr.paper import metrics as mt
from maskclr.paper.stats import interval, mean_ci_over_seeds
from maskclr.paper.style import describe_model, method_label, pretrain_of

REQUIRED = {
    "confusion": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods", "num_classes")
}
STATS = ("clean", "clean_ci95", "noisy", "noisy_ci95", "added", "added_ci95")
CELL_COLUMNS = ("method", "sigma", "n_seeds", "true_label", "true_class", "predicted_label", "predicted_class", *STATS)
FLOW_COLUMNS = ("method", "sigma", "n_seeds", "source", "destination", *STATS)
ALL = "all classes"


def load_confusion(path, num_classes):
    """An evaluation's ``_confusion.npz``: counts (G, C, C), the grid points' CONDITION arrays (G,)
    and the model's IDENTITY."""
    data = load_npz(path, ("counts", *CONDITION, *IDENTITY), " (maskclr.evaluate writes it: rerun it)")
    points = len(data["perturbation"])
    for key in CONDITION[1:]:
        if data[key].shape != (points,):
            raise InputError(f"{path}: array '{key}' has shape {data[key].shape}, expected ({points},) (perturbation)")
    expected = (points, num_classes, num_classes)
    if data["counts"].shape != expected:
        raise InputError(f"{path}: array 'counts' has shape {data['counts'].shape}, expected {expected} (num_classes)")
    return data


def clean_and_noisy(data, path, tier):
    """(σ, clean counts (C, C), counts (C, C) at the largest spatiotemporal σ) on ``tier``."""
    on_tier = [i for i, t in enumerate(data["test_estimator"]) if t == tier]
    if not on_tier:
        raise InputError(f"{path}: array 'test_estimator': no grid point on the training tier {tier!r}")
    points = {}
    for i in on_tier:
        perturbation, level = str(data["perturbation"][i]), str(data["level"][i])
        if perturbation in ("clean", "noise_st"):
            try:
                points[perturbation, float(level)] = i
            except ValueError:
                raise InputError(f"{path}: array 'level': item {i}: not a number: {level!r}") from None
    if ("clean", 0.0) not in points:
        raise InputError(f"{path}: array 'perturbation': no clean grid point on the training tier {tier!r}")
    sigmas = [level for p, level in points if p == "noise_st" and level > 0]
    if not sigmas:
        raise InputError(f"{path}: array 'level': no spatiotemporal noise σ > 0 on the training tier {tier!r}")
    sigma = max(sigmas)
    return sigma, data["counts"][points["clean", 0.0]], data["counts"][points["noise_st", sigma]]


def shares(counts):
    """Counts (C, C) → % of each true class's samples per predicted class; NaN rows for absent classes."""
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, 100 * counts / totals, np.nan)


def seed_shares(paths, settings):
    """(σ, {method: {"clean": (S, C, C), "noisy": (S, C, C)} shares over its seeds}) of the
    settings' first two table methods; every file must be of the settings' model and test set,
    at the same largest σ, and each (method, seed) given once."""
    methods = settings["table_methods"][:2]
    model = {key: settings[key] for key in ("dataset", "split", "backbone")} | {"pretrain": pretrain_of(settings)}
    found, first = {}, None
    for path in paths:
        data = load_confusion(path, settings["num_classes"])
        for key, expected in model.items():
            if str(data[key]) != expected:
                raise InputError(f"{path}: array '{key}' is {str(data[key])!r}, expected {expected!r} (paper.{key})")
        method, seed = str(data["method"]), int(data["seed"])
        if method not in methods:
            raise InputError(f"{path}: array 'method' is {method!r}, not one of paper.table_methods {methods}")
        if (method, seed) in found:
            raise InputError(f"--confusions: {found[method, seed]['path']} and {path} are both {method}, seed {seed}")
        sigma, clean, noisy = clean_and_noisy(data, path, settings["train_estimator"])
        first = first or {"path": path, "sigma": sigma, "samples": clean.sum(axis=1)}
        if sigma != first["sigma"]:
            raise InputError(
                f"--confusions: the largest noise σ of {first['path']} is {first['sigma']:g}, of {path} {sigma:g}"
            )
        if (clean.sum(axis=1) != first["samples"]).any():  # a stale evaluation of another test set
            raise InputError(f"--confusions: {first['path']} and {path} count different test samples per class")
        found[method, seed] = {"path": path, "clean": shares(clean), "noisy": shares(noisy)}
    missing = [m for m in methods if not any(method == m for method, _ in found)]
    if missing:
        raise InputError(f"--confusions: no file of method {', '.join(missing)}")
    per_method = {
        m: {c: np.stack([v[c] for (method, _), v in sorted(found.items()) if method == m]) for c in ("clean", "noisy")}
        for m in methods
    }
    return first["sigma"], per_method


def present_labels(per_method):
    """The labels with test samples (every file has the same test set: ``seed_shares``)."""
    clean = next(iter(per_method.values()))["clean"]
    return [int(k) for k in np.flatnonzero(~np.isnan(clean[0, :, 0]))]


def stat_columns(clean, noisy):
    """{STATS column: array} of the shares clean and noisy (S, ...) and what the noise adds."""
    columns = {}
    for name, values in (("clean", clean), ("noisy", noisy), ("added", noisy - clean)):
        columns[name], columns[f"{name}_ci95"] = mean_ci_over_seeds(values)
    return columns


def cells(sigma, per_method, settings):
    """confusion.csv: one record per method, true class present and predicted class that any seed
    gives a sample in either condition."""
    names = class_names(settings["dataset"], settings["num_classes"])
    frames = []
    for method, s in per_method.items():
        true, predicted = np.indices(s["clean"].shape[1:])
        columns = {key: value.ravel() for key, value in stat_columns(s["clean"], s["noisy"]).items()}
        frame = pd.DataFrame(
            {"method": method, "sigma": sigma, "n_seeds": len(s["clean"]), "true_label": true.ravel()}
            | {"true_class": [names[k] for k in true.ravel()], "predicted_label": predicted.ravel()}
            | {"predicted_class": [names[k] for k in predicted.ravel()], **columns}
        )
        used = ((s["clean"] > 0) | (s["noisy"] > 0)).any(axis=0).ravel()
        frames.append(frame[used])
    return pd.concat(frames, ignore_index=True)[list(CELL_COLUMNS)]


def destinations(settings):
    """[(name, mask (C, C))]: for each true class (row), the predicted classes (columns) of each
    destination: the class itself, its partner, the other classes of each group."""
    dataset, n = settings["dataset"], settings["num_classes"]
    itself = np.eye(n, dtype=bool)
    partner = np.zeros((n, n), dtype=bool)
    for a, b in class_partners(dataset).items():
        if max(a, b) < n:
            partner[a, b] = True
    found = [("correct", itself)] + ([("partner", partner)] if partner.any() else [])
    others = ~itself & ~partner
    groups = class_groups(dataset, n) or {"other classes": list(range(n))}
    for name, members in groups.items():
        column = np.zeros(n, dtype=bool)
        column[members] = True
        found.append((name, others & column[None, :]))
    return found


def sources(settings, present):
    """[(name, labels)]: all classes present, then each class group's classes present."""
    groups = class_groups(settings["dataset"], settings["num_classes"])
    chosen = [(name, [k for k in members if k in present]) for name, members in groups.items()]
    return [(ALL, sorted(present))] + [(name, members) for name, members in chosen if members]


def flow(sigma, per_method, settings):
    """error_flow.csv: one record per method, source and destination (module docstring)."""
    found, records = destinations(settings), []
    for method, s in per_method.items():
        for source, members in sources(settings, present_labels(per_method)):
            for destination, mask in found:
                if destination == "partner" and not mask[members].any():
                    continue  # none of the source's classes has a partner
                # per seed: the share each member class sends to the destination, averaged over members
                clean, noisy = ((s[c][:, members] * mask[members]).sum(-1).mean(axis=1) for c in ("clean", "noisy"))
                columns = {k: float(v) for k, v in stat_columns(clean, noisy).items()}
                where = {"method": method, "sigma": sigma, "n_seeds": len(clean), "source": source}
                records.append({**where, "destination": destination, **columns})
    return pd.DataFrame(records, columns=FLOW_COLUMNS)


def gainers(cell_table, method, members, top=3):
    """The ``top`` classes to which the noise adds the most errors of the ``members``' samples
    (mean over members and seeds, points; a member's own class is no error): [(class name,
    points)], largest first, gains only."""
    rows = cell_table[(cell_table["method"] == method) & cell_table["true_label"].isin(members)]
    rows = rows[rows["true_label"] != rows["predicted_label"]]
    gained = rows.groupby("predicted_class")["added"].sum() / len(members)
    return [(name, points) for name, points in gained.nlargest(top).items() if points > 0]


def destination_text(destination):
    return "the pair's other class" if destination == "partner" else f"group {destination}"


def markdown(flow_table, cell_table, settings):
    """A line per method and source: the points the largest σ costs, where they go and (``gainers``)
    up to three classes that gain most."""
    sigma = flow_table["sigma"].iloc[0]
    lines = [
        f"Where the errors of spatiotemporal noise σ = {sigma:g} go ({describe_model(settings)}; points of "
        "each class's samples, mean over the source's classes and over seeds with its 95 % CI, from "
        "`results/tables/error_flow.csv`):",
        "",
    ]
    present = set(cell_table["true_label"])
    for method, by_method in flow_table.groupby("method", sort=False):
        for source, members in sources(settings, present):
            rows = by_method[by_method["source"] == source].set_index("destination")
            cost = interval(0.0 - rows.loc["correct", "added"], rows.loc["correct", "added_ci95"])  # no −0.0
            parts = "; ".join(
                f"{interval(r.added, r.added_ci95, sign=True)} to {destination_text(d)}"
                for d, r in rows.drop("correct").iterrows()
            )
            top = ", ".join(f"{name} ({points:+.1f})" for name, points in gainers(cell_table, method, members))
            lines.append(
                f"- **{method_label(method)}**, {source}: σ = {sigma:g} costs {cost} points: {parts}"
                + (f". Most to: {top}." if top else ".")
            )
    return "\n".join(lines) + "\n"


def load_cells(path):
    """``confusion.csv`` (``cells``) as written, for the figure; InputError naming a missing column."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"{path}: confusion table not found") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"{path}: not a readable CSV: {err}") from err
    missing = [column for column in CELL_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column '{missing[0]}' (expected {','.join(CELL_COLUMNS)})")
    return frame


def write_csv(frame, path):
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.4f", lineterminator="\n")  # as the other tables


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.paper.confusion", description=__doc__.split("\n")[0])
    parser.add_argument("--confusions", nargs="+", required=True, help="evaluations' _confusion.npz files")
    parser.add_argument("--settings-json", required=True, help="the paper model and its table methods (JSON)")
    parser.add_argument("--out-csv", required=True)
    parser.add_argument("--out-flow", required=True)
    parser.add_argument("--out-md", required=True)
    args = parser.parse_args(argv)
    settings = mt.load_settings(args.settings_json, REQUIRED["confusion"])
    sigma, per_method = seed_shares(args.confusions, settings)
    cell_table, flow_table = cells(sigma, per_method, settings), flow(sigma, per_method, settings)
    write_csv(cell_table, args.out_csv)
    write_csv(flow_table, args.out_flow)
    with atomic_output(args.out_md) as tmp:
        tmp.write_text(markdown(flow_table, cell_table, settings))


if __name__ == "__main__":
    run_cli(main)
