"""Hostile config values (issue 13): refused by `snakemake -n` naming the config key, before any
job runs; every shell argument of every rule is quoted."""

import re

import pytest

import test_workflow
from conftest import REPO

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def shell_lines(rule_file):
    """The string lines of each ``shell:`` block of a rule file."""
    inside = False
    for line in rule_file.read_text().splitlines():
        if re.match(r"\s+shell:\s*$", line):
            inside = True
        elif inside and re.match(r'\s+"', line):
            yield line
        else:
            inside = False


def test_every_shell_argument_is_quoted():
    """A config value (a download name, a file, a path) can never become shell syntax."""
    fields = [
        (path.name, field)
        for path in sorted((REPO / "workflow" / "rules").glob("*.smk"))
        for line in shell_lines(path)
        for field in PLACEHOLDER.findall(line)
    ]
    # 163 when written: far fewer means the shell blocks changed form and are no longer read.
    assert len(fields) > 150, len(fields)
    assert not [(name, field) for name, field in fields if not field.endswith(":q")]


INJECTION = "x;touch pwned;y"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.update(downloads={INJECTION: {"file": "a.pkl"}}), f"'{INJECTION}' does not match"),
        (lambda c: c.update(downloads={"a": {"file": INJECTION}}), f"'{INJECTION}' does not match"),
        (lambda c: c.update(downloads={"a": {"file": ".."}}), "'..' does not match"),
    ],
)
def test_hostile_download_names_are_config_errors(tmp_path, change, message):
    test_workflow.test_invalid_config_is_a_clear_error(tmp_path, change, message)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda c: c["backbones"]["dstformer"].update(maxlen=4),
            "backbones.dstformer.maxlen: 4 is below preprocess.n_frames",
        ),
        (
            lambda c: c["datasets"]["synth"]["synthetic"].update(min_frames=50, max_frames=30),
            "datasets.synth.synthetic.min_frames: 50 exceeds max_frames 30",
        ),
        (lambda c: c["experiments"][0].update(splits=["xset"]), "experiments[0].splits: ['xset'] not configured in"),
        (
            lambda c: c["paper"].update(fig5_methods=["maskclr", "simclr"]),
            "paper.fig5_methods: ['simclr'] not configured",
        ),
        (
            lambda c: c["paper"].update(activation_methods=["maskclr_typo"]),
            "paper.activation_methods: ['maskclr_typo']",
        ),
        (
            lambda c: c["backbones"]["dstformer"].update(dim_fet=8),
            "backbones.dstformer: ['dim_fet'] not configured in the arguments of DSTFormer",
        ),
        (
            lambda c: c["datasets"]["synth"]["estimators"]["hq"].update(type="vitpse"),
            "datasets.synth.estimators.hq.type: ['vitpse'] not configured in maskclr.poses.extract.ESTIMATORS",
        ),
        (
            lambda c: c["train"]["schedule"].update(batch_size=8.0),
            "train.schedule.batch_size: 8.0 is not of type 'integer'",
        ),
        (lambda c: c["experiments"][1].update(seeds=[1.0]), "experiments[1].seeds[0]: 1.0 is not of type 'integer'"),
        (
            lambda c: c["paper"].update(reference_dataset={"synth": "imagenet"}),
            "paper.reference_dataset.synth: ['imagenet'] not configured in resources/paper_numbers.csv",
        ),
        (
            lambda c: c["paper"].update(backbone="sttformer"),
            "paper.backbone: ['sttformer'] not configured in backbones",
        ),
        (lambda c: c["paper"].update(dataset="ntu120"), "paper.dataset: ['ntu120'] not configured in datasets"),
        (
            lambda c: (c["datasets"]["synth"].update(splits=["xsub"]), c["paper"].update(split="xview")),
            "paper.split: ['xview'] not configured in datasets.synth.splits",
        ),
        (  # the paper's model, requested by its artefacts, is trained by no experiment
            lambda c: c["experiments"][0].update(methods=["baseline"]),
            "results/models/synth/xsub/dstformer/maskclr/seed0 is trained by no experiment; "
            "it is requested by the target or by the paper's artefacts",
        ),
        (
            lambda c: c["datasets"]["synth"]["estimators"].pop("mq"),
            "train.estimator: ['mq'] not configured in datasets.synth.estimators",
        ),
        (
            lambda c: c["paper"].update(error_conditions=[{"perturbation": "part", "level": "max"}]),
            "paper.error_conditions[0]: part has no largest level: name a part (robustness has part levels ['head'",
        ),
        (
            lambda c: c["paper"]["error_conditions"].append({"perturbation": "joints", "level": 0.2}),
            "paper.error_conditions[2]: level 0.2 is not a level > 0 of the grid "
            "(robustness has joints levels [0.3]; or max)",
        ),
        (
            lambda c: c["paper"]["error_conditions"].append({"perturbation": "noise_st", "level": 0.01}),
            "paper.error_conditions[2]: noise_st at 0.01 again (paper.error_conditions[0])",
        ),
        (
            lambda c: c["paper"].update(error_conditions=[{"perturbation": "noise_spatial", "level": 0}]),
            "paper.error_conditions[0]: level 0 is not a level > 0 of the grid",
        ),
        (
            lambda c: c["paper"].update(error_conditions=[{"perturbation": "occlusion", "level": 1}]),
            "'occlusion' is not one of ['noise_st', 'noise_spatial', 'part', 'joints', 'frames_noise']",
        ),
        (
            lambda c: c["paper"].update(fig5_methods=["stage1", "maskclr"]),
            "paper.fig5_methods: stage1 needs the stage-1 models evaluated over the grid "
            "(robustness.stage1_grid is false)",
        ),
        (
            lambda c: c["paper"].update(table_methods=["stage1", "maskclr"]),
            "paper.table_methods: stage1 needs the stage-1 models evaluated over the grid",
        ),
    ],
)
def test_values_a_job_would_fail_on_are_config_errors(tmp_path, change, message):
    test_workflow.test_invalid_config_is_a_clear_error(tmp_path, change, message)
