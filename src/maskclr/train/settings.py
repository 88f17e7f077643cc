"""Typed settings of a training job, parsed from the JSON slices the rule passes as params."""

import json
from dataclasses import dataclass, fields

from maskclr.errors import InputError

MASKINGS = ("none", "agpm", "random")
LR_SCHEDULES = ("exponential", "cosine")
LEVELS = ("token", "input")


@dataclass(frozen=True)
class Schedule:
    """Optimisation (docs/method.md §6): AdamW with two learning rates, ×lr_decay per epoch; or, for
    short CPU runs, warm-up and a cosine decay (``lr_schedule``, ``warmup_epochs``)."""

    batch_size: int = 32
    epochs_stage1: int = 300
    epochs_stage2: int = 300
    lr_backbone: float = 1e-4
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    lr_decay: float = 0.99
    lr_schedule: str = "exponential"
    warmup_epochs: int = 0
    head_hidden: int = 2048
    head_dropout: float = 0.5
    seed: int = 0

    def __post_init__(self):
        if self.lr_schedule not in LR_SCHEDULES:
            raise InputError(f"schedule: key 'lr_schedule': expected one of {LR_SCHEDULES}, got {self.lr_schedule!r}")


@dataclass(frozen=True)
class Method:
    """What a stage trains: which pathways, which masking, which loss weights (§4, §5).

    L = α·CE_s + β·CE_m + γ·L_sc + δ·L_cc; with masking "none" only α·CE_s is used.
    """

    masking: str = "none"
    level: str = "token"
    mask_ratio: float = 0.5
    tau_prop: float = 0.7
    tau_sim: float = 0.7
    alpha: float = 1.0
    beta: float = 0.0
    gamma: float = 0.0
    delta: float = 0.0

    def __post_init__(self):
        if self.masking not in MASKINGS:
            raise InputError(f"method: key 'masking': expected one of {MASKINGS}, got {self.masking!r}")
        if self.level not in LEVELS:
            raise InputError(f"method: key 'level': expected one of {LEVELS}, got {self.level!r}")

    @property
    def contrastive(self):
        return self.masking != "none" and (self.gamma > 0 or self.delta > 0)


def parse(cls, text, what):
    """Build the dataclass ``cls`` from a JSON object, rejecting unknown keys by name."""
    try:
        values = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{what}: not valid JSON: {err}") from err
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"{what}: unknown keys {unknown} (known: {sorted(known)})")
    return cls(**values)
