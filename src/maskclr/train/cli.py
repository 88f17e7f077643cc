"""``python -m maskclr.train``: one training stage of one model, resumable, DDP under torchrun.

Stage 1 trains the standard pathway with CE for ``epochs_stage1`` epochs. Stage 2 starts from
the stage-1 ``model.pt`` (weights, optimiser and scheduler, so the learning-rate decay goes on)
and trains ``epochs_stage2`` more epochs with the given method. Every epoch ends with an
evaluation on the test split and a checkpoint in ``--work-dir``; a rerun of the same job
resumes from it and ends with the metrics an uninterrupted run would have produced. When the
time budget would run out during the next epoch, the job saves and exits with status 3, so the
scheduler's retry resumes it. SIGTERM (SLURM's time limit, before SIGKILL) ends the job cleanly
at once: the lock is released and the last epoch's checkpoint is kept for the retry.
"""

import argparse
import hashlib
import json
import math
import os
import signal
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from maskclr.data.dataset import SkeletonDataset
from maskclr.errors import InputError
from maskclr.fileio import atomic_output, brief
from maskclr.models import ActionModel, build_backbone
from maskclr.models.dstformer import load_motionbert
from maskclr.models.loading import load_strict
from maskclr.settings import json_object, json_settings
from maskclr.train import checkpoint, distributed
from maskclr.train.loop import NonFiniteLoss, Pathways, evaluate, train_epoch
from maskclr.train.settings import CROSS_ENTROPY, Method, Schedule

OUT_OF_TIME = 3


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m maskclr.train", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="preprocessed HDF5 (results/data/...)")
    parser.add_argument("--stage", choices=("stage1", "stage2"), required=True)
    parser.add_argument("--dataset", required=True, help="the dataset's name (recorded, with the split and method)")
    parser.add_argument("--split", required=True, help="the evaluation protocol the data is split by")
    parser.add_argument("--method", required=True, help="the method's name: stage1 for stage 1, else a stage-2 method")
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--backbone-json", required=True, help="backbone size arguments")
    parser.add_argument("--schedule-json", required=True, help="optimisation settings (Schedule)")
    parser.add_argument("--method-json", help="stage 2: pathways, masking and loss weights (Method)")
    parser.add_argument("--init", help="stage 2: the stage-1 model.pt to start from")
    parser.add_argument("--pretrained", help="stage 1, DSTFormer: a MotionBERT checkpoint to start from")
    parser.add_argument("--work-dir", required=True, help="resumable state (not a workflow output)")
    parser.add_argument("--out-model", required=True)
    parser.add_argument("--out-metrics", required=True)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per process")
    parser.add_argument(
        "--device",
        choices=distributed.DEVICES,
        default="auto",
        help="cuda: stop if no GPU is usable; auto: the GPU if there is one",
    )
    parser.add_argument("--time-budget-min", type=float, default=0, help="stop and save before this (0: none)")
    parser.add_argument(
        "--time-margin-min",
        type=float,
        default=5,
        help="stop this long before the budget ends (at most half the budget)",
    )
    args = parser.parse_args(argv)
    if (args.stage == "stage1") != (args.method == "stage1"):
        parser.error(f"--method {args.method}: stage1 names stage 1 and only stage 1 (--stage {args.stage})")
    return args


def identity(args, schedule):
    """What the model is, as results/metrics.csv names it: recorded in model.pt and metrics.json
    (the evaluation copies it from model.pt), so that no reader has to parse paths."""
    return {
        "dataset": args.dataset,
        "split": args.split,
        "backbone": args.backbone,
        "method": args.method,
        "stage": args.stage,
        "seed": schedule.seed,
    }


def fingerprint(args):
    """What the resumable state depends on: a changed setting or input starts afresh."""
    inputs = [p for p in (args.data, args.init, args.pretrained) if p]
    parts = [args.stage, args.backbone, args.backbone_json, args.schedule_json, args.method_json or ""]
    parts += [f"{p}:{os.stat(p).st_size}:{os.stat(p).st_mtime_ns}" for p in inputs]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def stage_method(args):
    """What this stage trains: cross-entropy in stage 1, the ``--method-json`` in stage 2."""
    if args.stage == "stage1":
        if args.method_json is not None:
            raise InputError("--method-json: stage 1 trains cross-entropy only; a method is for stage 2")
        return CROSS_ENTROPY
    if args.method_json is None:
        raise InputError("--method-json: stage 2 needs the method to train")
    return json_settings(Method, args.method_json, "--method-json")


def seed_epoch(seed, epoch, rank):
    """Reseed torch per (seed, epoch, rank): dropout and masking never depend on a resume."""
    torch.manual_seed(int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0]))


