"""``python -m maskclr.paper.tables``: Tables 1–3 and the other tables, each as a booktabs ``tabular`` and a CSV twin.

    python -m maskclr.paper.tables {table1,table2,table3,classes,noise,occlusion,activation_spread} \\
        --metrics results/metrics.csv --paper resources/paper_numbers.csv --settings-json '{...}' \\
        --out-tex T.tex --out-csv T.csv

- table1: clean top-1 (%) per backbone, pretraining and method × dataset and split (every dataset
  with models, each tested on its training tier: ``train_estimators``), each method's Δ to the
  first table method (the baseline) of the same backbone and pretraining, beside the paper's
  Table 1 for each dataset's reference dataset (labelled as such); a baseline fine-tuned from a
  pretraining is that pretraining's row ("MAMP (Transformer)"), MaskCLR from it
  "MaskCLR (Transformer, from MAMP)";
- table2: the settings' model (``pretrain``: its pretraining, null = from scratch) tested,
  unchanged, on the LQ / MQ / HQ test poses (clean; a native 3D model on its Kinect tier only);
- table3: the same on skeletons with frames masked plus Gaussian noise (``frames_noise``);
- classes: the settings' model's top-1 per class group and per class, clean and under the largest
  spatiotemporal noise σ, baseline beside MaskCLR (``maskclr.paper.classes``): which classes a
  perturbation costs;
- noise: the numbers of Fig. 5: the settings' model's top-1 at every σ of the grid, spatiotemporal
  and spatial noise, each table method's difference to the first paired by seed: where along σ an
  advantage appears, with its interval (the robustness summary averages over σ > 0);
- occlusion: the numbers of Fig. 6 the same way: top-1 per occluded body part and per fraction of
  randomly occluded joints (the summary averages over the parts and over the fractions);
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
from maskclr.paper import classes
from maskclr.paper import metrics as mt
from maskclr.paper.style import (
    BACKBONES,
    DATASETS,
    ESTIMATORS,
    PRETRAININGS,
    SCRATCH,
    SPLITS,
    TIERS,
    describe_model,
    display_name,
    method_label,
    model_order,
    noise_unit,
    ordered,
    rank,
)
from maskclr.robustness.perturbations import PART_NAMES

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


def table_note(settings, model=""):
    """A table's note: ``model`` (what the table shows, in TeX; may be empty), then ``NOTE`` with
    the first table method as the one the others are compared with."""
    return (f"{model}. " if model else "") + NOTE.format(first=tex(method_label(settings["table_methods"][0])))


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


def paper_row(backbone, pretrain, method):
    """The paper's Table 1 row our ``method`` on ``backbone`` after ``pretrain`` is compared with:
    a baseline fine-tuned from a pretraining is that pretraining's row (SkeletonMAE, MAMP), one
    from scratch the backbone's paper baseline; any other method the paper's row of that method."""
    if method != "baseline":
        return PAPER_METHOD.get(method)
    return PAPER_BASELINE.get(backbone) if pretrain == SCRATCH else display_name(PRETRAININGS, pretrain)


def paper_top1(paper, dataset, backbone, row, split):
    """The paper's top-1 of ``row`` on ``backbone`` (NaN where the paper has none)."""
    return paper.get((dataset, backbone, row, split), NAN)


def row_label(backbone, pretrain, method):
    """Table 1's name of a row: the method's label from scratch; after a pretraining, the baseline
    is named after the pretraining ("MAMP (Transformer)") and any other method says where it
    started ("MaskCLR (Transformer, from MAMP)")."""
    if pretrain == SCRATCH:
        return method_label(method)
    net, source = display_name(BACKBONES, backbone), display_name(PRETRAININGS, pretrain)
    if method == "baseline":
        return f"{source} ({net})"
    return f"{PAPER_METHOD.get(method, method_label(method))} ({net}, from {source})"


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
    """One record per (backbone, pretrain, method, dataset, split) of every dataset with models in
    the metrics, each dataset tested on its training tier: our top-1 (NaN where that model was not
    trained), Δ to the first method of the same backbone and pretraining where both were, and the
    paper's for the reference dataset. A method no column trains has no records."""
    methods, tiers = settings["table_methods"], settings["train_estimators"]
    where = {"kind": "eval", "perturbation": "clean", "metric": "top1", "method": methods}
    metrics = metrics.on_training_tier(tiers)
    keys = ["dataset", "backbone", "split", "pretrain", "method"]
    stats = metrics.summary(keys, **where).set_index(keys)
    seeds = metrics.per_seed(keys, **where)
    models = sorted({key[:4] for key in stats.index})
    columns = [
        (d, s)
        for d in ordered({m[0] for m in models}, DATASETS)
        for s in ordered({m[2] for m in models if m[0] == d}, SPLITS)
    ]
    rows = [
        (backbone, pretrain)
        for backbone in ordered({m[1] for m in models}, BACKBONES)
        for pretrain in ordered({m[3] for m in models if m[1] == backbone}, [SCRATCH, *PRETRAININGS])
    ]
    trained = {(backbone, pretrain, method) for _, backbone, _, pretrain, method in stats.index}
    records = [  # a method trained for none of the columns (a baseline-only control row) has no row
        table1_record(stats, seeds, paper, settings, (d, backbone, s, pretrain), method)
        for backbone, pretrain in rows
        for method in methods
        if (backbone, pretrain, method) in trained
        for d, s in columns
    ]
    return pd.DataFrame(records).astype({"n_seeds": "Int64"})


