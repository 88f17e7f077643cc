"""The spread of a model's joint activation (maskclr.evaluate.run.activation_spread) by hand."""

import math

import pytest
import torch

from maskclr.evaluate.run import activation_spread


def test_uniform_activation_spreads_over_every_joint():
    spread = activation_spread(torch.full((4, 17), 0.3))
    assert spread["joints_effective"] == pytest.approx(17.0)
    assert spread["top3_share"] == pytest.approx(3 / 17)


def test_one_hot_activation_is_one_joint():
    one_hot = torch.zeros(2, 17)
    one_hot[0, 5] = one_hot[1, 0] = 1.0
    spread = activation_spread(one_hot)
    assert spread["joints_effective"] == pytest.approx(1.0)
    assert spread["top3_share"] == pytest.approx(1.0)


def test_two_equal_joints_and_the_mean_over_samples():
    two = torch.zeros(1, 17)
    two[0, [3, 9]] = 0.5  # scale does not matter: normalised per sample
    uniform = torch.ones(1, 17)
    spread = activation_spread(torch.cat([two, uniform]))
    assert spread["joints_effective"] == pytest.approx((2.0 + 17.0) / 2)
    assert spread["top3_share"] == pytest.approx((1.0 + 3 / 17) / 2)


def test_effective_joints_is_the_exponential_of_the_entropy():
    p = torch.tensor([[0.5, 0.25, 0.125, 0.125] + [0.0] * 13])
    entropy = -(0.5 * math.log(0.5) + 0.25 * math.log(0.25) + 2 * 0.125 * math.log(0.125))
    assert activation_spread(p)["joints_effective"] == pytest.approx(math.exp(entropy))
    assert activation_spread(p)["top3_share"] == pytest.approx(0.875)
