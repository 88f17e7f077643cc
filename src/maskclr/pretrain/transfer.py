"""Pretrain → fine-tune: a pretrainer's encoder weights into an ``ActionModel``'s backbone.

Every encoder weight must load (strictly: no name missing, none left over, every shape equal);
the decoder is dropped; what the ``ActionModel`` then still lacks must be its head (and its mask
token when the method trained none), and is reported.
"""

import torch

from maskclr.errors import InputError
from maskclr.models.loading import load_strict, read_checkpoint

ENCODER, DECODER = "encoder.", "decoder."


def read_pretrained(path):
    """The pretrainer state_dict in a checkpoint written by ``python -m maskclr.pretrain``."""
    checkpoint = read_checkpoint(path, "maskclr.pretrain")
    if not isinstance(checkpoint.get("model"), dict):
        raise InputError(
            f"{path}: key 'model': missing or not a state dict: not a checkpoint written by maskclr.pretrain"
        )
    return checkpoint["model"]


def load_pretrained(model, state, path):
    """Load a pretrainer's ``state`` (its state_dict) into ``model`` (an ``ActionModel``).

    Returns the sorted names of ``model``'s parameters and buffers that stay new (the head's, and
    ``mask_token`` when ``state`` has none). ``path`` names the checkpoint in errors.
    """
    other = [k for k in state if not k.startswith((ENCODER, DECODER)) and k != "mask_token"]
    if other:
        raise InputError(
            f"{path}: unexpected key '{other[0]}': a maskclr.pretrain checkpoint holds encoder.*, decoder.*, mask_token"
        )
    encoder = {k.removeprefix(ENCODER): v for k, v in state.items() if k.startswith(ENCODER)}
    if not encoder:
        raise InputError(f"{path}: no '{ENCODER}*' weights: not a checkpoint written by maskclr.pretrain")
    load_strict(model.backbone, encoder, path, f"the {type(model.backbone).__name__} backbone")
    loaded = {f"backbone.{k}" for k in encoder}
    if "mask_token" in state:
        _load_mask_token(model, state["mask_token"], path)
        loaded.add("mask_token")
    new = sorted(set(model.state_dict()) - loaded)
    stray = [k for k in new if not (k.startswith("head.") or k == "mask_token")]
    if stray:
        raise InputError(f"{path}: '{stray[0]}' is neither pretrained nor part of the head")
    return new


def _load_mask_token(model, token, path):
    if not isinstance(token, torch.Tensor) or token.shape != model.mask_token.shape:
        found = tuple(token.shape) if isinstance(token, torch.Tensor) else type(token).__name__
        raise InputError(f"{path}: key 'mask_token': expected shape {tuple(model.mask_token.shape)}, got {found}")
    with torch.no_grad():
        model.mask_token.copy_(token)
