"""A tiny model, method and batch shared by the DDP step script and its test."""

import dataclasses

import torch

from maskclr.models import ActionModel
from maskclr.models.dstformer import DSTFormer
from maskclr.plan.cost import MASKCLR

# The paper's MaskCLR with mask ratio 0: the step stays deterministic across processes while
# still running both pathways, the global gather and both contrastive losses.
METHOD = dataclasses.replace(MASKCLR, mask_ratio=0.0)


def tiny_model():
    torch.manual_seed(0)
    backbone = DSTFormer(dim_feat=8, dim_rep=8, depth=1, num_heads=2, mlp_ratio=2, maxlen=8)
    return ActionModel(backbone, num_classes=3, hidden=16, dropout=0.0)


def batch():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(8, 2, 8, 17, 3, generator=generator), torch.tensor([0, 1, 2, 0, 1, 1, 2, 0])
