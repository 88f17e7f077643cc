"""Snakemake on the tiny test config end to end, lint/format gates, config validation, rule graph."""

import json
import os
import pickle
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, ntu_release, planned_jobs, snakemake, tiny_config, workdir_with, write_video
from maskclr.data.classes import class_names, class_partners
from maskclr.fileio import load_pickle

pytestmark = pytest.mark.workflow


def test_end_to_end_outputs(finished_run):
    results = finished_run / "results"
    for tier in ("hq", "mq", "lq"):
        assert (results / "poses" / "synth" / f"{tier}.pkl").exists()
        for split in ("xsub", "xview"):
            with h5py.File(results / "data" / "synth" / tier / f"{split}.h5") as h5:
                assert h5["train/x"].shape[1:] == (2, 16, 17, 3)
                assert h5["train/x"].shape[0] > 0 and h5["test/x"].shape[0] > 0
                assert h5.attrs["num_classes"] == 24


def test_models_are_trained(finished_run):
    models = finished_run / "results" / "models" / "synth" / "xsub"
    for backbone in ("dstformer", "transformer"):
        for stage in ("stage1", "baseline", "maskclr"):
            metrics = json.loads((models / backbone / stage / "seed0" / "metrics.json").read_text())
            assert (models / backbone / stage / "seed0" / "model.pt").exists()
            assert len(metrics["history"]) == 1 and 0 <= metrics["last_top1"] <= 1
        assert metrics["history"][0]["epoch"] == 1  # stage 2 continues after stage 1's epoch


def test_seeded_runs_have_their_own_directories(finished_run):
    models = finished_run / "results" / "models" / "synth" / "xsub" / "transformer"
    for seed in (0, 1):
        metrics = json.loads((models / "baseline" / f"seed{seed}" / "metrics.json").read_text())
        assert metrics["config"]["schedule"]["seed"] == seed
        identity = {key: metrics[key] for key in ("dataset", "split", "backbone", "method", "stage", "seed")}
        assert identity == {
            "dataset": "synth",
            "split": "xsub",
            "backbone": "transformer",
            "method": "baseline",
            "stage": "stage2",
            "seed": seed,
        }
    assert (models / "stage1" / "seed1" / "model.pt").exists()
    evaluation = pd.read_csv(
        finished_run / "results" / "eval" / "synth" / "xsub" / "transformer" / "stage1" / "seed1.csv"
    )
    assert set(zip(evaluation["method"], evaluation["stage"], evaluation["seed"])) == {("stage1", "stage1", 1)}


def test_job_times_reads_every_training_of_the_run_from_its_log(finished_run):
    """benchmarks/job_times.py (README's per-job tables) on the run's first log: each backbone's
    stage-1 trainings, the share of each spent in its training loops (from its metrics.json), with
    the reference's ratio 1."""
    first_log = sorted((finished_run / ".snakemake" / "log").glob("*.snakemake.log"))[0]
    script = REPO / "benchmarks" / "job_times.py"
    result = subprocess.run([sys.executable, script, first_log], capture_output=True, text=True, cwd=finished_run)
    assert result.returncode == 0, result.stderr
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in result.stdout.splitlines()[1:-1]}
    for backbone, seeds in (("dstformer", 1), ("transformer", 2)):  # tests/config/config.yaml
        assert rows["train_stage1", backbone][0] == str(seeds)
        assert float(rows["train_stage1", backbone][1]) > 0
        assert 0 < float(rows["train_stage1", backbone][4]) < 1  # each epoch's test evaluation is outside
    assert rows["collect_metrics", "-"][4] == "-"  # not a training
    assert rows["train_stage1", "dstformer"][-1] == "1.00"
    span = result.stdout.splitlines()[-1]
    assert "from first to last timestamp, " in span and "× its jobs' time over its 2 cores (" in span