def architecture(args, num_classes, persons, schedule):
    """What a model.pt is: backbone and sizes, classes, head size and the persons per sample it
    was trained on (``preprocess.max_persons``), so that predict feeds it the same layout."""
    return {
        "backbone": args.backbone,
        "sizes": json_object(args.backbone_json, "--backbone-json"),
        "num_classes": num_classes,
        "persons": persons,
        "head_hidden": schedule.head_hidden,
        "head_dropout": schedule.head_dropout,
    }


def build_model(arch):
    """The ActionModel an architecture record describes (initial weights from torch's seed)."""
    backbone = build_backbone(arch["backbone"], **arch["sizes"])
    return ActionModel(backbone, arch["num_classes"], hidden=arch["head_hidden"], dropout=arch["head_dropout"])


def build_optimiser(model, schedule):
    """AdamW, backbone (with mask token) at lr_backbone, head at lr_head, and the per-epoch
    learning-rate schedule (``lr_factor``), which runs on across both stages."""
    head = list(model.head.parameters())
    head_ids = {id(p) for p in head}
    rest = [p for p in model.parameters() if id(p) not in head_ids]
    optimiser = torch.optim.AdamW(
        [{"params": rest, "lr": schedule.lr_backbone}, {"params": head, "lr": schedule.lr_head}],
        weight_decay=schedule.weight_decay,
    )
    return optimiser, torch.optim.lr_scheduler.LambdaLR(optimiser, lambda epoch: lr_factor(schedule, epoch))


def lr_factor(schedule, epoch):
    """Learning-rate factor of ``epoch`` (0-based, counted over stage 1 then stage 2).

    ``exponential`` (the paper): ×lr_decay per epoch. ``cosine``: half a cosine from 1 to 0 over
    both stages' epochs. Either is multiplied, during the first ``warmup_epochs`` epochs, by a
    linear warm-up 1/(w+1), 2/(w+1), …, w/(w+1).
    """
    warmup = min(1.0, (epoch + 1) / (schedule.warmup_epochs + 1))
    if schedule.lr_schedule == "exponential":
        return warmup * schedule.lr_decay**epoch
    total = schedule.epochs_stage1 + schedule.epochs_stage2
    return warmup * 0.5 * (1.0 + math.cos(math.pi * min(epoch, total) / total))


def training_state(model, optimiser, scheduler, epoch):
    """What a checkpoint holds to continue training at ``epoch``."""
    return {
        "model": model.state_dict(),
        "optimizer": optimiser.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": epoch,
    }


STATE_KEYS = ("model", "optimizer", "scheduler", "epoch")


def restore(state, path, model, optimiser, scheduler):
    """Load a ``training_state`` read from ``path`` back; returns the epoch to continue at.
    The model's names and shapes are checked before anything is loaded."""
    load_strict(model, state["model"], path, "this job's architecture")
    try:
        optimiser.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{path}: key 'optimizer'/'scheduler': does not fit this job: {brief(str(err), 200)}") from err
    return state["epoch"]


def load_init(path, arch, model, optimiser, scheduler):
    """Start stage 2 from a stage-1 model.pt: same architecture, optimiser and scheduler state."""
    state = checkpoint.load(path, keys=("arch", *STATE_KEYS))
    if state["arch"] != arch:
        raise InputError(
            f"{path}: checkpoint of the wrong architecture: it holds {brief(state['arch'], 300)}, "
            f"this job builds {arch}"
        )
    return restore(state, path, model, optimiser, scheduler)


def resume(state_path, key, model, optimiser, scheduler):
    """(history, epoch to continue at) from the work dir's state, or None to start afresh.

    A corrupt or foreign state is moved aside with a warning rather than failing every retry
    the same way; it is checked before anything is loaded, so the fresh model stays as built.
    """
    if not state_path.exists():
        return None
    try:
        state = checkpoint.load(state_path, keys=("fingerprint", "history", *STATE_KEYS))
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


def write_json(path, payload):
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=1) + "\n")


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