def table1_record(stats, seeds, paper, settings, model, method):
    """Table 1's cell of ``method`` on ``model`` (dataset, backbone, split, pretrain), NaNs where
    it was not trained (the paper's too); the paper's Δ only where the paper compares the same two rows."""
    dataset, backbone, split, pretrain = model
    first = settings["table_methods"][0]
    ours = stats.reindex([(*model, method)]).iloc[0]
    reference = reference_dataset(settings, dataset)
    row, first_row = paper_row(backbone, pretrain, method), paper_row(backbone, pretrain, first)
    trained = not pd.isna(ours["mean"])
    # The paper's number only beside one of ours: a 2D row has no native 3D cell, and vice versa.
    ref = paper_top1(paper, reference, backbone, row, split) if trained else NAN
    compared = method != first and trained and (*model, first) in stats.index
    delta, delta_ci, _ = mt.paired(seeds, (*model, first), (*model, method)) if compared else (NAN, NAN, 0)
    # The paper's MaskCLR row of a backbone is fine-tuned from that backbone's paper baseline
    # (MAMP for the Transformer): its printed gain is no gain over another pretraining.
    same_start = pretrain == SCRATCH or first_row == PAPER_BASELINE.get(backbone)
    return {
        "dataset": dataset, "backbone": backbone, "pretrain": pretrain, "method": method, "split": split,
        "top1": ours["mean"], "top1_std": ours["std"], "top1_ci95": ours["ci95"],
        "n_seeds": ours["n_seeds"], "delta": delta, "delta_ci95": delta_ci,
        "paper_dataset": reference, "paper_method": row, "paper_top1": ref,
        "paper_delta": ref - paper_top1(paper, reference, backbone, first_row, split)
        if compared and same_start else NAN,
    }  # fmt: skip


def table1(metrics, paper, settings):
    """Table 1 as (TeX, CSV frame): a column per dataset and split, the paper's beside them."""
    cells = table1_cells(metrics, paper, settings)
    columns = list(dict.fromkeys(zip(cells["dataset"], cells["split"])))
    references = [reference_dataset(settings, d) for d, _ in columns]
    tiers = [settings["train_estimators"][d] for d, _ in columns]
    n = len(columns)
    trained = (
        f"trained and tested on {display_name(TIERS, tiers[0])}"
        if len(set(tiers)) == 1
        else "each trained and tested on its dataset's tier"
    )
    groups = [rf"\multicolumn{{{n}}}{{c}}{{ours, {trained}}}"]
    names = [
        f"{tex(display_name(DATASETS, d))} {display_name(SPLITS, s)}"
        + ("" if len(set(tiers)) == 1 else f" ({display_name(TIERS, t)})")
        for (d, s), t in zip(columns, tiers)
    ]
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
    for backbone, block in cells.groupby("backbone", sort=False):
        group = []
        for (pretrain, method), row in block.groupby(["pretrain", "method"], sort=False):
            line = [tex(row_label(backbone, pretrain, method)), display_name(BACKBONES, backbone)]
            line += [accuracy(r.top1, r.top1_ci95, r.delta, r.delta_ci95) for r in row.itertuples()]
            if reference:
                paper_rows = row["paper_method"].dropna()
                line += [paper_rows.iloc[0] if len(paper_rows) else DASH]
                line += [accuracy(r.paper_top1, delta=r.paper_delta) for r in row.itertuples()]
            group.append(line)
        body.append(group)
    table_columns = "ll " + "c" * n + (" l" + "c" * n if reference else "")
    text = table_note(settings)
    if (cells["pretrain"] != SCRATCH).any():
        text += " A model fine-tuned from a pretraining is compared with the first method from the same pretraining."
    return tabular(table_columns, header, body, text), cells


