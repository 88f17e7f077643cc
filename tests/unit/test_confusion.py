"""Where a perturbation's errors go (maskclr.paper.confusion), on confusion files made by hand."""

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, run_module
from maskclr.data.classes import class_groups
from maskclr.errors import InputError
from maskclr.evaluate.run import confusion_arrays
from maskclr.paper import confusion, figures
from maskclr.paper.stats import t975
from maskclr.paper.style import PERTURBATIONS, condition_label

SETTINGS = {
    "dataset": "synth", "split": "xsub", "backbone": "dstformer", "pretrain": None, "train_estimator": "mq",
    "table_methods": ["baseline", "maskclr"], "num_classes": 24,
    "error_conditions": [{"perturbation": "noise_st", "level": "max"}],
}  # fmt: skip
SIGMA = "0.01"


def counts(noisy_row14, n=24, absent=()):
    """Ten test samples per class of ``n``, all right, except class 14 (drink water, partner 15)
    at noise: ``noisy_row14`` {predicted: count}. Clean, class 14 gives 2 of its 10 to its
    partner, where there is one. The ``absent`` classes have no test samples."""
    diagonal = np.full(n, 10)
    diagonal[list(absent)] = 0
    clean, noisy = np.diag(diagonal), np.diag(diagonal)
    if n > 15:
        clean[14, 14], clean[14, 15] = 8, 2
    noisy[14, 14] = 0
    for predicted, count in noisy_row14.items():
        noisy[14, predicted] += count
    return clean, noisy


# Seed 0 loses 4 of class 14's samples to noise (one more to the partner, three to "wave right
# hand"), seed 1 loses 2 (two to "wave right hand").
NOISY = {0: {14: 4, 15: 3, 0: 3}, 1: {14: 6, 15: 2, 0: 2}}


def write(path, method, seed, noisy_row14, n=24, absent=(), **identity):
    """The confusion npz of one model: clean, noise σ 0 and SIGMA (``counts``), half the frames
    masked (every class right but class 3, which loses 5 samples to class 4), clean on hq."""
    clean, noisy = counts(noisy_row14, n, absent)
    grid = {("clean", "0", "mq"): clean, ("noise_st", "0", "mq"): clean, ("noise_st", SIGMA, "mq"): noisy}
    grid[("frames_noise", "0.5", "mq")] = masked = clean.copy()
    masked[3, 3], masked[3, 4] = masked[3, 3] - 5, masked[3, 4] + 5
    grid[("clean", "0", "hq")] = np.diag(np.full(n, 10))
    model = {"dataset": "synth", "split": "xsub", "backbone": "dstformer", "stage": "stage2", "pretrain": "none"}
    np.savez_compressed(path, **confusion_arrays(grid), **(model | identity), method=method, seed=seed)
    return path


@pytest.fixture
def files(tmp_path):
    return [
        write(tmp_path / f"{method}_seed{seed}_confusion.npz", method, seed, NOISY[seed])
        for method in ("baseline", "maskclr")
        for seed in (0, 1)
    ]


def test_flow_splits_the_cost_over_the_partner_and_the_groups(files):
    per_method = confusion.seed_shares(files, SETTINGS)
    flow = confusion.flow(per_method, SETTINGS).set_index(["method", "source", "destination"]).sort_index()
    fine = flow.loc["baseline", "fine pairs"]
    assert set(flow["n_seeds"]) == {2} and set(flow["level"]) == {SIGMA}
    # class 14 is one of the 10 fine-pair classes: seed 0 moves 40 of its %, seed 1 20 %
    assert fine.loc["correct", "clean"] == pytest.approx(98.0)
    assert fine.loc["correct", "added"] == pytest.approx(-3.0)
    assert fine.loc["correct", "added_ci95"] == pytest.approx(t975(1) * np.std([-4.0, -2.0], ddof=1) / np.sqrt(2))
    assert fine.loc["partner", "clean"] == pytest.approx(2.0)
    assert fine.loc["partner", "added"] == pytest.approx(0.5)  # seed 0: +1, seed 1: 0
    assert fine.loc["coarse", "added"] == pytest.approx(2.5)  # "wave right hand" is coarse
    assert fine.loc["two persons", "added"] == fine.loc["fine pairs", "added"] == 0.0
    for _, rows in flow.groupby(level=["method", "source"]):  # a class's destinations: 100 %
        assert rows["clean"].sum() == pytest.approx(100.0) and rows["added"].sum() == pytest.approx(0.0)
    everything = flow.loc["maskclr", "all classes"]
    assert everything.loc["correct", "added"] == pytest.approx(-3.0 * 10 / 24)
    assert flow.loc["baseline", "coarse", "correct"]["added"] == 0.0


