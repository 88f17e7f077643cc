"""``python -m maskclr.paper.confusion``: where a perturbation's errors go.

    python -m maskclr.paper.confusion --confusions results/eval/.../seed0_confusion.npz ... \\
        --settings-json '{...}' --out-csv results/tables/confusion.csv \\
        --out-flow results/tables/error_flow.csv --out-md results/tables/error_flow.md

The classes table says which classes noise costs; this says which classes a perturbation sends
them to. For the settings' model and its first two table methods (the baseline, then MaskCLR),
each seed's confusion counts (``maskclr.evaluate``'s ``_confusion.npz``) on the training tier,
clean and at each of ``paper.error_conditions`` (a grid point: a perturbation and its level, or
``max``, its largest level), each row normalised to shares (%) of the true class's samples. Clean
and perturbed come from the same model and test samples, so what the perturbation adds
(perturbed − clean) is paired by seed; every number is the mean over seeds with its 95 % CI
(Student's t, ``maskclr.paper.stats``).

- ``confusion.csv``: per condition, method, true class and predicted class, the share clean and
  perturbed and what the perturbation adds (MaskCLR's rows: also minus what it adds to the
  baseline's, paired by seed); cells that are 0 in both for every seed are left out.
- ``error_flow.csv``: per condition, method, source (all classes, then the dataset's class
  groups) and destination, the share of a source class's samples predicted as: the class itself
  (``correct``: its top-1), its fine-grained partner (``partner``, for sources with a pair;
  a class without one counts 0, so "all classes" gives the pairs' share diluted over every
  class), and the classes of each group (the class itself and its partner left out), averaged
  over the source's classes (each class counts once, as in the classes table). A class's
  destinations sum to 100 %, so what the perturbation adds sums to 0: the points ``correct``
  loses are its cost, and the other rows say where they go. MaskCLR's rows also hold what it
  adds minus what the baseline adds, paired by seed over the seeds both have (``added_delta``,
  with its 95 % CI; ``n_seeds`` counts the method's own seeds).
- ``error_flow.md``: one table row per condition, method and source: the cost (and MaskCLR's
  minus the baseline's), its destinations and up to three classes to which the perturbation
  adds the most errors (generated text for the README).

Every file must be of the same test set (the same samples per class): classes without test
samples are left out everywhere.
"""

import argparse
import math

import numpy as np
import pandas as pd

from maskclr.data.classes import class_groups, class_names, class_partners
from maskclr.errors import InputError, run_cli
from maskclr.evaluate.collect import CONDITION, IDENTITY
from maskclr.fileio import atomic_output, load_npz
from maskclr.paper import metrics as mt
from maskclr.paper.stats import interval, mean_ci_over_seeds
from maskclr.paper.style import condition_label, describe_model, method_label, noise_unit, pretrain_of

REQUIRED = {
    "confusion": (
        "dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods", "num_classes",
        "error_conditions",
    )
}  # fmt: skip
STATS = ("clean", "clean_ci95", "perturbed", "perturbed_ci95", "added", "added_ci95")
DELTA = ("added_delta", "added_delta_ci95")  # a later method's added minus the first's, paired by seed
CELL_COLUMNS = (
    "perturbation", "level", "method", "n_seeds", "true_label", "true_class", "predicted_label", "predicted_class",
    *STATS, *DELTA,
)  # fmt: skip
FLOW_COLUMNS = ("perturbation", "level", "method", "n_seeds", "source", "destination", *STATS, *DELTA)
ALL = "all classes"
LARGEST = "max"  # an error condition's level: the perturbation's largest level in the grid


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


def same_level(found, wanted):
    """Whether a grid level (a string, as in the npz) is the configured one (a number or a name)."""
    try:
        return float(found) == float(wanted)
    except ValueError:
        return str(found) == str(wanted)


def pick_level(levels, path, tier, perturbation, wanted):
    """Of a perturbation's grid ``levels`` (strings), the one ``wanted`` names; ``max``: the largest."""
    if wanted != LARGEST:
        chosen = [level for level in levels if same_level(level, wanted)]
        if not chosen:
            raise InputError(
                f"{path}: no grid point {perturbation} at level {wanted} on the training tier {tier!r} "
                f"(its levels: {', '.join(levels) or 'none'}; paper.error_conditions)"
            )
        return chosen[0]
    values = {}
    for level in levels:
        try:
            values[float(level)] = level
        except ValueError:
            raise InputError(
                f"{path}: array 'level': {perturbation} level {level!r} is not a number, so it has no largest "
                "level (paper.error_conditions: name one)"
            ) from None
    values.pop(0.0, None)  # σ = 0 is the clean input
    if not values:
        raise InputError(f"{path}: array 'level': no {perturbation} level > 0 on the training tier {tier!r}")
    return values[max(values)]


