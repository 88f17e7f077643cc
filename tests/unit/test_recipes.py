"""Recipes (maskclr.train.settings.Schedule): the optimizer (AdamW, SGD), layer-wise lr decay,
label smoothing of the training cross-entropy, and the head and joint count the model is built with."""

import math
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from maskclr.errors import InputError
from maskclr.models import ModelOutput
from maskclr.models.head import ActionHead, STTFormerHead
from maskclr.train.build import build_model, build_optimiser
from maskclr.train.loop import Pathways, step_losses
from maskclr.train.settings import CROSS_ENTROPY, Method

sys.path.insert(0, str(Path(__file__).parent))
from step_fixture import tiny_model  # noqa: E402
from test_schedule import make  # noqa: E402

SIZES = {
    "transformer": {"dim": 8, "depth": 2, "num_heads": 2, "maxlen": 8, "t_patch": 2},
    "sttformer": {"num_frames": 6, "len_parts": 3, "config": ((8, 8, 4), (8, 16, 4))},
}


def arch(backbone, head="mlp", joints=17):
    sizes = {**SIZES[backbone], "num_joints": joints}
    return {
        "backbone": backbone,
        "sizes": sizes,
        "num_classes": 3,
        "persons": 2,
        "num_joints": joints,
        "head": head,
        "head_hidden": 16,
        "head_dropout": 0.0,
    }


def model_of(backbone, head="mlp", joints=17):
    torch.manual_seed(0)
    return build_model(arch(backbone, head, joints))


def lr_by_name(model, optimiser):
    names = {id(p): name for name, p in model.named_parameters()}
    return {names[id(p)]: group["lr"] for group in optimiser.param_groups for p in group["params"]}


def test_adamw_without_layer_decay_is_two_groups_as_before():
    model = model_of("transformer")
    optimiser, _ = build_optimiser(model, make(weight_decay=0.01), "transformer")
    assert type(optimiser) is torch.optim.AdamW
    assert [g["lr"] for g in optimiser.param_groups] == [1e-4, 1e-3]
    assert [g["weight_decay"] for g in optimiser.param_groups] == [0.01, 0.01]
    assert {id(p) for p in optimiser.param_groups[1]["params"]} == {id(p) for p in model.head.parameters()}


def test_sgd_has_its_momentum_nesterov_and_weight_decay_in_both_groups():
    model = model_of("sttformer", head="linear")
    schedule = make(optimizer="sgd", momentum=0.9, nesterov=True, weight_decay=4e-4, lr_backbone=0.1, lr_head=0.1)
    optimiser, scheduler = build_optimiser(model, replace(schedule, lr_schedule="step", milestones=(1,)), "sttformer")
    assert type(optimiser) is torch.optim.SGD and len(optimiser.param_groups) == 2
    for group in optimiser.param_groups:
        assert (group["momentum"], group["nesterov"], group["weight_decay"], group["lr"]) == (0.9, True, 4e-4, 0.1)
    optimiser.step()  # (no gradients: nothing moves)
    scheduler.step()  # epoch 1: the milestone
    assert [g["lr"] for g in optimiser.param_groups] == pytest.approx([0.01, 0.01])


def test_layer_decay_gives_each_depth_its_lr_from_lr_backbone_and_the_head_lr_head():
    # depth 2, decay 0.5: final norm and mask token 1e-4, block 1 5e-5, block 0 2.5e-5, embeddings 1.25e-5.
    model = model_of("transformer")
    schedule = make(layer_decay=0.5, lr_schedule="exponential", lr_decay=0.5, warmup_epochs=0)
    optimiser, scheduler = build_optimiser(model, schedule, "transformer")
    lrs = lr_by_name(model, optimiser)
    expected = {
        "backbone.patch_embed.weight": 1.25e-5,
        "backbone.pos_embed": 1.25e-5,
        "backbone.blocks.0.attn.qkv.weight": 2.5e-5,
        "backbone.blocks.1.norm1.bias": 5e-5,
        "backbone.norm.weight": 1e-4,
        "mask_token": 1e-4,
        "head.fc1.weight": 1e-3,
        "head.bn.bias": 1e-3,
    }
    assert {k: lrs[k] for k in expected} == pytest.approx(expected)
    decays = {n: g["weight_decay"] for g in optimiser.param_groups for n in g["names"]}
    assert decays["head.fc1.weight"] == 0.01 and decays["head.fc1.bias"] == 0.0  # 1-D: none, as MAMP
    x = torch.randn(2, 2, 8, 17, 3)
    step_losses(Pathways(model, CROSS_ENTROPY), CROSS_ENTROPY, x, torch.tensor([0, 1]))[0].backward()
    optimiser.step()
    scheduler.step()  # LambdaLR scales each group's own initial lr: the depth's scale is kept
    assert {k: lr_by_name(model, optimiser)[k] for k in expected} == pytest.approx(
        {k: v / 2 for k, v in expected.items()}
    )


