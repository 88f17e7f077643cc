"""``python -m maskclr.paper.figures``: the paper's figures, as PDF and PNG.

    python -m maskclr.paper.figures {fig5,fig6,classes,confusion,activation,training_curves,pretraining} \\
        --metrics results/metrics.csv --settings-json '{...}' --out-pdf F.pdf --out-png F.png \\
        [--activations results/eval/.../baseline/seed0_activation.npz ...] [--confusion results/tables/confusion.csv]

- fig5: top-1 (%) vs noise σ, spatiotemporal and spatial noise, one curve per method; below,
  each method's difference to the first table method (the baseline), paired by seed;
- fig6: top-1 (%) per occluded body part (bars) and vs the fraction of occluded joints (curves);
  below, the differences as in fig5;
- classes: the clean top-1 and what the largest spatiotemporal noise σ costs, per class group and
  per class, baseline beside MaskCLR, and MaskCLR − baseline under that σ, paired by seed (the
  table ``classes`` as bars);
- confusion: per table method, the clean confusion matrix and what each of
  ``paper.error_conditions`` adds to it, and the second method's matrices minus the first's
  (what a condition adds paired by seed), the classes ordered by group
  (``results/tables/confusion.csv``, made by ``maskclr.paper.confusion``, which says where the
  errors go in numbers);
- activation: per method (rows) and class (columns), the class's mean skeleton with its joints
  coloured by the model's mean joint activation (one shared colour scale); H36M-17 (2D) or
  NTU-25 (native 3D), by the files' joint count;
- training_curves: test top-1 (%) per epoch, one panel per (split, backbone, pretraining), stage 1
  followed by the stage-2 methods on the same epoch axis;
- pretraining: the self-supervised pretraining loss per epoch, one panel per (dataset, split,
  backbone) that was pretrained, one curve per pretraining. Every pretrained dataset, not only the
  settings': the paper's pretrainings are of the native 3D twins of its 2D dataset.

fig5, fig6, classes, confusion and activation show the settings' model: its dataset, split,
backbone and pretraining (``pretrain``, null = from scratch).

Curves and bars are the mean over seeds; the shading / error bars are its 95 % confidence
interval (Student's t, ``maskclr.paper.stats``) where there are several seeds. The activation
figure labels each method's row with its activation spread (effective number of joints, top-3
share; see ``maskclr.evaluate``); each activation file names its own method (the evaluation's
identity), so their paths do not matter. Each figure is built by a function returning the ``Figure``.
"""

import argparse
import itertools

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from maskclr.data.classes import class_groups, class_names
from maskclr.data.joints import H36M_JOINTS, NTU25_BONES, NTU25_JOINTS
from maskclr.errors import InputError, run_cli
from maskclr.fileio import load_npz
from maskclr.paper import classes, confusion
from maskclr.paper import metrics as mt
from maskclr.paper.style import (
    BACKBONES,
    DATASETS,
    METHODS,
    ONE_PANEL,
    PRETRAININGS,
    SCRATCH,
    SPLITS,
    TWO_PANELS,
    WITH_DIFFERENCES,
    condition_label,
    describe_model,
    display_name,
    method_label,
    method_style,
    noise_unit,
    ordered,
    pretrain_of,
    pretraining_style,
    save,
)
from maskclr.robustness.perturbations import PART_NAMES

# Parent of each H36M-17 joint (MotionBERT's skeleton); the bones are the (parent, joint) pairs.
H36M_PARENTS = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
H36M_BONES = tuple((parent, joint) for joint, parent in enumerate(H36M_PARENTS) if parent >= 0)
# The skeletons an activation file can hold, by joint count: (bones, whether y points down). The
# 2D poses are in image coordinates; Kinect's camera space (the native 3D path) has y up.
SKELETONS = {len(H36M_JOINTS): (H36M_BONES, True), len(NTU25_JOINTS): (NTU25_BONES, False)}
NOISE_PANELS = (("noise_st", "spatiotemporal noise"), ("noise_spatial", "spatial noise"))
ACTIVATION_CMAP = "viridis"  # perceptually uniform and colour-blind safe
ABSENT = "#e69f00"  # Okabe-Ito orange: a confusion row of a class without test samples
ACCURACY = "top-1 (%)"