def test_evaluation_grid_and_metrics_table(finished_run):
    import csv

    rows = list(csv.DictReader(open(finished_run / "results" / "metrics.csv")))
    assert tuple(rows[0]) == (
        "dataset",
        "split",
        "backbone",
        "method",
        "seed",
        "kind",
        "test_estimator",
        "perturbation",
        "level",
        "metric",
        "value",
        "pretrain",
        "label",
    )
    assert {r["pretrain"] for r in rows} == {"none"}  # every model of the tiny config trains from scratch
    top1 = {
        (r["backbone"], r["method"], r["seed"], r["perturbation"], r["level"], r["test_estimator"]): float(r["value"])
        for r in rows
        if r["kind"] == "eval" and r["metric"] == "top1"
    }
    models = {k[:3] for k in top1}
    assert models == {(b, m, "0") for b in ("dstformer", "transformer") for m in ("stage1", "baseline", "maskclr")} | {
        ("transformer", "stage1", "1"),
        ("transformer", "baseline", "1"),
    }
    grid = {k[3:] for k in top1 if k[:3] == ("dstformer", "maskclr", "0")}
    assert grid == {("clean", "0", t) for t in ("hq", "mq", "lq")} | {
        ("frames_noise", "0.5", t) for t in ("hq", "mq", "lq")
    } | {(p, s, "mq") for p in ("noise_st", "noise_spatial") for s in ("0", "0.01")} | {
        ("part", "head", "mq"),
        ("part", "left_arm", "mq"),
        ("joints", "0.3", "mq"),
    }
    # the tiny config's robustness.stage1_grid false (as the demo's): stage 1 clean only
    stage1 = {k[3:] for k in top1 if k[:3] == ("dstformer", "stage1", "0")}
    assert stage1 == {("clean", "0", t) for t in ("hq", "mq", "lq")}
    assert all(0 <= v <= 1 for v in top1.values())
    assert (
        top1[("dstformer", "maskclr", "0", "noise_st", "0", "mq")]
        == top1[("dstformer", "maskclr", "0", "clean", "0", "mq")]
    )
    assert {r["kind"] for r in rows} == {"eval", "eval_class", "train", "history"}
    # Every grid point class by class: the classes' sample counts add up to the whole set's, and
    # the mean of their top-1 is its mean per-class accuracy
    point = {"backbone": "dstformer", "method": "maskclr", "seed": "0", "perturbation": "noise_st", "level": "0.01"}
    at_point = [r for r in rows if all(r[column] == value for column, value in point.items())]
    whole = {r["metric"]: float(r["value"]) for r in at_point if r["kind"] == "eval"}
    per_class = {(r["label"], r["metric"]): float(r["value"]) for r in at_point if r["kind"] == "eval_class"}
    labels = {label for label, _ in per_class}
    assert {metric for _, metric in per_class} == {"top1", "n", "to_partner"} and len(labels) > 10
    # the fine pairs' classes, and only they, say how many of their samples went to their partner
    assert {int(label) for label, metric in per_class if metric == "to_partner"} == set(class_partners("synth")) & {
        int(label) for label in labels
    }
    assert all(
        per_class[label, "to_partner"] <= 1 - per_class[label, "top1"] + 1e-9
        for label, m in per_class
        if m == "to_partner"
    )
    assert sum(per_class[label, "n"] for label in labels) == whole["n"]
    assert np.mean([per_class[label, "top1"] for label in labels]) == pytest.approx(whole["mean_class_acc"])
    for run in ("stage1", "maskclr"):
        activation = np.load(
            finished_run / "results" / "eval" / "synth" / "xsub" / "dstformer" / run / "seed0_activation.npz"
        )
        assert (str(activation["method"]), int(activation["seed"])) == (run, 0)
        assert activation["activation"].shape[1] == 17 and activation["pose"].shape[1:] == (17, 2)
        assert 1 <= float(activation["joints_effective"]) <= 17 and 0 < float(activation["top3_share"]) <= 1
    # The activation spread of every evaluated model: on its clean training-tier row only.
    spread = {
        (r["backbone"], r["method"], r["seed"], r["metric"], r["perturbation"], r["test_estimator"])
        for r in rows
        if r["metric"] in ("joints_effective", "top3_share")
    }
    assert spread == {
        (*model, metric, "clean", "mq") for model in models for metric in ("joints_effective", "top3_share")
    }


def test_quality_tiers_are_ordered(finished_run):
    quality = {
        t: json.loads((finished_run / "results" / "poses" / "synth" / f"{t}.quality.json").read_text())
        for t in ("hq", "mq", "lq")
    }
    assert quality["hq"]["mean_error_px"] < quality["mq"]["mean_error_px"] < quality["lq"]["mean_error_px"]
    assert quality["hq"]["pck_10px"] > quality["mq"]["pck_10px"] > quality["lq"]["pck_10px"]
    assert quality["hq"]["detected"] > quality["mq"]["detected"] > quality["lq"]["detected"]
    assert all(q["score_error_corr"] < -0.3 for q in quality.values())  # scores are meaningful


def test_second_run_has_nothing_to_do(finished_run):
    result = snakemake(finished_run, "--cores", "1", "-n")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_touching_sources_reruns_nothing(finished_run, tmp_path):
    # Content checksums, not mtimes, decide: a fresh checkout must not retrain anything.
    for path in (REPO / "src").rglob("*.py"):
        path.touch()
    result = snakemake(finished_run, "--cores", "1", "-n")
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout


def test_a_run_copied_to_another_depth_is_up_to_date(finished_run, tmp_path):
    # Code is recorded by package path and digest, repository files by absolute path: nothing
    # in Snakemake's records depends on where the run directory lies.
    copy = tmp_path / "one" / "level" / "deeper" / "run"
    shutil.copytree(finished_run, copy, symlinks=True)
    result = snakemake(copy, "--cores", "1", "-n")
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout[-3000:]


