"""Loading foreign checkpoints strictly: no pickled code, every name and shape checked.

Shared by the action backbones (MotionBERT's DSTFormer) and the pose networks (mmpose's ViTPose
and HRNet): a checkpoint either matches the model exactly or the error names the file and the
first missing, unexpected and wrongly shaped parameters.
"""

import torch

from maskclr.errors import InputError


def read_checkpoint(path, what):
    """``torch.load`` with ``weights_only=True`` (tensors and containers only)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError) as err:
        raise InputError(f"{path}: cannot load a {what} checkpoint: {err}") from err


def load_strict(model, state, path, what):
    """Load ``state`` into ``model`` strictly; a mismatch is an ``InputError`` naming ``path``."""
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        detail = "; ".join(f"{label}: {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
                           for label, keys in (("missing", missing), ("unexpected", unexpected),
                                               ("wrong shape", wrong)) if keys)
        raise InputError(f"{path}: not a checkpoint of {what} ({detail})")
    model.load_state_dict(state, strict=True)
    return model
