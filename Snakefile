"""MaskCLR reproduction: pose extraction → preprocessing → training → robustness → paper.

Run `snakemake --cores all` for the embedded synthetic default; see README.md.
"""

from snakemake.utils import min_version

min_version("9.27")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/poses.smk"
include: "workflow/rules/preprocess.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/paper.smk"
include: "workflow/rules/audit.smk"


localrules:
    all,
    fetch,
    downloads,
    poses,
    data,
    models,
    table,
    figure,
    activation_figure,
    robustness_summary,
    robustness_by_model,
    paper,
    audit,


rule all:
    """Everything the configured datasets produce."""
    default_target: True
    input:
        run_targets(),


rule downloads:
    """Named target: every released file the datasets and estimators need (for a login node
    with internet, before the compute jobs)."""
    input:
        download_targets(),


rule poses:
    """Named target: pose files of every dataset and tier, and their quality on synth."""
    input:
        [f"results/poses/{d}/{e}.pkl" for d in DATASETS for e in tiers(d)],
        pose_quality_targets(),


rule data:
    """Named target: the preprocessed HDF5 files."""
    input:
        data_targets(),


rule models:
    """Named target: every configured model (stage 1 and stage 2)."""
    input:
        model_targets(),


rule paper:
    """Named target: every table and figure."""
    input:
        paper_targets(),
