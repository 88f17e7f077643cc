"""The interface every backbone implements, so the head, AGPM and training treat them alike.

A backbone maps one person-sequence batch (B, T, J, C_in) (B = N·M) to a representation
(B, T', J', C_rep) on its *token grid* (T', J'): frames × joints for DSTFormer and STTFormer,
temporal patches × joints for the vanilla transformer. AGPM masks and joint activations live on
that grid. The learnable mask token is owned by the ``ActionModel`` (so that a foreign backbone
checkpoint loads strictly) and passed in.

A backbone of your own (``backbones.<name>.class: "module:Class"`` in the config, see
``maskclr.registry``) implements this interface; its constructor's keyword arguments are the
entry's other keys. It may define ``load_pretrained(path)``, which loads a published checkpoint
into it (``train.pretrained.<name>``, stage 1): the trainer calls it and knows no checkpoint format
itself (``DSTFormer.load_pretrained`` reads MotionBERT's). Without it, a pretrained checkpoint is
refused.
"""

import torch.nn as nn


class Backbone(nn.Module):
    """Attributes: ``dim_rep`` (C_rep), ``mask_dim`` (size of the embedding a mask replaces) and
    ``frame_step`` (an input's frame count must be a multiple of it: STTFormer's tuple length)."""

    dim_rep: int
    mask_dim: int
    frame_step: int = 1

    def token_grid(self, frames, joints):
        """Shape (T', J') of the token grid for an input of ``frames`` × ``joints``."""
        return frames, joints

    def forward_features(self, x, mask=None, mask_token=None, return_activation=False):
        """x (B, T, J, C_in) → (rep (B, T', J', C_rep), activation (B, T', J') or None).

        mask: bool (B, T', J'), True where the token is replaced by ``mask_token`` (mask_dim,)
        right after the embedding and before positional encodings are added.
        activation: the per-token joint activation of docs/method.md §4.1 (total attention the token
        receives in the layer AGPM reads, heads averaged), detached; only when asked for.
        """
        raise NotImplementedError