def test_lint_is_clean():
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean():
    snakefmt = shutil.which("snakefmt", path=str(REPO / ".venv" / "bin")) or shutil.which("snakefmt")
    files = ["Snakefile", *sorted(str(p.relative_to(REPO)) for p in (REPO / "workflow" / "rules").glob("*.smk"))]
    result = subprocess.run([snakefmt, "--check", *files], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_is_clean(command):
    """ruff (configured in pyproject.toml) passes on the package, the tests and the benchmarks."""
    ruff = shutil.which("ruff", path=str(REPO / ".venv" / "bin")) or shutil.which("ruff")
    result = subprocess.run([ruff, *command, "src", "tests", "benchmarks"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dry_run_lists_the_dag(tmp_path):
    config = yaml.safe_load((REPO / "config.yaml").read_text())  # the demo's own DAG
    result = snakemake(workdir_with(tmp_path, config), "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stdout + result.stderr
    for rule in (
        "generate_synthetic",
        "extract_poses",
        "pose_quality",
        "preprocess",
        "train_stage1",
        "train_stage2",
        "evaluate",
        "collect_metrics",
    ):
        assert rule in result.stdout


def rule_edges(mermaid):
    """The rule graph as a set of (upstream rule, downstream rule) names: Snakemake numbers the
    nodes and orders the edges differently from run to run."""
    names = dict(re.findall(r"(id\d+)\[(\w+)\]", mermaid))
    return {(names[a], names[b]) for a, b in re.findall(r"(id\d+) --> (id\d+)", mermaid)}


def test_rulegraph_in_readme_is_current():
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--nolock", "--rulegraph", "mermaid-js", "--quiet", "all"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    current = rule_edges(result.stdout)
    assert ("train_stage1", "train_stage2") in current
    committed = (REPO / "workflow" / "report" / "rulegraph.mmd").read_text()
    assert rule_edges(committed) == current, "run `make rulegraph` and commit it"
    readme_block = (REPO / "README.md").read_text().split("```mermaid")[1].split("```")[0]
    assert rule_edges(readme_block) == current, "run `make rulegraph` and commit it"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.update(trainer={"epochs": 1}), "Additional properties are not allowed ('trainer' was unexpected)"),
        (lambda c: c["preprocess"].update(n_frames="many"), "'many' is not of type 'integer'"),
        (lambda c: c["preprocess"].update(score_channel="coco"), "'coco' is not one of ['motionbert', 'aligned']"),
        (lambda c: c["datasets"]["synth"].update(splits=["xset"]), "'xset' is not one of ['xsub', 'xview']"),
        (
            lambda c: c["experiments"][0].update(backbones=["resnet"]),
            "experiments[0].backbones: ['resnet'] not configured in backbones",
        ),
        (
            lambda c: c["backbones"].update(resnet={"depth": 18}),
            "backbones.resnet: not a built-in backbone (dstformer, sttformer, transformer): name its class",
        ),
        (
            lambda c: c["backbones"].update(mine={"class": "my_models/mine.py"}),
            "'my_models/mine.py' does not match",
        ),
        (
            lambda c: c["train"].update(pretrained={"resnet": "weights.bin"}),
            "train.pretrained: ['resnet'] not configured in backbones",
        ),
        (lambda c: c["methods"]["maskclr"].update(masking="all"), "'all' is not one of ['none', 'agpm', 'random']"),
        (
            lambda c: c["datasets"].update(
                ntu60={"num_classes": 60, "splits": ["xsub"], "estimators": {"mq": {"type": "release"}}}
            ),
            "'release' is a required property",
        ),
        (lambda c: c["datasets"]["synth"]["estimators"]["hq"].update(noise=1), "('noise' was unexpected)"),
        (lambda c: c.update(downloads={"x": {"urls": []}}), "'file' is a required property"),
        (
            lambda c: (
                c["datasets"].update(
                    ntu60={
                        "num_classes": 60,
                        "splits": ["xsub"],
                        "release": "ntu60_hrnet",
                        "estimators": {"mq": {"type": "release"}},
                    }
                ),
                c["paper"].update(dataset="ntu60"),
            ),
            "datasets.ntu60.release: ['ntu60_hrnet'] not configured in downloads (configured: none)",
        ),
    ],
)
def test_invalid_config_is_a_clear_error(tmp_path, change, message):
    config = tiny_config()
    change(config)
    workdir = workdir_with(tmp_path, config)
    result = snakemake(workdir, "-n")
    output = result.stdout + result.stderr  # Snakemake reports parse-time errors on stdout
    assert result.returncode != 0
    assert f"invalid configuration in {(workdir / 'config.yaml').resolve()}" in output, output[-2000:]
    assert message in output
    assert not (workdir / "results").exists()


@pytest.mark.parametrize(
    "key, change",
    [
        ("experiments[0].methods", lambda c: c["experiments"][0].update(methods=["maskclr", "simclr"])),
        ("experiments[0].backbones", lambda c: c["backbones"].pop("transformer")),
    ],
)
def test_experiment_naming_something_unconfigured(tmp_path, key, change):
    config = tiny_config()
    change(config)
    workdir = workdir_with(tmp_path, config)
    result = snakemake(workdir, "-n")
    output = result.stdout + result.stderr
    assert result.returncode != 0 and f"invalid configuration in {(workdir / 'config.yaml').resolve()}" in output
    assert f"{key}: " in output and "not configured in" in output


def test_missing_pretrained_checkpoint_is_named(tmp_path):
    config = tiny_config()
    config["train"]["pretrained"] = {"dstformer": "checkpoints/MB_release.bin"}
    result = snakemake(workdir_with(tmp_path, config), "-n")
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Missing input files for rule train_stage1" in output
    assert "checkpoints/MB_release.bin" in output


def user_backbone_workdir(tmp_path, sizes):
    """A working directory holding a backbone module of the user's own (tests/user_modules) and a
    tiny config that trains only it: stage 1 and one stage-2 method, on one tier."""
    shutil.copy(REPO / "tests" / "user_modules" / "my_backbones.py", tmp_path)
    config = tiny_config()
    config["backbones"] = {"tokens": {"class": "my_backbones:TokenMLP", **sizes}}
    config["datasets"]["synth"]["estimators"] = {"mq": config["datasets"]["synth"]["estimators"]["mq"]}
    config["datasets"]["synth"]["shards"] = 1
    config["experiments"] = [{"dataset": "synth", "splits": ["xsub"], "backbones": ["tokens"], "methods": ["maskclr"]}]
    config["paper"].update(backbone="tokens")
    return workdir_with(tmp_path, config)


def test_a_user_backbone_outside_the_package_trains(tmp_path):
    workdir = user_backbone_workdir(tmp_path, {"dim": 8})
    targets = [
        "results/models/synth/xsub/tokens/maskclr/seed0/metrics.json",
        "results/eval/synth/xsub/tokens/maskclr/seed0.csv",
    ]
    result = snakemake(workdir, "--cores", "2", *targets)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((workdir / targets[0]).read_text())
    assert metrics["config"]["arch"]["class"] == "my_backbones:TokenMLP" and metrics["history"][0]["epoch"] == 1
    assert (workdir / targets[1]).exists()  # evaluate rebuilt the model from its record
    module = workdir / "my_backbones.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    planned = planned_jobs(workdir, *targets)
    assert planned == {"train_stage1": 1, "train_stage2": 1, "evaluate": 1}  # its code is an input


def test_a_user_backbones_sizes_are_checked_from_its_source(tmp_path):
    result = snakemake(user_backbone_workdir(tmp_path, {"dim": 8, "depht": 2}), "-n")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "backbones.tokens: ['depht'] not configured in the arguments of TokenMLP" in output, output[-2000:]


def test_tables_and_figures_are_built(finished_run):
    results = finished_run / "results"
    for table in ("table1", "table2", "table3", "classes", "noise", "occlusion", "activation_spread"):
        assert (results / "tables" / f"{table}.tex").read_text().startswith("\\begin{tabular}")
        assert any("ci95" in column for column in pd.read_csv(results / "tables" / f"{table}.csv").columns)
    # Per class: all classes, the generator's groups present in the test split, every class by name
    per_class = pd.read_csv(results / "tables" / "classes.csv", keep_default_na=False)
    names = class_names("synth", 24)
    assert list(per_class["classes"].unique()) == ["all classes", "coarse", "two persons", "fine pairs", *names]
    assert set(per_class["method"]) == {"baseline", "maskclr"} and per_class["clean"].between(0, 100).all()
    # Fig. 5's numbers: each kind, σ and method; σ = 0 is the clean input, as Table 2's mq column
    noise = pd.read_csv(results / "tables" / "noise.csv").set_index(["perturbation", "sigma", "method"])
    methods, kinds = ("baseline", "maskclr"), ("noise_st", "noise_spatial")
    assert set(noise.index) == {(k, s, m) for k in kinds for s in (0.0, 0.01) for m in methods}
    mq = pd.read_csv(results / "tables" / "table2.csv").set_index(["test_estimator", "method"])
    for method in methods:
        assert noise.loc[("noise_st", 0.0, method), "top1"] == mq.loc[("mq", method), "top1"]
    # Fig. 6's numbers: each part, then each joint fraction, as the evaluations recorded them
    occlusion = pd.read_csv(results / "tables" / "occlusion.csv", dtype={"level": str})
    points = [("clean", "0"), ("part", "head"), ("part", "left_arm"), ("joints", "0.3")]
    assert list(zip(occlusion["perturbation"], occlusion["level"], occlusion["method"])) == [
        (*point, m) for point in points for m in methods
    ]
    rows = pd.read_csv(results / "metrics.csv", dtype=str, keep_default_na=False)
    head = rows[(rows.backbone == "dstformer") & (rows.method == "baseline") & (rows.kind == "eval")]
    head = head[(head.test_estimator == "mq") & (head.perturbation == "part") & (head.level == "head")]
    top1 = 100 * float(head.loc[head.metric == "top1", "value"].item())
    assert occlusion.loc[2, "top1"] == pytest.approx(top1, abs=5e-5)  # the CSV's 4 decimals
    # Both as Markdown for the README, from their CSVs: one seed, so no intervals
    noise_md = (results / "tables" / "noise.md").read_text()
    assert f"| 0.01 | {noise.loc[('noise_st', 0.01, 'baseline'), 'top1']:.1f} | " in noise_md
    assert "One seed: no intervals, no claim." in noise_md
    occlusion_md = (results / "tables" / "occlusion.md").read_text().splitlines()
    assert [line.split(" | ")[0] for line in occlusion_md[2:6]] == [
        "| none",
        "| head",
        "| left arm",
        "| 30 % of joints",
    ]
    spread = pd.read_csv(results / "tables" / "activation_spread.csv")
    assert set(spread["method"]) == {"stage1", "baseline", "maskclr"} and (spread["joints_effective"] >= 1).all()
    for figure in ("fig5", "fig6", "classes", "activation", "training_curves"):
        assert (results / "figures" / f"{figure}.pdf").read_bytes().startswith(b"%PDF")
        assert (results / "figures" / f"{figure}.png").read_bytes().startswith(b"\x89PNG")
    summary = (results / "tables" / "robustness_summary.md").read_text()
    assert "spatiotemporal noise" in summary and "of 1 seeds" in summary
    assert "With one seed there are no intervals" in summary  # the tiny run trains one seed
    assert "delta_ci95" in pd.read_csv(results / "tables" / "robustness_summary.csv").columns
    # Every model's MaskCLR against its baseline (Table 1's backbone order); the paper model's rows
    # are the summary's, and the Transformer's MaskCLR shares one seed with its two baseline seeds
    by_model = pd.read_csv(results / "tables" / "robustness_by_model.csv")
    assert list(dict.fromkeys(zip(by_model["backbone"], by_model["method"], by_model["seeds"]))) == [
        ("transformer", "maskclr", 1),
        ("dstformer", "maskclr", 1),
    ]
    paper_model = by_model[by_model["backbone"] == "dstformer"].set_index("group")["delta_mean"]
    in_summary = pd.read_csv(results / "tables" / "robustness_summary.csv").set_index("group")["delta_mean"]
    assert paper_model.to_dict() == pytest.approx(in_summary.to_dict(), abs=1e-4)
    text = (results / "tables" / "robustness_by_model.md").read_text()
    assert "One seed in common, so no interval and no claim: MaskCLR" in text
    assert "on synth XSub, Transformer, trained on MQ; MaskCLR" in text
    assert (results / "tables" / "robustness_by_model.tex").read_text().startswith("\\begin{tabular}")


def test_the_error_flow_agrees_with_the_per_class_table(finished_run):
    """Two routes to the same numbers: the classes table reads the evaluations' per-class top-1
    and partner shares from metrics.csv, the error flow their confusion counts (both CSVs hold
    four decimals)."""
    tables = finished_run / "results" / "tables"
    every = pd.read_csv(tables / "error_flow.csv", dtype={"level": str})
    assert list(every[["perturbation", "level"]].drop_duplicates().itertuples(index=False, name=None)) == [
        ("noise_st", "0.01"),
        ("frames_noise", "0.5"),
    ]  # tests/config/config.yaml's paper.error_conditions, max resolved to the grid's largest σ
    flow = every[every["perturbation"] == "noise_st"].set_index(["method", "source", "destination"])
    per_class = pd.read_csv(tables / "classes.csv").set_index(["method", "classes"])
    for (method, source), row in per_class[per_class["kind"] != "class"].iterrows():
        assert -flow.loc[(method, source, "correct"), "added"] == pytest.approx(row["cost"], abs=2e-4)
        assert flow.loc[(method, source, "correct"), "clean"] == pytest.approx(row["clean"], abs=2e-4)
    fine = per_class.loc[("baseline", "fine pairs")]
    assert flow.loc[("baseline", "fine pairs", "partner"), "added"] == pytest.approx(fine["to_partner_added"], abs=2e-4)
    for _, rows in every.groupby(["method", "perturbation", "level", "source"]):
        assert rows["clean"].sum() == pytest.approx(100, abs=1e-3) and rows["added"].sum() == pytest.approx(0, abs=1e-3)
    # MaskCLR's rows hold what it adds minus the baseline's, paired by seed (the tiny run: one seed)
    paired = every.set_index(["perturbation", "level", "source", "destination", "method"])["added"].unstack()
    delta = every[every["method"] == "maskclr"].set_index(["perturbation", "level", "source", "destination"])
    assert (delta["added_delta"] - (paired["maskclr"] - paired["baseline"])).abs().max() < 2e-4
    assert every.loc[every["method"] == "baseline", "added_delta"].isna().all()
    cells = pd.read_csv(tables / "confusion.csv", dtype={"level": str})
    assert set(cells["method"]) == {"baseline", "maskclr"} and (cells["n_seeds"] == 1).all()
    cell = ["perturbation", "level", "true_label", "predicted_label"]
    added = cells.set_index([*cell, "method"])["added"].unstack()
    assert added.notna().all().all()  # every method has a row for every cell that any method fills
    maskclr = cells[cells["method"] == "maskclr"].set_index(cell)
    expected = added["maskclr"] - added["baseline"]
    assert (maskclr["added_delta"] - expected.loc[maskclr.index]).abs().max() < 2e-4
    assert "σ = 0.01" in (tables / "error_flow.md").read_text()
    figure = finished_run / "results" / "figures" / "confusion.png"
    assert figure.read_bytes().startswith(b"\x89PNG")


def test_forced_tables_regenerate_identically_without_retraining(finished_run):
    folder = finished_run / "results" / "tables"
    tables = sorted(folder.glob("*"))
    before = {p.name: p.read_bytes() for p in tables}
    forced = [f"table{i}.{ext}" for i in (1, 2, 3) for ext in ("tex", "csv")] + [
        f"robustness_{name}" for name in ("summary.csv", "summary.md", "by_model.csv", "by_model.tex", "by_model.md")
    ]
    written = {name: (folder / name).stat().st_mtime_ns for name in forced}
    result = snakemake(finished_run, "--cores", "2", "--forcerun", "table", "robustness_summary", "robustness_by_model")
    assert result.returncode == 0, result.stderr[-2000:]
    # Rewritten (a new file renamed into place), with the same bytes.
    assert all((folder / name).stat().st_mtime_ns != t for name, t in written.items())
    assert {p.name: p.read_bytes() for p in tables} == before
    log = result.stdout + result.stderr
    assert re.search(r"^localrule table:$", log, re.M), log[-2000:]
    assert "train_stage1" not in log and "evaluate" not in log.replace("results/eval", "")


def test_report_holds_every_table_and_figure(finished_run):
    result = snakemake(finished_run, "--report", "report.html")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    html = (finished_run / "report.html").read_text(errors="replace")
    for caption in (
        "Generalisation to unseen pose estimators",
        "Occlusion robustness",
        "Training curves",
        "Robustness summary",
        "Every model against its baseline",
        "Where a perturbation's errors go",
    ):
        assert caption in html


def test_editing_one_backbone_reruns_exactly_its_models(finished_run):
    module = REPO / "src" / "maskclr" / "models" / "transformer.py"
    original, stat = module.read_bytes(), module.stat()
    try:
        module.write_bytes(original + b"\n# an edit\n")
        planned = planned_jobs(finished_run)
    finally:
        module.write_bytes(original)
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # the transformer's 5 models (stage 1, baseline, maskclr; seed 1: stage 1, baseline), their
    # evaluations and what reads them; nothing of the DSTFormer, no data
    assert planned["train_stage1"] == 2 and planned["train_stage2"] == 3 and planned["evaluate"] == 5
    assert not {"generate_synthetic", "extract_poses", "preprocess"} & set(planned)


def test_editing_one_module_reruns_exactly_the_jobs_importing_it(finished_run):
    module = REPO / "src" / "maskclr" / "poses" / "quality.py"
    original, stat = module.read_bytes(), module.stat()
    try:
        module.write_bytes(original + b"\n# an edit\n")
        planned = planned_jobs(finished_run)
    finally:
        module.write_bytes(original)
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # only pose_quality imports it (one job per tier); `all` is the target
    assert planned == {"pose_quality": 3, "all": 1}


def test_the_wide_noise_grid_reruns_only_the_evaluations(finished_run):
    """workflow/configs/wide-noise.yaml over a finished run: every evaluation over the grid and
    what reads them, no training; σ beyond the paper's grid. The three stage-1 models are
    evaluated clean only (robustness.stage1_grid false), so a wider σ grid leaves them alone."""
    overlay = REPO / "workflow" / "configs" / "wide-noise.yaml"
    assert max(yaml.safe_load(overlay.read_text())["robustness"]["noise_sigmas"]) > 0.01
    planned = planned_jobs(finished_run, "--configfile", overlay)
    paper = {
        "table": 7,
        "grid_table_markdown": 2,
        "figure": 4,
        "activation_figure": 1,
        "robustness_summary": 1,
        "confusion": 1,
    }
    paper["robustness_by_model"] = 1
    assert planned == {"evaluate": 5, "collect_metrics": 1, **paper, "confusion_figure": 1, "all": 1}


def test_one_target_builds_only_its_ancestors(tmp_path):
    model = "results/models/synth/xsub/dstformer/maskclr/seed0/model.pt"
    planned = planned_jobs(workdir_with(tmp_path, tiny_config()), model)
    assert planned == {
        "generate_synthetic": 1,
        "extract_poses": 2,
        "merge_poses": 1,
        "preprocess": 1,
        "train_stage1": 1,
        "train_stage2": 1,
    }


def test_changing_the_default_seed_moves_no_other_run(finished_run):
    """The schedule's seed becomes 1, which the second experiment lists: its seed-1 models keep
    their directories and are not retrained; the first experiment's models of seed 1 are new
    directories beside its seed-0 ones."""
    config_file = finished_run / "config.yaml"
    original = config_file.read_text()
    config = yaml.safe_load(original)
    config["train"]["schedule"]["seed"] = 1
    config_file.write_text(yaml.safe_dump(config))
    try:
        planned = planned_jobs(finished_run)
    finally:
        config_file.write_text(original)
    # new: DSTFormer stage 1, baseline, maskclr and Transformer maskclr of seed 1; the
    # Transformer's stage 1 and baseline of seed 1 (the second experiment's) are up to date
    assert planned["train_stage1"] == 1 and planned["train_stage2"] == 3 and planned["evaluate"] == 4
    assert not {"extract_poses", "preprocess", "generate_synthetic"} & set(planned)


def ntu_workdir(tmp_path, **estimators):
    """A run directory whose config has an NTU60-format release (built here in the exact PYSKL
    format, given as a local copy) and the extra tiers ``estimators``; nothing synthetic."""
    release = tmp_path / "my_copy_of_ntu60_hrnet.pkl"
    release.write_bytes(pickle.dumps(ntu_release(), protocol=4))
    config = tiny_config()
    config["datasets"]["ntu60"] = {
        "num_classes": 4,
        "splits": ["xsub", "xview"],
        "release": "ntu60_hrnet",
        "expected_sizes": {"xsub_train": 5, "xsub_val": 3},
        "estimators": {"mq": {"type": "release"}, **estimators},
    }
    config["downloads"] = {"ntu60_hrnet": {"file": "ntu60_hrnet.pkl", "path": str(release)}}
    config["paper"]["dataset"] = "ntu60"
    config["experiments"] = []
    (tmp_path / "run").mkdir()
    return workdir_with(tmp_path / "run", config), config, release


def test_released_skeletons_run_through_the_same_path(tmp_path):
    """fetch links the local copy, import_release checks it, the split lists and HDF5 files
    are made; a changed expected size reruns the import, which then fails clearly."""
    workdir, config, release = ntu_workdir(tmp_path)
    result = snakemake(workdir, "--cores", "2", "data", "results/splits/ntu60")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (workdir / "resources" / "downloads" / "ntu60_hrnet.pkl").resolve() == release.resolve()
    assert (workdir / "results" / "splits" / "ntu60" / "xview_val.txt").read_text().split() == ntu_release()["split"][
        "xview_val"
    ]
    with h5py.File(workdir / "results" / "data" / "ntu60" / "mq" / "xsub.h5") as h5:
        assert h5["train/x"].shape[0] == 5 and h5["test/x"].shape[0] == 3 and h5.attrs["num_classes"] == 4
    assert not (workdir / "results" / "raw").exists()  # nothing synthetic was made

    config["datasets"]["ntu60"]["expected_sizes"]["xsub_train"] = 40091  # the real release's size
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "--cores", "1", "data")  # a changed expected size reruns the import
    assert result.returncode != 0
    log = (workdir / "results" / "logs" / "import_release" / "ntu60" / "mq.log").read_text()
    assert "split 'xsub_train' has 5 sequences, expected 40091" in log