# ---- data -------------------------------------------------------------------------------------


def eval_where(settings, method):
    """Top-1 rows of one method of the settings' model, tested on its training tier."""
    return {**mt.model_where(settings), "kind": "eval", "metric": "top1", "method": method}


def methods_present(metrics, settings, perturbation):
    """The ``fig5_methods`` with rows for ``perturbation`` (settings order); at least one."""
    present = [
        m
        for m in settings["fig5_methods"]
        if not metrics.match(perturbation=perturbation, **eval_where(settings, m)).empty
    ]
    if not present:
        where = {**eval_where(settings, settings["fig5_methods"]), "perturbation": perturbation}
        raise InputError(f"{metrics.path}: no rows for {mt.describe(where)}")
    return present


def from_clean(points, perturbation):
    """``points(perturbation)``, a frame with a numeric level column ``x``, with
    ``points("clean")`` in front where the perturbation's own grid has no level 0 (joint occlusion
    starts at 15 %): the clean input stands in for level 0."""
    stats = points(perturbation)
    if not (stats["x"] == 0).any():
        stats = pd.concat([points("clean"), stats], ignore_index=True)
    return stats


def curve(metrics, settings, method, perturbation):
    """Top-1 (%) per numeric level (column ``x``), from the clean input (``from_clean``)."""
    where = eval_where(settings, method)
    return from_clean(lambda kind: metrics.summary(["x"], perturbation=kind, **where), perturbation)


def reference_of(settings):
    """The method the figures' differences are taken to: the first table method (the baseline)."""
    return settings["table_methods"][0]


def paired_points(metrics, settings, method, perturbation, by):
    """``method``'s top-1 minus the reference's (``reference_of``) at each ``by`` point of
    ``perturbation`` both have (``"x"``: numeric level, ``"level"``: e.g. a body part), paired by
    seed, in points: a frame of ``by``, ``mean`` and ``ci95`` (NaN for one seed), sorted by ``by``."""
    reference = reference_of(settings)
    where = {**eval_where(settings, [reference, method]), "perturbation": perturbation}
    seeds = metrics.per_seed(["method", by], **where)
    methods = seeds.index.get_level_values("method")
    points = set(seeds.index.get_level_values(by)[methods == reference])
    points &= set(seeds.index.get_level_values(by)[methods == method])
    if not points:
        raise InputError(f"{metrics.path}: no rows of both methods for {mt.describe(where)}")
    records = [(p, *mt.paired(seeds, (reference, p), (method, p))[:2]) for p in sorted(points)]
    # a point whose rows share no seed has no difference (NaN): left out
    return pd.DataFrame(records, columns=[by, "mean", "ci95"]).dropna(subset=["mean"]).reset_index(drop=True)


def difference_curve(metrics, settings, method, perturbation):
    """``paired_points`` per numeric level, from the clean input (``from_clean``, as ``curve``)."""
    return from_clean(lambda kind: paired_points(metrics, settings, method, kind, "x"), perturbation)


def compared(settings, methods):
    """The ``methods`` drawn against the reference in the difference panels: all but the
    reference, none when the reference is not drawn."""
    reference = reference_of(settings)
    return [m for m in methods if m != reference] if reference in methods else []


def zero_line(ax, vertical=False):
    """The dashed line at no difference."""
    (ax.axvline if vertical else ax.axhline)(0.0, color="0.4", linewidth=0.8, linestyle="--")


