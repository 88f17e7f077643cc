"""``python -m maskclr.pretrain``: self-supervised pretraining of one backbone on a preprocessed HDF5.

Trains the pretrainer of a config entry (``maskclr.pretrain.build_pretrainer``) on the train
part's person-sequences (N·M of them per batch, empty second persons included, as MAMP does)
with MAMP's optimiser: AdamW (β = 0.9, 0.95), no weight decay on biases and 1-D parameters, a
linear warm-up then a half-cosine from ``lr`` to ``min_lr``, set every step. Writes one
checkpoint atomically: ``{"model": state_dict, "meta": {...}}``, which ``maskclr.pretrain.transfer``
loads into a fine-tuned model, and a small metrics JSON (``--out-metrics``: the pretraining's
identity, the mean loss of each epoch, the processes, the wall time and the settings) for the report.
The identity is a trained model's (``maskclr.train.cli.identity``) with stage ``pretrain``, the
pretraining method (e.g. mamp) as its method and ``--pretrain-name`` (the config entry) as its
pretraining: ``maskclr.evaluate.collect`` reads it from the file, as the rule gave it, never from its path.

Runs as ``python -m maskclr.train`` does, with its parts (``maskclr.train.fit``, ``checkpoint``,
``loaders``, ``distributed``): under torchrun every process trains on its DistributedSampler share
of each batch (DDP; bf16 autocast on a GPU) and rank 0 writes. The state after every epoch is kept
in ``--work-dir``; a rerun of the same job resumes from it and ends with the checkpoint and losses
of an uninterrupted run (the masks and the shuffle are drawn per (seed, epoch, rank)). When the
time budget would run out during the next epoch the job saves and exits with status 3; SIGTERM
ends it cleanly, keeping the last epoch's state.

``--schedule-json`` is the complete schedule (``SCHEDULE_KEYS``; the config schema holds the
defaults, MAMP's values, recorded here as ``SCHEDULE``). ``--backbone-json`` holds the backbone's
size arguments, e.g. the native 3D ones (``num_joints`` 25, ``maxlen`` 120): the data may be a 2D
or a native 3D HDF5 (``SkeletonDataset`` items (M, T, J, C); every person-sequence is a sample).
"""

import argparse
import math
import signal
import time

import torch

from maskclr.data.dataset import SkeletonDataset
from maskclr.errors import InputError
from maskclr.fileio import write_json
from maskclr.models import build_backbone
from maskclr.pretrain import build_pretrainer
from maskclr.settings import check_values, exact_object, is_int, is_number, json_object
from maskclr.train import checkpoint, distributed
from maskclr.train.args import add_resume_options
from maskclr.train.distributed import DEVICES, gather
from maskclr.train.fit import (
    begin_epoch,
    exit_if_out_of_time,
    exit_on_sigterm,
    fingerprint,
    log,
    parallel,
    resumable,
    training_state,
)
from maskclr.train.loaders import data_loaders, loader_workers

SCHEDULE_KEYS = ("epochs", "batch_size", "lr", "min_lr", "warmup_epochs", "weight_decay")
# MAMP's pretrain_mamp_t120_layer8+5_mask90.yaml (lr is its absolute lr at batch 32): the config
# schema's defaults, for reference; the command line reads every key from --schedule-json.
SCHEDULE = {"epochs": 400, "batch_size": 32, "lr": 1e-3, "min_lr": 5e-4, "warmup_epochs": 20, "weight_decay": 0.05}
# The arguments the work dir's state depends on (``maskclr.train.fit.fingerprint``): settings, input files.
SETTINGS = ("backbone", "backbone_json", "method_json", "schedule_json", "seed")
INPUTS = ("data",)
STAGE = "pretrain"  # the stage a pretraining's metrics.json records (a trained model's: stage1, stage2)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m maskclr.pretrain", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="preprocessed HDF5 (results/data/...)")
    parser.add_argument("--dataset", required=True, help="the dataset's name (recorded, with the split)")
    parser.add_argument("--split", required=True, help="the evaluation protocol the data is split by")
    parser.add_argument("--pretrain-name", required=True, help="the pretraining entry's name (recorded)")
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--backbone-json", required=True, help="backbone size arguments")
    parser.add_argument("--method-json", required=True, help='pretraining entry, e.g. {"method": "mamp"}')
    parser.add_argument("--schedule-json", required=True, help=f"the schedule: {', '.join(SCHEDULE_KEYS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="checkpoint to write")
    parser.add_argument("--out-metrics", required=True, help="metrics JSON to write (settings, losses, wall time)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per process")
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="cuda: stop if no GPU is usable; auto: the GPU if there is one",
    )
    add_resume_options(parser)
    return parser.parse_args(argv)


def schedule_settings(text, flag="--schedule-json"):
    """The complete pretraining schedule given to ``flag``: exactly ``SCHEDULE_KEYS``, checked."""
    schedule = exact_object(text, flag, SCHEDULE_KEYS)
    checks = {
        "epochs": is_int(schedule["epochs"]) and schedule["epochs"] >= 1,
        "batch_size": is_int(schedule["batch_size"]) and schedule["batch_size"] >= 1,
        "lr": is_number(schedule["lr"]) and schedule["lr"] > 0,
        "min_lr": is_number(schedule["min_lr"]) and 0 <= schedule["min_lr"],
        "warmup_epochs": is_number(schedule["warmup_epochs"]) and schedule["warmup_epochs"] >= 0,
        "weight_decay": is_number(schedule["weight_decay"]) and schedule["weight_decay"] >= 0,
    }
    return check_values(schedule, checks, flag)


