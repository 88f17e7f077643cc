"""A MAMP checkpoint (names and shapes of MAMP's model code, github.com/maoyunyao/MAMP) loads strictly."""

import argparse

import pytest
import torch

from maskclr.errors import InputError
from maskclr.models.head import ActionHead
from maskclr.models.mamp_checkpoint import adapt_mamp_state, load_mamp_backbone
from maskclr.models.transformer import Transformer
from maskclr.train.build import load_pretrained

# MAMP's NTU-60 configs: dim_feat 256, depth 8 (+5 decoder blocks), 8 heads, mlp_ratio 4,
# num_frames 120, num_joints 25, t_patch_size 4, 3 input channels.
DIM, DEPTH, DECODER, FRAMES, JOINTS, T_PATCH = 256, 8, 5, 120, 25, 4


def block(prefix):
    """MAMP's Block: norm1, attn.qkv (bias on), attn.proj, norm2, mlp.fc1, mlp.fc2."""
    return {
        f"{prefix}.norm1.weight": (DIM,),
        f"{prefix}.norm1.bias": (DIM,),
        f"{prefix}.attn.qkv.weight": (3 * DIM, DIM),
        f"{prefix}.attn.qkv.bias": (3 * DIM,),
        f"{prefix}.attn.proj.weight": (DIM, DIM),
        f"{prefix}.attn.proj.bias": (DIM,),
        f"{prefix}.norm2.weight": (DIM,),
        f"{prefix}.norm2.bias": (DIM,),
        f"{prefix}.mlp.fc1.weight": (4 * DIM, DIM),
        f"{prefix}.mlp.fc1.bias": (4 * DIM,),
        f"{prefix}.mlp.fc2.weight": (DIM, 4 * DIM),
        f"{prefix}.mlp.fc2.bias": (DIM,),
    }


def mamp_shapes(pretrained=True, classes=60):
    """Parameter names → shapes of MAMP's model_mamp Transformer (pretrained) or model Transformer (fine-tuned)."""
    shapes = {
        "joints_embed.proj.weight": (DIM, 3, T_PATCH, 1),
        "joints_embed.proj.bias": (DIM,),
        "temp_embed": (1, FRAMES // T_PATCH, 1, DIM),
        "pos_embed": (1, 1, JOINTS, DIM),
        "norm.weight": (DIM,),
        "norm.bias": (DIM,),
    }
    for i in range(DEPTH):
        shapes.update(block(f"blocks.{i}"))
    if pretrained:
        shapes.update(
            {
                "decoder_embed.weight": (DIM, DIM),
                "decoder_embed.bias": (DIM,),
                "mask_token": (1, 1, DIM),
                "decoder_norm.weight": (DIM,),
                "decoder_norm.bias": (DIM,),
                "decoder_temp_embed": (1, FRAMES // T_PATCH, 1, DIM),
                "decoder_pos_embed": (1, 1, JOINTS, DIM),
                "decoder_pred.weight": (T_PATCH * 3, DIM),
                "decoder_pred.bias": (T_PATCH * 3,),
            }
        )
        for i in range(DECODER):
            shapes.update(block(f"decoder_blocks.{i}"))
    else:  # ActionHeadFinetune
        shapes.update(
            {
                "head.fc1.weight": (2048, DIM * JOINTS),
                "head.fc1.bias": (2048,),
                "head.bn.weight": (2048,),
                "head.bn.bias": (2048,),
                "head.bn.running_mean": (2048,),
                "head.bn.running_var": (2048,),
                "head.bn.num_batches_tracked": (),
                "head.fc2.weight": (classes, 2048),
                "head.fc2.bias": (classes,),
            }
        )
    return shapes


def synthetic_checkpoint(shapes):
    generator = torch.Generator().manual_seed(0)
    model = {k: torch.randn(s, generator=generator) if s else torch.tensor(7) for k, s in shapes.items()}
    return {"model": model, "epoch": 399, "args": argparse.Namespace(mask_ratio=0.9, output_dir="out")}


def paper_transformer(**sizes):
    return Transformer(**{"dim": DIM, "depth": DEPTH, "num_heads": 8, "num_joints": JOINTS, "maxlen": FRAMES, **sizes})


@pytest.fixture(scope="module")
def pretrained_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("mamp") / "checkpoint-399.pth"
    checkpoint = synthetic_checkpoint(mamp_shapes())
    torch.save(checkpoint, path)
    return path, checkpoint["model"]


def test_released_pretraining_checkpoint_loads_strictly_at_paper_size(pretrained_file):
    path, weights = pretrained_file
    model = paper_transformer()
    head, dropped = load_mamp_backbone(model, path)
    assert head == {}
    assert dropped == sorted(k for k in weights if k.startswith("decoder_") or k == "mask_token")
    state = model.state_dict()
    assert torch.equal(state["patch_embed.weight"], weights["joints_embed.proj.weight"])
    for name in ("temp_embed", "pos_embed", "blocks.7.mlp.fc2.weight", "blocks.0.attn.qkv.bias", "norm.bias"):
        assert torch.equal(state[name], weights[name]), name


def test_the_trainer_starts_a_transformer_from_a_released_mamp_checkpoint(pretrained_file):
    """train.pretrained.transformer: the trainer calls the backbone's own adapter, MAMP's."""
    path, weights = pretrained_file
    model = paper_transformer()
    load_pretrained(model, path, "transformer")
    assert torch.equal(model.state_dict()["blocks.7.mlp.fc2.weight"], weights["blocks.7.mlp.fc2.weight"])


def test_fine_tuned_checkpoint_head_loads_into_our_action_head():
    checkpoint = synthetic_checkpoint(mamp_shapes(pretrained=False))
    backbone, head, dropped = adapt_mamp_state(checkpoint)
    assert dropped == []
    paper_transformer().load_state_dict(backbone, strict=True)
    ActionHead(DIM, JOINTS, 60, hidden=2048).load_state_dict(head, strict=True)


def test_wrong_sizes_are_named(pretrained_file):
    path, _ = pretrained_file
    # Our 2D pipeline's 17 joints and 243 frames do not fit the released NTU-25 / 120-frame weights.
    with pytest.raises(InputError, match=r"checkpoint-399\.pth: .*wrong shape: pos_embed, temp_embed"):
        load_mamp_backbone(paper_transformer(num_joints=17, maxlen=243), path)