# ---- Tables 2 and 3 ---------------------------------------------------------------------------


def test_tiers(settings):
    """The tiers the settings' model is tested on: the three 2D tiers, or a native 3D dataset's one."""
    tier = settings["train_estimator"]
    return list(ESTIMATORS) if tier in ESTIMATORS else [tier]


def estimator_cells(metrics, settings, perturbation):
    """One record per (method, test tier) of the settings' model under one ``perturbation``."""
    methods, first = settings["table_methods"], settings["table_methods"][0]
    where = {
        **mt.model_where(settings),
        "test_estimator": test_tiers(settings),
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
        for tier in where["test_estimator"]:
            if (method, tier) not in stats.index:
                missing = {**where, "method": method, "test_estimator": tier}
                raise InputError(f"{metrics.path}: no rows for {mt.describe(missing)}")
            cell = method_cell(stats, seeds, first, method, (tier,))
            records.append({"method": method, "test_estimator": tier, "level": levels[0], **cell})
    return pd.DataFrame(records)


def method_cell(stats, seeds, first, method, point):
    """A table cell's CSV columns: ``method``'s top-1 at ``point`` (the keys of ``stats``, a
    ``Metrics.summary`` indexed by method then the point, and of ``seeds``, its ``per_seed``, after
    the method) and its difference to ``first``, paired by seed (NaN for ``first`` itself)."""
    cell = stats.loc[(method, *point)]
    delta, delta_ci, _ = mt.paired(seeds, (first, *point), (method, *point)) if method != first else (NAN, NAN, 0)
    return {
        "top1": cell["mean"],
        "top1_std": cell["std"],
        "top1_ci95": cell["ci95"],
        "n_seeds": int(cell["n_seeds"]),
        "delta": delta,
        "delta_ci95": delta_ci,
    }


def estimator_table(metrics, settings, perturbation):
    """Table 2 (``clean``) or Table 3 (``frames_noise``) as (TeX, CSV frame)."""
    cells = estimator_cells(metrics, settings, perturbation)
    model = describe_model(settings)
    condition = (
        "" if perturbation == "clean" else rf"; {float(cells['level'].iloc[0]) * 100:g}\,\% frames masked + noise"
    )
    tiers = test_tiers(settings)
    header = [
        rf" & \multicolumn{{{len(tiers)}}}{{c}}{{{tex(model)}{condition}; tested on}} \\",
        rf"\cmidrule(lr){{2-{1 + len(tiers)}}}",
        " & ".join(["Method", *(display_name(TIERS, t) for t in tiers)]) + r" \\",
    ]
    rows = [
        [tex(method_label(method)), *(accuracy(r.top1, r.top1_ci95, r.delta, r.delta_ci95) for r in row.itertuples())]
        for method, row in cells.groupby("method", sort=False)
    ]
    return tabular("l" + "c" * len(tiers), header, [rows], table_note(settings)), cells


# ---- Fig. 5's and Fig. 6's numbers ------------------------------------------------------------

NOISE = (("noise_st", "spatiotemporal"), ("noise_spatial", "spatial"))
# Clean first: what each occlusion costs (Fig. 6's joint curve starts there too).
OCCLUSION = (("clean", "clean"), ("part", "part occlusion"), ("joints", "random joint occlusion"))


def level_order(level):
    """Sort key of a grid level: numbers ascending, then body parts in ``PART_NAMES`` order."""
    number = pd.to_numeric(level, errors="coerce")
    if pd.notna(number):
        return (0, float(number), "")
    return (1, PART_NAMES.index(level) if level in PART_NAMES else len(PART_NAMES), level)


def grid_cells(metrics, settings, kinds):
    """One record per (perturbation of ``kinds``, level, table method) of the settings' model on
    its training tier, in ``kinds``, ``level_order`` and table-method order: top-1 and each later
    method's difference to the first, paired by seed."""
    methods, first = settings["table_methods"], settings["table_methods"][0]
    where = {**mt.model_where(settings), "kind": "eval", "metric": "top1", "method": methods}
    where["perturbation"] = [kind for kind, _ in kinds]
    by = ["method", "perturbation", "level"]
    stats = metrics.summary(by, **where).set_index(by)  # InputError without rows
    seeds = metrics.per_seed(by, **where)
    records = []
    for kind, _ in kinds:
        for level in sorted({lv for _, k, lv in stats.index if k == kind}, key=level_order):
            for method in methods:
                if (method, kind, level) not in stats.index:
                    missing = {**where, "perturbation": kind, "level": level, "method": method}
                    raise InputError(f"{metrics.path}: no rows for {mt.describe(missing)}")
                cell = method_cell(stats, seeds, first, method, (kind, level))
                records.append({"perturbation": kind, "level": level, "method": method, **cell})
    return pd.DataFrame(records)


def kinds_present(cells, kinds):
    """The (perturbation, name) of ``kinds`` that have cells, in their order."""
    found = set(cells["perturbation"])
    return [(kind, name) for kind, name in kinds if kind in found]


def noise_table(metrics, paper, settings):
    """Fig. 5's numbers: top-1 per σ, spatiotemporal and spatial noise side by side, one column
    per table method, as (TeX, CSV frame)."""
    cells = grid_cells(metrics, settings, NOISE).rename(columns={"level": "sigma"}).astype({"sigma": float})
    methods = settings["table_methods"]
    kinds = kinds_present(cells, NOISE)
    header = [
        " & " + " & ".join(rf"\multicolumn{{{len(methods)}}}{{c}}{{{name} noise}}" for _, name in kinds) + r" \\",
        " ".join(rf"\cmidrule(lr){{{2 + i * len(methods)}-{1 + (i + 1) * len(methods)}}}" for i in range(len(kinds))),
        " & ".join([r"$\sigma$", *(tex(method_label(m)) for _ in kinds for m in methods)]) + r" \\",
    ]
    by_point = cells.set_index(["perturbation", "sigma", "method"])
    numbers = ["top1", "top1_ci95", "delta", "delta_ci95"]
    rows = [
        [f"{sigma:g}"]
        + [
            accuracy(*by_point.loc[(kind, sigma, m), numbers]) if (kind, sigma, m) in by_point.index else DASH
            for kind, _ in kinds
            for m in methods
        ]
        for sigma in sorted(set(cells["sigma"]))  # a σ of one kind of noise only: dashes under the other
    ]
    text = table_note(settings, rf"{tex(describe_model(settings))}, $\sigma$ in {tex(noise_unit(settings))}")
    return tabular("l" + "c" * len(methods) * len(kinds), header, [rows], text), cells


def occlusion_label(kind, level, percent=r"\,\%"):
    """A row of the occlusion table: nothing occluded, the body part, or the share of joints zeroed
    (``percent``: TeX's; Markdown's is " %")."""
    if kind == "clean":
        return "none"
    return level.replace("_", " ") if kind == "part" else f"{float(level) * 100:g}{percent} of joints"


def occlusion_table(metrics, paper, settings):
    """Fig. 6's numbers: top-1 clean, per occluded body part, then per fraction of randomly
    occluded joints, one column per table method, as (TeX, CSV frame)."""
    cells = grid_cells(metrics, settings, OCCLUSION)
    methods = settings["table_methods"]
    header = [" & ".join(["Occluded", *(tex(method_label(m)) for m in methods)]) + r" \\"]
    groups = [
        [
            [occlusion_label(kind, level)]
            + [accuracy(r.top1, r.top1_ci95, r.delta, r.delta_ci95) for r in rows.itertuples()]
            for level, rows in block.groupby("level", sort=False)
        ]
        for kind, block in cells.groupby("perturbation", sort=False)
    ]
    text = table_note(settings, f"{tex(describe_model(settings))}, occluded joints zeroed in the model input")
    return tabular("l" + "c" * len(methods), header, groups, text), cells


# ---- Activation spread -------------------------------------------------------------------------

SPREAD = (("joints_effective", "effective joints", 1.0), ("top3_share", r"top-3 share (\%)", 100.0))


def spread_cells(metrics, settings):
    """One record per evaluated (dataset, split, backbone, pretrain, method), tested on its dataset's
    training tier: each spread metric's mean, 95 % CI and its difference to the first table method
    of the same pretraining, paired by seed."""
    first = settings["table_methods"][0]
    keys = ["dataset", "split", "backbone", "pretrain", "method"]
    where = {"kind": "eval", "perturbation": "clean"}
    metrics = metrics.on_training_tier(settings["train_estimators"])
    records = {}
    for metric, _, scale in SPREAD:
        stats = metrics.summary(keys, scale=scale, metric=metric, **where).set_index(keys)
        seeds = metrics.per_seed(keys, scale=scale, metric=metric, **where)
        for key, cell in stats.iterrows():
            baseline = (*key[:4], first)
            compared = key[4] != first and baseline in stats.index
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
        return *model_order(*key[:4]), rank(key[4], methods), key[4]

    return pd.DataFrame([records[key] for key in sorted(records, key=order)])


def spread_table(metrics, paper, settings):
    """The activation spread of every evaluated model as (TeX, CSV frame)."""
    cells = spread_cells(metrics, settings)
    header = [" & ".join(["Model", "Method", *(label for _, label, _ in SPREAD)]) + r" \\"]
    body = []
    for _, rows in cells.groupby(["dataset", "split", "backbone", "pretrain"], sort=False):
        group = []
        for r in rows.itertuples():
            names = (
                display_name(DATASETS, r.dataset),
                display_name(SPLITS, r.split),
                display_name(BACKBONES, r.backbone),
            )
            source = "" if r.pretrain == SCRATCH else f" from {display_name(PRETRAININGS, r.pretrain)}"
            model = " ".join(names) + source
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
        r"the normalised activation (the joint count = uniform, 1 = one joint) and the share of the 3 most "
        r"activated joints; "
        r"mean over seeds $\pm$ 95\,\% CI; in parentheses the difference to "
        + tex(method_label(settings["table_methods"][0]))
        + r", paired by seed."
    )
    return tabular("ll" + "c" * len(SPREAD), header, body, note), cells