def lr_at(epoch, schedule):
    """Learning rate at fractional ``epoch``: linear warm-up from 0, then half-cosine to ``min_lr`` (MAMP)."""
    lr, min_lr, warmup, epochs = (schedule[k] for k in ("lr", "min_lr", "warmup_epochs", "epochs"))
    if epoch < warmup:
        return lr * epoch / warmup
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * (epoch - warmup) / (epochs - warmup)))


def optimizer_of(model, weight_decay):
    """AdamW with weight decay on ≥ 2-D weights only (timm's add_weight_decay, as MAMP)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim > 1], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, betas=(0.9, 0.95))


def pretrain_epoch(model, loader, optimizer, schedule, epoch, device, autocast, on_step=lambda: None):
    """One pass over ``loader`` (batches x (N, M, T, J, C) → N·M person-sequences; ``model``
    possibly DDP-wrapped), the learning rate set every step; the sum of this process's step losses."""
    total = 0.0
    for step, (x, _) in enumerate(loader):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(epoch + step / len(loader), schedule)
        with autocast():
            loss = model(x.flatten(0, 1).to(device, non_blocking=True))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"epoch {epoch}, step {step}: pretraining loss is {loss.item()}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item()
        on_step()
    return total


class LossOnly(torch.nn.Module):
    """The pretrainer's loss alone: the one tensor DDP looks for unused parameters from.
    Masks draw from torch's stream, which ``seed_epoch`` reseeds per (seed, epoch, rank)."""

    def __init__(self, pretrainer):
        super().__init__()
        self.pretrainer = pretrainer

    def forward(self, x):
        return self.pretrainer(x).loss


def run_epochs(args, model, optimizer, schedule, loaders, epochs, history, job):
    """Pretrain ``epochs`` (a range), each followed by a history row (epoch, mean loss, seconds),
    the state in the work dir (rank 0) and the time-budget check (``maskclr.train.fit``); returns
    the history. ``job``: (device, rank, world, lock, state path, fingerprint, start time)."""
    device, rank, world, lock, state_path, key, started = job
    sampler, loader, _ = loaders
    net, autocast = parallel(LossOnly(model), world, device)
    longest = 0.0
    for epoch in epochs:
        tick = time.time()
        begin_epoch(args.seed, epoch, rank, sampler, loader)
        net.train()
        total = pretrain_epoch(
            net, loader, optimizer, schedule, epoch, device, autocast, getattr(lock, "refresh", lambda: None)
        )
        # every process ran as many steps: the mean over processes is the global batch's mean
        loss = gather(torch.tensor([total / len(loader)], dtype=torch.float64, device=device)).mean().item()
        history.append({"epoch": epoch, "loss": loss, "seconds": time.time() - tick})
        if rank == 0:
            state = training_state(model, optimizer, None, epoch + 1)
            checkpoint.save(state_path, {"fingerprint": key, "history": history, **state})
            log(f"epoch {epoch + 1}/{epochs.stop} loss {loss:.4g}")
        distributed.barrier()
        longest = max(longest, time.time() - tick)
        exit_if_out_of_time(args, started, longest, epoch, epochs, state_path)
    return history


def identity(args, entry):
    """What the pretraining is, as results/metrics.csv names it: the identity keys of a trained
    model's metrics.json, with the pretraining method as its method and stage "pretrain"."""
    return {
        "dataset": args.dataset,
        "split": args.split,
        "backbone": args.backbone,
        "method": entry["method"],
        "stage": STAGE,
        "seed": args.seed,
        "pretrain": args.pretrain_name,
    }


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    started = time.time()
    sizes = json_object(args.backbone_json, "--backbone-json")
    entry = json_object(args.method_json, "--method-json")
    schedule = schedule_settings(args.schedule_json)
    rank, world, device = distributed.setup(args.device)
    torch.set_num_threads(args.threads)
    if schedule["batch_size"] % world:
        raise InputError(
            f"--schedule-json: key 'batch_size': {schedule['batch_size']} is not divisible by {world} processes"
        )
    data = SkeletonDataset(args.data, "train", seed=args.seed)
    if len(data) < schedule["batch_size"]:
        raise InputError(f"{args.data}: {len(data)} training samples, fewer than one batch of {schedule['batch_size']}")
    torch.manual_seed(args.seed)  # the same initial weights in every process and every run
    model = build_pretrainer("--method-json", entry, args.backbone, build_backbone(args.backbone, **sizes)).to(device)
    optimizer = optimizer_of(model, schedule["weight_decay"])
    key = fingerprint(args, SETTINGS, INPUTS)
    with resumable(args.work_dir, key, rank, model, optimizer, None, range(schedule["epochs"])) as held:
        loaders = data_loaders(
            data, None, schedule["batch_size"], world, rank, args.seed, loader_workers(device), device.type == "cuda"
        )
        job = (device, rank, world, held.lock, held.state_path, key, started)
        history = run_epochs(args, model, optimizer, schedule, loaders, held.epochs, held.history, job)
        if rank == 0:
            losses = [row["loss"] for row in history]
            meta = {"backbone": args.backbone, "sizes": sizes, "method": entry, "schedule": schedule, "losses": losses}
            checkpoint.save(args.out, {"model": model.state_dict(), "meta": meta})
            # the epochs' time over every attempt of the job, as the trainer's metrics
            wall = sum(row["seconds"] for row in history)
            settings = {"sizes": sizes, "method": entry, "schedule": schedule}
            record = {"losses": losses, "processes": world, "wall_time_s": wall, "config": settings}
            write_json(args.out_metrics, {**identity(args, entry), **record})
            held.state_path.unlink(missing_ok=True)
    distributed.teardown()
