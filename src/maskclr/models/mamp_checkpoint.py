"""MAMP's released checkpoints (github.com/maoyunyao/MAMP) into our ``Transformer``.

MAMP saves ``{'model': state_dict, 'optimizer', 'epoch', 'scaler', 'args'}`` (``util/misc.py
save_model``); ``args`` is an ``argparse.Namespace``, the one non-container object allowed in.
Its encoder (``model/transformer.py`` and ``model_mamp/transformer.py``) names every parameter
as ours except the patch embedding, ``joints_embed.proj.*`` for our ``patch_embed.*``. A
pretraining checkpoint also holds the decoder (``decoder_*`` and its ``mask_token``), dropped
here; a fine-tuned one holds ``head.*``, whose names are our ``ActionHead``'s.
"""

import argparse

import torch

from maskclr.models.loading import load_strict, read_checkpoint

RENAMES = {"joints_embed.proj.": "patch_embed."}
DECODER = ("decoder_", "mask_token")
HEAD = "head."


def adapt_mamp_state(state):
    """MAMP checkpoint (the saved dict or its ``model`` state_dict) → (backbone state, head state, dropped names).

    backbone state: our ``Transformer``'s names; head state: ``head.*`` without the prefix
    (empty for a pretraining checkpoint); dropped: the pretraining decoder's names.
    """
    model = state.get("model", state)
    backbone, head, dropped = {}, {}, []
    for name, value in model.items():
        if name.startswith(DECODER):
            dropped.append(name)
        elif name.startswith(HEAD):
            head[name.removeprefix(HEAD)] = value
        else:
            old = next((o for o in RENAMES if name.startswith(o)), None)
            backbone[RENAMES[old] + name.removeprefix(old) if old else name] = value
    return backbone, head, sorted(dropped)


def load_mamp_backbone(backbone, path):
    """Load MAMP checkpoint ``path`` strictly into ``backbone`` (a ``Transformer`` of the same sizes:
    dim 256, depth 8, 8 heads, mlp_ratio 4, num_joints 25, maxlen 120, t_patch 4 for the
    released NTU models). Returns (head state, dropped names) of ``adapt_mamp_state``."""
    with torch.serialization.safe_globals([argparse.Namespace]):
        state = read_checkpoint(path, "MAMP")
    weights, head, dropped = adapt_mamp_state(state)
    load_strict(backbone, weights, path, "MAMP's Transformer encoder")
    return head, dropped
