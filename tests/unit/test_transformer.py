"""The vanilla (MAMP-style) transformer backbone: shapes, masking, activation, attention paths."""

import pytest
import torch

from maskclr.models.attention import explicit_attention, fused_attention
from maskclr.models.transformer import Transformer

DIM = 32


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Transformer(dim=DIM, depth=2, num_heads=2, maxlen=32).eval()


@pytest.fixture(scope="module")
def mask_token():
    torch.manual_seed(1)
    return torch.nn.Parameter(torch.randn(DIM))


def inputs(batch, frames, seed=0):
    return torch.randn(batch, frames, 17, 3, generator=torch.Generator().manual_seed(seed))


def random_mask(model, batch, frames, ratio=0.5, seed=0):
    grid = model.token_grid(frames, 17)
    return torch.rand(batch, *grid, generator=torch.Generator().manual_seed(seed)) < ratio


@pytest.mark.parametrize("batch", [2, 4])
@pytest.mark.parametrize("frames", [16, 24, 18])
def test_shapes_follow_token_grid(model, batch, frames):
    rep, activation = model.forward_features(inputs(batch, frames))
    grid = model.token_grid(frames, 17)
    assert grid == (-(-frames // 4), 17)
    assert rep.shape == (batch, *grid, model.dim_rep)
    assert activation is None
    assert model.dim_rep == model.mask_dim == DIM


@pytest.mark.parametrize("frames", [16, 24])
def test_mask_changes_output_and_empty_mask_does_not(model, mask_token, frames):
    x = inputs(2, frames)
    plain, _ = model.forward_features(x)
    masked, _ = model.forward_features(x, random_mask(model, 2, frames), mask_token)
    assert masked.shape == plain.shape
    assert not torch.allclose(masked, plain)
    none = torch.zeros(2, *model.token_grid(frames, 17), dtype=torch.bool)
    empty, _ = model.forward_features(x, none, mask_token)
    torch.testing.assert_close(empty, plain, rtol=0, atol=0)


@pytest.mark.parametrize("frames", [16, 24])
def test_activation_is_detached_attention_received(model, frames):
    rep, activation = model.forward_features(inputs(4, frames), return_activation=True)
    tokens = model.token_grid(frames, 17)
    assert activation.shape == (4, *tokens)
    assert not activation.requires_grad and rep.requires_grad
    assert (activation >= 0).all()
    # Every query's softmax row sums to 1, so a sequence receives L = T'·J in total.
    sums = activation.sum(dim=(1, 2))
    torch.testing.assert_close(sums, torch.full_like(sums, tokens[0] * tokens[1]))


def test_fused_attention_matches_explicit(model):
    x = inputs(2, 24)
    with fused_attention():
        fused, _ = model.forward_features(x)
    with explicit_attention():
        explicit, _ = model.forward_features(x)
    torch.testing.assert_close(fused, explicit, rtol=1e-5, atol=1e-5)
    # Reading the probabilities from the last block must not change the representation.
    read, _ = model.forward_features(x, return_activation=True)
    torch.testing.assert_close(read, fused, rtol=1e-5, atol=1e-5)


def test_gradient_reaches_mask_token(model):
    token = torch.nn.Parameter(torch.randn(DIM))
    rep, _ = model.forward_features(inputs(2, 16), random_mask(model, 2, 16), token)
    rep.square().mean().backward()
    assert token.grad is not None and token.grad.abs().sum() > 0


def test_training_mode_with_drop_path_runs_and_backpropagates():
    torch.manual_seed(0)
    model = Transformer(dim=DIM, depth=2, num_heads=2, maxlen=32, drop_path=0.5).train()
    rep, _ = model.forward_features(inputs(4, 16))
    rep.mean().backward()
    assert model.patch_embed.weight.grad is not None


def test_too_long_input_is_rejected(model):
    with pytest.raises(ValueError, match="maxlen"):
        model.forward_features(inputs(1, 40))
