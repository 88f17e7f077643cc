"""``python -m maskclr.paper.summary``: is MaskCLR more robust than the baseline? With 95 % CIs.

    python -m maskclr.paper.summary --metrics results/metrics.csv --settings-json '{...}' \\
        --out-csv results/tables/robustness_summary.csv --out-md results/tables/robustness_summary.md

For the settings' model (dataset, split, backbone, pretraining: ``pretrain``, null = from
scratch) and its first two table methods (baseline, then MaskCLR), each seed's top-1 is averaged
within a group of perturbations. Per group: each method's mean over seeds with its 95 % confidence
interval, and the difference MaskCLR − baseline paired by seed with its 95 % interval
(``maskclr.paper.stats``). A difference is called significant when its interval excludes 0. A
model tested on one tier (a native 3D model: the Kinect's; a dataset with one estimator) has no
"unseen estimators" group, and a grid without a perturbation no group of it. The Markdown states,
generated from these numbers, which differences are significant and which are not, and how much
the largest noise σ costs each method, in all and in each of the dataset's class groups
(``maskclr.paper.classes``); nothing in it is written by hand. With one table method (a run that
trains the baseline alone) the summary gives that method's groups and noise cost and compares
nothing: the method and difference columns stay empty.
"""

import argparse

import pandas as pd

from maskclr.data.classes import class_groups
from maskclr.errors import run_cli
from maskclr.fileio import atomic_output
from maskclr.paper import classes
from maskclr.paper import metrics as mt
from maskclr.paper.stats import interval, mean_ci, paired_difference, significant
from maskclr.paper.style import method_label, noise_unit

# group → (perturbation, which rows): the perturbed levels only (σ > 0), or all of them.
GROUPS = (
    ("clean", "clean", "train"),
    ("spatiotemporal noise", "noise_st", "perturbed"),
    ("spatial noise", "noise_spatial", "perturbed"),
    ("part occlusion", "part", "train"),
    ("random joint occlusion", "joints", "train"),
    ("unseen estimators", "clean", "other tiers"),
    ("frames masked + noise", "frames_noise", "all tiers"),
)


def _eval_rows(metrics, settings, method):
    """Top-1 rows of one method of the settings' model, on every tier it was tested on."""
    model = {key: value for key, value in mt.model_where(settings).items() if key != "test_estimator"}
    return metrics.select(kind="eval", metric="top1", method=method, **model)


def group_scores(metrics, settings, method):
    """{group: Series of top-1 (%) per seed} for one method of the settings' model, for the
    ``GROUPS`` it was tested in (no "unseen estimators" without another tier)."""
    rows = _eval_rows(metrics, settings, method)
    tier = settings["train_estimator"]
    scores = {}
    for name, perturbation, scope in GROUPS:
        chosen = rows[rows["perturbation"] == perturbation]
        if scope in ("train", "perturbed"):
            chosen = chosen[chosen["test_estimator"] == tier]
        if scope == "perturbed":
            chosen = chosen[chosen["x"] > 0]
        if scope == "other tiers":
            chosen = chosen[chosen["test_estimator"] != tier]
        if not chosen.empty:
            scores[name] = chosen.groupby("seed")["value"].mean() * 100
    return scores


COLUMNS = (
    "group",
    "baseline_mean",
    "baseline_ci95",
    "method_mean",
    "method_ci95",
    "delta_mean",
    "delta_ci95",
    "significant",
    "seeds_ahead",
    "seeds",
)


def summary(metrics, settings):
    """``compare`` of the settings' first two table methods: MaskCLR against the baseline;
    ``describe`` of the baseline where the settings name one method."""
    baseline, *method = settings["table_methods"][:2]
    return compare(metrics, settings, baseline, *method) if method else describe(metrics, settings, baseline)


def describe(metrics, settings, method):
    """``compare``'s rows for one method alone: its mean and 95 % CI over its seeds per group in
    the baseline columns, the comparison's columns empty."""
    rows = []
    for name, scores in group_scores(metrics, settings, method).items():
        mean, half, n = mean_ci(scores)
        rows.append({"group": name, "baseline_mean": mean, "baseline_ci95": half, "seeds": n})
    return pd.DataFrame(rows, columns=COLUMNS)


