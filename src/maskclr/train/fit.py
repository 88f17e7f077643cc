"""The fit of one training stage: epochs from where the state left off, a checkpoint per epoch,
the time budget, and resuming from the work directory's state (see ``maskclr.train.cli``)."""

import hashlib
import os
import signal
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from maskclr.errors import InputError
from maskclr.fileio import brief
from maskclr.models.loading import load_strict
from maskclr.train import checkpoint, distributed
from maskclr.train.loop import NonFiniteLoss, Pathways, evaluate, train_epoch

OUT_OF_TIME = 3


# The arguments of ``python -m maskclr.train`` that its state depends on: settings, then input files.
TRAIN_SETTINGS = ("stage", "backbone", "backbone_json", "schedule_json", "method_json", "pretrain_name")
TRAIN_INPUTS = ("data", "init", "pretrained", "pretrain")


def fingerprint(args, settings=TRAIN_SETTINGS, inputs=TRAIN_INPUTS):
    """What the resumable state depends on: a changed setting or input starts afresh.
    ``settings`` and ``inputs`` name attributes of ``args`` (an input file counts by size and time)."""
    files = [getattr(args, name) for name in inputs if getattr(args, name)]
    parts = [str(getattr(args, name) or "") for name in settings]
    parts += [f"{p}:{os.stat(p).st_size}:{os.stat(p).st_mtime_ns}" for p in files]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def seed_epoch(seed, epoch, rank):
    """Reseed torch per (seed, epoch, rank): dropout and masking never depend on a resume."""
    torch.manual_seed(int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0]))


def parallel(module, world, device):
    """(``module``, under DDP when several processes run, and the autocast context of ``device``:
    bf16 on CUDA, none on the CPU) — what training and pretraining run their steps with."""
    if world > 1:
        module = DistributedDataParallel(module, find_unused_parameters=True)
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" else nullcontext
    return module, autocast


def begin_epoch(seed, epoch, rank, sampler, loader):
    """Reseed (``seed_epoch``) and point the sampler and the dataset's augmentation at ``epoch``."""
    seed_epoch(seed, epoch, rank)
    sampler.set_epoch(epoch)
    loader.dataset.set_epoch(epoch)


def training_state(model, optimiser, scheduler, epoch):
    """What a checkpoint holds to continue training at ``epoch``; ``scheduler`` None: a job that
    sets its learning rate from the epoch (``maskclr.pretrain``) has none to save."""
    state = {"model": model.state_dict(), "optimizer": optimiser.state_dict(), "epoch": epoch}
    return state if scheduler is None else {**state, "scheduler": scheduler.state_dict()}


STATE_KEYS = ("model", "optimizer", "scheduler", "epoch")


def state_keys(scheduler):
    """The keys of a ``training_state`` saved with ``scheduler`` (None: without one)."""
    return tuple(k for k in STATE_KEYS if scheduler is not None or k != "scheduler")


def restore(state, path, model, optimiser, scheduler):
    """Load a ``training_state`` read from ``path`` back; returns the epoch to continue at.
    The model's names and shapes are checked before anything is loaded."""
    load_strict(model, state["model"], path, "this job's architecture")
    try:
        optimiser.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{path}: key 'optimizer'/'scheduler': does not fit this job: {brief(str(err), 200)}") from err
    return state["epoch"]


def load_init(path, arch, model, optimiser, scheduler):
    """Start stage 2 from a stage-1 model.pt: same architecture, optimiser and scheduler state.
    Returns (the epoch to continue at, the pretraining the model started from: its identity's
    ``pretrain``, which stage 2 inherits)."""
    state = checkpoint.load(path, keys=("arch", "identity", *STATE_KEYS))
    if state["arch"] != arch:
        raise InputError(
            f"{path}: checkpoint of the wrong architecture: it holds {brief(state['arch'], 300)}, "
            f"this job builds {arch}"
        )
    pretrain = state["identity"].get("pretrain") if isinstance(state["identity"], dict) else None
    if not isinstance(pretrain, str) or not pretrain:
        raise InputError(f"{path}: key 'identity.pretrain': missing (a stage-1 model.pt records its pretraining)")
    return restore(state, path, model, optimiser, scheduler), pretrain


def resume(state_path, key, model, optimiser, scheduler):
    """(history, epoch to continue at) from the work dir's state, or None to start afresh.

    A corrupt or foreign state is moved aside with a warning rather than failing every retry
    the same way; it is checked before anything is loaded, so the fresh model stays as built.
    """
    if not state_path.exists():
        return None
    try:
        state = checkpoint.load(state_path, keys=("fingerprint", "history", *state_keys(scheduler)))
    except InputError as err:
        aside = state_path.with_name(state_path.name + ".corrupt")
        os.replace(state_path, aside)
        log(f"warning: {err}; moved aside to {aside}, training starts from the beginning")
        return None
    if state["fingerprint"] != key:
        log(f"ignoring {state_path}: it belongs to other settings or inputs")
        return None
    log(f"resuming at epoch {state['epoch']} from {state_path}")
    return state["history"], restore(state, state_path, model, optimiser, scheduler)


@dataclass
class Resumable:
    """A job's hold on its work dir: the lock (rank 0), the state file, the history so far and
    the epochs left to run."""

    lock: object
    state_path: Path
    history: list
    epochs: range


