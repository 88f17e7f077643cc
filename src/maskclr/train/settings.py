"""Typed settings of a training job, parsed from the JSON slices the rule passes as params."""

from dataclasses import dataclass

from maskclr.errors import InputError
from maskclr.models.head import HEADS

MASKINGS = ("none", "agpm", "random")
LR_SCHEDULES = ("exponential", "cosine", "step")
OPTIMIZERS = ("adamw", "sgd")
LEVELS = ("token", "input")
# Which pathways update BatchNorm running statistics (docs/method.md §5.4, Q15)
BN_RUNNING_STATS = ("standard", "both")


@dataclass(frozen=True)
class Schedule:
    """Optimisation, a recipe (docs/method.md §6): the optimizer (AdamW or SGD with momentum) with two
    learning rates, backbone and head, optionally decayed layer-wise through the backbone
    (``layer_decay`` < 1); a per-epoch schedule (×lr_decay per epoch, a cosine, or ×0.1 at each of
    the ``milestones``) after ``warmup_epochs`` of linear warm-up; label smoothing of the training
    cross-entropy terms; the action head (a name in ``maskclr.models.head.HEADS``) and its size;
    how often the test split is evaluated during training (``test_every`` epochs, and the last).

    The fields are config ``train.schedule`` with a recipe's overrides; its schema holds the
    defaults (none are restated here).
    """

    batch_size: int
    epochs_stage1: int
    optimizer: str
    lr_backbone: float
    lr_head: float
    weight_decay: float
    layer_decay: float
    lr_schedule: str
    warmup_epochs: int
    label_smoothing: float
    head: str
    head_hidden: int
    head_dropout: float
    seed: int
    test_every: int
    # None: not given to this stage, because it does not read it (workflow/rules/common.smk,
    # schedule_json): stage 1 reads epochs_stage2 only under the cosine decay, which spans both
    # stages; lr_decay belongs to the exponential schedule only, milestones to the step schedule,
    # momentum and nesterov to SGD.
    epochs_stage2: int | None = None
    lr_decay: float | None = None
    milestones: tuple[int, ...] | None = None
    momentum: float | None = None
    nesterov: bool | None = None

    def __post_init__(self):
        choose("schedule", "lr_schedule", self.lr_schedule, LR_SCHEDULES)
        choose("schedule", "optimizer", self.optimizer, OPTIMIZERS)
        choose("schedule", "head", self.head, tuple(HEADS))
        needed = {"exponential": "lr_decay", "cosine": "epochs_stage2", "step": "milestones"}[self.lr_schedule]
        self._require(needed, f"lr_schedule '{self.lr_schedule}'")
        if not 0 < self.layer_decay <= 1:
            raise InputError(
                f"schedule: key 'layer_decay': expected a factor in (0, 1] (1: off), got {self.layer_decay}"
            )
        if not 0 <= self.label_smoothing < 1:
            raise InputError(f"schedule: key 'label_smoothing': expected [0, 1) (0: off), got {self.label_smoothing}")
        if type(self.test_every) is not int or self.test_every < 1:
            raise InputError(
                f"schedule: key 'test_every': expected a whole number of epochs ≥ 1, got {self.test_every!r}"
            )
        if self.optimizer == "sgd":
            self._require("momentum", "optimizer 'sgd'")
            self._require("nesterov", "optimizer 'sgd'")
            if self.nesterov and self.momentum <= 0:
                raise InputError("schedule: key 'nesterov': Nesterov momentum needs key 'momentum' > 0")
        if self.milestones is not None:
            # JSON gives a list; a tuple keeps the frozen settings immutable and hashable
            object.__setattr__(self, "milestones", epoch_numbers(self.milestones))

    def _require(self, key, reader):
        if getattr(self, key) is None:
            raise InputError(f"schedule: key '{key}': required by {reader}")


def epoch_numbers(value):
    """``milestones`` as a tuple of strictly increasing non-negative epoch numbers; else InputError."""
    numbers = tuple(value) if isinstance(value, (list, tuple)) else None
    if numbers is None or any(type(m) is not int or m < 0 for m in numbers) or list(numbers) != sorted(set(numbers)):
        raise InputError(f"schedule: key 'milestones': expected a list of increasing epoch numbers, got {value!r}")
    return numbers


def choose(section, key, value, allowed):
    """``value`` of ``section``'s ``key`` when it is one of ``allowed``; else InputError naming both."""
    if value not in allowed:
        raise InputError(f"{section}: key '{key}': expected one of {allowed}, got {value!r}")


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
    bn_running_stats: str

    def __post_init__(self):
        choose("method", "masking", self.masking, MASKINGS)
        choose("method", "level", self.level, LEVELS)
        choose("method", "bn_running_stats", self.bn_running_stats, BN_RUNNING_STATS)

    @property
    def contrastive(self):
        return self.masking != "none" and (self.gamma > 0 or self.delta > 0)


# Stage 1 trains the standard pathway with cross-entropy alone: by definition, not a setting
CROSS_ENTROPY = Method(
    masking="none",
    level="token",
    mask_ratio=0.0,
    tau_prop=1.0,
    tau_sim=1.0,
    alpha=1.0,
    beta=0.0,
    gamma=0.0,
    delta=0.0,
    bn_running_stats="standard",
)
