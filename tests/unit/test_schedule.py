"""The per-epoch learning-rate factor (maskclr.train.build.lr_factor) of each schedule, and the
Schedule's checks of what each optimizer and schedule needs."""

import math
import re
from dataclasses import replace

import pytest

from maskclr.errors import InputError
from maskclr.train.build import lr_factor
from maskclr.train.settings import Schedule


def make(**changes):
    """A complete Schedule (the paper's values) with ``changes``."""
    paper = dict(batch_size=32, epochs_stage1=300, epochs_stage2=300, optimizer="adamw", lr_backbone=1e-4, lr_head=1e-3)
    paper |= dict(weight_decay=0.01, layer_decay=1.0, lr_decay=0.99, lr_schedule="exponential", warmup_epochs=0)
    paper |= dict(label_smoothing=0.0, head="mlp", head_hidden=2048, head_dropout=0.5, seed=0, test_every=1)
    return Schedule(**paper) if not changes else replace(make(), **changes)


def test_exponential_is_the_papers_decay_without_warm_up():
    schedule = make(lr_decay=0.99)
    assert [lr_factor(schedule, e) for e in (0, 1, 300)] == pytest.approx([1.0, 0.99, 0.99**300])


def test_cosine_runs_from_one_to_zero_over_both_stages():
    schedule = make(lr_schedule="cosine", epochs_stage1=24, epochs_stage2=6)
    assert lr_factor(schedule, 0) == 1.0
    assert lr_factor(schedule, 15) == pytest.approx(0.5)  # half way through the 30 epochs
    # Stage 2 continues the count: its first epoch (24) is at 0.5·(1 + cos(0.8π)) ≈ 9.5 %.
    assert lr_factor(schedule, 24) == pytest.approx(0.5 * (1 + math.cos(0.8 * math.pi)))
    assert lr_factor(schedule, 29) == pytest.approx(0.5 * (1 + math.cos(29 / 30 * math.pi)))
    assert lr_factor(schedule, 30) == pytest.approx(0.0)


def test_warm_up_multiplies_the_first_epochs():
    schedule = make(lr_schedule="cosine", epochs_stage1=10, epochs_stage2=0, warmup_epochs=3)
    cosine = make(lr_schedule="cosine", epochs_stage1=10, epochs_stage2=0)
    factors = [lr_factor(schedule, e) / lr_factor(cosine, e) for e in range(5)]
    assert factors == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])
    assert lr_factor(make(warmup_epochs=1), 0) == 0.5  # one warm-up epoch at half the rate


def test_unknown_schedule_is_named():
    with pytest.raises(InputError, match="lr_schedule"):
        make(lr_schedule="linear")


@pytest.mark.parametrize("schedule, key", [("exponential", "lr_decay"), ("cosine", "epochs_stage2")])
def test_each_schedule_needs_its_own_key(schedule, key):
    with pytest.raises(InputError, match=f"key '{key}': required by lr_schedule '{schedule}'"):
        make(lr_schedule=schedule, **{key: None})


def test_step_multiplies_by_a_tenth_from_each_milestone_on():
    # STTFormer's schedule: 90 epochs, ×0.1 at 60 and 80, after 5 warm-up epochs (of 1/6 … 5/6).
    schedule = make(lr_schedule="step", milestones=[60, 80], warmup_epochs=5, lr_decay=None)
    epochs = (0, 4, 5, 59, 60, 79, 80, 89)
    assert [lr_factor(schedule, e) for e in epochs] == pytest.approx([1 / 6, 5 / 6, 1, 1, 0.1, 0.1, 0.01, 0.01])
    # Counted over both stages: stage 2 after 60 stage-1 epochs starts at the first milestone's rate.
    assert lr_factor(replace(schedule, epochs_stage1=60), 60) == pytest.approx(0.1)
    assert schedule.milestones == (60, 80)  # JSON's list, kept as a tuple


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(lr_schedule="step"), "key 'milestones': required by lr_schedule 'step'"),
        (dict(optimizer="sgd", nesterov=True), "key 'momentum': required by optimizer 'sgd'"),
        (dict(optimizer="sgd", momentum=0.9), "key 'nesterov': required by optimizer 'sgd'"),
        (
            dict(optimizer="sgd", momentum=0.0, nesterov=True),
            "key 'nesterov': Nesterov momentum needs key 'momentum' > 0",
        ),
        (dict(optimizer="adam"), "key 'optimizer': expected one of ('adamw', 'sgd'), got 'adam'"),
        (dict(head="mlp2"), "key 'head': expected one of ('mlp', 'linear'), got 'mlp2'"),
        (dict(lr_schedule="step", milestones=[80, 60]), "key 'milestones': expected a list of increasing epoch"),
        (dict(lr_schedule="step", milestones=60), "key 'milestones': expected a list of increasing epoch"),
        (dict(lr_schedule="step", milestones=[60.5]), "key 'milestones': expected a list of increasing epoch"),
        (dict(layer_decay=1.2), "key 'layer_decay': expected a factor in (0, 1] (1: off), got 1.2"),
        (dict(label_smoothing=1.0), "key 'label_smoothing': expected [0, 1) (0: off), got 1.0"),
        (dict(test_every=0), "key 'test_every': expected a whole number of epochs ≥ 1, got 0"),
        (dict(test_every=2.0), "key 'test_every': expected a whole number of epochs ≥ 1, got 2.0"),
    ],
)
def test_what_a_recipe_lacks_or_gets_wrong_is_named(changes, message):
    with pytest.raises(InputError, match=re.escape(f"schedule: {message}")):
        make(**changes)


def test_sgd_with_its_momentum_is_complete():
    schedule = make(optimizer="sgd", momentum=0.9, nesterov=True)
    assert (schedule.momentum, schedule.nesterov) == (0.9, True)
