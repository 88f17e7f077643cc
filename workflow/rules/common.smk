"""Helpers shared by every rule: config access, code inputs and the target lists."""

import json
import os
import re
import shlex
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

REPO = Path(workflow.basedir)
TIERS = ("hq", "mq", "lq")


def validate_config():
    """Validate the config against the schema, naming the config file(s) on failure."""
    try:
        validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))
    except WorkflowError as err:
        files = (
            ", ".join(str(Path(f).resolve()) for f in workflow.configfiles)
            or "the config"
        )
        cause = err.args[0] if err.args else err
        raise WorkflowError(f"invalid configuration in {files}:\n{cause}") from None


validate_config()


def check_experiments():
    """Every experiment names a configured dataset, backbone and method."""
    known = {
        "dataset": config["datasets"],
        "backbones": config["backbones"],
        "methods": config["methods"],
    }
    for i, experiment in enumerate(config["experiments"]):
        for key, allowed in known.items():
            names = (
                experiment[key]
                if isinstance(experiment[key], list)
                else [experiment[key]]
            )
            unknown = [n for n in names if n not in allowed]
            if unknown:
                raise WorkflowError(
                    f"invalid configuration: experiments[{i}].{key}: {unknown} not configured "
                    f"(configured: {', '.join(allowed) or 'none'})"
                )


check_experiments()

# Rules run `python -m maskclr.<module>`: make the package importable from src/ in every job,
# including conda environments and cluster jobs (which re-read this file).
shell.prefix(
    "set -euo pipefail; export PYTHONPATH="
    + shlex.quote(str(REPO / "src"))
    + "${{PYTHONPATH:+:$PYTHONPATH}}; "  # braces doubled: Snakemake formats the prefix
)

DATASETS = sorted(config["datasets"])


wildcard_constraints:
    dataset="|".join(DATASETS),
    estimator="|".join(TIERS),
    split="xsub|xview|xset|main",
    backbone="|".join(config["backbones"]) or "none",
    stage1=r"stage1(-seed\d+)?",
    method=rf"({'|'.join(config['methods']) or 'none'})(-seed\d+)?",
    run=rf"(stage1|{'|'.join(config['methods']) or 'none'})(-seed\d+)?",


def src_files(*modules):
    """Source files of the package (paths relative to src/maskclr/, globs allowed) as inputs.

    Listing code as input makes a real edit rerun exactly the dependent jobs, while `touch` or a
    fresh checkout does not (inputs are compared by checksum), unlike `script:` rules.
    """
    root = REPO / "src" / "maskclr"
    found = sorted(
        {p for m in modules + ("errors.py", "fileio.py") for p in root.glob(m)}
    )
    return [os.path.relpath(p) for p in found]


def repo_file(path):
    """A file shipped in the repository, as an input path (works with --directory too)."""
    return os.path.relpath(REPO / path)


def dataset_cfg(wildcards):
    return config["datasets"][wildcards.dataset]


def tiers(dataset):
    """Quality tiers configured for a dataset, in hq, mq, lq order."""
    return [t for t in TIERS if t in config["datasets"][dataset]["estimators"]]


def estimator_json(wildcards):
    """The estimator spec of one dataset and tier, as JSON for the command line."""
    estimators = dataset_cfg(wildcards)["estimators"]
    if wildcards.estimator not in estimators:
        raise WorkflowError(
            f"config: datasets.{wildcards.dataset}.estimators has no tier "
            f"'{wildcards.estimator}' (configured: {', '.join(estimators)})"
        )
    return json.dumps(estimators[wildcards.estimator], sort_keys=True)


def pose_source(wildcards):
    """What the estimators run on: for synth, the generated ground-truth scenes."""
    return f"results/raw/{wildcards.dataset}/scenes.pkl"


def data_targets():
    return [
        f"results/data/{d}/{e}/{s}.h5"
        for d in DATASETS
        for e in tiers(d)
        for s in config["datasets"][d]["splits"]
    ]


def pose_quality_targets():
    return (
        [f"results/poses/synth/{e}.quality.json" for e in tiers("synth")]
        if "synth" in DATASETS
        else []
    )


DEFAULT_SEED = config["train"]["schedule"]["seed"]


def run_name(method, seed):
    """A model's directory: the method, suffixed -seed{k} unless it is the schedule's seed."""
    return method if seed == DEFAULT_SEED else f"{method}-seed{seed}"


def run_seed(run):
    match = re.search(r"-seed(\d+)$", run)
    return int(match[1]) if match else DEFAULT_SEED


def run_method(run):
    return re.sub(r"-seed\d+$", "", run)


