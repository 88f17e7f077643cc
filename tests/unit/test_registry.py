"""Classes named "module:Class" (maskclr.registry): a user's backbone and estimator, and the errors
that name what is wrong."""

import pytest
import torch

from conftest import REPO
from maskclr.errors import InputError
from maskclr.models import build_backbone
from maskclr.poses.base import build_estimator
from maskclr.poses.extract import ESTIMATORS
from maskclr.poses.simulated import SimulatedEstimator
from maskclr.train.build import build_model

USER_MODULES = REPO / "tests" / "user_modules"


def test_a_user_backbone_builds_from_its_class(monkeypatch):
    monkeypatch.syspath_prepend(str(USER_MODULES))
    arch = {"backbone": "tokens", "class": "my_backbones:TokenMLP", "sizes": {"dim": 4}, "num_classes": 3}
    model = build_model({**arch, "num_joints": 17, "head": "mlp", "head_hidden": 8, "head_dropout": 0.5})
    assert type(model.backbone).__name__ == "TokenMLP" and model.backbone.dim_rep == 4
    assert model(torch.randn(2, 1, 5, 17, 3)).logits.shape == (2, 3)


def test_a_builtin_class_under_another_name():
    backbone = build_backbone("small", "maskclr.models.transformer:Transformer", dim=8, depth=1, num_heads=2)
    assert type(backbone).__name__ == "Transformer"


@pytest.mark.parametrize(
    "name, spec, message",
    [
        ("resnet", None, "unknown backbone 'resnet'"),
        ("mine", "nowhere_at_all:Net", "backbone 'mine': cannot import module 'nowhere_at_all'"),
        ("mine", "maskclr.models.transformer:Transformr", "module 'maskclr.models.transformer' has no class"),
        ("mine", "maskclr.models.transformer", "expected 'module:Class'"),
        ("mine", "maskclr.models:build_backbone", "is a function, not a class"),
    ],
)
def test_bad_backbone_classes_are_named(name, spec, message):
    with pytest.raises(InputError, match=message):
        build_backbone(name, spec)


def test_an_estimator_by_its_class():
    estimator = build_estimator({"type": "maskclr.poses.simulated:SimulatedEstimator", "noise_px": 1.0}, ESTIMATORS)
    assert isinstance(estimator, SimulatedEstimator)
    with pytest.raises(InputError, match="expected one of .* or 'module:Class', got 'vit pose'"):
        build_estimator({"type": "vit pose"}, ESTIMATORS)
    with pytest.raises(InputError, match="cannot import module 'my_poses'"):
        build_estimator({"type": "my_poses:Net"}, ESTIMATORS)