@pytest.mark.parametrize("backbone, model", [("sttformer", lambda: model_of("sttformer")), ("dstformer", tiny_model)])
def test_layer_decay_is_refused_for_a_backbone_without_layers(backbone, model):
    with pytest.raises(InputError, match=f"key 'layer_decay': 0.8 .* backbone '{backbone}'"):
        build_optimiser(model(), make(layer_decay=0.8), backbone)


class FixedLogits(nn.Module):
    """Both pathways' logits given: step_losses's cross-entropy terms on known numbers."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, x):
        out = ModelOutput(self.logits, self.logits, None)
        return out, out


def test_label_smoothing_is_in_both_training_cross_entropy_terms():
    # logits (2, 0, 0), label 0, ε = 0.3: −log p = (log(e² + 2) − 2, log(e² + 2), log(e² + 2));
    # smoothed CE = (1 − ε)·(−log p₀) + ε/3·Σ_k −log p_k = log(e² + 2) − 2 + 0.3 · 4/3.
    logits, y = torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([0])
    method = Method(
        masking="random",
        level="token",
        mask_ratio=0.5,
        tau_prop=1,
        tau_sim=1,
        alpha=0.9,
        beta=0.1,
        gamma=0,
        delta=0,
        bn_running_stats="standard",
    )
    loss, terms, _ = step_losses(FixedLogits(logits), method, None, y, label_smoothing=0.3)
    by_hand = math.log(math.e**2 + 2) - 2 + 0.4
    assert float(terms["ce_s"]) == pytest.approx(by_hand) and float(terms["ce_m"]) == pytest.approx(by_hand)
    assert float(terms["ce_s"]) == pytest.approx(float(nn.functional.cross_entropy(logits, y, label_smoothing=0.3)))
    assert float(loss) == pytest.approx(by_hand)  # 0.9 + 0.1 of the same term
    _, plain, _ = step_losses(FixedLogits(logits), method, None, y)
    assert float(plain["ce_s"]) == pytest.approx(math.log(math.e**2 + 2) - 2)  # 0: off


def test_the_linear_head_is_sttformers_and_trains_a_step():
    model = model_of("sttformer", head="linear", joints=25)
    assert isinstance(model.head, STTFormerHead) and model.head.fc.in_features == 16
    optimiser, _ = build_optimiser(model, make(optimizer="sgd", momentum=0.9, nesterov=True), "sttformer")
    before = model.head.fc.weight.detach().clone()
    x, y = torch.randn(4, 2, 6, 25, 3), torch.tensor([0, 1, 2, 0])
    loss, terms, logits = step_losses(Pathways(model, CROSS_ENTROPY), CROSS_ENTROPY, x, y, label_smoothing=0.1)
    loss.backward()
    optimiser.step()
    assert logits.shape == (4, 3) and torch.isfinite(loss)
    assert not torch.equal(before, model.head.fc.weight)


def test_the_mlp_head_is_built_for_the_datas_joint_count():
    model = model_of("transformer", joints=25)
    assert isinstance(model.head, ActionHead) and model.head.fc1.in_features == 8 * 25
    assert model(torch.randn(2, 2, 8, 25, 3)).logits.shape == (2, 3)


def test_an_unknown_head_in_an_architecture_record_is_named():
    with pytest.raises(InputError, match="unknown head 'mlp2'"):
        build_model(arch("transformer", head="mlp2"))