def conditions_of(data, path, tier, wanted):
    """(clean counts (C, C), {(perturbation, level): counts (C, C)} of each ``wanted`` error
    condition) on ``tier``; levels as the npz writes them."""
    on_tier = [i for i, t in enumerate(data["test_estimator"]) if t == tier]
    if not on_tier:
        raise InputError(f"{path}: array 'test_estimator': no grid point on the training tier {tier!r}")
    points = {(str(data["perturbation"][i]), str(data["level"][i])): i for i in on_tier}
    clean = [i for (perturbation, level), i in points.items() if perturbation == "clean" and same_level(level, 0)]
    if not clean:
        raise InputError(f"{path}: array 'perturbation': no clean grid point on the training tier {tier!r}")
    found = {}
    for condition in wanted:
        perturbation = condition["perturbation"]
        levels = [level for p, level in points if p == perturbation]
        level = pick_level(levels, path, tier, perturbation, condition["level"])
        found[perturbation, level] = data["counts"][points[perturbation, level]]
    return data["counts"][clean[0]], found


def shares(counts):
    """Counts (C, C) → % of each true class's samples per predicted class; NaN rows for absent classes."""
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, 100 * counts / totals, np.nan)


def seed_shares(paths, settings):
    """{method: {"seeds": [its S seeds], "clean": (S, C, C), condition: (S, C, C)} shares over its
    seeds} of the settings' first two table methods, a condition per ``error_conditions``
    ((perturbation, level), in the settings' order); every file must be of the settings' model and test set, resolve the
    conditions to the same levels, and each (method, seed) be given once."""
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
        clean, perturbed = conditions_of(data, path, settings["train_estimator"], settings["error_conditions"])
        first = first or {"path": path, "conditions": list(perturbed), "samples": clean.sum(axis=1)}
        if list(perturbed) != first["conditions"]:
            raise InputError(
                f"--confusions: paper.error_conditions are {first['conditions']} in {first['path']}, "
                f"{list(perturbed)} in {path} (another robustness grid: rerun its evaluation)"
            )
        if (clean.sum(axis=1) != first["samples"]).any():  # a stale evaluation of another test set
            raise InputError(f"--confusions: {first['path']} and {path} count different test samples per class")
        found[method, seed] = {"path": path, "clean": shares(clean)} | {c: shares(n) for c, n in perturbed.items()}
    missing = [m for m in methods if not any(method == m for method, _ in found)]
    if missing:
        raise InputError(f"--confusions: no file of method {', '.join(missing)}")
    keys = ["clean", *first["conditions"]]
    return {
        m: {"seeds": [seed for method, seed in sorted(found) if method == m]}
        | {c: np.stack([v[c] for (method, _), v in sorted(found.items()) if method == m]) for c in keys}
        for m in methods
    }


def conditions(per_method):
    """The error conditions (perturbation, level) of ``seed_shares``' result, in order."""
    return [c for c in next(iter(per_method.values())) if isinstance(c, tuple)]


def present_labels(per_method):
    """The labels with test samples (every file has the same test set: ``seed_shares``)."""
    clean = next(iter(per_method.values()))["clean"]
    return [int(k) for k in np.flatnonzero(~np.isnan(clean[0, :, 0]))]


def added_delta(per_method, method, condition):
    """(mean, 95 % half-width) over the seeds ``method`` shares with the first method of what the
    condition adds to ``method``'s shares minus what it adds to the first's, per share (C, C);
    NaN for the first method itself or without a shared seed."""
    first = next(iter(per_method))
    shared = sorted(set(per_method[first]["seeds"]) & set(per_method[method]["seeds"]))
    shape = per_method[method]["clean"].shape[1:]
    if method == first or not shared:
        return np.full(shape, math.nan), np.full(shape, math.nan)

    def on_shared(m, key):  # a method's shares (S', ...) of the shared seeds, in their order
        return per_method[m][key][[per_method[m]["seeds"].index(k) for k in shared]]

    added = {m: on_shared(m, condition) - on_shared(m, "clean") for m in (first, method)}
    return mean_ci_over_seeds(added[method] - added[first])


def stat_columns(clean, perturbed):
    """{STATS column: array} of the shares clean and perturbed (S, ...) and what the perturbation adds."""
    columns = {}
    for name, values in (("clean", clean), ("perturbed", perturbed), ("added", perturbed - clean)):
        columns[name], columns[f"{name}_ci95"] = mean_ci_over_seeds(values)
    return columns


def cells(per_method, settings):
    """confusion.csv: one record per condition, method, true class present and predicted class
    that any method's seed gives a sample clean or perturbed (the same cells for every method, so
    that a cell only the baseline fills still has MaskCLR's difference)."""
    names = class_names(settings["dataset"], settings["num_classes"])
    frames = []
    for perturbation, level in conditions(per_method):
        filled = [((s["clean"] > 0) | (s[perturbation, level] > 0)).any(axis=0) for s in per_method.values()]
        used = np.any(filled, axis=0).ravel()
        for method, s in per_method.items():
            true, predicted = np.indices(s["clean"].shape[1:])
            perturbed = s[perturbation, level]
            columns = stat_columns(s["clean"], perturbed) | dict(
                zip(DELTA, added_delta(per_method, method, (perturbation, level)))
            )
            columns = {key: value.ravel() for key, value in columns.items()}
            where = {"perturbation": perturbation, "level": level, "method": method, "n_seeds": len(perturbed)}
            frame = pd.DataFrame(
                where
                | {"true_label": true.ravel(), "true_class": [names[k] for k in true.ravel()]}
                | {"predicted_label": predicted.ravel(), "predicted_class": [names[k] for k in predicted.ravel()]}
                | columns
            )
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


