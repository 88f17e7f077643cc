"""DSTFormer, the MotionBERT backbone (docs/method.md §3.1), with MotionBERT's parameter names.

Every parameter name and shape equals MotionBERT's ``DSTformer`` (``lib/model/DSTformer.py``),
so a MotionBERT checkpoint loads with ``strict=True`` (see ``load_motionbert``); ``head`` is
MotionBERT's 3D-regression head, unused for actions but kept for that reason. Differences that
change no result: attention runs through fused SDPA, drop-path is absent (0 in every action
config), and only the last ST block's spatial attention materialises its probabilities, and
only when AGPM asks for the joint activation.
"""

from collections import OrderedDict

import torch
import torch.nn as nn

from maskclr.errors import InputError
from maskclr.models.base import Backbone
from maskclr.models.layers import MLP, Attention
from maskclr.models.loading import load_strict, read_checkpoint


class Block(nn.Module):
    """Four pre-LN residual sub-layers on (B, T, J, C): spatial MHSA and MLP, temporal MHSA and
    MLP, in the order given by ``spatial_first`` (ST branch) or reversed (TS branch)."""

    def __init__(self, dim, num_heads, mlp_ratio, spatial_first):
        super().__init__()
        self.spatial_first = spatial_first
        self.norm1_s, self.norm1_t = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attn_s, self.attn_t = Attention(dim, num_heads), Attention(dim, num_heads)
        self.norm2_s, self.norm2_t = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp_s, self.mlp_t = MLP(dim, hidden), MLP(dim, hidden)

    def _spatial(self, x, return_probs):
        out, probs = self.attn_s(self.norm1_s(x), return_probs)
        x = x + out
        return x + self.mlp_s(self.norm2_s(x)), probs

    def _temporal(self, x):
        out, _ = self.attn_t(self.norm1_t(x).transpose(1, 2))  # attend over frames
        x = x + out.transpose(1, 2)
        return x + self.mlp_t(self.norm2_t(x))

    def forward(self, x, return_probs=False):
        """x (B, T, J, C) → (x, spatial attention probs (B, T, H, J, J) or None)."""
        if self.spatial_first:
            x, probs = self._spatial(x, return_probs)
            return self._temporal(x), probs
        x, probs = self._spatial(self._temporal(x), return_probs)
        return x, probs


class DSTFormer(Backbone):
    """Dual-stream spatio-temporal transformer. x (B, T, J, dim_in) → rep (B, T, J, dim_rep)."""

    def __init__(
        self,
        dim_in=3,
        dim_out=3,
        dim_feat=512,
        dim_rep=512,
        depth=5,
        num_heads=8,
        mlp_ratio=2,
        num_joints=17,
        maxlen=243,
        embed_init_std=0.02,
    ):
        """``embed_init_std``: std of the initial ``joints_embed`` weights. MotionBERT's 0.02 (the
        default) makes the embedded coordinates about as small as the positional embeddings, so a
        model trained from scratch first sits on a plateau near chance; a larger value (the demo
        uses 0.5) shortens it without changing the architecture or any parameter name."""
        super().__init__()
        self.embed_init_std = embed_init_std
        self.dim_rep, self.mask_dim = dim_rep, dim_feat
        self.joints_embed = nn.Linear(dim_in, dim_feat)
        self.blocks_st = nn.ModuleList(Block(dim_feat, num_heads, mlp_ratio, True) for _ in range(depth))
        self.blocks_ts = nn.ModuleList(Block(dim_feat, num_heads, mlp_ratio, False) for _ in range(depth))
        self.norm = nn.LayerNorm(dim_feat, eps=1e-6)
        self.pre_logits = nn.Sequential(OrderedDict([("fc", nn.Linear(dim_feat, dim_rep)), ("act", nn.Tanh())]))
        self.head = nn.Linear(dim_rep, dim_out)
        self.temp_embed = nn.Parameter(torch.zeros(1, maxlen, 1, dim_feat))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_joints, dim_feat))
        self.ts_attn = nn.ModuleList(nn.Linear(dim_feat * 2, 2) for _ in range(depth))
        self._init_weights()

    def _init_weights(self):
        nn.init.trunc_normal_(self.temp_embed, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                # One draw per layer in module order, as MotionBERT: with the default 0.02 the
                # initial weights are MotionBERT's exactly (trunc_normal_'s bounds are ±2 absolute).
                std = self.embed_init_std if module is self.joints_embed else 0.02
                nn.init.trunc_normal_(module.weight, std=std)
                nn.init.zeros_(module.bias)
        for fuse in self.ts_attn:  # both branches weighted equally at first
            nn.init.zeros_(fuse.weight)
            nn.init.constant_(fuse.bias, 0.5)

    def forward_features(self, x, mask=None, mask_token=None, return_activation=False):
        frames = x.shape[1]
        x = self.joints_embed(x)
        if mask is not None:
            x = torch.where(mask[..., None], mask_token.to(x.dtype), x)
        x = x + self.pos_embed[:, None] + self.temp_embed[:, :frames]
        probs = None
        for depth, (block_st, block_ts, fuse) in enumerate(zip(self.blocks_st, self.blocks_ts, self.ts_attn)):
            last = return_activation and depth == len(self.blocks_st) - 1
            x_st, probs = block_st(x, return_probs=last)
            x_ts, _ = block_ts(x)
            alpha = fuse(torch.cat([x_st, x_ts], dim=-1)).softmax(dim=-1)
            x = x_st * alpha[..., 0:1] + x_ts * alpha[..., 1:2]
        rep = self.pre_logits(self.norm(x))
        # Activation: total attention each joint receives in its frame, heads averaged (§4.1).
        activation = probs.mean(dim=2).sum(dim=-2).detach() if return_activation else None
        return rep, activation

    def get_representation(self, x):
        """x (B, T, J, dim_in) → (B, T, J, dim_rep), as MotionBERT's ``get_representation``."""
        return self.forward_features(x)[0]

    def forward(self, x):
        """MotionBERT's pose-regression output (B, T, J, dim_out)."""
        return self.head(self.get_representation(x))

    def load_pretrained(self, path):
        """The backbone's checkpoint adapter (``maskclr.models.base``): a MotionBERT checkpoint."""
        load_motionbert(self, path)


def motionbert_state_dict(checkpoint, path):
    """Adapt a MotionBERT checkpoint to ``DSTFormer`` names: pick ``model_pos`` or ``model``,
    strip DataParallel's ``module.`` and an action model's ``backbone.`` prefix."""
    state = checkpoint
    for key in ("model_pos", "model"):
        if isinstance(checkpoint, dict) and key in checkpoint:
            state = checkpoint[key]
            break
    if not isinstance(state, dict):
        raise InputError(f"{path}: expected a state dict (or a dict with 'model_pos'/'model')")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    if any(k.startswith("backbone.") for k in state):
        state = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    return state


def load_motionbert(model, path):
    """Load a MotionBERT checkpoint into ``model`` strictly, with a clear error on mismatch."""
    state = motionbert_state_dict(read_checkpoint(path, "MotionBERT"), path)
    load_strict(model, state, path, "this DSTFormer configuration")