def test_cells_hold_the_classes_given_a_sample(files):
    per_method = confusion.seed_shares(files, SETTINGS)
    cells = confusion.cells(per_method, SETTINGS).set_index(["method", "true_label", "predicted_label"])
    assert len(cells) == 2 * (24 + 2)  # per method: the diagonal, 14 → 15 and 14 → 0
    to_partner = cells.loc["baseline", 14, 15]
    assert (to_partner["true_class"], to_partner["predicted_class"]) == ("drink water", "brushing teeth")
    assert (to_partner["clean"], to_partner["perturbed"], to_partner["added"]) == pytest.approx((20.0, 25.0, 5.0))
    assert cells.loc["baseline", 14, 0]["added"] == pytest.approx(25.0)
    assert cells.loc["baseline", 3, 3]["added"] == 0.0 and cells.loc["baseline", 3, 3]["added_ci95"] == 0.0


def test_markdown_states_the_cost_and_where_it_goes(files):
    per_method = confusion.seed_shares(files, SETTINGS)
    cells, flow = confusion.cells(per_method, SETTINGS), confusion.flow(per_method, SETTINGS)
    lines = confusion.markdown(flow, cells, SETTINGS).splitlines()
    header = [c.strip() for c in next(line for line in lines if line.startswith("| perturbation")).split("|")[1:-1]]
    assert header == [
        "perturbation", "method", "classes", "cost", "cost − baseline's", "→ the pair's other class", "→ coarse",
        "→ two persons", "→ fine pairs", "most to",
    ]  # fmt: skip
    rows = {tuple(c.strip() for c in line.split("|")[1:4]): line.split("|")[4:-1] for line in lines[4:]}
    fine = [c.strip() for c in rows["spatiotemporal noise σ = 0.01", "baseline", "fine pairs"]]
    assert (
        fine[0].startswith("3.0 [") and fine[1] == "" and fine[2].startswith("+0.5 [") and fine[3].startswith("+2.5 [")
    )
    assert fine[-1] == "wave right hand (+2.5), brushing teeth (+0.5)"
    coarse = [c.strip() for c in rows["spatiotemporal noise σ = 0.01", "baseline", "coarse"]]
    assert coarse[0] == "0.0 [0.0, 0.0]" and coarse[2] == "" and coarse[-1] == ""  # coarse classes have no pair
    assert len(rows) == 2 * 4  # methods × sources (all classes and three groups)
    same = [
        c.strip()
        for c in rows[
            "spatiotemporal noise σ = 0.01", "MaskCLR ($\\mathcal{L}_{sc}$ + $\\mathcal{L}_{cc}$)", "fine pairs"
        ]
    ]
    assert same[1] == "+0.0 [0.0, 0.0]"  # the fixture's MaskCLR errs as the baseline does


def test_maskclr_minus_the_baseline_is_paired_by_seed(tmp_path):
    # MaskCLR keeps 2 more of class 14's 10 samples than the baseline in each seed and sends none to
    # "wave right hand" (the baseline: 3, then 2), one more to the partner in seed 0
    better = {0: {14: 6, 15: 4}, 1: {14: 8, 15: 2}}
    files = [write(tmp_path / f"b{k}.npz", "baseline", k, NOISY[k]) for k in (0, 1)]
    files += [write(tmp_path / f"m{k}.npz", "maskclr", k, better[k]) for k in (0, 1)]
    per_method = confusion.seed_shares(files, SETTINGS)
    flow = confusion.flow(per_method, SETTINGS).set_index(["method", "source", "destination"]).sort_index()
    fine = flow.loc["maskclr", "fine pairs"]
    assert fine.loc["correct", "added"] == pytest.approx(-1.0)  # −2.0 in seed 0, 0.0 in seed 1
    assert fine.loc["correct", "added_delta"] == pytest.approx(2.0) and fine.loc["correct", "added_delta_ci95"] == 0.0
    assert fine.loc["coarse", "added_delta"] == pytest.approx(-2.5) and fine.loc["partner", "added_delta"] == 0.5
    assert flow.loc["baseline", "added_delta"].isna().all()
    cells = confusion.cells(per_method, SETTINGS).set_index(["method", "true_label", "predicted_label"]).sort_index()
    # MaskCLR never fills the cell 14 → 0: its row is there all the same, with the difference
    assert cells.loc[("maskclr", 14, 0), "added"] == 0.0 and cells.loc[("maskclr", 14, 0), "added_delta"] == -25.0
    assert cells.loc[("maskclr", 14, 14), "added_delta"] == pytest.approx(20.0)
    assert cells.loc[("maskclr", 14, 14), "added_delta_ci95"] == 0.0
    assert cells.loc["baseline", "added_delta"].isna().all()
    text = confusion.markdown(flow.reset_index(), confusion.cells(per_method, SETTINGS), SETTINGS)
    assert "| fine pairs | 1.0 [-11.7, 13.7] | -2.0 [-2.0, -2.0] |" in text
    one = confusion.seed_shares([*files[:2], files[2]], SETTINGS)  # MaskCLR's seed 0 only: one pair
    unpaired = confusion.flow(one, SETTINGS).set_index(["method", "source", "destination"]).sort_index()
    assert unpaired.loc[("maskclr", "fine pairs", "correct"), "added_delta"] == pytest.approx(2.0)
    assert np.isnan(unpaired.loc[("maskclr", "fine pairs", "correct"), "added_delta_ci95"])


