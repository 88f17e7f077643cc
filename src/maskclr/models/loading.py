"""Loading foreign checkpoints strictly: no pickled code, every name and shape checked.

Shared by the action backbones (MotionBERT's DSTFormer) and the pose networks (mmpose's ViTPose
and HRNet): a checkpoint either matches the model exactly or the error names the file and the
first missing, unexpected and wrongly shaped parameters.
"""

import pickle
import re

import torch

from maskclr.errors import InputError
from maskclr.fileio import MAX_NESTING, brief


def read_checkpoint(path, what):
    """``torch.load`` with ``weights_only=True`` (tensors and containers only) of a dict whose
    tensors and numbers are all finite: NaN weights would train on NaN losses or predict nan %."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # weights_only refused a global (pickled code)
        found = re.search(r"Unsupported global: (?:GLOBAL )?(\S+)", str(err))
        raise InputError(
            f"{path}: refusing a {what} checkpoint that holds pickled code or objects "
            f"({found.group(1) if found else 'not tensors and containers'}); only weights are loaded"
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError) as err:
        raise InputError(f"{path}: cannot load a {what} checkpoint: {brief(str(err), 300)}") from err
    if not isinstance(state, dict):
        raise InputError(f"{path}: expected a {what} checkpoint (a dict of tensors), got {type(state).__name__}")
    key = _non_finite(state)
    if key is not None:
        raise InputError(f"{path}: key {key!r}: contains NaN or infinite values: refusing a {what} checkpoint")
    return state


def _non_finite(value, key="", depth=0):
    """The key path of the first non-finite tensor or float in nested dicts/lists, else None."""
    if depth > MAX_NESTING:
        return f"{key} (nested deeper than {MAX_NESTING})"
    if isinstance(value, torch.Tensor):
        finite = not value.is_floating_point() and not value.is_complex() or bool(torch.isfinite(value).all())
        return None if finite else key
    if isinstance(value, float):
        return None if value == value and abs(value) != float("inf") else key
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    return next(
        (bad for k, v in items if (bad := _non_finite(v, f"{key}.{k}".lstrip("."), depth + 1)) is not None), None
    )


def load_strict(model, state, path, what):
    """Load ``state`` into ``model`` strictly; a mismatch is an ``InputError`` naming ``path``."""
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    wrong = sorted(
        k
        for k in set(state) & set(expected)
        if not isinstance(state[k], torch.Tensor) or state[k].shape != expected[k].shape
    )
    if missing or unexpected or wrong:
        detail = "; ".join(
            f"{label}: {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if keys
        )
        raise InputError(f"{path}: not a checkpoint of {what} ({detail})")
    model.load_state_dict(state, strict=True)
    return model
