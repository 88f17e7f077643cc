"""Top-1 per class and per class group of the paper's model, clean and under the largest noise.

Which classes pay for a perturbation? For the settings' model (tested on its training tier) and
its first two table methods (the baseline, then MaskCLR), each seed's top-1 of every class (the
``eval_class`` rows of metrics.csv), clean and under spatiotemporal noise of the largest σ of the
grid. The rows: "all classes", the dataset's own groups (``maskclr.data.classes.class_groups``),
then each class by name. The top-1 of "all classes" and of a group is the mean over its classes
(each class counts once: the mean class accuracy, which on an unbalanced test set differs from
the top-1 over samples of Table 2 and Fig. 5).

Per row and method: the mean over seeds and its 95 % CI in both conditions, the noise cost
(clean − noisy, paired by seed) and the difference to the baseline (paired by seed) in both
conditions (``maskclr.paper.stats``). Where the row's classes have fine-grained partners
(``to_partner`` rows: ``maskclr.data.classes.class_partners``), also the share of their samples predicted as the
partner in both conditions and the noise's addition to it (paired by seed), for the rows whose
every class has one: how many of the errors, and of the errors the noise adds, stay within a pair.
"""

import pandas as pd

from maskclr.data.classes import class_groups, class_names
from maskclr.errors import InputError
from maskclr.paper import metrics as mt
from maskclr.paper.stats import mean_ci, paired_difference

ALL = "all classes"
COLUMNS = (
    *("classes", "kind", "label", "method", "sigma", "n_seeds"),
    *("clean", "clean_ci95", "noisy", "noisy_ci95", "cost", "cost_ci95"),
    *("delta_clean", "delta_clean_ci95", "delta_noisy", "delta_noisy_ci95"),
    *("to_partner_clean", "to_partner_clean_ci95", "to_partner_noisy", "to_partner_noisy_ci95"),
    *("to_partner_added", "to_partner_added_ci95"),
)
NAN = float("nan")


def largest_sigma(metrics, settings, method):
    """The largest spatiotemporal σ > 0 among one method's per-class top-1 rows of the settings'
    model; InputError where it has none."""
    rows = metrics.select(kind="eval_class", metric="top1", method=method, **mt.model_where(settings))
    sigma, _ = mt.largest_noise(rows)
    if sigma is None:
        raise InputError(f"{metrics.path}: no per-class rows with spatiotemporal noise σ > 0 for {method}")
    return sigma


def class_scores(metrics, settings, method, metric, sigma):
    """Series of ``metric`` (%) indexed by condition, label, seed of one method of the settings'
    model: condition ``clean``, and ``noisy`` at spatiotemporal noise ``sigma`` (empty without rows)."""
    rows = metrics.match(kind="eval_class", metric=metric, method=method, **mt.model_where(settings))
    noisy = rows[(rows["perturbation"] == "noise_st") & (rows["x"] == sigma)]
    chosen = {"clean": rows[rows["perturbation"] == "clean"], "noisy": noisy}
    parts = {}
    for condition, r in chosen.items():
        index = pd.MultiIndex.from_arrays([r["label"].astype(int), r["seed"]], names=["label", "seed"])
        parts[condition] = pd.Series(r["value"].to_numpy() * 100, index=index)
    return pd.concat(parts, names=["condition"])


def class_rows(settings, labels):
    """[(row name, kind, labels)]: all classes, the dataset's groups (their classes present; a
    group without one is left out), then every class present."""
    names = class_names(settings["dataset"], settings["num_classes"])
    groups = class_groups(settings["dataset"], settings["num_classes"])
    present = {name: [k for k in members if k in labels] for name, members in groups.items()}
    rows = [(ALL, "all", labels)] + [(name, "group", members) for name, members in present.items() if members]
    return rows + [(names[k], "class", [k]) for k in labels]


def row_means(scores, labels):
    """{condition: Series of the mean of ``scores`` (``class_scores``) over ``labels`` per seed}
    (empty where none of ``labels`` has a score)."""
    chosen = scores[scores.index.get_level_values("label").isin(labels)]
    means = chosen.groupby(level=["condition", "seed"]).mean()
    conditions = means.index.get_level_values("condition")
    return {condition: means[conditions == condition].droplevel("condition") for condition in ("clean", "noisy")}


def cells(metrics, settings):
    """One record per (row, method): σ, each condition's mean and 95 % CI, the noise cost and the
    difference to the baseline in each condition, both paired by seed (NaN for the baseline), and
    each condition's share of samples predicted as the partner class and what the noise adds to
    it, paired by seed (NaN unless every class of the row has one)."""
    methods = settings["table_methods"][:2]
    sigmas = sorted({largest_sigma(metrics, settings, method) for method in methods})
    if len(sigmas) > 1:
        raise InputError(f"{metrics.path}: the methods' largest noise σ differ: {sigmas}")
    tops = {method: class_scores(metrics, settings, method, "top1", sigmas[0]) for method in methods}
    partner = {method: class_scores(metrics, settings, method, "to_partner", sigmas[0]) for method in methods}
    labels = sorted(set().union(*(top1.index.get_level_values("label") for top1 in tops.values())))
    if labels[-1] >= settings["num_classes"]:
        raise InputError(
            f"{metrics.path}: column 'label': class {labels[-1]} of {mt.describe(mt.model_where(settings))} "
            f"is not one of the dataset's {settings['num_classes']} classes (num_classes)"
        )
    records = []
    for name, kind, members in class_rows(settings, labels):
        scores = {method: row_means(top1, members) for method, top1 in tops.items()}
        baseline = scores[methods[0]]
        for method, score in scores.items():
            label = members[0] if kind == "class" else ""
            cost, cost_ci, n = paired_difference(score["noisy"], score["clean"])  # n: seeds with both
            record = {"classes": name, "kind": kind, "label": label, "method": method, "sigma": sigmas[0], "n_seeds": n}
            for condition, values in score.items():
                mean, ci, _ = mean_ci(values)
                delta, delta_ci, _ = (
                    (NAN, NAN, 0) if score is baseline else paired_difference(baseline[condition], values)
                )
                record |= {condition: mean, f"{condition}_ci95": ci}
                record |= {f"delta_{condition}": delta, f"delta_{condition}_ci95": delta_ci}
            paired_row = set(members) <= set(partner[method].index.get_level_values("label"))
            shares = row_means(partner[method], members)
            for condition, values in shares.items():
                mean, ci, _ = mean_ci(values) if paired_row else (NAN, NAN, 0)
                record |= {f"to_partner_{condition}": mean, f"to_partner_{condition}_ci95": ci}
            added, added_ci, _ = paired_difference(shares["clean"], shares["noisy"]) if paired_row else (NAN, NAN, 0)
            record |= {"to_partner_added": added, "to_partner_added_ci95": added_ci}
            records.append(record | {"cost": cost, "cost_ci95": cost_ci})
    return pd.DataFrame(records, columns=COLUMNS)