def panel_grid(settings, shown):
    """Two panels side by side and, when any of ``shown`` (the methods each panel draws) has a
    method to compare (``compared``), below them two of differences to the reference, with their
    zero lines and label. Returns (figure, rows of axes: [top] or [top, differences])."""
    if not any(compared(settings, methods) for methods in shown):
        fig = Figure(figsize=TWO_PANELS, layout="constrained")
        return fig, [fig.subplots(1, 2, sharey=True)]
    fig = Figure(figsize=WITH_DIFFERENCES, layout="constrained")
    top, bottom = fig.subplots(2, 2, sharex="col", sharey="row", height_ratios=[3, 2])
    for ax in bottom:
        zero_line(ax)
    bottom[0].set_ylabel(f"Δ to {method_label(reference_of(settings))}\n(points, paired)")
    return fig, [top, bottom]


def load_activation(path):
    """An evaluation's ``_activation.npz``: activation (C, J), pose (C, J, 2), labels (C,) and
    the spread scalars joints_effective, top3_share; J = 17 (H36M) or 25 (NTU-25)."""
    data = load_npz(path, ("activation", "pose", "labels", "joints_effective", "top3_share"))
    c, j = len(data["labels"]), data["activation"].shape[-1]
    if j not in SKELETONS:
        raise InputError(
            f"{path}: array 'activation' has {j} joints, expected one of {sorted(SKELETONS)} (H36M, NTU-25)"
        )
    for key, shape in (("activation", (c, j)), ("pose", (c, j, 2)), ("labels", (c,))):
        if data[key].shape != shape:
            raise InputError(f"{path}: array '{key}' has shape {data[key].shape}, expected {shape}")
    return data


# ---- drawing ----------------------------------------------------------------------------------


def draw_curve(ax, stats, style, x_scale=1.0):
    """Mean line with markers, shaded by its 95 % CI where there are several seeds; ``style``:
    the line's label, color and marker (``method_style``, ``pretraining_style``)."""
    x = stats["x"].to_numpy() * x_scale
    ax.plot(x, stats["mean"], **style)
    if stats["ci95"].notna().any():
        low, high = stats["mean"] - stats["ci95"].fillna(0), stats["mean"] + stats["ci95"].fillna(0)
        ax.fill_between(x, low, high, color=style["color"], alpha=0.2, linewidth=0)


def grouped_bars(ax, stats, horizontal=False):
    """One bar per method (``stats``: {method: frame of ``mean`` and ``ci95`` over the same
    categories, in order}) beside each other at category 0, 1, …, with 95 % CI error bars where
    there are several seeds (horizontal: category 0 at the bottom unless the caller inverts the y axis)."""
    width = 0.8 / len(stats)
    for i, (method, frame) in enumerate(stats.items()):
        style = method_style(method)
        at = np.arange(len(frame)) + (i - (len(stats) - 1) / 2) * width
        error = frame["ci95"].fillna(0) if frame["ci95"].notna().any() else None
        draw = ax.barh if horizontal else ax.bar
        extent = {"height": width, "xerr": error} if horizontal else {"width": width, "yerr": error}
        draw(at, frame["mean"], color=style["color"], label=style["label"], error_kw={"lw": 0.8}, **extent)


def draw_skeleton(ax, pose, activation, norm):
    """Bones in grey, joints coloured by activation, pose (J, 2) upright."""
    bones, y_down = SKELETONS[len(pose)]
    ax.add_collection(LineCollection([pose[list(bone)] for bone in bones], colors="0.6", linewidths=1.0))
    ax.scatter(
        pose[:, 0],
        pose[:, 1],
        c=activation,
        cmap=ACTIVATION_CMAP,
        norm=norm,
        s=14,
        zorder=3,
        edgecolors="0.2",
        linewidths=0.3,
    )
    ax.set_aspect("equal", adjustable="datalim")
    if y_down:
        ax.invert_yaxis()
    ax.set(xticks=[], yticks=[])
    ax.grid(False)
    ax.spines[:].set_visible(False)