@contextmanager
def resumable(work_dir, key, rank, model, optimiser, scheduler, epochs):
    """Lock ``work_dir`` (rank 0) and resume from its state where it matches ``key``; yields a
    ``Resumable`` whose ``epochs`` start where the state left off (``epochs`` when none)."""
    work = Path(work_dir)
    lock = checkpoint.WorkDirLock(work) if rank == 0 else nullcontext()
    with lock:
        state_path = work / checkpoint.STATE
        history, first = resume(state_path, key, model, optimiser, scheduler) or ([], epochs.start)
        yield Resumable(lock, state_path, history, range(first, epochs.stop))


def log(message):
    print(message, file=sys.stderr, flush=True)


def time_is_up(args, started, longest):
    """Whether one more epoch (as long as the longest so far) could overrun the time budget.

    The margin, for saving and exiting, is capped at half the budget: a margin longer than the
    budget would stop every attempt after one epoch, and a short ``runtime`` (a debug partition)
    could then never finish within the retries.
    """
    if not args.time_budget_min:
        return False
    margin = min(args.time_margin_min, args.time_budget_min / 2)
    return time.time() - started + longest > (args.time_budget_min - margin) * 60


def exit_if_out_of_time(args, started, longest, epoch, epochs, state_path):
    """After ``epoch`` of ``epochs`` (a range), its state saved in ``state_path``: exit with
    OUT_OF_TIME when another epoch as long as ``longest`` would not fit (``time_is_up``)."""
    if epoch + 1 < epochs.stop and time_is_up(args, started, longest):
        log(
            f"time budget of {args.time_budget_min} min reached after epoch {epoch + 1}: "
            f"state saved in {state_path}; run again to resume"
        )
        distributed.teardown()
        sys.exit(OUT_OF_TIME)


def exit_on_sigterm(signum, frame):
    """Leave through ``sys.exit``: unlike the default action, it runs the ``with`` exits, so the
    work-dir lock is released (a retry on another host would otherwise wait for it to go stale).
    The state is not saved mid-epoch: a resume from the last finished epoch reproduces an
    uninterrupted run exactly."""
    log(f"signal {signal.Signals(signum).name}: stopping; the last finished epoch's state is kept")
    sys.exit(128 + signum)


@dataclass
class Run:
    """What the epochs of one job work on; ``args`` gives the time budget and names the data in errors."""

    args: object
    model: torch.nn.Module
    optimiser: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    method: object
    seed: int
    label_smoothing: float
    test_every: int
    device: torch.device
    rank: int
    world: int
    started: float


def tested(epoch, epochs, every):
    """Whether ``epoch`` (from 0 over both stages) of ``epochs`` (a range) ends with a test
    evaluation: every ``every``-th epoch and the last. Skipping one leaves the trained model as it
    is: the test pass draws from torch's generator (the DataLoader's base seed), but every epoch
    begins by reseeding it (``seed_epoch``)."""
    return (epoch + 1) % every == 0 or epoch + 1 == epochs.stop


def run_epochs(run, loaders, epochs, history, lock, state_path, key):
    """Train ``epochs``, each ended by a history row and the state in ``state_path`` (rank 0),
    with its test top-1 where ``tested``; exits with OUT_OF_TIME when the next epoch would overrun
    the budget. ``loaders``: (sampler, train loader, test loader). Returns the history."""
    args, model, optimiser, scheduler = run.args, run.model, run.optimiser, run.scheduler
    method, device, rank = run.method, run.device, run.rank
    sampler, train_loader, test_loader = loaders
    pathways, autocast = parallel(Pathways(model, method), run.world, device)
    longest = 0.0
    for epoch in epochs:
        tick = time.time()
        begin_epoch(run.seed, epoch, rank, sampler, train_loader)
        try:
            stats = train_epoch(
                pathways,
                method,
                train_loader,
                optimiser,
                device,
                autocast,
                run.label_smoothing,
                on_step=getattr(lock, "refresh", lambda: None),
            )
        except NonFiniteLoss as err:  # stop rather than record a model trained on NaN
            raise InputError(
                f"{args.data}: epoch {epoch + 1}: {err}; stopping (nothing recorded; "
                "check the inputs, --init and the learning rates)"
            ) from None
        # lr_backbone × the schedule's factor: a layer-decayed group's lr divided by its depth's scale
        group = optimiser.param_groups[0]
        lr = group["lr"] / group.get("lr_scale", 1.0)
        scheduler.step()
        if rank == 0:
            row = {"epoch": epoch, **stats.summary(), "lr_backbone": lr, "seconds": stats.seconds}
            if tested(epoch, epochs, run.test_every):
                row["test_top1"] = evaluate(model, test_loader, device, autocast)
            history.append(row)
            checkpoint.save(
                state_path,
                {"fingerprint": key, "history": history, **training_state(model, optimiser, scheduler, epoch + 1)},
            )
            log(
                f"epoch {epoch + 1}/{epochs.stop} "
                + " ".join(
                    f"{k} {row[k]:.4g}"
                    for k in ("loss", "ce_s", "ce_m", "l_sc", "l_cc", "train_top1", "test_top1", "samples_per_s")
                    if k in row and row[k]
                )
            )
        distributed.barrier()
        longest = max(longest, time.time() - tick)
        exit_if_out_of_time(args, run.started, longest, epoch, epochs, state_path)
    return history
