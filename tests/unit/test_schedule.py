"""The per-epoch learning-rate factor (maskclr.train.build.lr_factor) of both schedules."""

import math

import pytest

from maskclr.errors import InputError
from maskclr.train.build import lr_factor
from maskclr.train.settings import Schedule


def test_exponential_is_the_papers_decay_without_warm_up():
    schedule = Schedule(lr_decay=0.99)
    assert [lr_factor(schedule, e) for e in (0, 1, 300)] == pytest.approx([1.0, 0.99, 0.99**300])


def test_cosine_runs_from_one_to_zero_over_both_stages():
    schedule = Schedule(lr_schedule="cosine", epochs_stage1=24, epochs_stage2=6)
    assert lr_factor(schedule, 0) == 1.0
    assert lr_factor(schedule, 15) == pytest.approx(0.5)  # half way through the 30 epochs
    # Stage 2 continues the count: its first epoch (24) is at 0.5·(1 + cos(0.8π)) ≈ 9.5 %.
    assert lr_factor(schedule, 24) == pytest.approx(0.5 * (1 + math.cos(0.8 * math.pi)))
    assert lr_factor(schedule, 29) == pytest.approx(0.5 * (1 + math.cos(29 / 30 * math.pi)))
    assert lr_factor(schedule, 30) == pytest.approx(0.0)


def test_warm_up_multiplies_the_first_epochs():
    schedule = Schedule(lr_schedule="cosine", epochs_stage1=10, epochs_stage2=0, warmup_epochs=3)
    cosine = Schedule(lr_schedule="cosine", epochs_stage1=10, epochs_stage2=0)
    factors = [lr_factor(schedule, e) / lr_factor(cosine, e) for e in range(5)]
    assert factors == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])
    assert lr_factor(Schedule(warmup_epochs=1), 0) == 0.5  # one warm-up epoch at half the rate


def test_unknown_schedule_is_named():
    with pytest.raises(InputError, match="lr_schedule"):
        Schedule(lr_schedule="linear")