def epoch_panels(rows, columns, present, ylabel):
    """A grid of per-epoch panels, ``rows`` × ``columns``, keeping the (row, column) pairs in
    ``present`` (the others removed: nothing ran there; every row and column keeps one), with
    whole epochs on the x axis. Returns the figure and {(row, column): its axes}, in grid order."""
    size = (max(ONE_PANEL[0], 2.3 * len(columns)), 2.0 * len(rows) + 0.5)
    fig = Figure(figsize=size, layout="constrained")
    grid = fig.subplots(len(rows), len(columns), squeeze=False)
    panels = {}
    for cell, ax in zip(itertools.product(rows, columns), grid.ravel()):
        if cell in present:
            panels[cell] = ax
            # min_n_ticks=1: a one-epoch run (a view of ±0.05) gets tick 0, not fractions of an epoch
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        else:
            fig.delaxes(ax)
    # the first panel of each row and the lowest of each column: the grid's edge may be removed
    for row in rows:
        [ax for (r, _), ax in panels.items() if r == row][0].set_ylabel(ylabel)
    for column in columns:
        [ax for (_, c), ax in panels.items() if c == column][-1].set_xlabel("epoch")
    return fig, panels


def legend_below(fig, axes):
    """One legend under the figure for every method (or pretraining) drawn in ``axes`` (each once)."""
    handles = {label: handle for ax in axes for handle, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncols=min(len(handles), 3))


# ---- figures ----------------------------------------------------------------------------------


def draw_curves(top, bottom, metrics, settings, methods, perturbation, x_scale=1.0):
    """Each of ``methods``' top-1 curve under ``perturbation`` on ``top`` and, on ``bottom``, the
    difference to the reference of each ``compared`` one (none on a one-row ``panel_grid``)."""
    for method in methods:
        draw_curve(top, curve(metrics, settings, method, perturbation), method_style(method), x_scale)
    for method in compared(settings, methods):
        stats = difference_curve(metrics, settings, method, perturbation)
        draw_curve(bottom, stats, method_style(method), x_scale)


def fig5(metrics, settings):
    """Top-1 (%) vs σ under spatiotemporal (left) and spatial (right) Gaussian noise and, below,
    each method's difference to the reference, paired by seed (``panel_grid``)."""
    present = {perturbation: methods_present(metrics, settings, perturbation) for perturbation, _ in NOISE_PANELS}
    fig, rows = panel_grid(settings, present.values())
    for column, (perturbation, title) in enumerate(NOISE_PANELS):
        draw_curves(rows[0][column], rows[-1][column], metrics, settings, present[perturbation], perturbation)
        rows[0][column].set_title(title)
        rows[-1][column].set_xlabel(f"noise std σ ({noise_unit(settings)})")
    rows[0][0].set_ylabel(ACCURACY)
    legend_below(fig, rows[0])
    fig.suptitle(describe_model(settings))
    return fig


def fig6(metrics, settings):
    """Top-1 (%) per occluded body part (left) and vs the fraction of occluded joints (right)
    and, below, each method's difference to the reference, paired by seed (``panel_grid``)."""
    methods = methods_present(metrics, settings, "part")
    joint_methods = methods_present(metrics, settings, "joints")
    fig, rows = panel_grid(settings, [methods, joint_methods])
    (bars, joints), (bar_differences, joint_differences) = rows[0], rows[-1]
    parts = ordered(metrics.present("level", perturbation="part", **eval_where(settings, methods)), PART_NAMES)
    stats = {m: metrics.summary(["level"], perturbation="part", **eval_where(settings, m)) for m in methods}
    grouped_bars(bars, {m: s.set_index("level").reindex(parts) for m, s in stats.items()})
    differences = {m: paired_points(metrics, settings, m, "part", "level") for m in compared(settings, methods)}
    if differences:
        grouped_bars(bar_differences, {m: d.set_index("level").reindex(parts) for m, d in differences.items()})
    bar_differences.set_xticks(np.arange(len(parts)), [part.replace("_", " ") for part in parts])
    bars.set(title="part occlusion", ylabel=ACCURACY)
    draw_curves(joints, joint_differences, metrics, settings, joint_methods, "joints", x_scale=100)
    joints.set_title("random joint occlusion")
    joint_differences.set_xlabel("occluded joints (%)")
    legend_below(fig, [bars])
    fig.suptitle(describe_model(settings))
    return fig