def test_video_tier_is_extracted_in_shards_by_a_real_network(tmp_path):
    """An HQ tier re-extracted from videos (made here) by the HRNet adapter with random weights
    (no weights can be downloaded here): list_videos, two extract_poses shards, merge_poses and
    preprocess run as in the paper configuration."""
    hrnet = {
        "type": "hrnet",
        "variant": "w32",
        "arch": {"width": 8},
        "random_init": True,
        "flip_test": False,
        "detector": {"type": "whole_frame"},
    }
    workdir, config, _ = ntu_workdir(tmp_path, hq=hrnet)
    videos = tmp_path / "videos"
    videos.mkdir()
    for ann in ntu_release()["annotations"]:
        write_video(videos / f"{ann['frame_dir']}_rgb.avi", frames=3, size=(96, 128))
    config["datasets"]["ntu60"].update(videos=str(videos), shards=2)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "--cores", "2", "results/data/ntu60/hq/xsub.h5")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    poses = load_pickle(workdir / "results" / "poses" / "ntu60" / "hq.pkl")
    assert [a["frame_dir"] for a in poses["annotations"]] == [a["frame_dir"] for a in ntu_release()["annotations"]]
    assert poses["split"] == {
        name: ntu_release()["split"][name] for name in ("xsub_train", "xsub_val", "xview_train", "xview_val")
    }
    first = poses["annotations"][0]
    assert first["img_shape"] == (96, 128) and first["keypoint"].shape == (1, 3, 17, 2)
    assert sorted(p.name for p in (workdir / "results" / "poses" / "ntu60" / "hq").iterdir()) == [
        "shard0.pkl",
        "shard1.pkl",
    ]
    with h5py.File(workdir / "results" / "data" / "ntu60" / "hq" / "xsub.h5") as h5:
        assert h5["train/x"].shape[0] == 5 and h5["test/x"].shape[0] == 3