def exit_on_sigterm(signum, frame):
    """Leave through ``sys.exit``: unlike the default action, it runs the ``with`` exits, so the
    work-dir lock is released (a retry on another host would otherwise wait for it to go stale).
    The state is not saved mid-epoch: a resume from the last finished epoch reproduces an
    uninterrupted run exactly."""
    log(f"signal {signal.Signals(signum).name}: stopping; the last finished epoch's state is kept")
    sys.exit(128 + signum)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    schedule = json_settings(Schedule, args.schedule_json, "--schedule-json")
    method = stage_method(args)
    rank, world, device = distributed.setup(args.device)
    torch.set_num_threads(args.threads)
    if schedule.batch_size % world:
        raise InputError(
            f"--schedule-json: key 'batch_size': {schedule.batch_size} is not divisible by {world} processes"
        )
    train_set = SkeletonDataset(args.data, "train", seed=schedule.seed)
    test_set = SkeletonDataset(args.data, "test")
    arch = architecture(args, train_set.num_classes, train_set.x.shape[1], schedule)
    torch.manual_seed(schedule.seed)  # the same initial weights in every process and every run
    model = build_model(arch).to(device)
    optimiser, scheduler = build_optimiser(model, schedule)
    epochs = range(0, schedule.epochs_stage1)
    if args.stage == "stage2":
        if not args.init:
            raise InputError("--init: stage 2 needs the stage-1 model.pt")
        if schedule.epochs_stage2 is None:
            raise InputError("--schedule-json: stage 2 needs key 'epochs_stage2'")
        first = load_init(args.init, arch, model, optimiser, scheduler)
        epochs = range(first, first + schedule.epochs_stage2)
    elif args.pretrained:
        load_motionbert(model.backbone, args.pretrained)

    work = Path(args.work_dir)
    state_path, key = work / checkpoint.STATE, fingerprint(args)
    history, started = [], time.time()
    lock = checkpoint.WorkDirLock(work) if rank == 0 else nullcontext()
    with lock:
        resumed = resume(state_path, key, model, optimiser, scheduler)
        if resumed:
            history, first = resumed
            epochs = range(first, epochs.stop)

        pathways = Pathways(model, method)
        if world > 1:
            pathways = DistributedDataParallel(pathways, find_unused_parameters=True)
        sampler = DistributedSampler(
            train_set, num_replicas=world, rank=rank, shuffle=True, seed=schedule.seed, drop_last=True
        )
        local_batch = schedule.batch_size // world
        train_loader = DataLoader(train_set, batch_size=local_batch, sampler=sampler, drop_last=True)
        test_loader = DataLoader(test_set, batch_size=max(local_batch, 32))
        autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" else nullcontext
        longest = 0.0
        for epoch in epochs:
            tick = time.time()
            seed_epoch(schedule.seed, epoch, rank)
            sampler.set_epoch(epoch)
            train_set.set_epoch(epoch)
            try:
                stats = train_epoch(
                    pathways,
                    method,
                    train_loader,
                    optimiser,
                    device,
                    autocast,
                    on_step=getattr(lock, "refresh", lambda: None),
                )
            except NonFiniteLoss as err:  # stop rather than record a model trained on NaN
                raise InputError(
                    f"{args.data}: epoch {epoch + 1}: {err}; stopping (nothing recorded; "
                    "check the inputs, --init and the learning rates)"
                ) from None
            lr = optimiser.param_groups[0]["lr"]
            scheduler.step()
            if rank == 0:
                top1 = evaluate(model, test_loader, device, autocast)
                row = {
                    "epoch": epoch,
                    **stats.summary(),
                    "test_top1": top1,
                    "lr_backbone": lr,
                    "seconds": stats.seconds,
                }
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
            if epoch + 1 < epochs.stop and time_is_up(args, started, longest):
                log(
                    f"time budget of {args.time_budget_min} min reached after epoch {epoch + 1}: "
                    f"state saved in {state_path}; run again to resume"
                )
                distributed.teardown()
                sys.exit(OUT_OF_TIME)

        if rank == 0:
            checkpoint.save(
                args.out_model,
                {
                    "arch": arch,
                    "identity": identity(args, schedule),
                    "method": asdict(method),
                    **training_state(model, optimiser, scheduler, epochs.stop),
                },
            )
            write_json(args.out_metrics, metrics(args, schedule, arch, method, history, world, device))
            state_path.unlink(missing_ok=True)
    distributed.teardown()


def metrics(args, schedule, arch, method, history, world, device):
    """The model's identity, best and last test top-1, per-epoch history, time and throughput,
    the config used."""
    top1 = [row["test_top1"] for row in history]
    best = int(np.argmax(top1)) if top1 else None
    seconds = sum(row["seconds"] for row in history)
    samples = sum(row["samples_per_s"] * row["seconds"] for row in history)
    return {
        **identity(args, schedule),
        "data": args.data,
        "best_top1": top1[best] if top1 else None,
        "best_epoch": history[best]["epoch"] if top1 else None,
        "last_top1": top1[-1] if top1 else None,
        "history": history,
        "wall_time_s": seconds,
        "samples_per_s": samples / max(seconds, 1e-9) * world,
        "processes": world,
        "device": device.type,
        "config": {"arch": arch, "schedule": json.loads(args.schedule_json), "method": asdict(method)},
    }