def class_costs(metrics, settings):
    """Clean top-1 (%, left), the top-1 the largest noise σ costs (points, middle) and the second
    table method's top-1 under it minus the first's, paired by seed (points, right; not with one
    method), per class group and per class (``maskclr.paper.classes``), one bar per table method."""
    cells = classes.cells(metrics, settings)
    per_method = dict(iter(cells.groupby("method", sort=False)))
    reference, first = next(iter(per_method.items()))
    names, summaries = first["classes"], int((first["kind"] != "class").sum())
    later = {m: rows for m, rows in per_method.items() if m != reference}
    columns = [("clean", per_method), ("cost", per_method), *([("delta_noisy", later)] if later else [])]
    fig = Figure(figsize=(TWO_PANELS[0], 1.2 + 0.2 * len(names)), layout="constrained")
    axes = fig.subplots(1, len(columns), sharey=True)
    for ax, (column, shown) in zip(axes, columns):
        renamed = {column: "mean", f"{column}_ci95": "ci95"}
        grouped_bars(ax, {m: rows.rename(columns=renamed) for m, rows in shown.items()}, horizontal=True)
        # a rule between "all classes" with the groups and the single classes
        ax.axhline(summaries - 0.5, color="black", lw=0.6)
    clean, cost = axes[:2]
    clean.set_yticks(np.arange(len(names)), names)
    clean.invert_yaxis()  # shared with the other panels: once, top to bottom
    cost.axvline(0, color="black", lw=0.6)
    clean.set(title="clean", xlabel=ACCURACY, xlim=(0, 100))
    cost.set(title=f"lost at σ = {cells['sigma'].iloc[0]:g} ({noise_unit(settings)})", xlabel="top-1 lost (points)")
    if later:
        zero_line(axes[2], vertical=True)
        axes[2].set(title=f"Δ to {method_label(reference)} at that σ", xlabel="points, paired")
    legend_below(fig, [clean])
    fig.suptitle(describe_model(settings))
    return fig


def confusion_matrix(cells, settings):
    """Per table method (rows): the clean confusion (% of each true class's samples per predicted
    class, left) and what each error condition adds to it (points, a column each, one colour scale
    per column), mean over seeds; below, the second method's panels minus the first's
    (``confusion_differences``). The classes ordered by class group, the groups framed, the rows
    of classes absent from the test set in ABSENT. ``cells``: ``results/tables/confusion.csv``."""
    n = settings["num_classes"]
    groups = class_groups(settings["dataset"], n) or {"": list(range(n))}
    order = [k for members in groups.values() for k in members]
    bounds = np.cumsum([len(members) for members in groups.values()])[:-1] - 0.5
    names = class_names(settings["dataset"], n)
    ticks = np.arange(n) if n <= 40 else []  # beyond 40 classes the names would not be legible
    methods = ordered(cells["method"].unique(), settings["table_methods"])
    conditions = list(cells[["perturbation", "level"]].drop_duplicates().itertuples(index=False, name=None))
    grey, red_blue = (colormaps[name].with_extremes(bad=ABSENT) for name in ("Greys", "RdBu_r"))
    # (column, its cells, title, colour map, scale); the clean shares repeat in every condition's cells
    chosen = [confusion.at_condition(cells, *condition) for condition in conditions]
    panels = [("clean", chosen[0], "clean (% of the true class)", grey, Normalize(0, 100))]
    for condition, rows in zip(conditions, chosen):
        title = f"added by {condition_label(*condition)} (points)"
        panels.append(("added", rows, title, red_blue, symmetric(rows["added"])))
    # rows of (title, (n, n) matrix by label, colour map, scale)
    grid = [
        [
            (f"{method_label(method)}:\n{title}", label_matrix(shown[shown["method"] == method], column, n), cmap, norm)
            for column, shown, title, cmap, norm in panels
        ]
        for method in methods
    ]
    if len(methods) > 1:
        grid.append(confusion_differences(chosen, conditions, methods[:2], n, red_blue))
    side = min(3.4, 1.2 + 0.09 * n)
    fig = Figure(figsize=(len(panels) * side + 1.2, len(grid) * side + 0.6), layout="constrained")
    axes = fig.subplots(len(grid), len(panels), squeeze=False)
    for row, drawn in zip(axes, grid):
        for ax, (title, matrix, cmap, norm) in zip(row, drawn):
            image = ax.imshow(matrix[np.ix_(order, order)], cmap=cmap, norm=norm, interpolation="nearest")
            for b in bounds:
                ax.axhline(b, color="black", lw=0.5)
                ax.axvline(b, color="black", lw=0.5)
            ax.set(title=title, xlabel="predicted", ylabel="true")
            ax.set_xticks(ticks, [names[order[k]] for k in ticks], rotation=90, fontsize=4)
            ax.set_yticks(ticks, [names[order[k]] for k in ticks], fontsize=4)
            fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(describe_model(settings))
    return fig


