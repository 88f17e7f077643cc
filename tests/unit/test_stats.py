"""Confidence intervals over seeds and paired differences (maskclr.paper.stats), by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from maskclr.paper import stats


def test_t_quantiles_match_the_tables_and_approach_the_normal():
    assert stats.t975(1) == pytest.approx(12.706)
    assert stats.t975(2) == pytest.approx(4.303)
    assert stats.t975(30) == pytest.approx(2.042)
    assert stats.t975(60) == pytest.approx(2.000, abs=0.002)  # table value 2.000
    assert stats.t975(120) == pytest.approx(1.980, abs=0.002)  # table value 1.980
    with pytest.raises(ValueError):
        stats.t975(0)


def test_mean_ci_of_three_seeds_by_hand():
    # values 1, 2, 3: mean 2, s = 1, half-width = t(0.975, 2) · 1 / √3 = 4.303 / 1.732 = 2.484
    mean, half, n = stats.mean_ci([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(4.303 / math.sqrt(3))


def test_mean_ci_over_seeds_is_mean_ci_of_each_element():
    # three seeds (axis 0) of a 2 × 2 array: element [0, 0] holds 1, 2, 3 as above
    values = [[[1.0, 5.0], [0.0, 0.0]], [[2.0, 5.0], [0.0, 1.0]], [[3.0, 5.0], [0.0, 2.0]]]
    mean, half = stats.mean_ci_over_seeds(values)
    assert mean.tolist() == [[2.0, 5.0], [0.0, 1.0]]
    assert half[0, 0] == half[1, 1] == pytest.approx(4.303 / math.sqrt(3)) and half[0, 1] == half[1, 0] == 0.0
    one_mean, one_half = stats.mean_ci_over_seeds(values[:1])
    assert one_mean.tolist() == values[0] and np.isnan(one_half).all()


def test_one_seed_has_no_interval_and_is_never_significant():
    mean, half, n = stats.mean_ci([90.0])
    assert (mean, n) == (90.0, 1) and math.isnan(half)
    assert not stats.significant(5.0, half)
    assert stats.interval(mean, half) == "90.0"


def test_paired_difference_removes_the_shared_seed_spread():
    # The seeds differ by 10 points but MaskCLR is always exactly 2 ahead: Δ = 2 ± 0.
    base = pd.Series([80.0, 90.0, 70.0], index=[0, 1, 2])
    ours = base + 2.0
    delta, half, n = stats.paired_difference(base, ours)
    assert (delta, half, n) == (2.0, 0.0, 3)
    assert stats.significant(delta, half)
    # Unpaired, the same numbers would give overlapping intervals.
    assert stats.mean_ci(ours)[1] > 2.0


def test_paired_difference_by_hand_and_on_common_seeds_only():
    base = pd.Series([50.0, 60.0, 70.0, 99.0], index=[0, 1, 2, 7])
    ours = pd.Series([53.0, 61.0, 72.0], index=[0, 1, 2])
    delta, half, n = stats.paired_difference(base, ours)
    # differences 3, 1, 2: mean 2, s = 1, half-width 4.303 / √3
    assert (delta, n) == (2.0, 3)
    assert half == pytest.approx(4.303 / math.sqrt(3))
    assert not stats.significant(delta, half)  # 2 < 2.48: the interval contains 0


def test_ci95_is_elementwise_on_series():
    half = stats.ci95(pd.Series([1.0, 2.0, float("nan")]), pd.Series([3, 4, 1]))
    assert half.iloc[0] == pytest.approx(4.303 / math.sqrt(3))
    assert half.iloc[1] == pytest.approx(3.182 * 2.0 / 2.0)
    assert math.isnan(half.iloc[2])


def test_interval_text():
    assert stats.interval(2.0, 0.5) == "2.0 [1.5, 2.5]"
    assert stats.interval(2.0, 0.5, sign=True) == "+2.0 [1.5, 2.5]"
    assert stats.interval(float("nan"), 0.5) == "--"