def test_the_classes_gaining_most_are_errors_only(files):
    per_method = confusion.seed_shares(files, SETTINGS)
    cells = confusion.cells(per_method, SETTINGS)
    cells = cells[cells["method"] == "baseline"]
    mirrored = cells.assign(added=-cells["added"])  # noise now helps class 14: its own class gains
    assert confusion.gainers(mirrored, [14]) == []
    gained = confusion.gainers(cells, [14, 15])  # class 14's errors, over two classes
    assert [name for name, _ in gained] == ["wave right hand", "brushing teeth"]
    assert [points for _, points in gained] == pytest.approx([12.5, 2.5])


def test_one_seed_has_no_interval(tmp_path):
    one = [write(tmp_path / f"{m}.npz", m, 0, NOISY[0]) for m in ("baseline", "maskclr")]
    per_method = confusion.seed_shares(one, SETTINGS)
    flow = confusion.flow(per_method, SETTINGS)
    assert flow["added_ci95"].isna().all() and set(flow["n_seeds"]) == {1}
    text = confusion.markdown(flow, confusion.cells(per_method, SETTINGS), SETTINGS)
    assert "| baseline | fine pairs | 4.0 |" in text


def test_the_cli_writes_the_three_tables(files, tmp_path):
    out = {name: tmp_path / name for name in ("confusion.csv", "error_flow.csv", "error_flow.md")}
    done = run_module(
        "maskclr.paper.confusion",
        "--confusions",
        *files,
        "--settings-json",
        pd.Series(SETTINGS).to_json(),
        "--out-csv",
        out["confusion.csv"],
        "--out-flow",
        out["error_flow.csv"],
        "--out-md",
        out["error_flow.md"],
    )
    assert done.returncode == 0, done.stderr
    assert tuple(pd.read_csv(out["confusion.csv"]).columns) == confusion.CELL_COLUMNS
    assert tuple(pd.read_csv(out["error_flow.csv"]).columns) == confusion.FLOW_COLUMNS
    assert "σ = 0.01" in out["error_flow.md"].read_text()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f, d: [*f, write(d / "again.npz", "maskclr", 1, NOISY[1])], "are both maskclr, seed 1"),
        (lambda f, d: f[:2], "no file of method maskclr"),
        (lambda f, d: [*f, write(d / "x.npz", "random_mask", 0, NOISY[0])], "array 'method' is 'random_mask'"),
        (lambda f, d: [*f[:3], write(d / "x.npz", "maskclr", 1, NOISY[1], split="xview")], "array 'split' is 'xview'"),
    ],
)
def test_the_wrong_files_are_refused_by_name(files, tmp_path, change, message):
    with pytest.raises(InputError, match=message):
        confusion.seed_shares(change(files, tmp_path), SETTINGS)


