"""MAMP's motion-aware masking and motion target, SkeletonMAE's loss, on hand-computed examples."""

import math

import pytest
import torch

from maskclr.models.transformer import Transformer
from maskclr.pretrain import build_pretrainer
from maskclr.pretrain.mamp import motion_aware_mask, motion_logits, motion_target
from maskclr.pretrain.masking import masked_count, sample_mask, uniform_mask
from maskclr.pretrain.targets import masked_mse, normalize_tokens, patchify


@pytest.mark.parametrize(
    ("tokens", "ratio", "k"),
    # MAMP keeps int(L·(1 − ρ)) tokens: 750·0.1 and 30·0.1 are 74.99… and 2.99… in floating point.
    [(750, 0.9, 676), (30, 0.9, 28), (10, 0.5, 5), (6, 0.1, 1), (8, 0.0, 0)],
)
def test_masked_count_rounds_the_visible_tokens_down(tokens, ratio, k):
    assert masked_count(tokens, ratio) == k


def test_bad_ratio_is_refused():
    with pytest.raises(ValueError, match="mask ratio"):
        masked_count(10, 1.0)


@pytest.mark.parametrize(("batch", "tokens", "ratio"), [(3, 750, 0.9), (5, 136, 0.9), (2, 10, 0.5)])
def test_exactly_k_masked_per_row(batch, tokens, ratio):
    logits = torch.randn(batch, tokens, generator=torch.Generator().manual_seed(0))
    mask = sample_mask(logits, ratio, torch.Generator().manual_seed(1))
    assert mask.dtype == torch.bool and mask.shape == (batch, tokens)
    assert mask.sum(dim=1).tolist() == [masked_count(tokens, ratio)] * batch
    assert (
        uniform_mask(batch, tokens, ratio, torch.Generator().manual_seed(2)).sum(dim=1).tolist() == mask.sum(1).tolist()
    )


def moving_sequence():
    """(1, T=6, J=2, C=2): joint 0 still; joint 1's first channel 0,0,1,1,3,3, its second channel still."""
    x = torch.zeros(1, 6, 2, 2)
    x[0, :, 1, 0] = torch.tensor([0.0, 0.0, 1.0, 1.0, 3.0, 3.0])
    return x


def test_motion_logits_on_a_hand_made_sequence():
    # t_patch 2 → patches of joint 1 (4 values each): [0,0,0,0], [1,0,1,0], [3,0,3,0]; mean |Δ| 0.5 then 1,
    # the first patch copies the second's; joint 0 never moves. Grid (T'=3, J=2) flattened time-major;
    # max 1, τ 0.5 → logits = motion / 0.5.
    logits = motion_logits(moving_sequence(), t_patch=2, tau=0.5)
    torch.testing.assert_close(logits, torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.0, 2.0]]))


def test_motion_aware_masking_frequency_is_the_softmax_of_motion():
    # ρ = 0.1 of 6 tokens masks exactly one, so each token's masking frequency is its probability.
    draws = 40000
    x = moving_sequence().expand(draws, -1, -1, -1)
    mask = motion_aware_mask(x, t_patch=2, ratio=0.1, tau=0.5, generator=torch.Generator().manual_seed(0))
    assert (mask.sum(dim=1) == 1).all()
    expected = torch.softmax(torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 2.0]), dim=0)
    torch.testing.assert_close(mask.float().mean(dim=0), expected, atol=0.01, rtol=0)
    # The fastest token (joint 1, last patch) is masked e² ≈ 7.4 times as often as a still one.
    assert expected[5] / expected[0] == pytest.approx(math.e**2)


