"""The STTFormer backbone: tuple grouping, shapes, masking, activation."""

import pytest
import torch

from maskclr.errors import InputError
from maskclr.models.sttformer import STTFormer
from maskclr.predict import frame_count

CONFIG = ((8, 8, 4), (8, 16, 4))
N = 4  # len_parts: divides both 16 and 24


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return STTFormer(num_frames=32, len_parts=N, num_heads=2, config=CONFIG).eval()


def inputs(batch, frames, seed=0):
    return torch.randn(batch, frames, 17, 3, generator=torch.Generator().manual_seed(seed))


def random_mask(batch, frames, ratio=0.5, seed=0):
    return torch.rand(batch, frames, 17, generator=torch.Generator().manual_seed(seed)) < ratio


@pytest.mark.parametrize("batch", [2, 4])
@pytest.mark.parametrize("frames", [16, 24])
def test_shapes_keep_frames_and_joints(model, batch, frames):
    rep, activation = model.forward_features(inputs(batch, frames))
    assert model.token_grid(frames, 17) == (frames, 17)
    assert rep.shape == (batch, frames, 17, 16)
    assert activation is None
    assert (model.dim_rep, model.mask_dim) == (16, 8)


@pytest.mark.parametrize("frames", [16, 24])
def test_mask_changes_output_and_empty_mask_does_not(model, frames):
    x = inputs(2, frames)
    token = torch.randn(model.mask_dim)
    plain, _ = model.forward_features(x)
    masked, _ = model.forward_features(x, random_mask(2, frames), token)
    assert masked.shape == plain.shape
    assert not torch.allclose(masked, plain)
    empty, _ = model.forward_features(x, torch.zeros(2, frames, 17, dtype=torch.bool), token)
    torch.testing.assert_close(empty, plain, rtol=0, atol=0)


@pytest.mark.parametrize("frames", [16, 24])
def test_activation_is_detached_nonnegative_and_shared_by_tuples(model, frames):
    rep, activation = model.forward_features(inputs(4, frames), return_activation=True)
    assert activation.shape == (4, frames, 17)
    assert not activation.requires_grad and rep.requires_grad
    assert (activation >= 0).all() and (activation > 0).any()
    # One attention map serves every tuple, so the activation repeats with period len_parts.
    tuples = activation.view(4, frames // N, N, 17)
    torch.testing.assert_close(tuples, tuples[:, :1].expand_as(tuples))
    torch.testing.assert_close(model.forward_features(inputs(4, frames))[0], rep)


def test_activation_sums_attention_over_queries():
    # With q·k forced to 0, A = A0; make every query attend only to tuple-joint 0 (frame 0 of
    # the tuple, joint 0): that token then receives all P = n·V queries, the others nothing.
    model = STTFormer(num_frames=16, len_parts=N, num_heads=2, config=CONFIG).eval()
    last = model.blocks[-1]
    torch.nn.init.zeros_(last.to_qk.weight)
    torch.nn.init.zeros_(last.to_qk.bias)
    with torch.no_grad():
        last.attention0s.zero_()[..., 0] = 1.0
    _, activation = model.forward_features(inputs(2, 16), return_activation=True)
    expected = torch.zeros(2, 16 // N, N, 17)
    expected[:, :, 0, 0] = N * 17
    torch.testing.assert_close(activation, expected.view(2, 16, 17))


def test_gradient_reaches_mask_token():
    model = STTFormer(num_frames=16, len_parts=N, num_heads=2, config=CONFIG).train()
    token = torch.nn.Parameter(torch.randn(model.mask_dim))
    rep, _ = model.forward_features(inputs(2, 16), random_mask(2, 16), token)
    rep.square().mean().backward()
    assert token.grad is not None and token.grad.abs().sum() > 0


def test_without_positional_encoding(model):
    plain = STTFormer(num_frames=16, len_parts=N, num_heads=2, config=CONFIG, use_pes=False)
    assert plain.blocks[0].pes is None
    rep, _ = plain.eval().forward_features(inputs(2, 16))
    assert rep.shape == (2, 16, 17, 16)


def test_frames_not_divisible_by_len_parts_raise(model):
    with pytest.raises(ValueError, match="len_parts"):
        model.forward_features(inputs(2, 18))
    with pytest.raises(ValueError, match="len_parts"):
        STTFormer(num_frames=243, len_parts=6, config=CONFIG)


def test_predict_asks_for_whole_tuples(model):
    """maskclr.predict takes the frame multiple from the backbone (its frame_step), not its name."""
    arch = {"sizes": {"num_frames": 24}}
    assert model.frame_step == N and frame_count(None, arch, model.frame_step) == 24
    with pytest.raises(InputError, match="--n-frames 6: expected 1..24, a multiple of 4"):
        frame_count(6, arch, model.frame_step)
