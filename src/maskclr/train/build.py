"""Model and optimiser construction from an architecture record, shared by training, evaluation
and prediction (which rebuild a model.pt's model from the record it holds)."""

import bisect
import json
import math

import torch

from maskclr.data import native3d
from maskclr.errors import InputError
from maskclr.models import ActionModel, build_backbone
from maskclr.models.layer_decay import has_layers, layer_decay_groups


def parse_sizes(text):
    """``--backbone-json``: the config's backbones.<name> entry, a JSON object."""
    try:
        sizes = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"--backbone-json: not valid JSON: {err}") from err
    if not isinstance(sizes, dict):
        raise InputError(f"--backbone-json: expected a JSON object of size arguments, got {type(sizes).__name__}")
    return sizes


def input_pipeline(attrs):
    """What predict needs to prepare a clip as the training file's test part was (its HDF5
    ``attrs``): a native 3D file's pipeline and test crop; nothing for the 2D pipeline, the default."""
    if attrs.get("pipeline") != native3d.PIPELINE:
        return {}
    return {"pipeline": native3d.PIPELINE, "test_ratio": float(attrs["test_ratio"])}


def architecture(args, data_shape, num_classes, schedule, attrs):
    """What a model.pt is: backbone and sizes, classes, head (kind and size), and the persons and
    joints per sample it was trained on (``data_shape``: the training set's (N, M, T, J, C)) with
    its input pipeline (``input_pipeline`` of the file's ``attrs``), so that predict feeds it the
    same layout. A backbone configured by its class (``class: "module:Class"``) records it, so
    evaluate and predict rebuild it."""
    sizes = parse_sizes(args.backbone_json)
    spec = sizes.pop("class", None)
    return {
        "backbone": args.backbone,
        **({"class": spec} if spec else {}),
        "sizes": sizes,
        "num_classes": num_classes,
        "persons": data_shape[1],
        "num_joints": data_shape[3],
        **input_pipeline(attrs),
        "head": schedule.head,
        "head_hidden": schedule.head_hidden,
        "head_dropout": schedule.head_dropout,
    }


def build_model(arch):
    """The ActionModel an architecture record (``architecture``) describes, freshly initialised."""
    backbone = build_backbone(arch["backbone"], arch.get("class"), **arch["sizes"])
    return ActionModel(
        backbone,
        arch["num_classes"],
        arch["num_joints"],
        hidden=arch["head_hidden"],
        dropout=arch["head_dropout"],
        head=arch["head"],
    )


def build_optimiser(model, schedule, name):
    """The optimizer and its per-epoch learning-rate schedule (``lr_factor``, which runs on across
    both stages) for ``model``, whose backbone is config ``backbones.<name>``.

    AdamW or SGD (momentum, nesterov) with weight decay; backbone (with mask token) at lr_backbone,
    head at lr_head. With ``layer_decay`` < 1 the backbone's lr decays layer-wise downwards from
    lr_backbone (``layer_decay_groups``; 1-D parameters then without weight decay, as MAMP).
    """
    if schedule.layer_decay < 1:
        if not has_layers(model.backbone):
            raise InputError(
                f"schedule: key 'layer_decay': {schedule.layer_decay} needs the layer of each backbone parameter, "
                f"which backbone '{name}' ({type(model.backbone).__name__}) does not give: define layer_id(name) "
                "on its class, or set layer_decay to 1"
            )
        groups = layer_decay_groups(
            model, schedule.lr_backbone, schedule.layer_decay, schedule.weight_decay, lr_head=schedule.lr_head
        )
    else:
        head = list(model.head.parameters())
        head_ids = {id(p) for p in head}
        rest = [p for p in model.parameters() if id(p) not in head_ids]
        groups = [{"params": rest, "lr": schedule.lr_backbone}, {"params": head, "lr": schedule.lr_head}]
    if schedule.optimizer == "sgd":
        optimiser = torch.optim.SGD(
            groups, momentum=schedule.momentum, nesterov=schedule.nesterov, weight_decay=schedule.weight_decay
        )
    else:
        optimiser = torch.optim.AdamW(groups, weight_decay=schedule.weight_decay)
    return optimiser, torch.optim.lr_scheduler.LambdaLR(optimiser, lambda epoch: lr_factor(schedule, epoch))


def lr_factor(schedule, epoch):
    """Learning-rate factor of ``epoch`` (0-based, counted over stage 1 then stage 2).

    ``exponential`` (the paper): ×lr_decay per epoch. ``cosine``: half a cosine from 1 to 0 over
    both stages' epochs. ``step`` (STTFormer): ×0.1 from each epoch in ``milestones`` on. Each is
    multiplied, during the first ``warmup_epochs`` epochs, by a linear warm-up 1/(w+1), 2/(w+1),
    …, w/(w+1).
    """
    warmup = min(1.0, (epoch + 1) / (schedule.warmup_epochs + 1))
    if schedule.lr_schedule == "exponential":
        return warmup * schedule.lr_decay**epoch
    if schedule.lr_schedule == "step":
        return warmup * 0.1 ** bisect.bisect_right(schedule.milestones, epoch)
    total = schedule.epochs_stage1 + schedule.epochs_stage2
    return warmup * 0.5 * (1.0 + math.cos(math.pi * min(epoch, total) / total))


def load_pretrained(backbone, path, name):
    """Start ``backbone`` (stage 1) from a published checkpoint through its own adapter, the
    optional ``load_pretrained(path)`` of its class (DSTFormer's reads MotionBERT's)."""
    adapter = getattr(backbone, "load_pretrained", None)
    if adapter is None:
        raise InputError(
            f"--pretrained {path}: backbone '{name}' ({type(backbone).__name__}) has no checkpoint adapter: "
            f"define load_pretrained(path) on its class, or remove train.pretrained.{name} from the config"
        )
    adapter(path)
