"""Layer-wise lr decay for the Transformer (MAMP's fine-tuning recipe, docs/method.md §3.3)."""

import pytest
import torch

from maskclr.models import ActionModel
from maskclr.models.layer_decay import layer_decay_groups
from maskclr.models.transformer import Transformer


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return ActionModel(Transformer(dim=8, depth=2, num_heads=2, maxlen=8), num_classes=3, hidden=4)


def per_parameter(groups):
    return {name: (g["lr"], g["weight_decay"]) for g in groups for name in g["names"]}


def test_exact_lr_per_block(model):
    # depth 2, decay 0.5, lr 1: final norm and head 1, block 1 0.5, block 0 0.25, embeddings 0.125.
    got = per_parameter(layer_decay_groups(model, lr=1.0, decay=0.5, weight_decay=0.05))
    assert set(got) == {name for name, _ in model.named_parameters()}
    expected = {
        "backbone.patch_embed.weight": (0.125, 0.05),
        "backbone.patch_embed.bias": (0.125, 0.0),
        "backbone.temp_embed": (0.125, 0.05),
        "backbone.pos_embed": (0.125, 0.05),
        "backbone.blocks.0.attn.qkv.weight": (0.25, 0.05),
        "backbone.blocks.0.norm1.bias": (0.25, 0.0),
        "backbone.blocks.1.mlp.fc2.weight": (0.5, 0.05),
        "backbone.blocks.1.norm2.weight": (0.5, 0.0),
        "backbone.norm.weight": (1.0, 0.0),
        "head.fc1.weight": (1.0, 0.05),
        "head.bn.bias": (1.0, 0.0),
        "mask_token": (1.0, 0.0),
    }
    assert {k: got[k] for k in expected} == expected  # powers of 2: exact
    block_lrs = {name: lr for name, (lr, _) in got.items() if ".blocks." in name}
    assert all(lr == (0.25 if ".blocks.0." in name else 0.5) for name, lr in block_lrs.items())


def test_paper_decay_at_depth_8_and_groups_drive_adamw():
    paper = Transformer(dim=8, depth=8, num_heads=2, maxlen=8)
    groups = layer_decay_groups(ActionModel(paper, 3, hidden=4), lr=5e-4, decay=0.8)
    got = per_parameter(groups)
    assert got["backbone.patch_embed.weight"][0] == pytest.approx(5e-4 * 0.8**9)
    assert got["backbone.blocks.7.attn.proj.weight"][0] == pytest.approx(5e-4 * 0.8)
    # AdamW's first step moves every weight with a gradient by its group's lr (m̂ / √v̂ = ±1; no
    # weight decay here): the groups reach the optimiser with their own rates.
    torch.manual_seed(0)
    fresh = ActionModel(Transformer(dim=8, depth=2, num_heads=2, maxlen=8), num_classes=3, hidden=4)
    groups = layer_decay_groups(fresh, lr=1e-3, decay=0.5, weight_decay=0.0)
    before = {name: p.detach().clone() for name, p in fresh.named_parameters()}
    fresh(torch.randn(2, 2, 8, 17, 3)).logits.sum().backward()
    torch.optim.AdamW(groups).step()
    moved = {name: float((p.detach() - before[name]).abs().max()) for name, p in fresh.named_parameters()}
    assert moved["backbone.patch_embed.weight"] == pytest.approx(1e-3 * 0.5**3, rel=1e-3)
    assert moved["backbone.blocks.0.attn.qkv.weight"] == pytest.approx(1e-3 * 0.5**2, rel=1e-3)
    assert moved["backbone.blocks.1.mlp.fc2.weight"] == pytest.approx(1e-3 * 0.5, rel=1e-3)
    assert moved["head.fc2.weight"] == pytest.approx(1e-3, rel=1e-3)
