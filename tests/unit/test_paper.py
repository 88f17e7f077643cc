"""Paper artefacts: table contents, byte-identical regeneration, figure structure, bad input."""

import csv
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, run_module
from maskclr.data.classes import class_names
from maskclr.errors import InputError
from maskclr.paper import classes, figures, metrics, summary, tables
from maskclr.paper import grid_markdown as grid_markdown_module
from maskclr.paper.style import method_label

PAPER = REPO / "resources" / "paper_numbers.csv"
BACKBONES = ("dstformer", "sttformer")
SPLITS = ("xsub", "xview")
TIERS = ("hq", "mq", "lq")
SIGMAS = ("0.0", "0.002", "0.004", "0.006", "0.008", "0.01")
PARTS = ("head", "left_arm", "right_arm", "left_leg", "right_leg")
FRACTIONS = ("0.15", "0.3", "0.45", "0.6")
# Ablations exist for one model only, as in the default config.
EXTRA = ("maskclr_sc", "maskclr_cc", "random_mask")
PER_CLASS = ("clean", "noise_st")  # the perturbations the fixture has per-class rows of
BASE = {"baseline": 0.60, "maskclr": 0.70, "maskclr_sc": 0.66, "maskclr_cc": 0.64, "random_mask": 0.62}
TIER_SHIFT = {"mq": 0.0, "hq": 0.01, "lq": -0.10}
SETTINGS = {
    "dataset": "synth", "train_estimator": "mq", "split": "xsub", "backbone": "dstformer", "pretrain": None,
    "train_estimators": {"synth": "mq", "ntu120": "mq"},
    "table_methods": ["baseline", "maskclr"],
    "fig5_methods": ["maskclr", "maskclr_sc", "maskclr_cc", "random_mask", "baseline"],
    "reference_dataset": {"synth": "ntu60"}, "activation_methods": ["baseline", "maskclr"],
    "activation_classes": [0, 2, 4, 6], "num_classes": 24,
}  # fmt: skip


def clean_top1(backbone, split, method, tier, seed):
    """Clean top-1: easy to recompute by hand; MaskCLR loses on sttformer/xview (a negative Δ)."""
    value = BASE[method] + TIER_SHIFT[tier] + 0.02 * seed
    value += (-0.05 if backbone == "sttformer" else 0.0) + (0.10 if split == "xview" else 0.0)
    return value - (0.15 if (backbone, split, method) == ("sttformer", "xview", "maskclr") else 0.0)


def eval_grid(backbone, split, method, seed):
    """(test_estimator, perturbation, level, top1) of the whole robustness grid."""
    top1 = lambda tier="mq": clean_top1(backbone, split, method, tier, seed)  # noqa: E731
    rows = [(tier, "clean", "0", top1(tier)) for tier in TIERS]
    for kind, slope in (("noise_st", 20.0), ("noise_spatial", 5.0)):
        rows += [("mq", kind, s, top1() - slope * float(s)) for s in SIGMAS]
    rows += [("mq", "part", p, top1() - 0.01 * (i + 1)) for i, p in enumerate(PARTS)]
    rows += [("mq", "joints", f, top1() - float(f) / 2) for f in FRACTIONS]
    rows += [(tier, "frames_noise", "0.5", top1(tier) - 0.20) for tier in TIERS]
    return rows


CLASSES = range(10, 18)  # synth's coarse 10-11, two-person 12-13 and four of its fine-pair classes


def class_top1(top1, clean, label):
    """Top-1 of one of the ``CLASSES``: its offset (k − 13.5) / 100 around the whole set's; noise
    costs classes 10-13 nothing and the fine pairs twice the whole set's loss (their mean is the set's)."""
    return clean + (label - 13.5) / 100 - (0.0 if label < 14 else 2 * (clean - top1))