def flow(per_method, settings):
    """error_flow.csv: one record per condition, method, source and destination (module
    docstring); a later method's ``added_delta`` is paired by seed with the first method's."""
    found, records = destinations(settings), []
    for condition in conditions(per_method):
        by_method = {method: [] for method in per_method}
        for source, members in sources(settings, present_labels(per_method)):
            for destination, mask in found:
                if destination == "partner" and not mask[members].any():
                    continue  # none of the source's classes has a partner
                # per method and seed: the share each member sends to the destination, averaged over members
                sent = {
                    m: {"seeds": v["seeds"]}
                    | {key: (v[key][:, members] * mask[members]).sum(-1).mean(axis=1) for key in ("clean", condition)}
                    for m, v in per_method.items()
                }
                for method, shares_sent in sent.items():
                    columns = stat_columns(shares_sent["clean"], shares_sent[condition])
                    columns |= dict(zip(DELTA, added_delta(sent, method, condition)))
                    where = {"perturbation": condition[0], "level": condition[1], "method": method}
                    by_method[method].append(
                        {**where, "n_seeds": len(shares_sent["seeds"]), "source": source, "destination": destination}
                        | {key: float(value) for key, value in columns.items()}
                    )
        records += [record for rows in by_method.values() for record in rows]
    return pd.DataFrame(records, columns=FLOW_COLUMNS)


def at_condition(table, perturbation, level):
    """The rows of ``table`` (confusion.csv or error_flow.csv) at one error condition."""
    return table[(table["perturbation"] == perturbation) & (table["level"] == level)]


def gainers(cell_table, members, top=3):
    """The ``top`` classes to which the perturbation adds the most errors of the ``members``'
    samples (mean over members and seeds, points; a member's own class is no error), in the cells
    of one method and condition: [(class name, points)], largest first, gains only."""
    rows = cell_table[cell_table["true_label"].isin(members)]
    rows = rows[rows["true_label"] != rows["predicted_label"]]
    gained = rows.groupby("predicted_class")["added"].sum() / len(members)
    return [(name, points) for name, points in gained.nlargest(top).items() if points > 0]


def destination_text(destination):
    return "the pair's other class" if destination == "partner" else destination


def markdown(flow_table, cell_table, settings):
    """A table row per condition, method and source: the points the condition costs, where they
    go, and (``gainers``) up to three classes that gain most."""
    found = [d for d, _ in destinations(settings) if d != "correct" and d in set(flow_table["destination"])]
    first = flow_table["method"].iloc[0]
    header = ["perturbation", "method", "classes", "cost", f"cost − {method_label(first)}'s"]
    header += [*(f"→ {destination_text(d)}" for d in found), "most to"]
    noise = flow_table["perturbation"].str.startswith("noise").any()
    lines = [
        f"Where each perturbation's errors go ({describe_model(settings)}"
        + (f"; σ in {noise_unit(settings)}" if noise else "")
        + "; points of each class's samples, mean over the row's classes and over seeds with its 95 % CI, from "
        "`results/tables/error_flow.csv`; the cost minus the first method's is paired by seed; → a class group: "
        "to its classes other than the class itself and its pair's other class):",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    present = set(cell_table["true_label"])
    keys = ["perturbation", "level", "method"]
    for (perturbation, level, method), rows in flow_table.groupby(keys, sort=False):
        chosen = at_condition(cell_table[cell_table["method"] == method], perturbation, level)
        for source, members in sources(settings, present):
            by = rows[rows["source"] == source].set_index("destination")
            cost = interval(0.0 - by.loc["correct", "added"], by.loc["correct", "added_ci95"])  # no −0.0
            delta = (
                ""
                if method == first
                else interval(0.0 - by.loc["correct", "added_delta"], by.loc["correct", "added_delta_ci95"], sign=True)
            )
            parts = [
                interval(by.loc[d, "added"], by.loc[d, "added_ci95"], sign=True) if d in by.index else "" for d in found
            ]
            top = ", ".join(f"{name} ({points:+.1f})" for name, points in gainers(chosen, members))
            row = [condition_label(perturbation, level), method_label(method), source, cost, delta, *parts, top]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def load_cells(path):
    """``confusion.csv`` (``cells``) as written, for the figure; InputError naming a missing column."""
    try:
        frame = pd.read_csv(path, dtype={"level": str})  # a level as the npz names it: "0.01", "left_arm"
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
    per_method = seed_shares(args.confusions, settings)
    cell_table, flow_table = cells(per_method, settings), flow(per_method, settings)
    write_csv(cell_table, args.out_csv)
    write_csv(flow_table, args.out_flow)
    with atomic_output(args.out_md) as tmp:
        tmp.write_text(markdown(flow_table, cell_table, settings))


if __name__ == "__main__":
    run_cli(main)
