"""DSTFormer: shapes, SDPA vs explicit attention, MotionBERT names/shapes and checkpoints."""

import pytest
import torch

from maskclr.errors import InputError
from maskclr.models import ActionModel
from maskclr.models.attention import explicit_attention, fused_attention
from maskclr.models.dstformer import DSTFormer, load_motionbert

TINY = dict(dim_feat=16, dim_rep=24, depth=2, num_heads=2, mlp_ratio=2, maxlen=32)


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return DSTFormer(**TINY).eval()


@pytest.mark.parametrize("persons", [1, 2])
@pytest.mark.parametrize("frames", [16, 27])
def test_action_model_shapes(persons, frames):
    torch.manual_seed(0)
    model = ActionModel(DSTFormer(**TINY), num_classes=5, hidden=8).eval()
    x = torch.randn(3, persons, frames, 17, 3)
    out = model(x, return_activation=True)
    assert out.logits.shape == (3, 5) and out.hidden.shape == (3, 8)
    assert out.activation.shape == (3 * persons, frames, 17)
    mask = torch.zeros(3 * persons, frames, 17, dtype=torch.bool)
    mask[:, ::2, 3] = True
    masked = model(x, mask=mask)
    assert masked.logits.shape == (3, 5) and masked.activation is None
    rep = model.backbone.forward_features(x.flatten(0, 1), mask, model.mask_token)[0]
    assert rep.shape == (3 * persons, frames, 17, TINY["dim_rep"])
    assert not torch.allclose(rep, model.backbone.forward_features(x.flatten(0, 1))[0])


def test_sdpa_equals_explicit_attention(tiny):
    x = torch.randn(2, 20, 17, 3)
    with fused_attention():
        fused, _ = tiny.forward_features(x)
    with explicit_attention():
        explicit, _ = tiny.forward_features(x)
    torch.testing.assert_close(fused, explicit, atol=1e-5, rtol=0)


def test_activation_is_detached_and_sums_to_joints(tiny):
    x = torch.randn(2, 10, 17, 3, requires_grad=True)
    rep, activation = tiny.forward_features(x, return_activation=True)
    assert not activation.requires_grad
    torch.testing.assert_close(activation.sum(-1), torch.full((2, 10), 17.0))  # each row of probs sums to 1
    torch.testing.assert_close(rep, tiny.forward_features(x)[0], atol=1e-5, rtol=0)  # reading it changes nothing


def test_all_false_mask_is_the_identity(tiny):
    x = torch.randn(2, 10, 17, 3)
    token = torch.randn(TINY["dim_feat"])
    mask = torch.zeros(2, 10, 17, dtype=torch.bool)
    assert torch.equal(tiny.forward_features(x, mask, token)[0], tiny.forward_features(x)[0])


def expected_motionbert_shapes(dim=512, depth=5, hidden=1024, joints=17, maxlen=243, dim_out=3):
    """MotionBERT DSTformer's parameters at the paper size, written from docs/method.md §3.1."""
    shapes = {
        "joints_embed.weight": (dim, 3),
        "joints_embed.bias": (dim,),
        "norm.weight": (dim,),
        "norm.bias": (dim,),
        "pre_logits.fc.weight": (dim, dim),
        "pre_logits.fc.bias": (dim,),
        "head.weight": (dim_out, dim),
        "head.bias": (dim_out,),
        "temp_embed": (1, maxlen, 1, dim),
        "pos_embed": (1, joints, dim),
    }
    for i in range(depth):
        shapes[f"ts_attn.{i}.weight"], shapes[f"ts_attn.{i}.bias"] = (2, 2 * dim), (2,)
        for branch in ("blocks_st", "blocks_ts"):
            for s in ("s", "t"):
                p = f"{branch}.{i}."
                shapes.update(
                    {
                        p + f"norm1_{s}.weight": (dim,),
                        p + f"norm1_{s}.bias": (dim,),
                        p + f"norm2_{s}.weight": (dim,),
                        p + f"norm2_{s}.bias": (dim,),
                        p + f"attn_{s}.qkv.weight": (3 * dim, dim),
                        p + f"attn_{s}.qkv.bias": (3 * dim,),
                        p + f"attn_{s}.proj.weight": (dim, dim),
                        p + f"attn_{s}.proj.bias": (dim,),
                        p + f"mlp_{s}.fc1.weight": (hidden, dim),
                        p + f"mlp_{s}.fc1.bias": (hidden,),
                        p + f"mlp_{s}.fc2.weight": (dim, hidden),
                        p + f"mlp_{s}.fc2.bias": (dim,),
                    }
                )
    return shapes


def test_paper_configuration_has_motionbert_names_and_shapes():
    model = DSTFormer(
        dim_in=3, dim_out=3, dim_feat=512, dim_rep=512, depth=5, num_heads=8, mlp_ratio=2, num_joints=17, maxlen=243
    )
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == expected_motionbert_shapes()
    assert abs(sum(p.numel() for p in model.parameters()) / 1e6 - 42.47) < 0.01


def test_motionbert_checkpoint_loads_strict_and_gives_the_same_representation(tiny, tmp_path):
    # MotionBERT saves {"model_pos": state_dict} from a DataParallel model ("module." prefixes).
    path = tmp_path / "mb.bin"
    torch.save({"model_pos": {f"module.{k}": v for k, v in tiny.state_dict().items()}, "epoch": 3}, path)
    fresh = DSTFormer(**TINY).eval()
    load_motionbert(fresh, path)
    x = torch.randn(2, 12, 17, 3)
    assert torch.equal(fresh.get_representation(x), tiny.get_representation(x))
    # An action checkpoint ("model" with "module.backbone." and a head) loads its backbone part.
    torch.save(
        {
            "model": {
                **{f"module.backbone.{k}": v for k, v in tiny.state_dict().items()},
                "module.head.fc1.weight": torch.zeros(1),
            }
        },
        path,
    )
    load_motionbert(DSTFormer(**TINY), path)


def test_wrong_or_missing_checkpoint_is_a_clear_error(tiny, tmp_path):
    path = tmp_path / "other.bin"
    torch.save({"model_pos": DSTFormer(**{**TINY, "dim_feat": 8}).state_dict()}, path)
    with pytest.raises(InputError, match="not a checkpoint of this DSTFormer configuration.*wrong shape"):
        load_motionbert(tiny, path)
    with pytest.raises(InputError, match="cannot load a MotionBERT checkpoint"):
        load_motionbert(tiny, tmp_path / "absent.bin")