# The 2D rows (3 backbones, 5 splits) and, on native 3D NTU60/NTU120 (4 splits), SkeletonMAE
# (STTFormer), SkeletonMAE and MAMP (Transformer): 12 pretrainings, each fine-tuned (stage 1) and
# continued as baseline and MaskCLR.
PAPER_JOBS = {
    "fetch": 9,
    "import_release": 5,
    "list_videos": 1,
    "extract_poses": 128,
    "merge_poses": 2,
    "split_lists": 5,
    "preprocess": 9,
    "preprocess_native3d": 4,
    "pretrain": 12,
    "train_stage1": 15 + 12,
    "train_stage2": 33 + 24,
    "evaluate": 48 + 36,
    "collect_metrics": 1,
    "table": 7,
    "grid_table_markdown": 2,  # the noise and occlusion tables in Markdown
    "figure": 5,  # 5, 6, per class, the training curves and the pretraining losses
    "activation_figure": 1,
    "robustness_summary": 1,
    "robustness_by_model": 1,
    "confusion": 1,
    "confusion_figure": 1,
    "all": 1,
}


def test_synth_study_plans_every_backbone_split_method_and_seed(tmp_path):
    """workflow/configs/synth-study.yaml over config.yaml: every backbone, split, method and seed, and the
    native 3D rows with their pretrainings."""
    shutil.copy(REPO / "config.yaml", tmp_path)
    planned = planned_jobs(tmp_path, "--configfile", REPO / "workflow" / "configs" / "synth-study.yaml")
    # 2D: 3 backbones × 2 splits × 5 seeds, 5 methods; native 3D: 3 pretrained rows × 2 splits × 5 seeds,
    # 2 methods, and 2 from-scratch controls × 2 splits × 5 seeds, the baseline only
    assert (planned["pretrain"], planned["train_stage1"], planned["train_stage2"], planned["evaluate"]) == (
        30,
        30 + 30 + 20,
        150 + 60 + 20,
        180 + 90 + 40,
    )