def test_a_file_of_another_grid_or_size_is_refused(files, tmp_path):
    arrays = dict(np.load(files[0]))
    for key, value, message in (
        ("counts", arrays["counts"][:, :4, :4], r"shape \(5, 4, 4\), expected \(5, 24, 24\)"),
        ("perturbation", np.array(["part"] * 5), "no clean grid point on the training tier 'mq'"),
        ("level", np.array(["0", "0", "0", "0.5", "0"]), "array 'level': no noise_st level > 0 on the training tier"),
    ):
        np.savez(tmp_path / "bad.npz", **(arrays | {key: value}))
        with pytest.raises(InputError, match=message):
            confusion.seed_shares([tmp_path / "bad.npz", *files[1:]], SETTINGS)
    np.savez(tmp_path / "old.npz", **{k: v for k, v in arrays.items() if k != "seed"})
    with pytest.raises(InputError, match="old.npz: missing array 'seed'"):
        confusion.seed_shares([tmp_path / "old.npz"], SETTINGS)
    other = dict(arrays, level=np.array(["0", "0", "0.005", "0.5", "0"]))
    np.savez(tmp_path / "sigma.npz", **(other | {"method": "maskclr"}))
    with pytest.raises(
        InputError,
        match=r"error_conditions are \[\('noise_st', '0.01'\)\] in .*baseline_seed0_confusion.npz, "
        r"\[\('noise_st', '0.005'\)\] in .*sigma.npz",
    ):
        confusion.seed_shares([files[0], tmp_path / "sigma.npz"], SETTINGS)


def test_the_figure_draws_each_method_clean_and_added_in_group_order(files, tmp_path):
    per_method = confusion.seed_shares(files, SETTINGS)
    path = tmp_path / "confusion.csv"
    confusion.write_csv(confusion.cells(per_method, SETTINGS), path)
    fig = figures.confusion_matrix(confusion.load_cells(path), SETTINGS)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in panels[:2]] == [
        "baseline:\nclean (% of the true class)",
        "baseline:\nadded by spatiotemporal noise σ = 0.01 (points)",
    ]
    clean, added = (ax.get_images()[0].get_array() for ax in panels[:2])
    # the synthetic groups are coarse 0-11, two persons 12-13, fine pairs 14-23: the order is the labels'
    assert clean[14, 14] == pytest.approx(80.0) and clean[14, 15] == pytest.approx(20.0)
    assert added[14, 0] == pytest.approx(25.0) and added[3, 3] == 0.0
    assert len(panels) == 6 and panels[0].get_yticklabels()[14].get_text() == "drink water"
    # both methods' confusions are alike here: the difference row is all 0
    assert [ax.get_title().split(":")[0] for ax in panels[4:]] == [f"{figures.method_label('maskclr')} − baseline"] * 2
    assert all(np.nanmax(np.abs(ax.get_images()[0].get_array())) == 0 for ax in panels[4:])
    path.write_text("method,perturbation,level\nbaseline,noise_st,0.01\n")
    with pytest.raises(InputError, match="confusion.csv: missing column 'n_seeds'"):
        confusion.load_cells(path)


def test_classes_without_test_samples_are_left_out(tmp_path):
    files = [
        write(tmp_path / f"{m}{k}.npz", m, k, NOISY[k], absent=(3,)) for m in ("baseline", "maskclr") for k in (0, 1)
    ]
    per_method = confusion.seed_shares(files, SETTINGS)
    assert confusion.present_labels(per_method) == [k for k in range(24) if k != 3]
    cells = confusion.cells(per_method, SETTINGS)
    assert 3 not in set(cells["true_label"]) and 3 not in set(cells["predicted_label"])
    flow = confusion.flow(per_method, SETTINGS).set_index(["method", "source", "destination"]).sort_index()
    assert flow.loc[("baseline", "all classes", "correct"), "added"] == pytest.approx(-3.0 * 10 / 23)
    assert flow.loc[("baseline", "coarse", "correct"), "clean"] == 100.0  # 11 classes, none NaN
    mixed = [write(tmp_path / "other.npz", "maskclr", 1, NOISY[1]), *files[:3]]
    with pytest.raises(InputError, match="count different test samples per class"):
        confusion.seed_shares(mixed, SETTINGS)


def test_pairs_beyond_the_classes_give_no_partner(tmp_path):
    few = {**SETTINGS, "num_classes": 15}  # class 14 (drink water) without 15 (brushing teeth)
    files = [write(tmp_path / f"{m}.npz", m, 0, {14: 4, 0: 6}, n=15) for m in ("baseline", "maskclr")]
    per_method = confusion.seed_shares(files, few)
    flow = confusion.flow(per_method, few)
    assert "partner" not in set(flow["destination"])
    fine = flow[(flow["method"] == "baseline") & (flow["source"] == "fine pairs")].set_index("destination")
    assert fine.loc["correct", "added"] == pytest.approx(-60.0) and fine.loc["coarse", "added"] == pytest.approx(60.0)


