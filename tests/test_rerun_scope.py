"""Every config value reaches exactly the jobs that read it: one change, the exact dry-run plan.

Each row changes one value of the tiny config of a finished run (tests/config/config.yaml) and
asserts the jobs a dry run plans, rule by rule: the jobs that read the value and everything
downstream of their outputs, nothing else. The tiny config trains 8 models on synth xsub (mq):
DSTFormer stage 1 + baseline + MaskCLR, the same for the Transformer, and a second Transformer
seed with stage 1 + baseline; 3 tiers × 2 shards of poses; 2 splits of data per tier.
"""

import pytest
import yaml

from conftest import planned_jobs

pytestmark = pytest.mark.workflow

# What reads results/metrics.csv (every evaluation and training ends up there)
TABLES = {
    "collect_metrics": 1,
    "table": 7,
    "grid_table_markdown": 2,
    "figure": 4,
    "robustness_summary": 1,
    "robustness_by_model": 1,
    "all": 1,
}
# ...what reads the confusions of the DSTFormer's baseline and MaskCLR (paper.table_methods)
CONFUSION = {"confusion": 1, "confusion_figure": 1}
# ...and what reads the activations of the DSTFormer's stage 1 and MaskCLR (paper.activation_methods)
PAPER = {**TABLES, "activation_figure": 1, **CONFUSION}
EVERY_MODEL = {"train_stage1": 3, "train_stage2": 5, "evaluate": 8, **PAPER}
# One tier's poses: its 2 extraction shards, their merge, its quality report and its 2 splits
ONE_TIER = {"extract_poses": 2, "merge_poses": 1, "pose_quality": 1, "preprocess": 2}
EVERYTHING = {
    "generate_synthetic": 1,
    **{rule: 3 * count for rule, count in ONE_TIER.items()},
    "split_lists": 1,
    **EVERY_MODEL,
}

# A new value for every schedule key that stage 1 reads (the tiny config's or the schema's default
# differs from each); lr_decay: the tiny config's schedule is the exponential one, which reads it
STAGE1_SCHEDULE = {
    "batch_size": 4,
    "epochs_stage1": 2,
    "lr_backbone": 0.002,
    "lr_head": 0.002,
    "weight_decay": 0.02,
    "lr_decay": 0.9,
    "lr_schedule": "cosine",
    "warmup_epochs": 1,
    "head_hidden": 8,
    "head_dropout": 0.3,
    "optimizer": "sgd",
    "layer_decay": 0.9,
    "label_smoothing": 0.1,
    "head": "linear",
    "test_every": 2,
}