def metric_rows():
    for backbone in BACKBONES:
        for split in SPLITS:
            extra = EXTRA if (backbone, split) == ("dstformer", "xsub") else ()
            for method in ("stage1", "baseline", "maskclr", *extra):
                for seed in (0, 1):
                    model = ["synth", split, backbone, method, seed]
                    epochs = range(3) if method == "stage1" else range(3, 5)
                    for epoch in epochs:
                        acc = 0.3 + 0.05 * epoch + 0.01 * seed
                        yield model + ["history", "mq", "", epoch, "test_top1", acc, "none", ""]
                        yield model + ["history", "mq", "", epoch, "loss", 2.0 - 0.1 * epoch, "none", ""]
                    yield model + ["train", "mq", "", "", "best_top1", 0.5, "none", ""]
                    if method == "stage1":
                        continue
                    clean = clean_top1(backbone, split, method, "mq", seed)
                    for tier, perturbation, level, top1 in eval_grid(backbone, split, method, seed):
                        for metric, value in (("top1", top1), ("top5", min(1.0, top1 + 0.2)), ("n", 100)):
                            yield model + ["eval", tier, perturbation, level, metric, value, "none", ""]
                        if (backbone, split, tier) == ("dstformer", "xsub", "mq") and perturbation in PER_CLASS:
                            for label in CLASSES:
                                value = class_top1(top1, clean, label)
                                yield model + ["eval_class", tier, perturbation, level, "top1", value, "none", label]
                                if label >= 14:  # a fine pair's class: half its errors go to its partner
                                    share = (1 - value) / 2
                                    yield model + [
                                        "eval_class",
                                        tier,
                                        perturbation,
                                        level,
                                        "to_partner",
                                        share,
                                        "none",
                                        label,
                                    ]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """metrics.csv and two activation npz files in a temporary folder."""
    root = tmp_path_factory.mktemp("paper")
    with open(root / "metrics.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(metrics.COLUMNS)
        writer.writerows(metric_rows())
    rng = np.random.default_rng(0)
    for method in ("baseline", "maskclr"):
        np.savez(
            root / f"{method}_activation.npz",
            activation=rng.uniform(size=(8, 17)),
            pose=rng.uniform(-1, 1, size=(8, 17, 2)),
            labels=np.arange(8),
            joints_effective=9.5,
            top3_share=0.3,
            method=method,
            pretrain="none",
        )
    return root


@pytest.fixture(scope="module")
def loaded(data):
    return metrics.load(data / "metrics.csv")


def make_table(data, name, out, settings=SETTINGS):
    return run_module(
        "maskclr.paper.tables",
        name,
        "--metrics",
        data / "metrics.csv",
        "--paper",
        PAPER,
        "--settings-json",
        json.dumps(settings),
        "--out-tex",
        out / f"{name}.tex",
        "--out-csv",
        out / f"{name}.csv",
    )


def table(data, tmp_path, name, settings=SETTINGS):
    result = make_table(data, name, tmp_path, settings)
    assert result.returncode == 0, result.stderr
    return (tmp_path / f"{name}.tex").read_text(), pd.read_csv(tmp_path / f"{name}.csv")


def cell(frame, **where):
    rows = frame
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, where
    return rows.iloc[0]


# ---- tables -----------------------------------------------------------------------------------


def test_table1_values(data, tmp_path):
    tex, frame = table(data, tmp_path, "table1")
    row = cell(frame, backbone="dstformer", method="maskclr", split="xsub")
    assert row.top1 == pytest.approx(71.0) and row.n_seeds == 2
    assert row.top1_std == pytest.approx(100 * 0.02 / np.sqrt(2), abs=1e-4)
    # 95 % CI of 2 seeds: t(0.975, 1) · s / √2 with t = 12.706
    assert row.top1_ci95 == pytest.approx(12.706 * 2.0 / np.sqrt(2) / np.sqrt(2), abs=1e-3)
    assert row.delta == pytest.approx(10.0)  # (70 + 72)/2 − (60 + 62)/2
    assert row.delta_ci95 == pytest.approx(0.0)  # paired by seed: +10 in both seeds
    assert row.paper_method == "MaskCLR" and row.paper_top1 == pytest.approx(93.9)
    assert row.paper_delta == pytest.approx(1.1)  # 93.9 − MotionBERT's 92.8
    worse = cell(frame, backbone="sttformer", method="maskclr", split="xview")
    assert worse.delta == pytest.approx(-5.0)
    assert cell(frame, backbone="sttformer", method="baseline", split="xsub").paper_method == "SkeletonMAE"
    for text in (
        r"71.0 $\pm$ 12.7 ($+10.0 \pm 0.0$)",
        r"($-5.0 \pm 0.0$)",
        "synth XSub",
        "synth XView",
        "paper (reference)",
        "NTU60 XSub",
        "MotionBERT",
        r"93.9 ($+1.1$)",
        r"\toprule",
        r"\bottomrule",
    ):
        assert text in tex, text
    assert tex.startswith(r"\begin{tabular}") and tex.rstrip().endswith(r"\end{tabular}")
    assert tex.index("STTFormer") < tex.index("DSTFormer")  # the paper's block order


def test_table1_reference_columns_equal_paper_numbers(data, tmp_path):
    """Each row's reference: the paper's row for its backbone and method (a baseline from scratch
    beside the paper's baseline of that backbone), NTU60 of its split (docs/method.md §8.1)."""
    _, frame = table(data, tmp_path, "table1")
    expected = {
        ("sttformer", "baseline"): ("SkeletonMAE", {"xsub": 86.6, "xview": 92.9}),
        ("sttformer", "maskclr"): ("MaskCLR", {"xsub": 90.1, "xview": 95.4}),
        ("dstformer", "baseline"): ("MotionBERT", {"xsub": 92.8, "xview": 97.1}),
        ("dstformer", "maskclr"): ("MaskCLR", {"xsub": 93.9, "xview": 97.3}),
    }
    assert len(frame) == 8
    for row in frame.itertuples():
        method, top1 = expected[row.backbone, row.method]
        assert row.paper_method == method and float(row.paper_top1) == pytest.approx(top1[row.split])


@pytest.mark.parametrize("name, shift", [("table2", 0.0), ("table3", -20.0)])
def test_estimator_tables(data, tmp_path, name, shift):
    tex, frame = table(data, tmp_path, name)
    assert list(frame["method"].unique()) == ["baseline", "maskclr"]
    assert list(frame["test_estimator"].unique()) == ["lq", "mq", "hq"]
    assert cell(frame, method="maskclr", test_estimator="lq").top1 == pytest.approx(61.0 + shift)
    assert cell(frame, method="baseline", test_estimator="hq").top1 == pytest.approx(62.0 + shift)
    assert cell(frame, method="maskclr", test_estimator="mq").delta == pytest.approx(10.0)
    assert "synth XSub, DSTFormer, trained on MQ" in tex and "LQ & MQ & HQ" in tex
    assert (r"50\,\% frames masked" in tex) == (name == "table3")


def test_class_table_shows_which_classes_pay_for_noise(data, tmp_path):
    """The fixture's noise costs classes 10-13 nothing and the fine pairs 14-17 twice the whole
    set's 20 points; a group's numbers are the mean over its classes present."""
    tex, frame = table(data, tmp_path, "classes")
    row = lambda name, method: cell(frame, classes=name, method=method)  # noqa: E731
    names = class_names("synth", 24)
    assert list(frame["classes"].unique()) == ["all classes", "coarse", "two persons", "fine pairs", *names[10:18]]
    assert set(frame["sigma"]) == {0.01} and set(frame["n_seeds"]) == {2}
    expected = {"all classes": (61.0, 41.0, 20.0), "coarse": (58.0, 58.0, 0.0), "two persons": (60.0, 60.0, 0.0)}
    expected |= {
        "fine pairs": (63.0, 23.0, 40.0),
        "clap": (57.5, 57.5, 0.0),
        "touch head (headache)": (64.5, 24.5, 40.0),
    }
    for name, numbers in expected.items():
        r = row(name, "baseline")
        assert (r.clean, r.noisy, r.cost) == pytest.approx(numbers), name
        assert r.cost_ci95 == pytest.approx(0.0)  # the same cost in both seeds
    assert row("clap", "baseline").label == 10 and pd.isna(row("fine pairs", "baseline").label)
    maskclr, baseline = row("fine pairs", "maskclr"), row("fine pairs", "baseline")
    assert (maskclr.clean, maskclr.delta_clean, maskclr.delta_noisy) == pytest.approx((73.0, 10.0, 10.0))
    assert pd.isna(baseline.delta_clean) and maskclr.delta_clean_ci95 == pytest.approx(0.0)
    # half of a fine class's errors go to its partner; rows with other classes have no share
    assert (baseline.to_partner_clean, baseline.to_partner_noisy) == pytest.approx((18.5, 38.5))
    assert (baseline.to_partner_added, baseline.to_partner_added_ci95) == pytest.approx((20.0, 0.0))  # half of 40
    headache = row("touch head (headache)", "baseline")
    assert (headache.to_partner_clean, headache.to_partner_noisy) == pytest.approx((17.75, 37.75))
    assert frame.loc[frame["classes"].isin(["all classes", "coarse", "clap"]), "to_partner_clean"].isna().all()
    assert r"Classes & clean & $\sigma$ = 0.01 & clean & $\sigma$ = 0.01 \\" in tex
    assert r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" in tex
    # the seeds differ by 2 points: ± t(0.975, 1) · √2 / √2 = 12.7; the paired differences do not
    head = r"touch head (headache) & 64.5 $\pm$ 12.7 & 24.5 $\pm$ 12.7 & 74.5 $\pm$ 12.7 ($+10.0 \pm 0.0$) & 34.5"
    assert head in tex and r"($\sigma$ in make\_cam units)" in tex


def test_noise_table_gives_fig5s_points_with_paired_differences(data, tmp_path):
    """Every σ of both noise kinds: each method's top-1 and MaskCLR's difference to the baseline,
    paired by seed. The fixture loses 20 (spatiotemporal) and 5 (spatial) points per 0.01 of σ
    from 60 / 62 % (baseline) and 70 / 72 % (MaskCLR) clean, the same in both seeds."""
    tex, frame = table(data, tmp_path, "noise")
    assert list(frame["perturbation"].unique()) == ["noise_st", "noise_spatial"]
    assert sorted(set(frame["sigma"])) == [0.0, 0.002, 0.004, 0.006, 0.008, 0.01]
    baseline = cell(frame, perturbation="noise_st", sigma=0.01, method="baseline")
    # seeds 40 and 42 %: ± t(0.975, 1) · √2 / √2
    assert (baseline.top1, baseline.top1_ci95, baseline.n_seeds) == pytest.approx((41.0, 12.706, 2), abs=1e-3)
    assert pd.isna(baseline.delta)
    maskclr = cell(frame, perturbation="noise_st", sigma=0.01, method="maskclr")
    assert (maskclr.top1, maskclr.delta, maskclr.delta_ci95) == pytest.approx((51.0, 10.0, 0.0))
    assert cell(frame, perturbation="noise_spatial", sigma=0.004, method="baseline").top1 == pytest.approx(59.0)
    row = (
        r"0.01 & 41.0 $\pm$ 12.7 & 51.0 $\pm$ 12.7 ($+10.0 \pm 0.0$) & "
        r"56.0 $\pm$ 12.7 & 66.0 $\pm$ 12.7 ($+10.0 \pm 0.0$) \\"
    )
    assert row in tex and r"\multicolumn{2}{c}{spatiotemporal noise} & \multicolumn{2}{c}{spatial noise}" in tex


def test_grid_levels_sort_numbers_ascending_then_parts_in_body_order():
    levels = ["right_leg", "0.6", "10", "head", "0.15", "9", "left_arm"]
    assert sorted(levels, key=tables.level_order) == ["0.15", "0.6", "9", "10", "head", "left_arm", "right_leg"]


def test_occlusion_table_gives_fig6s_points_with_paired_differences(data, tmp_path):
    """Every occluded part, then every fraction of random joints: each method's top-1 and
    MaskCLR's difference to the baseline, paired by seed. The fixture loses 1 point per part's
    rank and half the fraction, from 60 / 62 % (baseline) and 70 / 72 % (MaskCLR) clean."""
    tex, frame = table(data, tmp_path, "occlusion")
    assert list(frame["perturbation"].unique()) == ["clean", "part", "joints"]
    assert list(frame["level"].unique()) == ["0", *PARTS, *FRACTIONS]  # body order, then fractions ascending
    head = cell(frame, perturbation="part", level="head", method="baseline")
    # seeds 59 and 61 %: ± t(0.975, 1) · √2 / √2
    assert (head.top1, head.top1_ci95, head.n_seeds) == pytest.approx((60.0, 12.706, 2), abs=1e-3)
    maskclr = cell(frame, perturbation="joints", level="0.3", method="maskclr")
    assert (maskclr.top1, maskclr.delta, maskclr.delta_ci95) == pytest.approx((56.0, 10.0, 0.0))
    assert cell(frame, perturbation="part", level="right_leg", method="baseline").top1 == pytest.approx(56.0)
    assert r"head & 60.0 $\pm$ 12.7 & 70.0 $\pm$ 12.7 ($+10.0 \pm 0.0$) \\" in tex
    assert r"30\,\% of joints & 46.0 $\pm$ 12.7 & 56.0 $\pm$ 12.7 ($+10.0 \pm 0.0$) \\" in tex
    assert r"none & 61.0 $\pm$ 12.7 & 71.0 $\pm$ 12.7 ($+10.0 \pm 0.0$) \\" in tex
    assert tex.count(r"\midrule") == 3  # under the header, and between clean, parts and fractions


@pytest.mark.parametrize(
    "name, kinds", [("noise", ["noise_st", "noise_spatial"]), ("occlusion", ["clean", "part", "joints"])]
)
def test_grid_table_without_its_rows_names_the_file(data, tmp_path, name, kinds):
    rows = pd.read_csv(data / "metrics.csv", dtype=str, keep_default_na=False)
    rows[~rows["perturbation"].isin(kinds)].to_csv(tmp_path / "metrics.csv", index=False)
    result = make_table(tmp_path, name, tmp_path)
    assert result.returncode != 0 and "metrics.csv: no rows for dataset=synth" in result.stderr
    assert f"perturbation={kinds}" in result.stderr and not (tmp_path / f"{name}.csv").exists()


def grid_markdown(data, tmp_path, name, settings=SETTINGS):
    """The grid table ``name`` from the fixture through the tables' CLI, then as Markdown through
    grid_markdown's: its lines."""
    table(data, tmp_path, name, settings)
    out = tmp_path / f"{name}.md"
    args = ("--csv", tmp_path / f"{name}.csv", "--settings-json", json.dumps(settings), "--out", out)
    result = run_module("maskclr.paper.grid_markdown", name, *args)
    assert result.returncode == 0, result.stderr
    return out.read_text().splitlines()


def test_grid_tables_in_markdown_give_the_csvs_intervals(data, tmp_path):
    """The README's noise and occlusion tables: per level the baseline's mean [95 % CI] and
    MaskCLR's difference paired by seed, bold where its interval excludes 0 (the fixture's +10
    points in both seeds; seeds 40 and 42 %: ± 12.706)."""
    maskclr = f"{method_label('maskclr')} − baseline"
    noise = grid_markdown(data, tmp_path, "noise")
    kinds = ("spatiotemporal", "spatial")
    assert noise[0] == "| σ | " + " | ".join(f"{k} noise: {m}" for k in kinds for m in ("baseline", maskclr)) + " |"
    assert [line.split(" | ")[0] for line in noise[2:8]] == [f"| {s}" for s in ("0", *SIGMAS[1:])]
    assert (
        noise[7] == "| 0.01 | 41.0 [28.3, 53.7] | **+10.0 [10.0, 10.0]** | 56.0 [43.3, 68.7] | **+10.0 [10.0, 10.0]** |"
    )
    assert "σ in make_cam units: baseline's mean over 2 seeds [95 % CI" in noise[-1]
    occlusion = grid_markdown(data, tmp_path, "occlusion")
    assert occlusion[0] == f"| occluded | baseline | {maskclr} |"
    labels = ["none", "head", "left arm", "right arm", "left leg", "right leg", "15 % of joints", "30 % of joints"]
    assert [line.split(" | ")[0] for line in occlusion[2:10]] == [f"| {label}" for label in labels]
    assert occlusion[3] == "| head | 60.0 [47.3, 72.7] | **+10.0 [10.0, 10.0]** |"
    assert occlusion[9] == "| 30 % of joints | 46.0 [33.3, 58.7] | **+10.0 [10.0, 10.0]** |"


def test_grid_markdown_bolds_only_differences_whose_interval_excludes_0():
    row = {"top1": 50.0, "top1_ci95": 4.0, "delta": 1.0, "delta_ci95": 2.0}
    assert grid_markdown_module.cell(row, first=True) == "50.0 [46.0, 54.0]"
    assert grid_markdown_module.cell(row, first=False) == "+1.0 [-1.0, 3.0]"
    assert grid_markdown_module.cell({**row, "delta_ci95": 0.5}, first=False) == "**+1.0 [0.5, 1.5]**"
    assert grid_markdown_module.cell({**row, "delta_ci95": float("nan")}, first=False) == "+1.0"  # one seed
    assert grid_markdown_module.cell(None, first=False) == "--"  # a point the method was not run at


def filtered_metrics(data, tmp_path, keep):
    """A copy of the fixture's metrics.csv in ``tmp_path`` with the rows ``keep`` (a frame → mask) keeps."""
    rows = pd.read_csv(data / "metrics.csv", dtype=str, keep_default_na=False)
    rows[keep(rows)].to_csv(tmp_path / "metrics.csv", index=False)
    return tmp_path


def test_a_sigma_of_one_kind_of_noise_only_gets_dashes_under_the_other(data, tmp_path):
    spatial = lambda rows: (rows["perturbation"] == "noise_spatial") & (rows["level"] == "0.01")  # noqa: E731
    fewer = filtered_metrics(data, tmp_path, lambda rows: ~spatial(rows))
    lines = grid_markdown(fewer, tmp_path, "noise")
    assert lines[7] == "| 0.01 | 41.0 [28.3, 53.7] | **+10.0 [10.0, 10.0]** | -- | -- |"
    tex = (tmp_path / "noise.tex").read_text()
    assert r"0.01 & 41.0 $\pm$ 12.7 & 51.0 $\pm$ 12.7 ($+10.0 \pm 0.0$) & -- & -- \\" in tex


def test_grid_markdown_of_one_seed_claims_nothing(data, tmp_path):
    lines = grid_markdown(filtered_metrics(data, tmp_path, lambda rows: rows["seed"] != "1"), tmp_path, "occlusion")
    assert lines[3] == "| head | 59.0 | +10.0 |"  # seed 0 alone: no interval, nothing bold
    assert lines[-1].endswith("baseline's mean over 1 seed; each other method's difference to baseline, in points. "
                              "One seed: no intervals, no claim.")  # fmt: skip


def test_grid_markdown_without_a_table_method_names_it(data, tmp_path):
    table(data, tmp_path, "noise")
    settings = {**SETTINGS, "table_methods": ["baseline", "maskclr", "random_mask"]}
    args = ("--csv", tmp_path / "noise.csv", "--settings-json", json.dumps(settings), "--out", tmp_path / "noise.md")
    result = run_module("maskclr.paper.grid_markdown", "noise", *args)
    assert result.returncode != 0 and not (tmp_path / "noise.md").exists()
    assert "noise.csv: no rows of random_mask (paper.table_methods: baseline, maskclr, random_mask)" in result.stderr


def test_grid_markdown_of_one_method_compares_nothing(data, tmp_path):
    lines = grid_markdown(data, tmp_path, "occlusion", {**SETTINGS, "table_methods": ["baseline"]})
    assert lines[0] == "| occluded | baseline |" and lines[3] == "| head | 60.0 [47.3, 72.7] |"
    assert "difference" not in lines[-1]


def test_grid_markdown_of_a_csv_without_its_columns_names_them(tmp_path):
    (tmp_path / "noise.csv").write_text("perturbation,level,method,top1\nnoise_st,0.01,baseline,41.0\n")
    args = ("--csv", tmp_path / "noise.csv", "--settings-json", json.dumps(SETTINGS), "--out", tmp_path / "noise.md")
    result = run_module("maskclr.paper.grid_markdown", "noise", *args)
    assert result.returncode != 0 and f"{tmp_path / 'noise.csv'}: expected the noise table's rows" in result.stderr
    assert "with columns sigma, perturbation, method" in result.stderr
    assert "missing: sigma, top1_ci95, n_seeds, delta, delta_ci95" in result.stderr
    assert not (tmp_path / "noise.md").exists()


def test_without_partner_rows_the_shares_are_empty_and_unsaid(data, tmp_path):
    """A metrics.csv without ``to_partner`` rows (NTU, or written before them): the class table's
    partner columns are empty and the summary says nothing of pairs."""
    rows = pd.read_csv(data / "metrics.csv", dtype=str, keep_default_na=False)
    rows[rows["metric"] != "to_partner"].to_csv(tmp_path / "metrics.csv", index=False)
    loaded = metrics.load(tmp_path / "metrics.csv")
    frame = classes.cells(loaded, SETTINGS)
    partner = [c for c in classes.COLUMNS if c.startswith("to_partner")]
    assert frame[partner].isna().all().all() and not frame["clean"].isna().any()
    text = summary.markdown(summary.summary(loaded, SETTINGS), loaded, SETTINGS)
    assert "fine pairs 40.0 [40.0, 40.0]." in text and "other class of their pair" not in text


def test_class_rows_name_the_groups_present_then_every_class():
    synth = classes.class_rows({"dataset": "synth", "num_classes": 24}, [0, 1, 14])
    assert synth == [
        ("all classes", "all", [0, 1, 14]),
        ("coarse", "group", [0, 1]),
        ("fine pairs", "group", [14]),  # of its ten classes, the one present; no two-person class: no row
        ("wave right hand", "class", [0]),
        ("wave left hand", "class", [1]),
        ("drink water", "class", [14]),
    ]
    assert classes.class_rows({"dataset": "k400", "num_classes": 400}, [0, 2]) == [
        ("all classes", "all", [0, 2]),
        ("class 0", "class", [0]),
        ("class 2", "class", [2]),
    ]


def test_a_class_beyond_num_classes_is_named(data, loaded):
    with pytest.raises(InputError, match=r"metrics.csv: column 'label': class 17 of .* not one of the dataset's 16"):
        classes.cells(loaded, {**SETTINGS, "num_classes": 16})


@pytest.mark.parametrize("name", ["table1", "table2", "table3", "classes", "noise", "occlusion"])
def test_tables_regenerate_byte_identical(data, tmp_path, name):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        out.mkdir()
        assert make_table(data, name, out).returncode == 0
    for suffix in ("tex", "csv"):
        assert (first / f"{name}.{suffix}").read_bytes() == (second / f"{name}.{suffix}").read_bytes()


# ---- figures ----------------------------------------------------------------------------------


def test_fig5(loaded):
    """Top row: each method's top-1; bottom row: each method's difference to the baseline, paired
    by seed: the fixture's methods stand 10, 6, 4 and 2 points above it at every σ in both seeds."""
    fig = figures.fig5(loaded, SETTINGS)
    axes = fig.get_axes()
    assert len(axes) == 4
    for ax in axes:
        assert len(ax.lines) == 5  # the bottom row: the zero line, then 4 differences
        assert list(ax.lines[-1].get_xdata()) == pytest.approx([float(s) for s in SIGMAS])
    maskclr = axes[0].lines[0]
    assert maskclr.get_label() == r"MaskCLR ($\mathcal{L}_{sc}$ + $\mathcal{L}_{cc}$)"
    assert maskclr.get_ydata()[-1] == pytest.approx(100 * (0.71 - 20 * 0.01))
    for ax in axes[2:]:
        assert [list(line.get_ydata()) for line in ax.lines[1:]] == [pytest.approx([d] * 6) for d in (10, 6, 4, 2)]
        assert ax.lines[1].get_label() == maskclr.get_label()
    assert axes[2].get_ylabel() == "Δ to baseline\n(points, paired)"


def test_fig5_only_present_methods(loaded):
    fig = figures.fig5(loaded, {**SETTINGS, "backbone": "sttformer"})
    assert [len(ax.lines) for ax in fig.get_axes()] == [2, 2, 2, 2]


@pytest.mark.parametrize("methods", [["maskclr", "random_mask"], ["baseline"]])
def test_fig5_and_fig6_without_a_difference_to_draw_keep_one_row(loaded, methods):
    """Without the reference (the first table method), or with it alone: no difference panels."""
    settings = {**SETTINGS, "fig5_methods": methods}
    assert [len(ax.lines) for ax in figures.fig5(loaded, settings).get_axes()] == [len(methods)] * 2
    bars, joints = figures.fig6(loaded, settings).get_axes()
    assert [t.get_text() for t in bars.get_xticklabels()] == [p.replace("_", " ") for p in PARTS]
    assert joints.get_xlabel() == "occluded joints (%)"


def test_fig6(loaded):
    bars, joints, bar_differences, joint_differences = figures.fig6(loaded, SETTINGS).get_axes()
    assert len(bars.patches) == 5 * len(PARTS)
    assert [t.get_text() for t in bar_differences.get_xticklabels()] == [p.replace("_", " ") for p in PARTS]
    assert len(joints.lines) == 5
    assert list(joints.lines[0].get_xdata()) == pytest.approx([0, 15, 30, 45, 60])  # clean at 0 %
    # MaskCLR's bars first: 10 points above the baseline at every part, then the ablations'
    heights = [bar.get_height() for bar in bar_differences.patches]
    assert heights == pytest.approx([10] * 5 + [6] * 5 + [4] * 5 + [2] * 5)
    assert list(joint_differences.lines[1].get_xdata()) == pytest.approx([0, 15, 30, 45, 60])
    assert list(joint_differences.lines[1].get_ydata()) == pytest.approx([10] * 5)


def test_class_costs_draws_the_class_table_as_bars(loaded):
    clean, cost, difference = figures.class_costs(loaded, SETTINGS).get_axes()
    names = ["all classes", "coarse", "two persons", "fine pairs", *class_names("synth", 24)[10:18]]
    assert [t.get_text() for t in clean.get_yticklabels()] == names
    # one bar per method and row, baseline first; the fine pairs (row 3) lose 40 points, coarse 0
    baseline = cost.patches[: len(names)]
    assert [round(bar.get_width(), 6) for bar in baseline[:4]] == [20.0, 0.0, 0.0, 40.0]
    assert clean.patches[len(names) + 3].get_width() == pytest.approx(73.0)  # MaskCLR, fine pairs, clean
    # MaskCLR's top-1 under σ minus the baseline's, paired by seed: 10 points on every row
    assert [bar.get_width() for bar in difference.patches] == pytest.approx([10.0] * len(names))
    assert difference.get_title() == "Δ to baseline at that σ"
    assert cost.get_title() == "lost at σ = 0.01 (make_cam units)"


def test_class_costs_of_one_method_have_no_difference_panel(loaded):
    clean, _ = figures.class_costs(loaded, {**SETTINGS, "table_methods": ["baseline"]}).get_axes()
    assert len(clean.patches) == 12  # 4 summary rows and 8 classes


def test_activation(data):
    files = {m: data / f"{m}_activation.npz" for m in ("baseline", "maskclr")}
    axes = figures.activation(SETTINGS, files).get_axes()
    assert len(axes) == 2 * 4 + 1  # the grid and one shared colour bar
    names = class_names("synth", 8)  # the figure names the classes of the settings' dataset
    assert axes[0].get_title() == names[0] and axes[3].get_title() == names[6]
    assert all(len(ax.collections) == 2 for ax in axes[:8])  # bones and joints


def test_training_curves(loaded):
    axes = figures.training_curves(loaded, SETTINGS).get_axes()
    assert len(axes) == 4
    lines = {ax.get_title(): len(ax.lines) for ax in axes}  # panels in the paper's backbone order
    assert lines == {"XSub, STTFormer": 3, "XSub, DSTFormer": 6, "XView, STTFormer": 3, "XView, DSTFormer": 3}
    assert list(lines)[:2] == ["XSub, STTFormer", "XSub, DSTFormer"]
    stage1, baseline = axes[1].lines[:2]
    assert list(stage1.get_xdata()) == [0, 1, 2] and list(baseline.get_xdata()) == [3, 4]


@pytest.mark.parametrize("name", ["fig5", "fig6", "classes", "training_curves", "activation"])
def test_figure_files(data, tmp_path, name):
    activations = ["--activations", data / "baseline_activation.npz", data / "maskclr_activation.npz"]
    result = run_module(
        "maskclr.paper.figures",
        name,
        "--metrics",
        data / "metrics.csv",
        "--settings-json",
        json.dumps(SETTINGS),
        "--out-pdf",
        tmp_path / "f.pdf",
        "--out-png",
        tmp_path / "f.png",
        *(activations if name == "activation" else ()),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png"]  # no temporary files left


# ---- bad input --------------------------------------------------------------------------------


def test_missing_csv(tmp_path):
    with pytest.raises(InputError, match="nothere.csv: metrics file not found"):
        metrics.load(tmp_path / "nothere.csv")
    result = make_table(tmp_path, "table2", tmp_path)
    assert result.returncode == 2 and str(tmp_path / "metrics.csv") in result.stderr
    assert not (tmp_path / "table2.tex").exists()


def test_a_metrics_file_from_before_the_label_column_reads(data, tmp_path):
    path = tmp_path / "metrics.csv"
    pd.read_csv(data / "metrics.csv").drop(columns="label").to_csv(path, index=False)
    assert set(metrics.load(path).frame["label"]) == {""}


def test_missing_column(data, tmp_path):
    path = tmp_path / "metrics.csv"
    pd.read_csv(data / "metrics.csv").drop(columns="seed").to_csv(path, index=False)
    with pytest.raises(InputError, match=f"{path}: missing columns seed"):
        metrics.load(path)


def test_missing_model(data, loaded, tmp_path):
    with pytest.raises(InputError, match=f"{data / 'metrics.csv'}: no rows for .*backbone=transformer"):
        figures.fig5(loaded, {**SETTINGS, "backbone": "transformer"})
    with pytest.raises(InputError, match="no rows for .*method=maskclr_sc"):
        tables.estimator_table(
            loaded, {**SETTINGS, "table_methods": ["baseline", "maskclr_sc"], "backbone": "sttformer"}, "clean"
        )
    result = make_table(data, "table2", tmp_path, {**SETTINGS, "split": "xset"})
    assert result.returncode == 2 and str(data / "metrics.csv") in result.stderr and "split=xset" in result.stderr


def test_bad_activation_file(data, tmp_path):
    bad = tmp_path / "maskclr_activation.npz"
    np.savez(
        bad,
        activation=np.zeros((8, 5)),
        pose=np.zeros((8, 17, 2)),
        labels=np.arange(8),
        joints_effective=1.0,
        top3_share=1.0,
    )
    with pytest.raises(InputError, match=rf"{bad}: array 'activation' has 5 joints, expected one of \[17, 25\]"):
        figures.activation(SETTINGS, {"baseline": data / "baseline_activation.npz", "maskclr": bad})
    mixed = tmp_path / "mixed_activation.npz"
    np.savez(mixed, activation=np.zeros((8, 17)), pose=np.zeros((8, 25, 2)), labels=np.arange(8), **SPREAD)
    with pytest.raises(InputError, match=f"{mixed}: array 'pose' has shape"):
        figures.load_activation(mixed)
    with pytest.raises(InputError, match="--activations: no file of method maskclr"):
        figures.activation_files([data / "baseline_activation.npz"], ["baseline", "maskclr"], "none")
    with pytest.raises(InputError, match=f"{bad}: missing array 'method'"):
        figures.activation_files([data / "baseline_activation.npz", bad], ["baseline", "maskclr"], "none")
    twice = [data / "baseline_activation.npz", data / "baseline_activation.npz"]
    with pytest.raises(InputError, match="are both of method 'baseline'"):
        figures.activation_files(twice, ["baseline"], "none")


SPREAD = {"joints_effective": 1.0, "top3_share": 1.0}


def test_an_ntu25_activation_is_drawn_upright(tmp_path):
    """The native 3D path's activations: 25 joints in Kinect camera space (y up), not inverted."""
    path = tmp_path / "ntu25_activation.npz"
    rng = np.random.default_rng(0)
    np.savez(path, activation=rng.random((2, 25)), pose=rng.random((2, 25, 2)), labels=np.arange(2), **SPREAD)
    fig = figures.Figure()
    ax = fig.subplots()
    data = figures.load_activation(path)
    figures.draw_skeleton(ax, data["pose"][0], data["activation"][0], None)
    assert len(ax.collections[0].get_segments()) == len(figures.NTU25_BONES) and not ax.yaxis_inverted()


def test_activation_files_are_matched_by_their_recorded_method(data, tmp_path):
    """The files' names say nothing: each is matched to the method its identity records."""
    renamed = {}
    for method in ("baseline", "maskclr"):
        renamed[method] = tmp_path / method.upper() / "seed0_activation.npz"
        renamed[method].parent.mkdir()
        renamed[method].write_bytes((data / f"{method}_activation.npz").read_bytes())
    files = figures.activation_files([renamed["maskclr"], renamed["baseline"]], ["baseline", "maskclr"], "none")
    assert files == renamed


def test_table1_spans_every_dataset_with_models(data, tmp_path):
    frame = pd.read_csv(data / "metrics.csv", dtype=str, keep_default_na=False)
    ntu120 = frame[frame["dataset"] == "synth"].assign(dataset="ntu120")
    ntu120["split"] = ntu120["split"].replace({"xview": "xset"})
    pd.concat([ntu120, frame]).to_csv(tmp_path / "metrics.csv", index=False, lineterminator="\n")
    settings = {**SETTINGS, "reference_dataset": {"synth": "ntu60", "ntu120": "ntu120"}}
    result = make_table(tmp_path, "table1", tmp_path, settings)
    assert result.returncode == 0, result.stderr
    cells = pd.read_csv(tmp_path / "table1.csv")
    columns = list(dict.fromkeys(zip(cells["dataset"], cells["split"])))
    assert columns == [("synth", "xsub"), ("synth", "xview"), ("ntu120", "xsub"), ("ntu120", "xset")]
    row = cell(cells, dataset="ntu120", backbone="dstformer", method="maskclr", split="xset")
    assert row.top1 == pytest.approx(
        cell(cells, dataset="synth", backbone="dstformer", method="maskclr", split="xview").top1
    )
    paper = pd.read_csv(PAPER)
    expected = paper[
        (paper.dataset == "ntu120")
        & (paper.method == "MaskCLR")
        & (paper.split == "xset")
        & (paper.backbone == "DSTFormer")
    ].top1.iloc[0]
    assert row.paper_dataset == "ntu120" and row.paper_top1 == pytest.approx(expected)
    tex = (tmp_path / "table1.tex").read_text()
    assert tex.count("NTU120 XSet") == 2 and tex.count("NTU60 XView") == 1  # ours + paper; paper only


def test_table1_shows_the_methods_each_model_trained(data, tmp_path):
    """A baseline-only row (a from-scratch control, say) has no MaskCLR line; a method trained on
    one split only has a dash and no Δ on the other."""
    frame = pd.read_csv(data / "metrics.csv", dtype=str, keep_default_na=False)
    untrained = (frame["method"] == "maskclr") & ((frame["backbone"] == "sttformer") | (frame["split"] == "xview"))
    frame[~untrained].to_csv(tmp_path / "metrics.csv", index=False, lineterminator="\n")
    tex, cells = table(tmp_path, tmp_path, "table1")
    assert not len(cells[(cells.backbone == "sttformer") & (cells.method == "maskclr")])
    assert cell(cells, backbone="sttformer", method="baseline", split="xview").top1 == pytest.approx(
        100 * np.mean([clean_top1("sttformer", "xview", "baseline", "mq", seed) for seed in (0, 1)])
    )
    missing = cell(cells, backbone="dstformer", method="maskclr", split="xview")
    assert pd.isna(missing.top1) and pd.isna(missing.delta) and pd.isna(missing.paper_top1)
    assert cell(cells, backbone="dstformer", method="maskclr", split="xsub").delta == pytest.approx(10.0)
    rows = [line.split(" & ") for line in tex.splitlines() if "& STTFormer &" in line or "& DSTFormer &" in line]
    maskclr = tables.tex(tables.row_label("dstformer", tables.SCRATCH, "maskclr"))
    assert [row[:2] for row in rows] == [["baseline", "STTFormer"], ["baseline", "DSTFormer"], [maskclr, "DSTFormer"]]
    assert rows[2][3] == tables.DASH  # xview


# ---- native 3D rows, fine-tuned from pretrainings, beside the 2D ones --------------------------

# (backbone, pretrain) → clean top-1 of its baseline; MaskCLR's gain differs per pretraining, so a
# Δ across pretrainings (e.g. MAMP's MaskCLR − SkeletonMAE's baseline = +13) cannot pass for one within.
NATIVE = {("sttformer", "skeletonmae"): 0.50, ("transformer", "skeletonmae"): 0.55, ("transformer", "mamp"): 0.65}
NATIVE_GAIN = {"skeletonmae": 0.05, "mamp": 0.03}
NATIVE_SETTINGS = {
    **SETTINGS,
    "dataset": "synth_3d", "backbone": "transformer", "pretrain": "mamp", "train_estimator": "kinect",
    "train_estimators": {"synth": "mq", "synth_3d": "kinect"},
    "reference_dataset": {"synth": "ntu60", "synth_3d": "ntu60"},
    "fig5_methods": ["maskclr", "baseline"], "activation_classes": [0, 1], "num_classes": 4,
}  # fmt: skip


def native_top1(backbone, pretrain, method, seed):
    gain = NATIVE_GAIN[pretrain] if method == "maskclr" else 0.0
    return NATIVE[backbone, pretrain] + gain + 0.02 * seed


def native_rows():
    """synth_3d xsub rows of the Kinect tier (its only one), in metrics.csv's column order."""
    for (backbone, pretrain), seed in itertools.product(NATIVE, (0, 1)):
        for method in ("stage1", "baseline", "maskclr"):
            model = ["synth_3d", "xsub", backbone, method, seed]
            for epoch in range(3) if method == "stage1" else range(3, 5):
                acc = NATIVE[backbone, pretrain] - 0.1 + 0.02 * epoch
                yield model + ["history", "kinect", "", epoch, "test_top1", acc, pretrain]
            if method == "stage1":
                continue
            top1 = native_top1(backbone, pretrain, method, seed)
            grid = [("clean", "0", top1), ("frames_noise", "0.5", top1 - 0.2)]
            grid += [("noise_st", s, top1 - 10 * s) for s in (0.0, 0.02)]
            grid += [("noise_spatial", s, top1 - 5 * s) for s in (0.0, 0.02)]
            grid += [("part", "head", top1 - 0.05), ("joints", "0.3", top1 - 0.1)]
            for perturbation, level, value in grid:
                yield model + ["eval", "kinect", perturbation, level, "top1", value, pretrain]
            spread = 10.0 + (2.0 if method == "maskclr" else 0.0) + (1.0 if pretrain == "mamp" else 0.0)
            yield model + ["eval", "kinect", "clean", "0", "joints_effective", spread + seed, pretrain]
            yield model + ["eval", "kinect", "clean", "0", "top3_share", 0.3, pretrain]


@pytest.fixture(scope="module")
def data3d(tmp_path_factory):
    """metrics.csv with the 2D rows and the native 3D ones; NTU-25 activation files after MAMP."""
    root = tmp_path_factory.mktemp("paper3d")
    with open(root / "metrics.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(metrics.COLUMNS)
        writer.writerows(itertools.chain(metric_rows(), native_rows()))
    rng = np.random.default_rng(1)
    for method in ("baseline", "maskclr"):
        np.savez(
            root / f"{method}_activation.npz",
            activation=rng.uniform(size=(4, 25)),
            pose=rng.uniform(-1, 1, size=(4, 25, 2)),
            labels=np.arange(4),
            joints_effective=12.0,
            top3_share=0.2,
            method=method,
            pretrain="mamp",
        )
    return root


def test_table1_native3d_pretrained_rows_beside_2d(data, data3d, tmp_path):
    (tmp_path / "2d").mkdir()
    assert make_table(data, "table1", tmp_path / "2d").returncode == 0
    tex, frame = table(data3d, tmp_path, "table1", NATIVE_SETTINGS)
    assert list(frame.columns[:5]) == ["dataset", "backbone", "pretrain", "method", "split"]
    rows = list(dict.fromkeys(zip(frame["backbone"], frame["pretrain"], frame["method"])))
    assert rows == [
        ("sttformer", "none", "baseline"), ("sttformer", "none", "maskclr"),
        ("sttformer", "skeletonmae", "baseline"), ("sttformer", "skeletonmae", "maskclr"),
        ("transformer", "skeletonmae", "baseline"), ("transformer", "skeletonmae", "maskclr"),
        ("transformer", "mamp", "baseline"), ("transformer", "mamp", "maskclr"),
        ("dstformer", "none", "baseline"), ("dstformer", "none", "maskclr"),
    ]  # fmt: skip
    # The 2D rows keep their numbers (synth on MQ); the 3D models have none in the 2D columns.
    two_d = pd.read_csv(tmp_path / "2d" / "table1.csv")
    ours_2d = frame[(frame["pretrain"] == "none") & (frame["dataset"] == "synth")].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours_2d, two_d, check_dtype=False)  # n_seeds: NaN elsewhere
    for dataset, pretrain in (("synth_3d", "none"), ("synth", "skeletonmae"), ("synth", "mamp")):
        untrained = frame[(frame["dataset"] == dataset) & (frame["pretrain"] == pretrain)]
        assert untrained[["top1", "paper_top1"]].isna().all(axis=None)  # no paper number beside none of ours
    # synth_3d on its Kinect tier; Δ to the baseline of the SAME pretraining, paired by seed.
    mamp = cell(frame, dataset="synth_3d", backbone="transformer", pretrain="mamp", method="maskclr")
    assert (mamp.top1, mamp.delta, mamp.delta_ci95) == pytest.approx((69.0, 3.0, 0.0))
    mae = cell(frame, dataset="synth_3d", backbone="transformer", pretrain="skeletonmae", method="maskclr")
    assert (mae.top1, mae.delta) == pytest.approx((61.0, 5.0))
    # The paper's rows: a pretrained baseline is its pretraining's row; MaskCLR the backbone's MaskCLR
    # row, whose printed gain (+0.4 over MAMP) is not shown against another pretraining.
    reference = {
        ("sttformer", "skeletonmae", "baseline"): ("SkeletonMAE", 86.6, None),
        ("sttformer", "skeletonmae", "maskclr"): ("MaskCLR", 90.1, 3.5),
        ("transformer", "skeletonmae", "baseline"): ("SkeletonMAE", 88.5, None),
        ("transformer", "skeletonmae", "maskclr"): ("MaskCLR", 93.5, None),
        ("transformer", "mamp", "baseline"): ("MAMP", 93.1, None),
        ("transformer", "mamp", "maskclr"): ("MaskCLR", 93.5, 0.4),
    }
    for (backbone, pretrain, method), (row, top1, delta) in reference.items():
        got = cell(frame, dataset="synth_3d", backbone=backbone, pretrain=pretrain, method=method)
        assert (got.paper_dataset, got.paper_method, got.paper_top1) == ("ntu60", row, pytest.approx(top1))
        assert got.paper_delta == pytest.approx(delta) if delta else np.isnan(got.paper_delta)
    labels = [
        "SkeletonMAE (STTFormer)",
        "MaskCLR (STTFormer, from SkeletonMAE)",
        "SkeletonMAE (Transformer)",
        "MaskCLR (Transformer, from SkeletonMAE)",
        "MAMP (Transformer)",
        "MaskCLR (Transformer, from MAMP)",
    ]
    assert [tex.index(label) for label in labels] == sorted(tex.index(label) for label in labels)
    for text in ("each trained and tested on its dataset's tier", "synth XSub (MQ)", "synth (3D) XSub (Kinect)"):
        assert text in tex, text
    assert r"69.0 $\pm$ 12.7 ($+3.0 \pm 0.0$)" in tex and r"93.5 ($+0.4$)" in tex


def test_table1_needs_the_training_tier_of_every_dataset(data3d, tmp_path):
    result = make_table(data3d, "table1", tmp_path, {**NATIVE_SETTINGS, "train_estimators": {"synth": "mq"}})
    assert result.returncode == 2 and "train_estimators has no tier for dataset synth_3d" in result.stderr


def test_robustness_artefacts_show_the_settings_pretraining(data3d):
    loaded3d = metrics.load(data3d / "metrics.csv")
    for pretrain, baseline, gain in (("mamp", 66.0, 3.0), ("skeletonmae", 56.0, 5.0)):
        settings = {**NATIVE_SETTINGS, "pretrain": pretrain}
        table = summary.summary(loaded3d, settings).set_index("group")
        assert "unseen estimators" not in table.index  # the Kinect tier is the only one
        clean = table.loc["clean"]
        assert (clean.baseline_mean, clean.delta_mean, clean.delta_ci95) == pytest.approx((baseline, gain, 0.0))
        cells = tables.estimator_cells(loaded3d, settings, "clean")
        assert list(cells["test_estimator"]) == ["kinect", "kinect"]
        assert list(cells["top1"]) == pytest.approx([baseline, baseline + gain])
        noise, _, difference, _ = figures.fig5(loaded3d, settings).get_axes()
        assert difference.get_xlabel() == "noise std σ (m)" and len(noise.lines) == 2
        assert noise.lines[1].get_ydata()[0] == pytest.approx(baseline)  # the baseline of this pretraining
        assert difference.lines[1].get_ydata()[0] == pytest.approx(gain)  # paired within this pretraining
    assert "Transformer from MAMP, trained on Kinect" in tables.estimator_table(loaded3d, NATIVE_SETTINGS, "clean")[0]
    with pytest.raises(InputError, match="no rows for .*pretrain=none"):
        summary.summary(loaded3d, {**NATIVE_SETTINGS, "pretrain": None})


def test_summary_text_states_verdicts_and_the_noise_cost_in_its_unit(loaded, data3d):
    """The README's "What the demo shows" lines: the verdicts and what the largest σ costs, in
    make_cam units on 2D poses and in metres on native 3D skeletons."""
    text = summary.markdown(summary.summary(loaded, SETTINGS), loaded, SETTINGS)
    maskclr = tables.row_label("dstformer", tables.SCRATCH, "maskclr")
    verdict = f"{maskclr} is significantly more robust than baseline under: spatiotemporal noise (+10.0 [10.0, 10.0])"
    assert verdict in text
    # clean − noisy at σ = 0.01: the fixture's slope 20 per unit σ, in points
    assert (
        "Spatiotemporal noise σ = 0.01 (make_cam units) costs baseline 20.0 [20.0, 20.0] points of top-1; "
        "by class group (the mean over its classes): coarse 0.0 [0.0, 0.0]; two persons 0.0 [0.0, 0.0]; "
        "fine pairs 40.0 [40.0, 40.0]. Fine pairs: clean, 18.5 [" in text
    )
    assert (
        "% of their samples are predicted as the other class of their pair (of 37.0 % wrong); "
        "of the 40.0 [40.0, 40.0] points that σ = 0.01 costs them, 20.0 [20.0, 20.0] go to that class." in text
    )
    loaded3d = metrics.load(data3d / "metrics.csv")
    text3d = summary.markdown(summary.summary(loaded3d, NATIVE_SETTINGS), loaded3d, NATIVE_SETTINGS)
    assert "(m) costs baseline" in text3d and "make_cam" not in text3d


def test_a_summary_of_the_baseline_alone_compares_nothing(data, loaded, tmp_path):
    """paper.table_methods with one method (a run that trains the baseline alone): its groups over
    its seeds and what the largest σ costs it; the comparison's columns stay empty. One seed: no
    intervals, said so."""
    settings = {**SETTINGS, "table_methods": ["baseline"]}
    table = summary.summary(loaded, settings)
    both = summary.summary(loaded, SETTINGS)
    assert list(table.columns) == list(both.columns) and list(table["group"]) == list(both["group"])
    baseline = ["group", "baseline_mean", "baseline_ci95", "seeds"]
    assert table.drop(columns=baseline).isna().all().all()
    text = summary.markdown(table, loaded, settings)
    # the fixture's baseline scores 60 and 62 % clean (seeds 0, 1): ± t(0.975, 1) · √2 / √2 = 12.7
    assert text.startswith("| perturbation | baseline | seeds |\n|---|---|---|\n| clean | 61.0 [48.3, 73.7] | 2 |\n")
    assert "mean over the seeds [95 % confidence interval" in text and "nothing is compared" in text
    assert "significant" not in text and "maskclr" not in text.lower()
    assert "Spatiotemporal noise σ = 0.01 (make_cam units) costs baseline 20.0 [20.0, 20.0] points of top-1" in text

    rows = pd.read_csv(data / "metrics.csv", dtype=str, keep_default_na=False)
    rows[rows["seed"] == "0"].to_csv(tmp_path / "metrics.csv", index=False)
    one = metrics.load(tmp_path / "metrics.csv")
    text = summary.markdown(summary.summary(one, settings), one, settings)
    assert "| clean | 60.0 | 1 |" in text and "Top-1 (%), one seed, so no intervals." in text
    assert "costs baseline 20.0 points of top-1" in text


def test_training_curves_keep_pretrainings_apart(data3d):
    axes = figures.training_curves(metrics.load(data3d / "metrics.csv"), NATIVE_SETTINGS).get_axes()
    titles = [ax.get_title() for ax in axes]
    assert titles == [
        "XSub, STTFormer, from SkeletonMAE",
        "XSub, Transformer, from SkeletonMAE",
        "XSub, Transformer, from MAMP",
    ]
    assert [len(ax.lines) for ax in axes] == [3, 3, 3]
    assert axes[2].lines[1].get_ydata()[0] == pytest.approx(100 * (0.65 - 0.1 + 0.02 * 3))  # MAMP's baseline, epoch 3


def test_activation_spread_pairs_within_a_pretraining(data3d, tmp_path):
    tex, frame = table(data3d, tmp_path, "activation_spread", NATIVE_SETTINGS)
    row = cell(frame, dataset="synth_3d", backbone="transformer", pretrain="mamp", method="maskclr")
    assert (row.joints_effective, row.joints_effective_delta) == pytest.approx((13.5, 2.0))
    assert "synth (3D) XSub Transformer from MAMP" in tex


def test_activation_figure_of_ntu25_files_after_their_pretraining(data3d):
    paths = [data3d / "baseline_activation.npz", data3d / "maskclr_activation.npz"]
    files = figures.activation_files(paths, ["baseline", "maskclr"], "mamp")
    axes = figures.activation(NATIVE_SETTINGS, files).get_axes()
    assert len(axes) == 2 * 2 + 1 and len(axes[0].collections[0].get_segments()) == 24  # NTU-25's bones
    assert axes[0].get_title() == class_names("synth", 4)[0]  # synth_3d: the scenes of synth
    with pytest.raises(InputError, match="array 'pretrain' is 'mamp', expected 'none'"):
        figures.activation_files(paths, ["baseline", "maskclr"], "none")


# ---- pretraining losses -----------------------------------------------------------------------

# (dataset, split, backbone, pretraining entry, its method) of each pretraining, on two datasets
# (the paper's pretrainings are not of paper.dataset): every one is drawn
PRETRAINED = (
    ("synth_3d", "xsub", "sttformer", "skeletonmae", "skeletonmae"),
    ("synth_3d", "xsub", "transformer", "skeletonmae", "skeletonmae"),
    ("synth_3d", "xsub", "transformer", "mamp", "mamp"),
    ("ntu60_3d", "xview", "transformer", "mamp", "mamp"),
)


def pretraining_rows():
    """kind=pretrain_history rows of two seeds, 3 epochs: the loss halves every epoch."""
    for (dataset, split, backbone, pretrain, method), seed in itertools.product(PRETRAINED, (0, 1)):
        model = [dataset, split, backbone, method, seed]
        for epoch in range(3):
            loss = (1.0 + 0.1 * seed) / 2**epoch
            yield model + ["pretrain_history", "kinect", "", epoch, "loss", loss, pretrain]


def test_pretraining_losses_per_pretrained_dataset_split_and_backbone(tmp_path):
    with open(tmp_path / "metrics.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(metrics.COLUMNS)
        writer.writerows(itertools.chain(native_rows(), pretraining_rows()))  # other kinds are not drawn
    axes = figures.pretraining(metrics.load(tmp_path / "metrics.csv"), {}).get_axes()
    titles = {ax.get_title(): [line.get_label() for line in ax.lines] for ax in axes}
    assert titles == {  # datasets, splits and backbones in the paper's order; no NTU60 STTFormer panel
        "synth (3D) XSub, STTFormer": ["SkeletonMAE"],
        "synth (3D) XSub, Transformer": ["SkeletonMAE", "MAMP"],
        "NTU60 (3D) XView, Transformer": ["MAMP"],
    }
    mamp = axes[1].lines[1]
    assert list(mamp.get_xdata()) == [0, 1, 2]
    assert list(mamp.get_ydata()) == pytest.approx([1.05, 0.525, 0.2625])  # the mean of the seeds, unscaled
    assert [len(ax.collections) for ax in axes] == [1, 2, 1]  # a 95 % CI band per curve: two seeds
    # labels on the first panel of each row and the lowest of each column, the grid's corner being empty
    assert [ax.get_ylabel() for ax in axes] == ["pretraining loss", "", "pretraining loss"]
    assert [ax.get_xlabel() for ax in axes] == ["epoch", "", "epoch"]
    result = run_module(
        "maskclr.paper.figures",
        *("pretraining", "--metrics", tmp_path / "metrics.csv", "--settings-json", "{}"),
        *("--out-pdf", tmp_path / "f.pdf", "--out-png", tmp_path / "f.png"),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_epoch_panels_tick_whole_epochs_even_for_a_one_epoch_run():
    _, panels = figures.epoch_panels(["xsub"], ["mamp"], {("xsub", "mamp")}, "pretraining loss")
    (ax,) = panels.values()
    ax.plot([0], [0.8], marker="o")  # one epoch: the view spans ±0.05 around it
    low, high = ax.get_xlim()
    assert [tick for tick in ax.get_xticks() if low <= tick <= high] == [0]


def test_pretraining_figure_without_pretrainings_is_named(data, loaded, tmp_path):
    with pytest.raises(InputError, match=f"{data / 'metrics.csv'}: no rows for kind=pretrain_history, metric=loss"):
        figures.pretraining(loaded, {})
    result = run_module(
        "maskclr.paper.figures",
        *("pretraining", "--metrics", data / "metrics.csv", "--settings-json", "{}"),
        *("--out-pdf", tmp_path / "f.pdf", "--out-png", tmp_path / "f.png"),
    )
    assert result.returncode == 2 and f"{data / 'metrics.csv'}: no rows for kind=pretrain_history" in result.stderr
    assert not list(tmp_path.iterdir())
