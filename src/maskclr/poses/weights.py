"""Loading pose-network weights from a local file: sha256 check, key filter, strict load.

No weights are downloaded at run time (the workflow fetches files ahead of time; the config
gives their paths and digests). A network without weights is only built on an explicit
``random_init`` request, which exists for tests.
"""

import contextlib

import torch

from maskclr.errors import InputError
from maskclr.fileio import sha256
from maskclr.models.loading import load_strict, read_checkpoint

RANDOM_INIT_SEED = 0


@contextlib.contextmanager
def fixed_init():
    """Build a network in this block from fixed random weights, leaving the global RNG as it was.

    A ``random_init`` network must be the same in every process: extraction shards run as separate
    jobs and their poses are merged and checked (pyskl's score range [0, 1.5]); unseeded, each run
    built another network whose heatmap maxima now and then exceeded 1.5.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        yield


def check_weights_spec(owner, weights, weights_sha256, random_init):
    """Reject a spec that neither names a weights file nor asks for random weights, or both."""
    if random_init and weights:
        raise InputError(f"{owner}: keys 'weights' and 'random_init': give one, not both")
    if not random_init and not weights:
        raise InputError(
            f"{owner}: key 'weights': a checkpoint path is required "
            "(random_init: true builds an untrained network, for tests only)"
        )
    if weights and not weights_sha256:
        raise InputError(f"{owner}: key 'weights_sha256': required with 'weights' ({weights})")


def verify_sha256(path, expected_sha256):
    """Raise an ``InputError`` naming ``path`` unless its bytes have the expected digest."""
    try:
        digest = sha256(path)
    except OSError as err:
        raise InputError(f"{path}: cannot read the weights file: {err}") from err
    if digest != str(expected_sha256).lower():
        raise InputError(f"{path}: sha256 is {digest}, the config's weights_sha256 expects {expected_sha256}")


def load_weights(model, path, expected_sha256, filter_fn):
    """Load ``path`` into ``model`` strictly after checking its sha256.

    ``filter_fn(checkpoint) -> state_dict`` adapts a foreign checkpoint (wrappers, prefixes) to
    the model's parameter names; any remaining mismatch is an ``InputError`` naming the file.
    """
    verify_sha256(path, expected_sha256)
    state = filter_fn(read_checkpoint(path, "PyTorch"))
    return load_strict(model, state, path, f"{type(model).__name__} in this configuration")


def mmpose_filter_fn(checkpoint):
    """State dict of an mmpose checkpoint: unwrap ``state_dict``, drop DataParallel's ``module.``."""
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise InputError("checkpoint: expected a state dict or a dict with key 'state_dict'")
    return {k.removeprefix("module."): v for k, v in state.items()}
