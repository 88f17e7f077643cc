"""Every model's methods against its baseline (maskclr.paper.by_model), on hand-made metrics."""

import csv
import json

import pandas as pd
import pytest

from conftest import run_module
from maskclr.paper import by_model, metrics

SETTINGS = {
    "train_estimators": {"synth": "mq", "ntu120": "mq"},
    "table_methods": ["baseline", "maskclr"],
}
# The grid's points, by summary group: (test tier, perturbation, level).
GRID = {
    "clean": [("mq", "clean", "0")],
    "unseen estimators": [("hq", "clean", "0"), ("lq", "clean", "0")],
    "spatiotemporal noise": [("mq", "noise_st", "0.01")],
    "spatial noise": [("mq", "noise_spatial", "0.01")],
    "part occlusion": [("mq", "part", "head")],
    "random joint occlusion": [("mq", "joints", "0.3")],
    "frames masked + noise": [(tier, "frames_noise", "0.5") for tier in ("mq", "hq", "lq")],
}
# MaskCLR − baseline in points per seed 0, 1, 2; every other group and random masking: 0.
DELTA = {"clean": (1, 2, 3), "spatiotemporal noise": (-3, -3, -3), "frames masked + noise": (5, 6, 7)}


def rows():
    """synth: DSTFormer xsub: stage 1, baseline, MaskCLR and random masking over seeds 0-2;
    STTFormer xsub: baseline and MaskCLR, seed 0 only; DSTFormer xview: the baseline alone (nothing
    to compare); the Transformer xview: baseline seed 0, MaskCLR seed 1 (no seed in common).
    ntu120 (one tier, so no unseen estimators): DSTFormer xsub, baseline and MaskCLR, seeds 0-1."""
    runs = [
        ("synth", "xsub", "dstformer", m, s) for m in ("stage1", "baseline", "maskclr", "random_mask") for s in range(3)
    ]
    runs += [("synth", "xsub", "sttformer", m, 0) for m in ("baseline", "maskclr")]
    runs += [("synth", "xview", "dstformer", "baseline", 0), ("synth", "xview", "transformer", "baseline", 0)]
    runs += [("synth", "xview", "transformer", "maskclr", 1)]
    runs += [("ntu120", "xsub", "dstformer", m, s) for m in ("baseline", "maskclr") for s in range(2)]
    for dataset, split, backbone, method, seed in runs:
        for group, points in GRID.items():
            if (method == "stage1" and group != "clean") or (dataset == "ntu120" and group == "unseen estimators"):
                continue  # evaluated clean only (robustness.stage1_grid: false); ntu120 has one tier
            delta = DELTA.get(group, (0, 0, 0))[seed] if method == "maskclr" else 0
            for tier, perturbation, level in points:
                model = [dataset, split, backbone, method, seed]
                yield model + ["eval", tier, perturbation, level, "top1", 0.5 + delta / 100, "none", ""]


@pytest.fixture(scope="module")
def metrics_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("by_model") / "metrics.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(metrics.COLUMNS)
        writer.writerows(rows())
    return path


@pytest.fixture(scope="module")
def table(metrics_csv):
    return by_model.by_model(metrics.load(metrics_csv), SETTINGS)


def row(table, **where):
    chosen = table
    for key, value in where.items():
        chosen = chosen[chosen[key] == value]
    assert len(chosen) == 1, where
    return chosen.iloc[0]


def test_every_model_with_a_baseline_and_another_method_in_the_style_order(table):
    pairs = list(dict.fromkeys(zip(table["dataset"], table["backbone"], table["split"], table["method"])))
    # synth before NTU120, XSub before XView, STTFormer before DSTFormer (the style's orders, Table
    # 1's); DSTFormer xview has the baseline alone; stage 1 is no method
    assert pairs == [
        ("synth", "sttformer", "xsub", "maskclr"),
        ("synth", "dstformer", "xsub", "random_mask"),
        ("synth", "dstformer", "xsub", "maskclr"),
        ("synth", "transformer", "xview", "maskclr"),
        ("ntu120", "dstformer", "xsub", "maskclr"),
    ]
    assert list(table.columns) == list(by_model.COLUMNS) and set(table["baseline"]) == {"baseline"}