def trained_models():
    """(dataset, split, backbone, run) of every configured model, stage 1 included."""
    return sorted(
        {
            (e["dataset"], split, backbone, run_name(method, seed))
            for e in config["experiments"]
            for split in e["splits"]
            for backbone in e["backbones"]
            for seed in e.get("seeds", [DEFAULT_SEED])
            for method in ["stage1", *e["methods"]]
        }
    )


def model_targets():
    return [
        f"results/models/{d}/{s}/{b}/{run}/{f}"
        for d, s, b, run in trained_models()
        for f in ("model.pt", "metrics.json")
    ]


def eval_targets():
    return [
        f"results/eval/{d}/{s}/{b}/{run}{suffix}"
        for d, s, b, run in trained_models()
        for suffix in (".csv", "_activation.npz")
    ]


def train_data(wildcards):
    """Models train and are tested on the poses of the configured tier (the paper: mq)."""
    return f"results/data/{wildcards.dataset}/{config['train']['estimator']}/{wildcards.split}.h5"


# A training cut by its time budget exits non-zero and resumes when run again: only the main
# process may retry it, resubmitting it with a fresh allocation. Inside a SLURM job Snakemake
# runs in remote mode with `--retries 0`, which a rule's own `retries:` overrides: it would rerun
# the training in the spent allocation until SLURM kills it (snakemake-executor-plugin-slurm #284).
TRAIN_RETRIES = 0 if workflow.remote_exec else 3


def train_code(wildcards):
    """The trainer, the shared model code and this backbone's own module only."""
    shared = (
        "train/*.py",
        "models/__init__.py",
        "models/base.py",
        "models/attention.py",
    )
    return src_files(
        *shared,
        "models/head.py",
        "models/masking.py",
        "models/losses.py",
        "data/dataset.py",
        "data/augment.py",
        f"models/{wildcards.backbone}.py",
    )


def eval_code(wildcards):
    return train_code(wildcards) + src_files(
        "evaluate/*.py",
        "robustness/*.py",
        "data/preprocess.py",
        "data/pyskl.py",
        "data/joints.py",
    )


def backbone_json(wildcards):
    return json.dumps(config["backbones"][wildcards.backbone], sort_keys=True)


def schedule_json(wildcards):
    """The schedule, with the seed of this run."""
    seed = run_seed(wildcards.get("method", wildcards.get("stage1", "")))
    return json.dumps({**config["train"]["schedule"], "seed": seed}, sort_keys=True)


def method_json(wildcards):
    return json.dumps(config["methods"][run_method(wildcards.method)], sort_keys=True)


def stage1_model(wildcards):
    """The stage-1 model a stage-2 run continues from (the same seed)."""
    stage1 = run_name("stage1", run_seed(wildcards.method))
    return f"results/models/{wildcards.dataset}/{wildcards.split}/{wildcards.backbone}/{stage1}/model.pt"


def eval_poses(wildcards):
    return {
        t: f"results/poses/{wildcards.dataset}/{t}.pkl"
        for t in tiers(wildcards.dataset)
    }


def poses_args(wildcards, input):
    return " ".join(
        f"--poses {t}={shlex.quote(input[t])}" for t in tiers(wildcards.dataset)
    )


def pretrained_input(wildcards):
    """The configured MotionBERT-style checkpoint of this backbone, if any (a declared input)."""
    path = config["train"]["pretrained"].get(wildcards.backbone)
    return [path] if path else []


def pretrained_arg(wildcards, input):
    return (
        f"--pretrained {shlex.quote(input.pretrained[0])}" if input.pretrained else ""
    )


TABLES = ("table1", "table2", "table3")
FIGURES = ("fig5", "fig6", "activation", "training_curves")


def paper_settings_json():
    """What the tables and figures show: config.paper plus the class names of the dataset."""
    from maskclr.data.synthetic import CLASS_NAMES

    settings = {
        **config["paper"],
        "train_estimator": config["train"]["estimator"],
        "class_names": list(CLASS_NAMES),
    }
    return json.dumps(settings, sort_keys=True)


def activation_inputs():
    p = config["paper"]
    return [
        f"results/eval/{p['dataset']}/{p['split']}/{p['backbone']}/{method}_activation.npz"
        for method in p["activation_methods"]
    ]


def paper_targets():
    return (
        [f"results/tables/{t}.{ext}" for t in TABLES for ext in ("tex", "csv")]
        + [f"results/figures/{f}.{ext}" for f in FIGURES for ext in ("pdf", "png")]
        + [
            "results/tables/robustness_summary.csv",
            "results/tables/robustness_summary.md",
        ]
    )