@pytest.mark.parametrize("split", ["xsub", "xview"])
def test_the_studys_measured_parts_are_its_2d_rows_on_one_split(split, tmp_path):
    """synth-study-2d-<split>.yaml (README's measured parts of the study) narrows the study's own
    2D entries to one split, and points the paper's tables at that split, so that it plans."""
    configs = REPO / "workflow" / "configs"
    study = yaml.safe_load((configs / "synth-study.yaml").read_text())["experiments"]
    part_file = configs / f"synth-study-2d-{split}.yaml"
    part = yaml.safe_load(part_file.read_text())
    assert part["experiments"] == [{**e, "splits": [split]} for e in study if e["dataset"] == "synth"]
    default_split = yaml.safe_load((REPO / "config.yaml").read_text())["paper"]["split"]
    assert set(part) <= {"experiments", "paper"}
    assert part.get("paper", {"split": default_split}) == {"split": split}

    shutil.copy(REPO / "config.yaml", tmp_path)
    planned = planned_jobs(tmp_path, "--configfile", configs / "synth-study.yaml", part_file)
    assert (planned["train_stage1"], planned["train_stage2"], planned["evaluate"]) == (15, 75, 90)


EXPERIMENTS = sorted((REPO / "workflow" / "configs" / "experiments").glob("*.yaml"))


