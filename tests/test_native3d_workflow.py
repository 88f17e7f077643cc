"""The native 3D path of Table 1's self-supervised rows, end to end on the tiny config.

tests/config/native3d.yaml goes over the tiny config as paper.yaml goes over config.yaml: synth's
scenes captured as Kinect NTU-25 skeletons → native preprocessing → SkeletonMAE (STTFormer) and
MAMP (Transformer) pretraining → fine-tuning with each backbone's recipe → baseline and MaskCLR
from the same pretraining → the robustness grid in metres → Table 1's rows.
"""

import json
import pickle

import h5py
import pandas as pd
import pytest
import yaml

from conftest import REPO, planned_jobs, release_3d, snakemake, tiny_config, workdir_with

pytestmark = pytest.mark.workflow

OVERLAY = REPO / "tests" / "config" / "native3d.yaml"
MODELS = (("sttformer", "skeletonmae", "linear"), ("transformer", "mamp", "mlp"))
# What reads results/metrics.csv (the figures: 5, 6, per class, training curves, pretraining losses), and the
# activation figure and the confusion of paper.backbone (the MAMP Transformer)
TABLES = {
    "collect_metrics": 1,
    "table": 7,
    "grid_table_markdown": 2,
    "figure": 5,
    "robustness_summary": 1,
    "robustness_by_model": 1,
    "all": 1,
}
PAPER = {**TABLES, "activation_figure": 1, "confusion": 1, "confusion_figure": 1}