def test_paired_differences_and_intervals_by_hand(table):
    clean = row(table, dataset="synth", backbone="dstformer", method="maskclr", group="clean")
    # Δ 1, 2, 3: mean 2, s = 1, t(0.975, 2) = 4.303, half-width 4.303 / √3
    assert (clean.delta_mean, clean.delta_ci95, clean.seeds) == pytest.approx((2.0, 4.303 / 3**0.5, 3))
    assert not clean.significant and clean.baseline_mean == pytest.approx(50.0)
    frames = row(table, dataset="synth", backbone="dstformer", method="maskclr", group="frames masked + noise")
    assert (frames.delta_mean, frames.significant, frames.seeds_ahead) == (pytest.approx(6.0), True, 3)
    noise = row(table, dataset="synth", backbone="dstformer", method="maskclr", group="spatiotemporal noise")
    assert (noise.delta_mean, noise.significant, noise.seeds_ahead) == (pytest.approx(-3.0), True, 0)
    random = table[table["method"] == "random_mask"]
    assert (random["delta_mean"] == 0).all() and not random["significant"].any()
    single = row(table, backbone="sttformer", group="clean")
    assert single.seeds == 1 and pd.isna(single.delta_ci95) and not single.significant
    apart = row(table, backbone="transformer", group="clean")
    assert apart.seeds == 0 and pd.isna(apart.delta_mean) and not apart.significant
    # one tier: no unseen estimators, the rest compared over both seeds (Δ clean 1, 2)
    ntu = table[table["dataset"] == "ntu120"].set_index("group")
    assert "unseen estimators" not in ntu.index and len(ntu) == 6
    assert (ntu.loc["clean", "delta_mean"], ntu.loc["clean", "seeds"]) == (pytest.approx(1.5), 2)


def test_the_text_counts_significant_differences_beside_chance(table, metrics_csv):
    text = by_model.markdown(table, by_model.blocks(table, metrics.load(metrics_csv)), SETTINGS)
    assert "| synth XSub, DSTFormer, trained on MQ | baseline | 3 | 50.0 [50.0, 50.0] |" in text
    assert "| NTU120 XSub, DSTFormer, trained on MQ | baseline | 2 |" in text and "| -- |" in text
    assert "| **+6.0 [3.5, 8.5]** |" in text and "| +2.0 [-0.5, 4.5] |" in text
    # synth DSTFormer's 2 methods × 7 groups and NTU120's 6 with an interval; one seed or none has none
    assert (
        "Of the 20 differences with an interval, significantly positive: 1, significantly negative: 2; "
        "if no method differed from baseline, about 1.0 of 20 would be significant by chance" in text
    )
    maskclr = "MaskCLR ($\\mathcal{L}_{sc}$ + $\\mathcal{L}_{cc}$) on synth XSub, DSTFormer, trained on MQ"
    assert f"Significantly positive: {maskclr}, frames masked + noise (+6.0 [3.5, 8.5])." in text
    ntu = maskclr.replace("synth", "NTU120")
    negative = f"Significantly negative: {maskclr}, spatiotemporal noise (-3.0 [-3.0, -3.0]); {ntu}, spatiotemporal"
    assert negative in text  # NTU120's Δ clean 1, 2 and frames 5, 6 have intervals over 0 (t = 12.7 at 1 df)
    assert f"One seed in common, so no interval and no claim: {maskclr.replace('DSTFormer', 'STTFormer')}." in text
    assert f"No seed in common: {maskclr.replace('XSub, DSTFormer', 'XView, Transformer')}." in text


def test_cli_writes_csv_tex_and_markdown(metrics_csv, tmp_path):
    out = {ext: tmp_path / f"robustness_by_model.{ext}" for ext in ("csv", "tex", "md")}
    args = ["--metrics", metrics_csv, "--settings-json", json.dumps(SETTINGS)]
    args += [arg for ext, path in out.items() for arg in (f"--out-{ext}", path)]
    result = run_module("maskclr.paper.by_model", *args)
    assert result.returncode == 0, result.stderr
    assert len(pd.read_csv(out["csv"])) == 4 * 7 + 6
    tex = out["tex"].read_text()
    assert r"\textbf{+6.0 [3.5, 8.5]}" in tex and r"\begin{tabular}{lll" in tex
    missing = run_module("maskclr.paper.by_model", *args[:2], "--settings-json", "{}", *args[4:])
    assert missing.returncode == 2 and "train_estimators" in missing.stderr