def test_motion_target_on_a_hand_made_sequence():
    x = torch.tensor([0.0, 1.0, 3.0, 6.0]).view(1, 4, 1, 1)
    # Motion x[t+1] − x[t] = 1, 2, 3 and 0 for the last frame; patches of 2 frames.
    torch.testing.assert_close(motion_target(x, t_patch=2), torch.tensor([[[1.0, 2.0], [3.0, 0.0]]]))
    torch.testing.assert_close(motion_target(x, t_patch=2, stride=2), torch.tensor([[[3.0, 5.0], [0.0, 0.0]]]))
    # Per token: mean 1.5 and unbiased variance 0.5 → ±0.5 / √0.5; mean 1.5, variance 4.5 → ±1.5 / √4.5.
    half, wide = 0.5 / math.sqrt(0.5 + 1e-6), 1.5 / math.sqrt(4.5 + 1e-6)
    torch.testing.assert_close(
        normalize_tokens(motion_target(x, t_patch=2)), torch.tensor([[[-half, half], [wide, -wide]]])
    )


def test_patchify_is_frame_major_and_pads_the_last_patch_with_zeros():
    x = torch.arange(1.0, 13.0).view(1, 3, 2, 2)  # (T=3, J=2, C=2): x[t, j] = [4t + 2j + 1, 4t + 2j + 2]
    patches = patchify(x, t_patch=2)
    assert patches.shape == (1, 4, 4)  # T' = 2 patches × 2 joints
    torch.testing.assert_close(patches[0, 1], torch.tensor([3.0, 4.0, 7.0, 8.0]))  # joint 1, frames 0 and 1
    torch.testing.assert_close(patches[0, 2], torch.tensor([9.0, 10.0, 0.0, 0.0]))  # joint 0, frame 2 + padding


def test_masked_mse_averages_over_masked_tokens_only():
    target = torch.zeros(1, 3, 2)
    pred = torch.tensor([[[1.0, 1.0], [2.0, 0.0], [3.0, 3.0]]])  # token errors 1, 2, 9
    mask = torch.tensor([[True, False, True]])
    assert masked_mse(pred, target, mask).item() == pytest.approx(5.0)
    pred[0, 1] = 100.0  # a visible token's prediction does not count
    assert masked_mse(pred, target, mask).item() == pytest.approx(5.0)


@pytest.fixture
def skeletonmae():
    torch.manual_seed(0)
    encoder = Transformer(dim=16, depth=1, num_heads=2, maxlen=16)
    entry = {"method": "skeletonmae", "decoder_dim": 8, "decoder_depth": 1, "decoder_heads": 2}
    return build_pretrainer("mae", entry, "transformer", encoder)


def test_skeletonmae_loss_is_on_masked_tokens_only(skeletonmae):
    x = torch.randn(2, 16, 17, 3, generator=torch.Generator().manual_seed(0))
    out = skeletonmae(x, generator=torch.Generator().manual_seed(1))
    assert out.mask.sum(dim=1).tolist() == [masked_count(4 * 17, 0.9)] * 2
    # The target is each token's normalised coordinates, and only masked tokens are scored.
    target = normalize_tokens(patchify(x, 4))
    torch.testing.assert_close(out.target, target)
    errors = (out.pred - target).square().mean(dim=-1)
    torch.testing.assert_close(out.loss, errors[out.mask].mean())
    out.pred.retain_grad()
    out.loss.backward()
    assert (out.pred.grad[~out.mask] == 0).all() and (out.pred.grad[out.mask].abs().sum(-1) > 0).all()


def test_encoder_sees_only_visible_tokens(skeletonmae):
    skeletonmae.eval()
    x = torch.randn(2, 16, 17, 3, generator=torch.Generator().manual_seed(0))
    mask = uniform_mask(2, 4 * 17, 0.5, torch.Generator().manual_seed(3))
    pred = skeletonmae.predict(x, mask)
    # Token (t', j) covers frames 4t'…4t'+3 of joint j: changing the masked tokens' frames changes nothing.
    hidden = mask.view(2, 4, 1, 17).expand(2, 4, 4, 17).reshape(2, 16, 17)
    changed = x + 5.0 * hidden[..., None]
    torch.testing.assert_close(skeletonmae.predict(changed, mask), pred)
    assert not torch.allclose(skeletonmae.predict(x + 5.0 * ~hidden[..., None], mask), pred)
