"""STTFormer backbone: spatio-temporal tuples transformer (docs/method.md §3.4).

Frames are grouped into tuples of ``len_parts`` consecutive frames, so a (B, C, T, V) map is
viewed as (B, C, T/n, n·V): T/n tuples of n·V "tuple-joints". Each STA block mixes the
tuple-joints of every tuple with one attention map per sample and head (shared by all tuples),
then mixes neighbouring tuples with a temporal convolution. There is no temporal striding, so
the token grid is the input's frames × joints.
"""

import math

import torch
import torch.nn as nn

from maskclr.models.base import Backbone


def conv_bn(in_channels, out_channels, kernel_size=(1, 1)):
    """Conv2d (same padding for odd kernels) followed by BatchNorm2d."""
    padding = tuple((k - 1) // 2 for k in kernel_size)
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding), nn.BatchNorm2d(out_channels)
    )


def tuple_joint_encoding(channels, positions):
    """Sinusoidal encoding (1, channels, 1, positions) of the tuple-joint index.

    Interleaved sin/cos over frequencies 10000^(-2i/channels), as in "Attention is all you need";
    the singleton axis broadcasts it over tuples, so every tuple gets the same encoding.
    """
    pos = torch.arange(positions, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, channels, 2) * (-math.log(10000.0) / channels))
    pe = torch.stack([torch.sin(pos * freq), torch.cos(pos * freq)], dim=-1).flatten(1)
    return pe[:, :channels].t()[None, :, None, :]


class STABlock(nn.Module):
    """Tuples attention + inter-frame aggregation, (B, C_in, T', P) → (B, C_out, T', P).

    P = n·V tuple-joints. Per head h,
    A_h[i, j] = tanh(Σ_{c,t} q_{c,t,i} k_{c,t,j} / (d·T')) · α_h + A0_h[i, j];
    rows i are queries (output positions), and out_i = Σ_j A_h[i, j] x_j aggregates the block's
    input itself (no value projection). The reference writes the same product with q and k
    swapped (it sums over the q index); since q and k are two halves of one 1×1 conv and A0 is
    learned, that is only a relabelling, and ours keeps "sum over queries = attention received".
    """

    def __init__(self, in_channels, out_channels, qkv_dim, num_tokens, num_heads, kernel_size=(3, 5), use_pes=True):
        super().__init__()
        self.num_heads = num_heads
        self.qkv_dim = qkv_dim
        pes = tuple_joint_encoding(in_channels, num_tokens) if use_pes else None
        self.register_buffer("pes", pes, persistent=False)
        self.to_qk = nn.Conv2d(in_channels, 2 * num_heads * qkv_dim, 1)
        self.alphas = nn.Parameter(torch.ones(1, num_heads, 1, 1))
        # Static part of the map, uniform at start.
        self.attention0s = nn.Parameter(torch.full((1, num_heads, num_tokens, num_tokens), 1.0 / num_tokens))
        self.out_nets = conv_bn(in_channels * num_heads, out_channels, (1, kernel_size[1]))
        self.ff_net = conv_bn(out_channels, out_channels)
        self.out_nett = conv_bn(out_channels, out_channels, (kernel_size[0], 1))
        # The reference keeps separate projections for the spatial and temporal residuals.
        channels_change = in_channels != out_channels
        self.ress = conv_bn(in_channels, out_channels) if channels_change else nn.Identity()
        self.rest = conv_bn(out_channels, out_channels) if channels_change else nn.Identity()
        self.act = nn.LeakyReLU(0.1)

    def attention(self, x):
        """x (B, C, T', P) → A (B, H, P, P), queries along dim 2."""
        b, _, t, p = x.shape
        xs = x + self.pes if self.pes is not None else x
        q, k = self.to_qk(xs).view(b, 2, self.num_heads, self.qkv_dim, t, p).unbind(1)
        scores = torch.einsum("bhcti,bhctj->bhij", q, k) / (self.qkv_dim * t)
        return torch.tanh(scores) * self.alphas + self.attention0s

    def forward(self, x, return_attention=False):
        """x (B, C_in, T', P) → (x (B, C_out, T', P), A (B, H, P, P) or None)."""
        b, c, t, p = x.shape
        att = self.attention(x)
        xs = torch.einsum("bhij,bctj->bhcti", att, x).reshape(b, self.num_heads * c, t, p)
        res = self.ress(x)
        xs = self.act(self.out_nets(xs) + res)
        xs = self.act(self.ff_net(xs) + res)
        xt = self.act(self.out_nett(xs) + self.rest(xs))
        return xt, (att if return_attention else None)


class STTFormer(Backbone):
    """(B, T, V, C_in) → (B, T, V, config[-1][1]); T must be divisible by ``len_parts``.

    ``num_frames`` is the nominal clip length (243 on the 2D pipeline); any T divisible by
    ``len_parts`` runs, since no parameter depends on the number of tuples.
    """

    def __init__(
        self,
        dim_in=3,
        num_joints=17,
        num_frames=243,
        len_parts=3,
        num_heads=3,
        kernel_size=(3, 5),
        config=(
            (64, 64, 16),
            (64, 64, 16),
            (64, 128, 32),
            (128, 128, 32),
            (128, 256, 64),
            (256, 256, 64),
            (256, 256, 64),
            (256, 256, 64),
        ),
        use_pes=True,
    ):
        super().__init__()
        if num_frames % len_parts:
            raise ValueError(f"num_frames {num_frames} is not divisible by len_parts {len_parts}")
        self.len_parts = self.frame_step = len_parts
        self.num_joints = num_joints
        self.dim_rep = config[-1][1]
        self.mask_dim = config[0][0]
        self.input_map = nn.Sequential(
            nn.Conv2d(dim_in, self.mask_dim, 1), nn.BatchNorm2d(self.mask_dim), nn.LeakyReLU(0.1)
        )
        num_tokens = len_parts * num_joints
        self.blocks = nn.ModuleList(
            STABlock(c_in, c_out, qkv_dim, num_tokens, num_heads, kernel_size, use_pes)
            for c_in, c_out, qkv_dim in config
        )
        self.apply(_init_weights)

    def forward_features(self, x, mask=None, mask_token=None, return_activation=False):
        """x (B, T, V, C_in) → (rep (B, T, V, C_rep), activation (B, T, V) or None).

        mask (B, T, V) bool: those entries of the ``input_map`` output become ``mask_token``
        (mask_dim,), before the first block adds its positional encoding. activation: the last
        block's A, heads averaged, negatives clamped to 0 (tanh attention can be negative),
        summed over queries and repeated over the tuples, since A is shared by all of them.
        """
        b, t, v, _ = x.shape
        n = self.len_parts
        if t % n:
            raise ValueError(f"STTFormer needs T divisible by len_parts={n}, got T={t}")
        x = self.input_map(x.permute(0, 3, 1, 2))
        if mask is not None:
            x = torch.where(mask[:, None], mask_token.to(x.dtype)[:, None, None], x)
        # Frame f of tuple u becomes tuple-joint f·V + joint: a plain view of (T, V).
        x = x.reshape(b, -1, t // n, n * v)
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            x, att = block(x, return_attention=return_activation and i == last)
        rep = x.reshape(b, -1, t, v).permute(0, 2, 3, 1)
        if not return_activation:
            return rep, None
        received = att.mean(dim=1).clamp(min=0).sum(dim=1).view(b, 1, n, v)
        return rep, received.expand(b, t // n, n, v).reshape(b, t, v).detach()


def _init_weights(m):
    """Kaiming-normal (fan-out) conv weights and unit BatchNorm, as the reference STTFormer."""
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out")
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
