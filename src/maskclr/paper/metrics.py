"""Read and validate ``metrics.csv``, select the rows of one model, aggregate over seeds.

Every error is an ``InputError`` naming the file (or ``--settings-json``) and what is missing.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from maskclr.errors import InputError
from maskclr.evaluate.collect import COLUMNS  # the table collect writes
from maskclr.paper.stats import ci95, paired_difference
from maskclr.paper.style import pretrain_of
from maskclr.settings import json_object

# Columns added after the first release: a metrics.csv written before them reads as if empty.
LATER_COLUMNS = ("label",)


@dataclass(frozen=True)
class Metrics:
    """The rows of one metrics.csv and its path, so that a failed selection names the file."""

    frame: pd.DataFrame
    path: Path

    def match(self, **where):
        """Rows matching every ``column=value`` (a list or tuple value: any of them); may be empty."""
        rows = self.frame
        for column, value in where.items():
            rows = rows[rows[column].isin(value if isinstance(value, (list, tuple)) else [value])]
        return rows

    def select(self, **where):
        """As ``match``, but no matching row is an ``InputError`` naming the file and the selection."""
        rows = self.match(**where)
        if rows.empty:
            raise InputError(f"{self.path}: no rows for {describe(where)}")
        return rows

    def present(self, column, **where):
        """Sorted distinct values of ``column`` among the rows matching ``where`` (may be empty)."""
        return sorted(self.match(**where)[column].unique())

    def summary(self, by, scale=100.0, **where):
        """Mean, sample std, 95 % CI half-width and seed count of ``value`` × ``scale`` per ``by``
        group (sorted).

        One row per seed is expected in each group; ``std`` and ``ci95`` are NaN for one seed.
        """
        rows = self.select(**where)
        grouped = (rows["value"] * scale).groupby([rows[c] for c in by], sort=True)
        out = pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=1), "n_seeds": grouped.count()})
        out["ci95"] = ci95(out["std"], out["n_seeds"])
        return out.reset_index()

    def on_training_tier(self, tiers):
        """The rows tested on their dataset's training tier (``tiers``: {dataset: tier}, the
        settings' ``train_estimators``), as a ``Metrics`` of the same file; a dataset with rows but
        no tier is an ``InputError``."""
        unknown = sorted(set(self.frame["dataset"]) - set(tiers))
        if unknown:
            raise InputError(
                f"--settings-json: train_estimators has no tier for dataset {', '.join(unknown)} (in {self.path})"
            )
        rows = self.frame[self.frame["test_estimator"] == self.frame["dataset"].map(tiers)]
        return Metrics(rows, self.path)

    def per_seed(self, by, scale=100.0, **where):
        """``value`` × ``scale`` per (``by``…, seed), averaged over any other rows: a Series."""
        rows = self.select(**where)
        return (rows["value"] * scale).groupby([rows[c] for c in (*by, "seed")], sort=True).mean()


def largest_noise(rows):
    """(σ, its rows) of the largest spatiotemporal noise σ > 0 among metrics ``rows`` (a frame);
    (None, no rows) when none is noisy."""
    noisy = rows[(rows["perturbation"] == "noise_st") & (rows["x"] > 0)]
    if noisy.empty:
        return None, noisy
    sigma = float(noisy["x"].max())
    return sigma, noisy[noisy["x"] == sigma]


def paired(per_seed, first, second):
    """(mean, 95 % half-width, n) of ``second − first`` paired by seed; ``first``/``second`` are
    keys of ``per_seed`` (a ``Metrics.per_seed`` Series) without the seed."""
    return paired_difference(per_seed.loc[first], per_seed.loc[second])


def describe(where):
    """``column=value`` pairs as text, for error messages."""
    return ", ".join(f"{column}={value}" for column, value in where.items())


def load(path):
    """Load metrics.csv: all columns as text except ``seed`` (int), ``value`` and ``x`` (float).

    ``x`` is ``level`` as a number (σ, fraction, epoch), NaN for part names and empty levels.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"{path}: metrics file not found") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"{path}: not a readable CSV: {err}") from err
    for column in LATER_COLUMNS:
        frame[column] = frame[column].fillna("") if column in frame.columns else ""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing columns {', '.join(missing)} (expected {','.join(COLUMNS)})")
    frame["seed"] = _numbers(frame, "seed", path).astype(int)
    frame["value"] = _numbers(frame, "value", path, allow_empty=True)
    frame["x"] = pd.to_numeric(frame["level"], errors="coerce")
    return Metrics(frame, path)


def _numbers(frame, column, path, allow_empty=False):
    """``column`` as floats; the first non-number is reported with its line number."""
    numbers = pd.to_numeric(frame[column], errors="coerce")
    bad = numbers.isna() & ~(allow_empty & (frame[column] == ""))
    if bad.any():
        row = bad.to_numpy().nonzero()[0][0]
        raise InputError(f"{path}: line {row + 2}: column '{column}': not a number: {frame[column].iloc[row]!r}")
    return numbers


def load_settings(text, required):
    """Parse the ``--settings-json`` string and check that the ``required`` keys are there."""
    return json_object(text, "--settings-json", required)


def model_where(settings):
    """Selection of the settings' model (dataset, split, backbone, pretraining) tested on its
    training tier."""
    return {
        "dataset": settings["dataset"],
        "split": settings["split"],
        "backbone": settings["backbone"],
        "pretrain": pretrain_of(settings),
        "test_estimator": settings["train_estimator"],
    }
