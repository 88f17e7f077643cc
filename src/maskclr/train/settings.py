"""Typed settings of a training job, parsed from the JSON slices the rule passes as params."""

from dataclasses import dataclass

from maskclr.errors import InputError

MASKINGS = ("none", "agpm", "random")
LR_SCHEDULES = ("exponential", "cosine")
LEVELS = ("token", "input")


@dataclass(frozen=True)
class Schedule:
    """Optimisation (docs/method.md §6): AdamW with two learning rates, ×lr_decay per epoch; or, for
    short CPU runs, warm-up and a cosine decay (``lr_schedule``, ``warmup_epochs``).

    The fields are config ``train.schedule``; its schema holds the defaults (none are restated here).
    """

    batch_size: int
    epochs_stage1: int
    lr_backbone: float
    lr_head: float
    weight_decay: float
    lr_schedule: str
    warmup_epochs: int
    head_hidden: int
    head_dropout: float
    seed: int
    # None: not given to this stage, because it does not read it (workflow/rules/common.smk,
    # schedule_json): stage 1 reads epochs_stage2 only under the cosine decay, which spans both
    # stages, and lr_decay belongs to the exponential schedule only.
    epochs_stage2: int | None = None
    lr_decay: float | None = None

    def __post_init__(self):
        if self.lr_schedule not in LR_SCHEDULES:
            raise InputError(f"schedule: key 'lr_schedule': expected one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        needed = {"exponential": "lr_decay", "cosine": "epochs_stage2"}[self.lr_schedule]
        if getattr(self, needed) is None:
            raise InputError(f"schedule: key '{needed}': required by lr_schedule '{self.lr_schedule}'")


@dataclass(frozen=True)
class Method:
    """What a stage trains: which pathways, which masking, which loss weights (§4, §5).

    L = α·CE_s + β·CE_m + γ·L_sc + δ·L_cc; with masking "none" only α·CE_s is used. The fields
    are a config ``methods`` entry; its schema holds the defaults (none are restated here).
    """

    masking: str
    level: str
    mask_ratio: float
    tau_prop: float
    tau_sim: float
    alpha: float
    beta: float
    gamma: float
    delta: float

    def __post_init__(self):
        if self.masking not in MASKINGS:
            raise InputError(f"method: key 'masking': expected one of {MASKINGS}, got {self.masking!r}")
        if self.level not in LEVELS:
            raise InputError(f"method: key 'level': expected one of {LEVELS}, got {self.level!r}")

    @property
    def contrastive(self):
        return self.masking != "none" and (self.gamma > 0 or self.delta > 0)


# Stage 1 trains the standard pathway with cross-entropy alone: by definition, not a setting
CROSS_ENTROPY = Method(
    masking="none", level="token", mask_ratio=0.0, tau_prop=1.0, tau_sim=1.0, alpha=1.0, beta=0.0, gamma=0.0, delta=0.0
)