def test_every_configurable_perturbation_has_a_label():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    conditions = schema["properties"]["paper"]["properties"]["error_conditions"]["items"]["properties"]
    assert set(conditions["perturbation"]["enum"]) == set(PERTURBATIONS) - {"clean"}
    assert condition_label("part", "left_arm") == "left arm occluded"
    assert condition_label("joints", 0.3) == "30 % of joints occluded"


def test_the_figure_reads_settings_the_table_reads():
    # the figure takes its error conditions from the table, so it reads no setting the table does not
    assert set(figures.REQUIRED["confusion"]) == set(confusion.REQUIRED["confusion"]) - {"error_conditions"}


def test_each_error_condition_has_its_own_cells_flow_rows_and_panel(files, tmp_path):
    masked = {"perturbation": "frames_noise", "level": 0.5}
    two = {**SETTINGS, "error_conditions": [*SETTINGS["error_conditions"], masked]}
    per_method = confusion.seed_shares(files, two)
    assert confusion.conditions(per_method) == [("noise_st", SIGMA), ("frames_noise", "0.5")]
    flow = confusion.flow(per_method, two)
    flow = flow.set_index(["method", "perturbation", "level", "source", "destination"]).sort_index()
    coarse = flow.loc["baseline", "frames_noise", "0.5", "coarse"]
    assert coarse.loc["correct", "added"] == pytest.approx(-50.0 / 12)  # class 3 loses half its samples
    assert coarse.loc["coarse", "added"] == pytest.approx(50.0 / 12) and coarse.loc["coarse", "added_ci95"] == 0.0
    assert flow.loc[("baseline", "noise_st", SIGMA, "coarse", "correct"), "added"] == 0.0
    cells = confusion.cells(per_method, two)
    masked = confusion.at_condition(cells, "frames_noise", "0.5").set_index(["method", "true_label", "predicted_label"])
    assert masked.loc[("maskclr", 3, 4), "added"] == 50.0 and masked.loc[("maskclr", 14, 15), "added"] == 0.0
    text = confusion.markdown(confusion.flow(per_method, two), cells, two)
    assert "| 50 % of frames masked + noise | baseline | coarse | 4.2 [4.2, 4.2] |" in text
    assert text.count("| spatiotemporal noise σ = 0.01 |") == text.count("| 50 % of frames masked + noise |") == 8
    path = tmp_path / "confusion.csv"
    confusion.write_csv(cells, path)
    fig = figures.confusion_matrix(confusion.load_cells(path), two)
    titles = [ax.get_title() for ax in fig.axes if ax.get_images()]
    assert titles[:3] == [
        "baseline:\nclean (% of the true class)",
        "baseline:\nadded by spatiotemporal noise σ = 0.01 (points)",
        "baseline:\nadded by 50 % of frames masked + noise (points)",
    ]
    assert len(titles) == 9 and titles[-1].endswith("added by 50 % of frames masked + noise,\npaired by seed (points)")


def test_the_figures_last_row_is_maskclr_minus_the_baseline_paired_by_seed(tmp_path):
    """Under noise MaskCLR keeps 7 and 8 of class 14's 10 samples (seeds 0, 1) where the baseline
    keeps 4 and 6 (both 8 clean): the difference row shows what noise adds to MaskCLR minus what
    it adds to the baseline, paired by seed: +25 points on class 14's diagonal, −15 to "wave
    right hand", −10 to its partner."""
    maskclr = {0: {14: 7, 15: 2, 0: 1}, 1: {14: 8, 15: 1, 0: 1}}
    files = [write(tmp_path / f"b{k}.npz", "baseline", k, NOISY[k]) for k in (0, 1)]
    files += [write(tmp_path / f"m{k}.npz", "maskclr", k, maskclr[k]) for k in (0, 1)]
    path = tmp_path / "confusion.csv"
    confusion.write_csv(confusion.cells(confusion.seed_shares(files, SETTINGS), SETTINGS), path)
    panels = [ax for ax in figures.confusion_matrix(confusion.load_cells(path), SETTINGS).axes if ax.get_images()]
    clean, added = (ax.get_images()[0].get_array() for ax in panels[4:])
    assert np.nanmax(np.abs(clean)) == 0  # the same clean confusions
    # baseline: 80 % → 40 / 60 %, MaskCLR: 80 % → 70 / 80 %: (−10 + 40 + 0 + 20) / 2
    assert added[14, 14] == pytest.approx(25.0) and added[14, 0] == pytest.approx(-15.0)
    assert added[14, 15] == pytest.approx(-10.0) and added[3, 3] == 0.0
    assert panels[5].get_title().endswith("paired by seed (points)")


