"""Layer-wise learning-rate decay (MAMP's fine-tuning recipe, docs/method.md §3.3) for any backbone
that numbers its parameters' depths with ``layer_id(name)`` (``Transformer.layer_id``)."""


def has_layers(backbone):
    """Whether ``backbone`` defines the ``layer_id(name)`` that layer-wise decay needs."""
    return callable(getattr(backbone, "layer_id", None))


def layer_decay_groups(model, lr, decay, weight_decay=0.05, lr_head=None):
    """Optimizer parameter groups with layer-wise lr decay for an ``ActionModel``.

    A backbone parameter at depth ℓ (``model.backbone.layer_id``; L the deepest) gets
    lr · decay^(L − ℓ): the top layer the full lr, the one below lr · decay, …. The mask token is
    at the top (lr, as the backbone's other new parameters); the head, new at fine-tuning too,
    learns at ``lr_head`` (default: ``lr``). As MAMP, 1-D parameters (biases, norms, the mask
    token) have no weight decay. Each group records ``lr_scale`` (its lr / its base lr) and the
    ``names`` of its parameters; a LambdaLR scheduler multiplies each group's initial lr, scale
    included.
    """
    backbone = model.backbone
    top = max(backbone.layer_id(name) for name, _ in backbone.named_parameters())
    groups = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        inner = name.removeprefix("backbone.")
        layer = backbone.layer_id(inner) if inner != name else top
        head, decays = name.startswith("head."), param.ndim > 1
        key = (layer, head, decays)
        if key not in groups:
            scale = decay ** (top - layer)
            groups[key] = {
                "params": [],
                "names": [],
                "lr": (lr_head if head and lr_head is not None else lr) * scale,
                "lr_scale": scale,
                "weight_decay": weight_decay if decays else 0.0,
            }
        groups[key]["params"].append(param)
        groups[key]["names"].append(name)
    return [groups[key] for key in sorted(groups)]