def label_matrix(rows, column, n):
    """(n, n) by (true, predicted) label: ``column`` of the confusion cells ``rows`` of one method
    and condition, 0 where no cell is listed, NaN in the rows of classes without test samples."""
    present = np.isin(np.arange(n), rows["true_label"])
    matrix = np.where(present[:, None], np.zeros((n, n)), np.nan)
    matrix[rows["true_label"], rows["predicted_label"]] = rows[column]
    return matrix


def confusion_differences(chosen, conditions, methods, n, cmap):
    """The difference row of the confusion figure, the second of ``methods`` minus the first: its
    clean shares minus the first's (the difference of the means over seeds) and, per condition,
    what the condition adds to it minus what it adds to the first (``added_delta``, paired by
    seed), each panel on its own symmetric scale. The panels carry no intervals (confusion.csv's
    ``added_delta_ci95`` gives them); without a seed in common a condition's panel says so."""
    first, second = methods
    of = lambda rows, method: rows[rows["method"] == method]  # noqa: E731 (one method's cells)
    name = f"{method_label(second)} − {method_label(first)}"
    clean = label_matrix(of(chosen[0], second), "clean", n) - label_matrix(of(chosen[0], first), "clean", n)
    panels = [(f"{name}:\nclean (points)", clean)]
    for condition, rows in zip(conditions, chosen):
        paired = of(rows, second)
        unpaired = paired["added_delta"].isna().all()  # no seed in common: nothing to pair
        matrix = np.full((n, n), np.nan) if unpaired else label_matrix(paired, "added_delta", n)
        how = "no seed in common" if unpaired else "paired by seed (points)"
        panels.append((f"{name}:\nadded by {condition_label(*condition)},\n{how}", matrix))
    return [(title, matrix, cmap, symmetric(matrix)) for title, matrix in panels]


def symmetric(values):
    """A colour scale centred on 0 that holds every value (NaN ignored), at least ±1."""
    limit = max(1.0, float(np.nanmax(np.abs(values), initial=0.0)))
    return Normalize(-limit, limit)


