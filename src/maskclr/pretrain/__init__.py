"""Self-supervised pretraining of a backbone before fine-tuning (docs/method.md §3.3, §3.4, Q4).

A config entry names its method and overrides that method's defaults for the backbone, as the
MaskCLR methods' entries do, e.g. ``mamp: {method: mamp, mask_ratio: 0.9, tau: 0.8}`` or
``mae: {method: skeletonmae, decoder_depth: 3}``.
"""

import importlib

from maskclr.errors import InputError

# name → module with DEFAULTS {backbone: {key: value}} and build(encoder, **params).
METHODS = {"mamp": "maskclr.pretrain.mamp", "skeletonmae": "maskclr.pretrain.skeletonmae"}


def build_pretrainer(name, entry, backbone, encoder):
    """The pretrainer of config entry ``name`` (a dict with ``method`` and overrides) around ``encoder``,
    a backbone built as ``backbone``. Unknown methods, backbones and keys are ``InputError``s."""
    params = dict(entry)
    method = params.pop("method", None)
    if method not in METHODS:
        raise InputError(f"pretraining entry '{name}': key 'method': expected one of {sorted(METHODS)}, got {method!r}")
    module = importlib.import_module(METHODS[method])
    if backbone not in module.DEFAULTS:
        raise InputError(
            f"pretraining entry '{name}': method '{method}' pretrains {sorted(module.DEFAULTS)}, "
            f"not backbone '{backbone}'"
        )
    defaults = module.DEFAULTS[backbone]
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise InputError(
            f"pretraining entry '{name}': unknown key '{unknown[0]}' for method '{method}' (known: {sorted(defaults)})"
        )
    return module.build(encoder, **{**defaults, **params})
