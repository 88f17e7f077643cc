"""A tiny model, method and batch shared by the DDP step script and its test."""

import torch

from maskclr.models import ActionModel
from maskclr.models.dstformer import DSTFormer
from maskclr.train.settings import Method

# Mask ratio 0 keeps the step deterministic across processes while still running both
# pathways, the global gather and both contrastive losses.
METHOD = Method(
    masking="agpm",
    level="token",
    mask_ratio=0.0,
    tau_prop=0.7,
    tau_sim=0.7,
    alpha=0.9,
    beta=0.1,
    gamma=0.9,
    delta=0.7,
    bn_running_stats="standard",
)


def tiny_model():
    torch.manual_seed(0)
    backbone = DSTFormer(dim_feat=8, dim_rep=8, depth=1, num_heads=2, mlp_ratio=2, maxlen=8)
    return ActionModel(backbone, num_classes=3, hidden=16, dropout=0.0)


def batch():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(8, 2, 8, 17, 3, generator=generator), torch.tensor([0, 1, 2, 0, 1, 1, 2, 0])