def activation(settings, files):
    """Grid of skeletons: rows = ``activation_methods``, columns = ``activation_classes``."""
    methods, classes = settings["activation_methods"], settings["activation_classes"]
    names = class_names(settings["dataset"], settings["num_classes"])
    data = {method: load_activation(files[method]) for method in methods}
    rows = {}
    for method in methods:
        for cls in classes:
            found = np.flatnonzero(data[method]["labels"] == cls)
            if not found.size:
                raise InputError(f"{files[method]}: no class {cls} in 'labels'")
            rows[method, cls] = found[0]
    shown = [data[m]["activation"][i] for (m, _), i in rows.items()]
    norm = Normalize(vmin=min(a.min() for a in shown), vmax=max(a.max() for a in shown))
    fig = Figure(figsize=(1.2 * len(classes) + 1.0, 1.5 * len(methods) + 0.3), layout="constrained")
    axes = fig.subplots(len(methods), len(classes), squeeze=False)
    for (method, cls), ax in zip(rows, axes.ravel()):
        index = rows[method, cls]
        draw_skeleton(ax, data[method]["pose"][index], data[method]["activation"][index], norm)
        if method == methods[0]:
            ax.set_title(names[cls] if cls < len(names) else f"class {cls}", fontsize="small")
        if cls == classes[0]:
            spread = data[method]
            ax.set_ylabel(
                f"{method_label(method)}\n{float(spread['joints_effective']):.1f} eff. joints\n"
                f"top-3 {100 * float(spread['top3_share']):.0f} %",
                fontsize="small",
            )
    fig.colorbar(ScalarMappable(norm=norm, cmap=ACTIVATION_CMAP), ax=axes, label="joint activation", shrink=0.8)
    return fig


def training_curves(metrics, settings):
    """Test top-1 (%) per epoch; one panel per (split, backbone, pretraining) of the settings'
    dataset, so that runs fine-tuned from different pretrainings never share a panel."""
    where = {
        "kind": "history",
        "dataset": settings["dataset"],
        "test_estimator": settings["train_estimator"],
        "metric": "test_top1",
    }
    rows = metrics.select(**where)
    trained = set(zip(rows["split"], rows["backbone"], rows["pretrain"]))
    splits = ordered(set(rows["split"]), SPLITS)
    models = [
        (backbone, pretrain)
        for backbone in ordered(set(rows["backbone"]), BACKBONES)
        for pretrain in ordered({p for _, b, p in trained if b == backbone}, [SCRATCH, *PRETRAININGS])
    ]
    present = {(split, (backbone, pretrain)) for split, backbone, pretrain in trained}
    fig, panels = epoch_panels(splits, models, present, f"test {ACCURACY}")
    for (split, (backbone, pretrain)), ax in panels.items():
        model = {**where, "split": split, "backbone": backbone, "pretrain": pretrain}
        for method in ordered(metrics.present("method", **model), METHODS):
            draw_curve(ax, metrics.summary(["x"], method=method, **model), method_style(method))
        source = "" if pretrain == SCRATCH else f", from {display_name(PRETRAININGS, pretrain)}"
        ax.set(title=f"{display_name(SPLITS, split)}, {display_name(BACKBONES, backbone)}{source}")
    legend_below(fig, fig.get_axes())
    return fig


def pretraining(metrics, settings):
    """Pretraining loss per epoch (each method's own loss: MAMP's and SkeletonMAE's targets
    differ); one panel per (dataset, split) (rows) and backbone (columns) that was pretrained,
    one curve per pretraining. ``settings`` is not read: every pretrained dataset is shown."""
    where = {"kind": "pretrain_history", "metric": "loss"}
    rows = metrics.select(**where)
    trained = set(zip(rows["dataset"], rows["split"], rows["backbone"]))
    pairs = {(dataset, split) for dataset, split, _ in trained}
    data_splits = [
        (dataset, split)
        for dataset in ordered(set(rows["dataset"]), DATASETS)
        for split in ordered(set(rows["split"]), SPLITS)
        if (dataset, split) in pairs
    ]
    present = {((dataset, split), backbone) for dataset, split, backbone in trained}
    fig, panels = epoch_panels(data_splits, ordered(set(rows["backbone"]), BACKBONES), present, "pretraining loss")
    for ((dataset, split), backbone), ax in panels.items():
        model = {**where, "dataset": dataset, "split": split, "backbone": backbone}
        for pretrain in ordered(metrics.present("pretrain", **model), PRETRAININGS):
            stats = metrics.summary(["x"], scale=1.0, pretrain=pretrain, **model)  # a loss, not a %
            draw_curve(ax, stats, pretraining_style(pretrain))
        data_name = f"{display_name(DATASETS, dataset)} {display_name(SPLITS, split)}"
        ax.set(title=f"{data_name}, {display_name(BACKBONES, backbone)}")
    legend_below(fig, fig.get_axes())
    return fig