def test_methods_without_a_seed_in_common_get_no_paired_panels(tmp_path):
    files = [write(tmp_path / f"b{k}.npz", "baseline", k, NOISY[k]) for k in (0, 1)]
    files += [write(tmp_path / f"m{k}.npz", "maskclr", k + 2, NOISY[k]) for k in (0, 1)]
    path = tmp_path / "confusion.csv"
    confusion.write_csv(confusion.cells(confusion.seed_shares(files, SETTINGS), SETTINGS), path)
    panels = [ax for ax in figures.confusion_matrix(confusion.load_cells(path), SETTINGS).axes if ax.get_images()]
    assert panels[4].get_title().endswith("clean (points)")  # the difference of the means needs no pairing
    assert panels[5].get_title().endswith("no seed in common")
    assert panels[5].get_images()[0].get_array().mask.all()


@pytest.mark.parametrize(
    "condition, message",
    [
        ({"perturbation": "joints", "level": 0.3}, r"no grid point joints at level 0.3 .*\(its levels: none"),
        ({"perturbation": "frames_noise", "level": 0.25}, r"no grid point frames_noise at level 0.25 .*levels: 0.5"),
    ],
)
def test_an_error_condition_outside_the_files_grid_is_named(files, condition, message):
    with pytest.raises(InputError, match=message):
        confusion.seed_shares(files, {**SETTINGS, "error_conditions": [condition]})


def test_the_figure_orders_the_classes_by_group_and_marks_absent_ones():
    # NTU60: one-person actions, two-person interactions (49-59), the fine pairs (0, 2, 10, ...)
    ntu = {**SETTINGS, "dataset": "ntu60", "num_classes": 60}
    present = [k for k in range(60) if k != 5]
    cells = pd.DataFrame(
        {"method": "baseline", "perturbation": "noise_st", "level": 0.01, "true_label": present}
        | {"predicted_label": present}
        | {"clean": 100.0, "added": 0.0}
    )
    cells.loc[cells["true_label"] == 0, ["predicted_label", "clean", "added"]] = [2, 30.0, 5.0]
    fig = figures.confusion_matrix(cells, ntu)
    clean = next(ax for ax in fig.axes if ax.get_images()).get_images()[0].get_array()
    order = [k for members in class_groups("ntu60", 60).values() for k in members]
    assert order[:2] == [1, 3] and order[39] == 49 and order[50:52] == [0, 2]
    assert clean[50, 51] == 30.0 and clean[50, 50] == 0.0 and clean[1, 1] == 100.0
    assert clean.mask[order.index(5)].all() and not clean.mask[order.index(4)].any()  # absent: masked


def test_unreadable_files_and_a_missing_table_are_named(files, tmp_path):
    arrays = dict(np.load(files[0]))
    np.savez(tmp_path / "level.npz", **(arrays | {"level": np.array(["0", "0", "x", "0.5", "0"])}))
    with pytest.raises(InputError, match=r"level.npz: array 'level': noise_st level 'x' is not a number"):
        confusion.seed_shares([tmp_path / "level.npz"], SETTINGS)
    np.savez(tmp_path / "short.npz", **(arrays | {"test_estimator": np.array(["mq"])}))
    with pytest.raises(InputError, match=r"short.npz: array 'test_estimator' has shape \(1,\), expected \(5,\)"):
        confusion.seed_shares([tmp_path / "short.npz"], SETTINGS)
    (tmp_path / "cut.npz").write_bytes(files[0].read_bytes()[:100])
    with pytest.raises(InputError, match="cut.npz: not a readable npz file"):
        confusion.seed_shares([tmp_path / "cut.npz"], SETTINGS)
    done = run_module(
        "maskclr.paper.figures", "confusion", "--settings-json", pd.Series(SETTINGS).to_json(),
        "--out-pdf", tmp_path / "c.pdf", "--out-png", tmp_path / "c.png",
    )  # fmt: skip
    assert done.returncode == 2 and "confusion needs --confusion" in done.stderr
