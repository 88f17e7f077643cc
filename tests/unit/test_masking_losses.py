"""AGPM and the baselines' masks; L_sc and L_cc against slow references."""

import math

import pytest
import torch

from maskclr.models.losses import class_contrastive, nt_xent, sample_contrastive
from maskclr.models.masking import agpm_mask, mask_input, random_mask


@pytest.mark.parametrize("ratio", [0.0, 0.15, 0.5, 1.0])
def test_exactly_k_masked_per_sequence(ratio):
    activation = torch.rand(6, 8, 17)
    k = int(ratio * 8 * 17)
    assert (agpm_mask(activation, ratio, 0.7).flatten(1).sum(1) == k).all()
    assert (random_mask((6, 8, 17), ratio).flatten(1).sum(1) == k).all()


def test_masking_frequency_increases_with_activation():
    torch.manual_seed(0)
    activation = torch.linspace(0.0, 1.0, 40).repeat(2000, 1)  # token i has activation i / 39
    frequency = agpm_mask(activation, 0.25, 0.7).float().mean(0)
    low, mid, high = frequency[:10].mean(), frequency[15:25].mean(), frequency[30:].mean()
    assert low < mid < high
    # soft bias: logits span 1/τ, so the top token is at most e^(1/0.7) ≈ 4.2× as likely per draw
    assert high / low < math.exp(1 / 0.7)
    uniform = random_mask((2000, 40), 0.25).float().mean(0)
    assert (uniform - 0.25).abs().max() < 0.05


def test_no_gradient_through_the_selection():
    activation = torch.rand(2, 4, 5, requires_grad=True)
    mask = agpm_mask(activation, 0.5, 0.7)
    assert mask.dtype == torch.bool and not mask.requires_grad


def test_mask_input_zeroes_masked_joints_over_patch_frames():
    x = torch.ones(1, 2, 8, 17, 3)
    mask = torch.zeros(2, 2, 17, dtype=torch.bool)  # token grid with 4 frames per token
    mask[1, 1, 5] = True
    out = mask_input(x, mask)
    assert (out[0, 1, 4:, 5] == 0).all() and out.sum() == x.sum() - 4 * 3


def nt_xent_loop(z_s, z_m, tau):
    """Slow reference of §5.2: per anchor, −log exp(pos/τ) / Σ_{w ≠ anchor} exp(sim/τ)."""
    u = torch.nn.functional.normalize(z_s, dim=1)
    v = torch.nn.functional.normalize(z_m, dim=1)
    features = list(u) + list(v)
    batch, total = len(u), 0.0
    for i, anchor in enumerate(features):
        positive = features[(i + batch) % (2 * batch)]
        denominator = sum(torch.exp(anchor @ w / tau) for j, w in enumerate(features) if j != i)
        total += -torch.log(torch.exp(anchor @ positive / tau) / denominator)
    return total / (2 * batch)


def test_sample_contrastive_matches_the_double_loop():
    torch.manual_seed(0)
    z_s, z_m = torch.randn(7, 16), torch.randn(7, 16)
    torch.testing.assert_close(sample_contrastive(z_s, z_m, 0.7), nt_xent_loop(z_s, z_m, 0.7), atol=1e-5, rtol=1e-5)


def test_class_contrastive_equals_sample_contrastive_with_distinct_labels():
    torch.manual_seed(1)
    z_s, z_m = torch.randn(6, 8), torch.randn(6, 8)
    labels = torch.tensor([4, 0, 2, 5, 1, 3])
    torch.testing.assert_close(class_contrastive(z_s, z_m, labels, 0.7), nt_xent(z_s, z_m, 0.7))


def test_class_contrastive_averages_per_class():
    torch.manual_seed(2)
    z_s, z_m = torch.randn(5, 8), torch.randn(5, 8)
    labels = torch.tensor([1, 0, 1, 2, 0])
    means = [torch.stack([z[labels == c].mean(0) for c in (0, 1, 2)]) for z in (z_s, z_m)]
    torch.testing.assert_close(
        class_contrastive(z_s, z_m, labels, 0.7), nt_xent_loop(*means, 0.7), atol=1e-5, rtol=1e-5
    )


def test_class_contrastive_is_zero_with_one_class():
    z = torch.randn(4, 8, requires_grad=True)
    loss = class_contrastive(z, z, torch.zeros(4, dtype=torch.long), 0.7)
    assert loss.item() == 0.0
    loss.backward()  # still part of the graph
