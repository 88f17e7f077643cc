"""One training step, one epoch and the evaluation, for both stages and every method."""

import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from maskclr.models.losses import class_contrastive, sample_contrastive
from maskclr.models.masking import agpm_mask, mask_input, random_mask
from maskclr.train.distributed import gather, world_size

LOSS_TERMS = ("loss", "ce_s", "ce_m", "l_sc", "l_cc")


@contextmanager
def running_stats_kept(model):
    """Within it, BatchNorm layers in training mode normalise with the batch's statistics but
    leave their running estimates (and batch counts) as they are."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    for norm in norms:
        norm.track_running_stats = False
    try:
        yield
    finally:
        for norm in norms:
            norm.track_running_stats = True


class Pathways(nn.Module):
    """The standard and (per ``method``) the masked pathway in one forward call.

    One module, so that DistributedDataParallel sees one forward and one backward per step.
    x (N, M, T, J, C) → (standard ModelOutput, masked ModelOutput or None). With
    ``bn_running_stats: standard`` the masked batches leave BatchNorm's running statistics to
    the standard pathway: they estimate the statistics of unmasked input, which is what the model
    is tested on (masked batches shift them: docs/method.md §5.4, Q15).
    """

    def __init__(self, model, method):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, x):
        method = self.method
        standard = self.model(x, return_activation=method.masking == "agpm")
        if method.masking == "none":
            return standard, None
        with torch.no_grad():
            if method.masking == "agpm":
                mask = agpm_mask(standard.activation, method.mask_ratio, method.tau_prop)
            else:
                grid = self.model.backbone.token_grid(x.shape[2], x.shape[3])
                mask = random_mask((x.shape[0] * x.shape[1], *grid), method.mask_ratio, device=x.device)
        with running_stats_kept(self.model) if method.bn_running_stats == "standard" else nullcontext():
            masked = self.model(mask_input(x, mask)) if method.level == "input" else self.model(x, mask=mask)
        return standard, masked


def step_losses(pathways, method, x, y, label_smoothing=0.0):
    """Forward both pathways and return (loss to backpropagate, {term: value}, standard logits).

    CE terms average over this process's samples, with ``label_smoothing`` (a recipe's, 0: none);
    the contrastive terms use the global batch gathered from all processes (§5.2), so with DDP's
    gradient averaging the update equals that of one process on the whole batch (with per-process
    BatchNorm, as the paper's DataParallel).
    """
    standard, masked = pathways(x)
    terms = {"ce_s": F.cross_entropy(standard.logits.float(), y, label_smoothing=label_smoothing)}
    loss = method.alpha * terms["ce_s"]
    contrastive = loss.new_zeros(())
    if masked is not None:
        terms["ce_m"] = F.cross_entropy(masked.logits.float(), y, label_smoothing=label_smoothing)
        loss = loss + method.beta * terms["ce_m"]
        if method.contrastive:
            h_s, h_m, labels = gather(standard.hidden.float()), gather(masked.hidden.float()), gather(y)
            terms["l_sc"] = sample_contrastive(h_s, h_m, method.tau_sim)
            terms["l_cc"] = class_contrastive(h_s, h_m, labels, method.tau_sim)
            contrastive = method.gamma * terms["l_sc"] + method.delta * terms["l_cc"]
    terms["loss"] = loss + contrastive
    # Each process backpropagates the global contrastive terms through its own samples only;
    # × world size makes DDP's average of the gradients the whole batch's gradient.
    return loss + world_size() * contrastive, {k: v.detach() for k, v in terms.items()}, standard.logits.detach()


class NonFiniteLoss(ArithmeticError):
    """A training step's loss is NaN or infinite: every later step would train on it."""

    def __init__(self, terms):
        bad = ", ".join(f"{k} = {float(v)}" for k, v in terms.items() if not torch.isfinite(v))
        super().__init__(f"loss term(s) not finite: {bad}")


@dataclass
class EpochStats:
    sums: dict = field(default_factory=lambda: dict.fromkeys(LOSS_TERMS, 0.0))
    correct: int = 0
    samples: int = 0
    seconds: float = 0.0

    def add(self, terms, logits, y):
        for key, value in terms.items():
            self.sums[key] += float(value) * len(y)
        self.correct += int((logits.argmax(1) == y).sum())
        self.samples += len(y)

    def summary(self):
        n = max(self.samples, 1)
        return {
            **{k: v / n for k, v in self.sums.items()},
            "train_top1": self.correct / n,
            "samples_per_s": self.samples / max(self.seconds, 1e-9),
        }


def train_epoch(pathways, method, loader, optimizer, device, autocast, label_smoothing, on_step=lambda: None):
    """One pass over ``loader`` (``pathways`` possibly DDP-wrapped); EpochStats of this process."""
    pathways.train()
    stats, start = EpochStats(), time.perf_counter()
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with autocast():
            loss, terms, logits = step_losses(pathways, method, x, y, label_smoothing)
        if not torch.isfinite(terms["loss"]):
            raise NonFiniteLoss(terms)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        stats.add(terms, logits, y)
        on_step()
    stats.seconds = time.perf_counter() - start
    return stats


@torch.no_grad()
def evaluate(model, loader, device, autocast):
    """Top-1 accuracy of the standard pathway in eval mode."""
    model.eval()
    correct = total = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        with autocast():
            logits = model(x).logits
        correct += int((logits.argmax(1) == y).sum())
        total += len(y)
    return correct / max(total, 1)