# ---- command line -----------------------------------------------------------------------------

FIGURES = {
    "fig5": fig5,
    "fig6": fig6,
    "classes": class_costs,
    "training_curves": training_curves,
    "pretraining": pretraining,
}
REQUIRED = {
    "fig5": ("dataset", "split", "backbone", "pretrain", "train_estimator", "fig5_methods", "table_methods"),
    "fig6": ("dataset", "split", "backbone", "pretrain", "train_estimator", "fig5_methods", "table_methods"),
    "classes": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods", "num_classes"),
    "training_curves": ("dataset", "train_estimator"),
    "pretraining": (),  # every pretraining in the metrics: no setting chooses what it shows
    "activation": ("dataset", "num_classes", "pretrain", "activation_methods", "activation_classes"),
    # a literal, as the whole dict: the workflow reads it from this source (paper_keys)
    "confusion": ("dataset", "split", "backbone", "pretrain", "train_estimator", "table_methods", "num_classes"),
}


def activation_identity(path):
    """(method, pretrain) an ``_activation.npz`` records in its identity (maskclr.evaluate writes it)."""
    data = load_npz(path, ("method", "pretrain"), " (the evaluation's identity: rerun it)")
    return str(data["method"]), str(data["pretrain"])


def activation_files(paths, methods, pretrain):
    """Activation files by the method each records; every requested method needs exactly one,
    and every file must be of a model fine-tuned from ``pretrain`` ("none": from scratch)."""
    files = {}
    for path in paths or ():
        method, recorded = activation_identity(path)
        if recorded != pretrain:
            raise InputError(f"{path}: array 'pretrain' is {recorded!r}, expected {pretrain!r} (paper.pretrain)")
        if method in files:
            raise InputError(f"--activations: {files[method]} and {path} are both of method {method!r}")
        files[method] = path
    missing = [m for m in methods if m not in files]
    if missing:
        raise InputError(f"--activations: no file of method {', '.join(missing)}")
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.paper.figures", description=__doc__.split("\n")[0])
    parser.add_argument("figure", choices=sorted(REQUIRED))
    parser.add_argument("--metrics", help="results/metrics.csv (every figure but activation and confusion)")
    parser.add_argument("--settings-json", required=True, help="model, methods and classes (JSON)")
    parser.add_argument("--activations", nargs="+", help="evaluations' _activation.npz files (activation only)")
    parser.add_argument("--confusion", help="results/tables/confusion.csv (confusion only)")
    parser.add_argument("--out-pdf", required=True)
    parser.add_argument("--out-png", required=True)
    args = parser.parse_args(argv)
    settings = mt.load_settings(args.settings_json, REQUIRED[args.figure])
    if args.figure == "activation":
        files = activation_files(args.activations, settings["activation_methods"], pretrain_of(settings))
        fig = activation(settings, files)
    elif args.figure == "confusion":
        if not args.confusion:
            parser.error("confusion needs --confusion")
        fig = confusion_matrix(confusion.load_cells(args.confusion), settings)
    elif args.metrics:
        fig = FIGURES[args.figure](mt.load(args.metrics), settings)
    else:
        parser.error(f"{args.figure} needs --metrics")
    save(fig, args.out_pdf, args.out_png)


if __name__ == "__main__":
    run_cli(main)
