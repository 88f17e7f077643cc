"""SkeletonMAE, masked skeleton reconstruction (Wu et al. 2022), for the Transformer and STTFormer.

Tokens are masked uniformly at random and the decoder reconstructs the coordinates of the
masked ones. On the Transformer this is MAMP's MAE baseline (its ``model_mae``: the encoder sees
only the visible tokens, targets normalised per token). STTFormer keeps every token, so the
masked ones become a mask token and a ``TupleDecoder`` predicts each frame's joint coordinates;
SkeletonMAE's own code is unreleased, so the STTFormer decoder sizes are ours **[INF]**.
"""

from maskclr.pretrain.decoder import TokenDecoder, TupleDecoder
from maskclr.pretrain.masking import uniform_mask
from maskclr.pretrain.model import MaskTokenPretrainer, VisibleTokenPretrainer
from maskclr.pretrain.targets import patchify

DEFAULTS = {
    # As MAMP's config/ntu60_xsub_joint/pretrain_mae_t120_layer8+3_mask90.yaml.
    "transformer": {"mask_ratio": 0.9, "decoder_dim": 256, "decoder_depth": 3, "decoder_heads": 8, "norm_target": True},
    # Per-token normalisation of one frame's 3 values would erase the joint's position: off.
    "sttformer": {"mask_ratio": 0.9, "decoder_dim": 64, "decoder_depth": 2, "decoder_heads": 3, "norm_target": False},
}


def build(encoder, mask_ratio, decoder_dim, decoder_depth, decoder_heads, norm_target):
    """SkeletonMAE pretrainer around a ``Transformer`` or ``STTFormer`` encoder."""
    if hasattr(encoder, "t_patch"):  # the Transformer: MAE on visible tokens
        return _visible(encoder, mask_ratio, decoder_dim, decoder_depth, decoder_heads, norm_target)
    decoder = TupleDecoder(
        encoder.dim_rep,
        decoder_dim,
        decoder_depth,
        decoder_heads,
        encoder.len_parts,
        encoder.num_joints,
        encoder.input_map[0].in_channels,
    )

    def masking(x, generator):
        return uniform_mask(x.shape[0], x.shape[1] * x.shape[2], mask_ratio, generator, x.device)

    return MaskTokenPretrainer(encoder, decoder, masking, lambda x: x.flatten(1, 2), norm_target)


def _visible(encoder, mask_ratio, decoder_dim, decoder_depth, decoder_heads, norm_target):
    t_patch = encoder.t_patch
    decoder = TokenDecoder.for_encoder(encoder, decoder_dim, decoder_depth, decoder_heads)

    def masking(x, generator):
        grid = encoder.token_grid(x.shape[1], x.shape[2])
        return uniform_mask(x.shape[0], grid[0] * grid[1], mask_ratio, generator, x.device)

    return VisibleTokenPretrainer(encoder, decoder, masking, lambda x: patchify(x, t_patch), norm_target)