def compare(metrics, settings, baseline, method):
    """One row per group of the settings' model (``COLUMNS``): each method's mean and 95 % CI over
    seeds, the difference ``method`` − ``baseline`` paired by seed with its 95 % CI, whether it is
    significant, and in how many seeds ``method`` came out ahead."""
    base = group_scores(metrics, settings, baseline)
    ours = group_scores(metrics, settings, method)
    records = []
    for name in (name for name, _, _ in GROUPS if name in base and name in ours):
        seeds = base[name].index.intersection(ours[name].index)
        base_mean, base_ci, _ = mean_ci(base[name][seeds])
        our_mean, our_ci, _ = mean_ci(ours[name][seeds])
        delta, delta_ci, n = paired_difference(base[name], ours[name])
        records.append(
            {
                "group": name,
                "baseline_mean": base_mean,
                "baseline_ci95": base_ci,
                "method_mean": our_mean,
                "method_ci95": our_ci,
                "delta_mean": delta,
                "delta_ci95": delta_ci,
                "significant": significant(delta, delta_ci),
                "seeds_ahead": int((ours[name][seeds] > base[name][seeds]).sum()),
                "seeds": n,
            }
        )
    return pd.DataFrame(records, columns=COLUMNS)


def noise_cost(metrics, settings, method):
    """(σ, mean, 95 % half-width, n) of clean − noisy top-1 (points) at the largest spatiotemporal
    σ on the training tier, paired by seed; None without noisy rows."""
    rows = _eval_rows(metrics, settings, method)
    rows = rows[rows["test_estimator"] == settings["train_estimator"]]
    sigma, noisy = mt.largest_noise(rows)
    if sigma is None:
        return None
    clean = rows[rows["perturbation"] == "clean"].groupby("seed")["value"].mean() * 100
    worst = noisy.groupby("seed")["value"].mean() * 100
    return (sigma, *paired_difference(worst, clean))


def listing(rows):
    """``group (Δ [CI])``, …, or "none"."""
    return (
        "; ".join(f"{r.group} ({interval(r.delta_mean, r.delta_ci95, sign=True)})" for r in rows.itertuples()) or "none"
    )


def verdict(row, method):
    if row.seeds == 0:
        return "no seed in common"
    if row.seeds < 2:
        return "one seed: no interval"
    if not row.significant:
        return "no significant difference"
    return f"{method} {'better' if row.delta_mean > 0 else 'worse'} (significant)"


def markdown(table, metrics, settings):
    names = settings["table_methods"][:2]
    if len(names) == 1:
        return baseline_markdown(table, metrics, settings)
    baseline, method = (method_label(m) for m in names)
    seeds = int(table["seeds"].min())
    lines = [
        f"| perturbation | {baseline} | {method} | Δ {method} − {baseline} | {method} ahead | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.group} | {interval(r.baseline_mean, r.baseline_ci95)} | {interval(r.method_mean, r.method_ci95)}"
            f" | {interval(r.delta_mean, r.delta_ci95, sign=True)} | {r.seeds_ahead} of {r.seeds} seeds"
            f" | {verdict(r, method)} |"
        )
    lines += [
        "",
        f"Top-1 (%), mean over {seeds} seeds [95 % confidence interval, Student's t]; Δ is paired by seed "
        "(percentage points). A difference is significant when its interval excludes 0.",
        "",
    ]
    robust = table[table["group"] != "clean"]
    if seeds < 2:
        lines.append(
            f"With one seed there are no intervals, so no difference between {method} and {baseline} "
            "is called significant."
        )
    else:
        better = robust[robust["significant"] & (robust["delta_mean"] > 0)]
        worse = robust[robust["significant"] & (robust["delta_mean"] < 0)]
        same = robust[~robust["significant"]]
        lines.append(
            f"{method} is significantly more robust than {baseline} under: {listing(better)}. "
            f"Significantly less robust under: {listing(worse)}. "
            f"No significant difference under: {listing(same)}."
        )
    return "\n".join(lines + noise_cost_lines(metrics, settings)) + "\n"