# ---- Top-1 per class -----------------------------------------------------------------------------


def class_table(metrics, paper, settings):
    """Top-1 per class group and per class, clean and at the largest noise σ, as (TeX, CSV frame)."""
    cells = classes.cells(metrics, settings)
    methods = settings["table_methods"][:2]
    sigma = rf"$\sigma$ = {cells['sigma'].iloc[0]:g}"
    header = [
        " & " + " & ".join(rf"\multicolumn{{2}}{{c}}{{{tex(method_label(m))}}}" for m in methods) + r" \\",
        " ".join(rf"\cmidrule(lr){{{2 + 2 * i}-{3 + 2 * i}}}" for i in range(len(methods))),
        " & ".join(["Classes", *(["clean", sigma] * len(methods))]) + r" \\",
    ]
    body = []
    for _, rows in cells.groupby(cells["kind"] == "class", sort=False):  # all and groups, then classes
        body.append(
            [
                [tex(row["classes"].iloc[0])]
                + [
                    accuracy(
                        getattr(r, c), getattr(r, f"{c}_ci95"), getattr(r, f"delta_{c}"), getattr(r, f"delta_{c}_ci95")
                    )
                    for r in row.itertuples()
                    for c in ("clean", "noisy")
                ]
                for _, row in rows.groupby(["kind", "label", "classes"], sort=False)
            ]
        )
    note = (
        rf"Top-1 (\%) of {tex(describe_model(settings))}, clean and under spatiotemporal noise "
        rf"($\sigma$ in {tex(noise_unit(settings))}); all classes and a group: the mean over their classes "
        r"(mean class accuracy); mean over seeds $\pm$ 95\,\% CI; in parentheses the difference to "
        + tex(method_label(methods[0]))
        + ", paired by seed."
    )
    return tabular("l" + "c" * 2 * len(methods), header, body, note), cells


TABLES = {
    "table1": table1,
    "classes": class_table,
    "noise": noise_table,
    "occlusion": occlusion_table,
    "activation_spread": spread_table,
    "table2": lambda m, p, s: estimator_table(m, s, "clean"),
    "table3": lambda m, p, s: estimator_table(m, s, "frames_noise"),
}
# The settings each table reads; the workflow passes each table these keys only (common.smk).
REQUIRED = {
    "table1": ("train_estimators", "table_methods", "reference_dataset"),
    "table2": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods"),
    "table3": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods"),
    "activation_spread": ("train_estimators", "table_methods"),
    "classes": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods", "num_classes"),
    "noise": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods"),
    "occlusion": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods"),
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