@pytest.fixture(scope="module")
def native3d_run(tmp_path_factory):
    workdir = workdir_with(tmp_path_factory.mktemp("native3d"), tiny_config())
    result = snakemake(workdir, "--configfile", OVERLAY, "--cores", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


def test_every_stage_of_the_3d_rows_is_made(native3d_run):
    results = native3d_run / "results"
    with h5py.File(results / "data" / "synth_3d" / "kinect" / "xsub.h5") as h5:
        assert h5.attrs["pipeline"] == "native3d" and h5["test/x"].shape[1:] == (2, 16, 25, 3)
    for backbone, pretrain, head in MODELS:
        pretrained = results / "pretrain" / "synth_3d" / "xsub" / backbone / pretrain / "seed0"
        assert json.loads((pretrained / "metrics.json").read_text())["losses"]
        for run in ("stage1", "baseline", "maskclr"):
            path = results / "models" / "synth_3d" / "xsub" / backbone / f"{pretrain}+{run}" / "seed0" / "metrics.json"
            metrics = json.loads(path.read_text())
            assert (metrics["pretrain"], metrics["method"]) == (pretrain, run)
            assert metrics["config"]["arch"]["head"] == head and metrics["config"]["arch"]["num_joints"] == 25


def test_metrics_and_table1_carry_the_pretraining(native3d_run):
    results = native3d_run / "results"
    table = pd.read_csv(results / "metrics.csv")
    clean = table[(table["kind"] == "eval") & (table["perturbation"] == "clean") & (table["metric"] == "top1")]
    assert set(zip(clean["backbone"], clean["pretrain"], clean["method"], clean["test_estimator"])) == {
        (backbone, pretrain, run, "kinect")
        for backbone, pretrain, _ in MODELS
        for run in ("stage1", "baseline", "maskclr")
    }
    noise = table[(table["perturbation"] == "noise_st") & (table["metric"] == "top1")]
    assert sorted(set(noise["level"].astype(float))) == [0.0, 0.02]  # robustness_3d, in metres
    table1 = pd.read_csv(results / "tables" / "table1.csv")
    assert {"skeletonmae", "mamp"} <= set(table1["pretrain"])


def test_every_pretraining_epoch_is_collected_and_drawn(native3d_run):
    """The pretrainings' losses reach metrics.csv, one row per epoch of each (as its metrics.json
    records them), and the pretraining figure, which only a config with pretrainings asks for."""
    results = native3d_run / "results"
    entries = yaml.safe_load(OVERLAY.read_text())["pretraining"]
    expected = []
    for backbone, pretrain, _ in MODELS:
        metrics = results / "pretrain" / "synth_3d" / "xsub" / backbone / pretrain / "seed0" / "metrics.json"
        losses = json.loads(metrics.read_text())["losses"]
        assert len(losses) == entries[pretrain]["schedule"]["epochs"]
        model = ("synth_3d", "xsub", backbone, entries[pretrain]["method"], "0", "kinect", "")
        expected += [(*model, str(epoch), "loss", str(loss), pretrain, "") for epoch, loss in enumerate(losses)]
    table = pd.read_csv(results / "metrics.csv", dtype=str, keep_default_na=False)
    rows = table[table["kind"] == "pretrain_history"].drop(columns="kind")
    assert sorted(rows.itertuples(index=False, name=None)) == sorted(expected)
    assert (results / "figures" / "pretraining.pdf").read_bytes().startswith(b"%PDF")
    assert (results / "figures" / "pretraining.png").read_bytes().startswith(b"\x89PNG")


def plan(workdir, change):
    """{rule: count} a dry run plans with the overlay changed by ``change`` (a function of it)."""
    overlay = yaml.safe_load(OVERLAY.read_text())
    change(overlay)
    path = workdir / "changed.yaml"
    path.write_text(yaml.safe_dump(overlay))
    return planned_jobs(workdir, "--configfile", path)


CHANGES = {
    # a recipe: the models trained with it (STTFormer's three), nothing pretrained
    "recipes.sttformer.lr_backbone": (
        lambda o: o["recipes"]["sttformer"].update(lr_backbone=0.02),
        {"train_stage1": 1, "train_stage2": 2, "evaluate": 3, **TABLES},
    ),
    # a pretraining: its checkpoint and every model fine-tuned from it
    "pretraining.mamp.schedule.epochs": (
        lambda o: o["pretraining"]["mamp"]["schedule"].update(epochs=2),
        {"pretrain": 1, "train_stage1": 1, "train_stage2": 2, "evaluate": 3, **PAPER},
    ),
    # the sensor model: the whole 3D path
    "datasets.synth_3d.sensor.jitter_m": (
        lambda o: o["datasets"]["synth_3d"].update(sensor={"jitter_m": 0.02}),  # the others: defaults
        {
            "generate_kinect": 1,
            "split_lists": 1,
            "preprocess_native3d": 1,
            "pretrain": 2,
            "train_stage1": 2,
            "train_stage2": 4,
            "evaluate": 6,
            **PAPER,
        },
    ),
    # the 3D grid: every evaluation; the 2D grid reaches none of them
    "robustness_3d.seed": (lambda o: o["robustness_3d"].update(seed=1), {"evaluate": 6, **PAPER}),
    "robustness.seed": (lambda o: o.update(robustness={**tiny_config()["robustness"], "seed": 1}), {}),
}


@pytest.mark.parametrize("name", CHANGES)
def test_a_3d_setting_reruns_exactly_its_readers(native3d_run, name):
    change, expected = CHANGES[name]
    assert plan(native3d_run, change) == expected


def test_a_3d_release_is_imported_checked_and_preprocessed(tmp_path):
    """PYSKL's ntu60_3danno.pkl format through the DAG: fetch links the local copy, the import
    checks it as 3D NTU-25 against the expected sizes, the split lists and the native HDF5 follow."""
    release = tmp_path / "ntu60_3danno.pkl"
    release.write_bytes(pickle.dumps(release_3d(), protocol=4))
    config = tiny_config()
    config["datasets"]["ntu60_3d"] = {
        "num_classes": 3,
        "splits": ["xsub"],
        "release": "ntu60_3danno",
        "expected_sizes": {"xsub_train": 4, "xsub_val": 2},
    }
    config["downloads"] = {"ntu60_3danno": {"file": "ntu60_3danno.pkl", "path": str(release)}}
    config["preprocess_3d"] = {"n_frames": 8, "min_crop": 4}
    config["paper"]["dataset"] = "ntu60_3d"
    config["experiments"] = []
    (tmp_path / "run").mkdir()
    workdir = workdir_with(tmp_path / "run", config)
    result = snakemake(workdir, "--cores", "2", "data", "results/splits/ntu60_3d")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with h5py.File(workdir / "results" / "data" / "ntu60_3d" / "kinect" / "xsub.h5") as h5:
        assert h5["train/x"].shape[0] == 4 and h5["test/x"].shape == (2, 2, 8, 25, 3)
    names = (workdir / "results" / "splits" / "ntu60_3d" / "xsub_val.txt").read_text().split()
    assert names == release_3d()["split"]["xsub_val"]
