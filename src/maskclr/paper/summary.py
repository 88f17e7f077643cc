"""``python -m maskclr.paper.summary``: is MaskCLR more robust than the baseline? Seed by seed.

    python -m maskclr.paper.summary --metrics results/metrics.csv --settings-json '{...}' \\
        --out-csv results/tables/robustness_summary.csv --out-md results/tables/robustness_summary.md

For the settings' model (dataset, split, backbone) and its first two table methods (baseline,
then MaskCLR), each seed's top-1 is averaged within a group of perturbations; the groups'
differences are paired by seed. The Markdown states, for every group, in how many seeds MaskCLR
came out ahead and by how much, favourable or not.
"""

import argparse

import pandas as pd

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output
from maskclr.paper import metrics as mt
from maskclr.paper.style import method_label

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


def group_scores(metrics, settings, method):
    """{group: Series of top-1 (%) per seed} for one method of the settings' model."""
    where = {"kind": "eval", "metric": "top1", "dataset": settings["dataset"], "split": settings["split"],
             "backbone": settings["backbone"], "method": method}
    rows = metrics.select(**where)
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
        if chosen.empty:
            raise InputError(f"{metrics.path}: no rows for {method}, {name} ({perturbation})")
        scores[name] = chosen.groupby("seed")["value"].mean() * 100
    return scores


def summary(metrics, settings):
    """One row per group: both methods' mean ± std over seeds, the paired difference, the wins."""
    baseline, method = settings["table_methods"][:2]
    base, ours = group_scores(metrics, settings, baseline), group_scores(metrics, settings, method)
    records = []
    for name, _, _ in GROUPS:
        seeds = base[name].index.intersection(ours[name].index)
        delta = ours[name][seeds] - base[name][seeds]
        records.append({"group": name, "baseline_mean": base[name][seeds].mean(),
                        "baseline_std": base[name][seeds].std(ddof=1), "method_mean": ours[name][seeds].mean(),
                        "method_std": ours[name][seeds].std(ddof=1), "delta_mean": delta.mean(),
                        "delta_std": delta.std(ddof=1), "seeds_ahead": int((delta > 0).sum()), "seeds": len(seeds)})
    return pd.DataFrame(records)


def spread(mean, std):
    return f"{mean:.1f}" if pd.isna(std) else f"{mean:.1f} ± {std:.1f}"


def markdown(table, settings):
    baseline, method = (method_label(m) for m in settings["table_methods"][:2])
    lines = [f"| perturbation | {baseline} | {method} | Δ (points) | {method} ahead |", "|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.group} | {spread(r.baseline_mean, r.baseline_std)} | {spread(r.method_mean, r.method_std)}"
                     f" | {r.delta_mean:+.1f} | {r.seeds_ahead} of {r.seeds} seeds |")
    robust = table[table["group"] != "clean"]
    ahead = robust[robust["seeds_ahead"] * 2 > robust["seeds"]]["group"].tolist()
    behind = robust[robust["seeds_ahead"] * 2 <= robust["seeds"]]["group"].tolist()
    verdict = (f"{method} is ahead of {baseline} in most seeds under: {', '.join(ahead) or 'none'}; "
               f"not ahead under: {', '.join(behind) or 'none'}.")
    return "\n".join(lines) + "\n\n" + verdict + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.paper.summary", description=__doc__.split("\n")[0])
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--settings-json", required=True)
    parser.add_argument("--out-csv", required=True)
    parser.add_argument("--out-md", required=True)
    args = parser.parse_args(argv)
    settings = mt.load_settings(args.settings_json, ("dataset", "split", "backbone", "train_estimator",
                                                     "table_methods"))
    table = summary(mt.load(args.metrics), settings)
    with atomic_output(args.out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4f", lineterminator="\n")
    with atomic_output(args.out_md) as tmp:
        tmp.write_text(markdown(table, settings))


if __name__ == "__main__":
    run_cli(main)
