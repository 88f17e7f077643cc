"""Confidence intervals over seeds and paired differences between two methods.

Seeds are few (3-5), so intervals use Student's t: mean ± t(0.975, n−1) · s / √n, with s the
sample standard deviation. A paired difference compares two methods seed by seed (the same seed
gives both methods the same stage-1 model, data order and augmentation), which removes the
seed-to-seed spread they share. One seed gives no interval (NaN), and the texts say so.
"""

import math

import numpy as np
import pandas as pd

# Two-sided 95 % quantiles of Student's t for 1-30 degrees of freedom (standard tables).
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
_Z975 = 1.960


def t975(df):
    """The 97.5 % quantile of Student's t with ``df`` ≥ 1 degrees of freedom (beyond 30: the
    normal quantile with the first-order correction z + (z³ + z) / (4 df), within 0.005)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    return _Z975 + (_Z975**3 + _Z975) / (4 * df)


def ci95(std, n):
    """Half-width of the 95 % interval of a mean of ``n`` values with sample std ``std``;
    NaN for fewer than two values. Works element-wise on pandas Series."""
    if isinstance(n, pd.Series):
        return pd.Series([ci95(s, k) for s, k in zip(std, n)], index=n.index, dtype=float)
    return math.nan if n < 2 or pd.isna(std) else t975(int(n) - 1) * float(std) / math.sqrt(n)


def mean_ci(values):
    """(mean, 95 % half-width, n) of a 1-D sequence; half-width NaN when n < 2."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return math.nan, math.nan, 0
    mean, half = mean_ci_over_seeds(values)
    return float(mean), float(half), len(values)


def mean_ci_over_seeds(values):
    """(mean, 95 % half-width) over the first axis (seeds) of an array (S, ...), element by
    element; NaN half-widths for one seed."""
    values = np.asarray(values, dtype=float)
    n, mean = len(values), values.mean(axis=0)
    if n < 2:
        return mean, np.full_like(mean, math.nan)
    return mean, t975(n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n)


def paired_difference(first, second):
    """(mean, 95 % half-width, n) of ``second − first`` over the seeds both have.

    ``first`` and ``second`` are Series indexed by seed.
    """
    seeds = first.index.intersection(second.index)
    return mean_ci((second[seeds] - first[seeds]).to_numpy())


def significant(mean, half_width):
    """Whether a 95 % interval excludes 0; False without an interval (one seed)."""
    return not pd.isna(half_width) and abs(mean) > half_width


def interval(mean, half_width, digits=1, sign=False):
    """``93.9 [92.1, 95.7]``, or just the mean where there is no interval. A number that rounds
    to zero keeps its sign (``[-0.6, -0.0]``: the interval ends just below 0, and excludes it)."""
    fmt = f"{{:{'+' if sign else ''}.{digits}f}}"
    if pd.isna(mean):
        return "--"
    if pd.isna(half_width):
        return fmt.format(mean)
    return f"{fmt.format(mean)} [{mean - half_width:.{digits}f}, {mean + half_width:.{digits}f}]"


def difference(mean, half_width, bold):
    """A paired difference as ``interval`` writes it with its sign, through ``bold`` (a formatter)
    where its interval excludes 0."""
    text = interval(mean, half_width, sign=True)
    return bold(text) if significant(mean, half_width) else text
