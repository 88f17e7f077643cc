"""Backbones, the action head and the ``ActionModel`` that joins them with the mask token."""

from dataclasses import dataclass

import torch
import torch.nn as nn

from maskclr.errors import InputError
from maskclr.models.head import HEADS
from maskclr.registry import import_class

# name → "module:Class": each architecture stays in its own module, imported when used. A config
# entry backbones.<name> with a ``class`` key adds one without editing this (maskclr.registry).
BACKBONES = {
    "dstformer": "maskclr.models.dstformer:DSTFormer",
    "sttformer": "maskclr.models.sttformer:STTFormer",
    "transformer": "maskclr.models.transformer:Transformer",
}


def build_backbone(name, spec=None, **sizes):
    """The backbone ``name`` built with ``sizes``: the class ``spec`` ("module:Class") names, or
    for a built-in name (dstformer, sttformer, transformer) without one, its own class."""
    if spec is None and name not in BACKBONES:
        raise InputError(
            f"unknown backbone '{name}' (known: {', '.join(sorted(BACKBONES))}; "
            "or name your own class: backbones.<name>.class 'module:Class')"
        )
    cls = import_class(spec or BACKBONES[name], f"backbone '{name}'")
    try:
        return cls(**sizes)
    except TypeError as err:
        raise InputError(f"backbone '{name}': bad size arguments: {err}") from err


@dataclass
class ModelOutput:
    logits: torch.Tensor  # (N, classes)
    hidden: torch.Tensor  # (N, hidden): h, the contrasted feature
    activation: torch.Tensor | None  # (N·M, T', J'), detached, when asked for


class ActionModel(nn.Module):
    """Backbone + action head + the learnable mask token of the masked pathway.

    x (N, M, T, J, C) → ModelOutput. ``mask`` (N·M, T', J') selects the masked pathway.
    ``head``: a name in ``maskclr.models.head.HEADS`` ("mlp": MotionBERT's, "linear": STTFormer's);
    ``num_joints``: J of the input (17 on the 2D path, 25 on the native 3D path).
    """

    def __init__(self, backbone, num_classes, num_joints=17, hidden=2048, dropout=0.5, head="mlp"):
        super().__init__()
        if head not in HEADS:
            raise InputError(f"unknown head '{head}' (known: {', '.join(sorted(HEADS))})")
        self.backbone = backbone
        self.head = HEADS[head](backbone.dim_rep, num_joints, num_classes, hidden, dropout)
        self.mask_token = nn.Parameter(torch.zeros(backbone.mask_dim))
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(self, x, mask=None, return_activation=False):
        n, m = x.shape[:2]
        rep, activation = self.backbone.forward_features(
            x.flatten(0, 1), mask=mask, mask_token=self.mask_token, return_activation=return_activation
        )
        logits, hidden = self.head(rep.view(n, m, *rep.shape[1:]))
        return ModelOutput(logits, hidden, activation)