def baseline_markdown(table, metrics, settings):
    """The summary of a run with one table method: its groups and noise cost, nothing compared."""
    (name,) = settings["table_methods"]
    lines = [f"| perturbation | {method_label(name)} | seeds |", "|---|---|---|"]
    lines += [f"| {r.group} | {interval(r.baseline_mean, r.baseline_ci95)} | {r.seeds} |" for r in table.itertuples()]
    spread = (
        "mean over the seeds [95 % confidence interval, Student's t]"
        if table["seeds"].max() > 1
        else "one seed, so no intervals"
    )
    lines += ["", f"Top-1 (%), {spread}. One table method (`paper.table_methods`): nothing is compared.", ""]
    return "\n".join(lines + noise_cost_lines(metrics, settings)) + "\n"


def noise_cost_lines(metrics, settings):
    """For each of the settings' first two table methods, what the largest spatiotemporal σ costs
    it, in all and per class group, and where the fine pairs' errors go."""
    groups, lines = class_group_cells(metrics, settings), []
    for name in settings["table_methods"][:2]:
        cost = noise_cost(metrics, settings, name)
        if cost:
            sigma, mean, half, _ = cost
            by_group = groups[groups["method"] == name]
            per_group = "; ".join(f"{r.classes} {interval(r.cost, r.cost_ci95)}" for r in by_group.itertuples())
            lines.append(
                f"Spatiotemporal noise σ = {sigma:g} ({noise_unit(settings)}) costs {method_label(name)} "
                f"{interval(mean, half)} points of top-1"
                + (f"; by class group (the mean over its classes): {per_group}." if per_group else ".")
                + "".join(within_pairs(r, sigma) for r in by_group.dropna(subset=["to_partner_clean"]).itertuples())
            )
    return lines


def within_pairs(group, sigma):
    """`` <Group>: clean, … % of their samples are predicted as the other class of their pair …``
    (a class group's row of ``maskclr.paper.classes.cells`` with partner shares): where its errors,
    and the errors the noise adds, go."""
    clean = interval(group.to_partner_clean, group.to_partner_clean_ci95)
    added = interval(group.to_partner_added, group.to_partner_added_ci95)
    return (
        f" {group.classes.capitalize()}: clean, {clean} % of their samples are predicted as the other class of "
        f"their pair (of {100 - group.clean:.1f} % wrong); of the {interval(group.cost, group.cost_ci95)} points "
        f"that σ = {sigma:g} costs them, {added} go to that class."
    )


def class_group_cells(metrics, settings):
    """The class groups' rows of ``maskclr.paper.classes.cells``: none for a dataset without
    groups or a model without per-class rows (a metrics.csv written before them)."""
    if (
        not class_groups(settings["dataset"], settings["num_classes"])
        or metrics.match(kind="eval_class", **mt.model_where(settings)).empty
    ):
        return pd.DataFrame(columns=classes.COLUMNS)
    cells = classes.cells(metrics, settings)
    return cells[cells["kind"] == "group"]


# The settings the summary reads; the workflow passes it these keys only (common.smk).
REQUIRED = {
    "robustness_summary": (
        "dataset",
        "split",
        "backbone",
        "pretrain",
        "train_estimator",
        "table_methods",
        "num_classes",
    )
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.paper.summary", description=__doc__.split("\n")[0])
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--settings-json", required=True)
    parser.add_argument("--out-csv", required=True)
    parser.add_argument("--out-md", required=True)
    args = parser.parse_args(argv)
    settings = mt.load_settings(args.settings_json, REQUIRED["robustness_summary"])
    metrics = mt.load(args.metrics)
    table = summary(metrics, settings)
    with atomic_output(args.out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4f", lineterminator="\n")
    with atomic_output(args.out_md) as tmp:
        tmp.write_text(markdown(table, metrics, settings))


if __name__ == "__main__":
    run_cli(main)