@pytest.mark.parametrize("overlay", EXPERIMENTS, ids=lambda path: path.stem)
def test_each_experiment_overlay_trains_one_baseline_over_its_seeds(overlay, tmp_path):
    """workflow/configs/experiments/*.yaml (README, "What was tried"), each merged over config.yaml:
    one model's baseline over its seeds, evaluated clean and at σ = 0.01, with the paper's
    artefacts pointed at it, so that the whole DAG plans; the README names the file."""
    text = yaml.safe_load(overlay.read_text())
    (experiment,) = text["experiments"]
    assert experiment["methods"] == ["baseline"] and text["robustness"] == {"noise_sigmas": [0, 0.01]}
    assert text["paper"]["backbone"] == experiment["backbones"][0]
    shutil.copy(REPO / "config.yaml", tmp_path)
    planned = planned_jobs(tmp_path, "--configfile", overlay)
    seeds = len(experiment["seeds"])
    # each seed's stage-1 model (clean only) and its stage-2 baseline are evaluated
    assert (planned["train_stage1"], planned["train_stage2"], planned["evaluate"], planned["all"]) == (
        seeds,
        seeds,
        2 * seeds,
        1,
    )
    assert f"`{overlay.name}`" in (REPO / "README.md").read_text()


def test_there_are_experiment_overlays():
    assert len(EXPERIMENTS) >= 10  # the parametrised test above must not pass by finding none


def test_synth_study_table1_prints_the_papers_rows_beside_the_3d_columns(tmp_path):
    """The study's Table 1 job reads the paper's NTU60 rows for synth_3d as for synth."""
    shutil.copy(REPO / "config.yaml", tmp_path)
    study = REPO / "workflow" / "configs" / "synth-study.yaml"
    result = snakemake(tmp_path, "results/tables/table1.csv", "--configfile", study, "-n", "-p")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert '"reference_dataset": {"synth": "ntu60", "synth_3d": "ntu60"}' in result.stdout


def test_paper_dag_dry_runs_without_data(tmp_path):
    """The paper configuration (3 datasets, 5 splits, 3 backbones, the video-extracted NTU60
    tiers in 64 shards) plans under the SLURM profile on a machine without any data."""
    paper, profile = REPO / "workflow" / "configs" / "paper.yaml", REPO / "workflow" / "profiles" / "slurm"
    planned = planned_jobs(tmp_path, "--configfile", paper, "--profile", profile, "--sdm", "env-modules")
    assert planned == PAPER_JOBS