CASES = {
    # the synthetic scenes feed every tier
    "datasets.synth.synthetic.seed": (1, EVERYTHING),
    "datasets.synth.synthetic.max_frames": (44, EVERYTHING),
    "datasets.synth.synthetic.pair_contrast": (0.5, EVERYTHING),
    # lq is a test tier only: its poses and data, every evaluation (all test on all tiers)
    "datasets.synth.estimators.lq.noise_px": (13.0, {**ONE_TIER, "evaluate": 8, **PAPER}),
    # mq is the training tier: its poses, the split lists made from them, every model
    "datasets.synth.estimators.mq.noise_px": (4.0, {**ONE_TIER, "split_lists": 1, **EVERY_MODEL}),
    # the preprocessing makes the data of every tier and is redone inside every evaluation
    "preprocess.seed": (1, {"preprocess": 6, **EVERY_MODEL}),
    "preprocess.n_frames": (12, {"preprocess": 6, **EVERY_MODEL}),
    # one backbone's sizes: its models only (the Transformer's are not in the activation figure)
    "backbones.transformer.depth": (2, {"train_stage1": 2, "train_stage2": 3, "evaluate": 5, **TABLES}),
    "backbones.dstformer.depth": (2, {"train_stage1": 1, "train_stage2": 2, "evaluate": 3, **PAPER}),
    # one method: its stage-2 models only
    "methods.maskclr.gamma": (0.5, {"train_stage2": 2, "evaluate": 2, **PAPER}),
    "methods.maskclr.bn_running_stats": ("both", {"train_stage2": 2, "evaluate": 2, **PAPER}),
    "methods.baseline.alpha": (0.5, {"train_stage2": 3, "evaluate": 3, **TABLES, **CONFUSION}),
    # every schedule key that stage 1 reads retrains everything...
    **{f"train.schedule.{key}": (value, EVERY_MODEL) for key, value in STAGE1_SCHEDULE.items()},
    # ...epochs_stage2 only the 5 stage-2 models (with the exponential schedule; the cosine one
    # spans both stages, so there stage 1 reads it too)
    "train.schedule.epochs_stage2": (2, {"train_stage2": 5, "evaluate": 5, **PAPER}),
    # the default seed: only the runs that use it (not the Transformer's explicit seed 1)
    # keys of another optimiser or schedule than the tiny config's (AdamW, exponential): no reader
    "train.schedule.momentum": (0.5, {}),
    "train.schedule.milestones": ([1], {}),
    # recipes, pretrainings and native 3D settings that no experiment here uses: no reader
    "recipes.slow": ({"lr_backbone": 0.01}, {}),
    "pretraining.mae": ({"method": "skeletonmae"}, {}),
    "preprocess_3d.n_frames": (12, {}),
    "robustness_3d.seed": (1, {}),
    "train.schedule.seed": (5, {"train_stage1": 2, "train_stage2": 4, "evaluate": 6, **PAPER}),
    # training on hq: its split lists, every model; no poses, no data (hq's are built anyway)
    "train.estimator": ("hq", {"split_lists": 1, **EVERY_MODEL}),
    # the tiny config evaluates its three stage-1 models clean only (robustness.stage1_grid false)
    "robustness.seed": (1, {"evaluate": 5, **PAPER}),
    "robustness.noise_sigmas": ([0, 0.005], {"evaluate": 5, **PAPER}),
    "robustness.stage1_grid": (True, {"evaluate": 3, **TABLES, "activation_figure": 1}),
    # the paper's settings: exactly the tables and figures that show them
    "paper.activation_classes": ([0, 2], {"activation_figure": 1, "all": 1}),
    "paper.fig5_methods": (["baseline", "maskclr"], {"figure": 2, "all": 1}),
    "paper.reference_dataset": ({"synth": "ntu120"}, {"table": 1, "all": 1}),
    "paper.table_methods": (
        ["maskclr", "baseline"],
        {
            "table": 7,
            "grid_table_markdown": 2,
            "figure": 3,
            "robustness_summary": 1,
            "robustness_by_model": 1,
            **CONFUSION,
            "all": 1,
        },
    ),
}


def changed(config, dotted, value):
    """``config`` with ``value`` at the dotted key path (set where the config leaves the default)."""
    *parents, key = dotted.split(".")
    target = config
    for parent in parents:
        target = target.setdefault(parent, {})
    assert target.get(key) != value, f"{dotted}: {value!r} is no change"
    target[key] = value
    return config


def plan_with(finished_run, config):
    config_file = finished_run / "config.yaml"
    original = config_file.read_text()
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    try:
        return planned_jobs(finished_run)
    finally:
        config_file.write_text(original)


@pytest.mark.parametrize("dotted", CASES)
def test_one_change_reruns_exactly_its_readers(finished_run, dotted):
    value, expected = CASES[dotted]
    config = changed(yaml.safe_load((finished_run / "config.yaml").read_text()), dotted, value)
    assert plan_with(finished_run, config) == expected


def reversed_keys(value):
    """``value`` with the keys of every mapping in reverse order (lists keep theirs)."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def test_key_order_reruns_nothing(finished_run):
    config = reversed_keys(yaml.safe_load((finished_run / "config.yaml").read_text()))
    assert plan_with(finished_run, config) == {}
