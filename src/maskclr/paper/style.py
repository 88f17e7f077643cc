"""The one plotting style of every figure: colours, markers and labels per method, sizes, saving.

Colours are the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies),
and every method keeps its colour, marker and label in every figure.
"""

import matplotlib as mpl

from maskclr.fileio import atomic_output

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}  # fmt: skip
GREY = "#999999"

# method → (label, colour, marker). Labels are mathtext, so tables and figures share them.
METHODS = {
    "stage1": ("stage 1 (CE)", OKABE_ITO["black"], "."),
    "baseline": ("baseline", OKABE_ITO["blue"], "v"),
    "random_mask": ("random masking 15 %", OKABE_ITO["green"], "D"),
    "maskclr_cc": (r"MaskCLR + $\mathcal{L}_{cc}$", OKABE_ITO["purple"], "^"),
    "maskclr_sc": (r"MaskCLR + $\mathcal{L}_{sc}$", OKABE_ITO["orange"], "s"),
    "maskclr": (r"MaskCLR ($\mathcal{L}_{sc}$ + $\mathcal{L}_{cc}$)", OKABE_ITO["vermillion"], "o"),
}

BACKBONES = {"sttformer": "STTFormer", "transformer": "Transformer", "dstformer": "DSTFormer"}
SPLITS = {"xsub": "XSub", "xview": "XView", "xset": "XSet", "main": "main"}
# Each native 3D NTU-25 dataset (docs/method.md §2.4) follows its 2D twin.
DATASETS = {
    "synth": "synth", "synth_3d": "synth (3D)", "ntu60": "NTU60", "ntu60_3d": "NTU60 (3D)",
    "ntu120": "NTU120", "ntu120_3d": "NTU120 (3D)", "k400": "K400",
}  # fmt: skip
# The 2D pose tiers, which Tables 2 and 3 compare; a native 3D dataset's one tier is the Kinect's.
ESTIMATORS = {"lq": "LQ", "mq": "MQ", "hq": "HQ"}
TIERS = {**ESTIMATORS, "kinect": "Kinect"}
# Self-supervised pretrainings a model is fine-tuned from, in the paper's row order; "none": from scratch.
PRETRAININGS = {"skeletonmae": "SkeletonMAE", "mamp": "MAMP"}
SCRATCH = "none"
# pretraining → (colour, marker) of its loss curve (the pretraining figure has no method lines)
PRETRAINING_LINES = {"skeletonmae": (OKABE_ITO["sky_blue"], "s"), "mamp": (OKABE_ITO["orange"], "o")}

# Figure sizes (inches) for the CVPR column widths.
ONE_PANEL = (3.4, 2.6)
TWO_PANELS = (6.9, 2.6)
WITH_DIFFERENCES = (6.9, 4.2)  # two panels over two of differences (figures 5 and 6)

RC = {
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "lines.linewidth": 1.2, "lines.markersize": 4,
    "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
    "legend.frameon": False, "savefig.dpi": 200, "savefig.bbox": "tight", "pdf.fonttype": 42,
}  # fmt: skip
mpl.rcParams.update(RC)


def method_label(method):
    """Readable name of a method; an unknown method keeps its own name."""
    return METHODS.get(method, (method,))[0]


def method_style(method):
    """Keyword arguments (label, color, marker) for ``plot``; grey crosses for unknown methods."""
    label, color, marker = METHODS.get(method, (method, GREY, "x"))
    return {"label": label, "color": color, "marker": marker}


def pretraining_style(pretrain):
    """Keyword arguments (label, color, marker) for ``plot`` of a pretraining's curve; grey
    crosses for an entry the style does not know, labelled with its own name."""
    color, marker = PRETRAINING_LINES.get(pretrain, (GREY, "x"))
    return {"label": display_name(PRETRAININGS, pretrain), "color": color, "marker": marker}


def ordered(names, order):
    """``names`` in the order of ``order``; names outside it follow, sorted."""
    known = [n for n in order if n in names]
    return known + sorted(set(names) - set(known))


def rank(name, order):
    """Position of ``name`` in ``order``; names outside it after every known one."""
    order = list(order)
    return order.index(name) if name in order else len(order)


def model_order(dataset, split, backbone, pretrain):
    """Sort key of a model in the tables: datasets, splits and backbones in their display order,
    from scratch before the pretrainings; names the style does not know after, sorted."""
    return (
        *(rank(dataset, DATASETS), dataset, rank(split, SPLITS), split, rank(backbone, BACKBONES), backbone),
        *(rank(pretrain, [SCRATCH, *PRETRAININGS]), pretrain),
    )


def display_name(mapping, key):
    """Display name of a dataset, split, backbone or estimator key; unknown keys unchanged."""
    return mapping.get(key, key)


# perturbation → its grid point in words (maskclr.evaluate's grid; ``percent``: the level × 100).
PERTURBATIONS = {
    "clean": "clean",
    "noise_st": "spatiotemporal noise σ = {level:g}",
    "noise_spatial": "spatial noise σ = {level:g}",
    "part": "{level} occluded",
    "joints": "{percent:g} % of joints occluded",
    "frames_noise": "{percent:g} % of frames masked + noise",
}


def condition_label(perturbation, level):
    """A grid point in words, e.g. "spatiotemporal noise σ = 0.01", "left arm occluded"; an
    unknown perturbation keeps its name."""
    try:
        level = float(level)
        percent = 100 * level
    except ValueError:
        level, percent = str(level).replace("_", " "), None
    return PERTURBATIONS.get(perturbation, f"{perturbation} {{level}}").format(level=level, percent=percent)


def noise_unit(settings):
    """The unit of σ: 2D poses are noised in make_cam units, native 3D skeletons in metres."""
    return "make_cam units" if settings["train_estimator"] in ESTIMATORS else "m"


def pretrain_of(settings):
    """The settings' pretraining as metrics.csv names it: ``paper.pretrain``, null → "none"."""
    return settings["pretrain"] or SCRATCH


def describe_model(settings):
    """The settings' model in words, e.g. "synth XSub, DSTFormer, trained on MQ" or
    "synth (3D) XSub, Transformer from MAMP, trained on Kinect"."""
    pretrain = pretrain_of(settings)
    source = "" if pretrain == SCRATCH else f" from {display_name(PRETRAININGS, pretrain)}"
    return (
        f"{display_name(DATASETS, settings['dataset'])} {display_name(SPLITS, settings['split'])}, "
        f"{display_name(BACKBONES, settings['backbone'])}{source}, trained on "
        f"{display_name(TIERS, settings['train_estimator'])}"
    )


def save(fig, pdf, png):
    """Write ``fig`` as PDF and PNG, each atomically and without a timestamp (reproducible)."""
    for path, fmt, metadata in ((pdf, "pdf", {"CreationDate": None}), (png, "png", {"Software": None})):
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=metadata)
