"""``python -m maskclr.train``: one training stage of one model, resumable, DDP under torchrun.

Stage 1 trains the standard pathway with CE for ``epochs_stage1`` epochs, from scratch, from a
published checkpoint (``--pretrained``) or from self-supervised pretraining (``--pretrain``, whose
entry name the model's identity records as ``pretrain``, "none" otherwise). Stage 2 starts from
the stage-1 ``model.pt`` (weights, optimiser and scheduler, so the learning-rate decay goes on)
and trains ``epochs_stage2`` more epochs with the given method; its identity inherits that
model's ``pretrain``. Every epoch ends with a checkpoint in ``--work-dir`` (every
``test_every``-th and the stage's last first with an evaluation on the test split); a rerun of
the same job resumes from it and ends with the metrics an uninterrupted run would have produced.
When the time budget would run out during the next epoch, the job saves and exits with status 3, so the
scheduler's retry resumes it. SIGTERM (SLURM's time limit, before SIGKILL) ends the job cleanly
at once: the lock is released and the last epoch's checkpoint is kept for the retry.

This module wires the parts: ``args`` (the command line), ``build`` (architecture record →
model, optimiser, scheduler; shared with evaluate and predict), ``loaders`` and ``fit`` (resume,
epochs, time budget); it writes the model.pt and metrics.json.
"""

import json
import signal
import time
from dataclasses import asdict

import numpy as np
import torch

from maskclr.data.dataset import SkeletonDataset
from maskclr.errors import InputError
from maskclr.fileio import atomic_output
from maskclr.pretrain import transfer
from maskclr.settings import json_settings
from maskclr.train import checkpoint, distributed
from maskclr.train.args import parse_args
from maskclr.train.build import architecture, build_model, build_optimiser, load_pretrained
from maskclr.train.fit import Run, exit_on_sigterm, fingerprint, load_init, log, resumable, run_epochs, training_state
from maskclr.train.loaders import data_loaders, loader_workers
from maskclr.train.settings import CROSS_ENTROPY, Method, Schedule


def write_json(path, payload):
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=1) + "\n")


def stage_method(args):
    """What this stage trains: cross-entropy in stage 1, the ``--method-json`` in stage 2."""
    if args.stage == "stage1":
        if args.method_json is not None:
            raise InputError("--method-json: stage 1 trains cross-entropy only; a method is for stage 2")
        return CROSS_ENTROPY
    if args.method_json is None:
        raise InputError("--method-json: stage 2 needs the method to train")
    return json_settings(Method, args.method_json, "--method-json")


def identity(args, schedule, pretrain):
    """What the model is, as results/metrics.csv names it: recorded in model.pt and metrics.json
    (the evaluation copies it from model.pt), so that no reader has to parse paths. ``pretrain``:
    the self-supervised pretraining (config entry) stage 1 started from, "none" for none."""
    return {
        "dataset": args.dataset,
        "split": args.split,
        "backbone": args.backbone,
        "method": args.method,
        "stage": args.stage,
        "seed": schedule.seed,
        "pretrain": pretrain,
    }


def start_from_pretraining(model, args):
    """Stage 1 from a ``python -m maskclr.pretrain`` checkpoint (``--pretrain``): every encoder
    weight loaded; the weights that stay new (the head, perhaps the mask token) are logged."""
    new = transfer.load_pretrained(model, transfer.read_pretrained(args.pretrain), args.pretrain)
    log(f"--pretrain {args.pretrain} ({args.pretrain_name}): backbone loaded; new: {', '.join(new) or 'nothing'}")


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
    arch = architecture(args, train_set.x.shape, train_set.num_classes, schedule, train_set.attrs)
    torch.manual_seed(schedule.seed)  # the same initial weights in every process and every run
    model = build_model(arch).to(device)
    optimiser, scheduler = build_optimiser(model, schedule, args.backbone)
    epochs, pretrain = range(0, schedule.epochs_stage1), args.pretrain_name or "none"
    if args.stage == "stage2":
        if not args.init:
            raise InputError("--init: stage 2 needs the stage-1 model.pt")
        if schedule.epochs_stage2 is None:
            raise InputError("--schedule-json: stage 2 needs key 'epochs_stage2'")
        first, pretrain = load_init(args.init, arch, model, optimiser, scheduler)
        epochs = range(first, first + schedule.epochs_stage2)
    elif args.pretrained:
        load_pretrained(model.backbone, args.pretrained, args.backbone)
    elif args.pretrain:
        start_from_pretraining(model, args)

    key, started = fingerprint(args), time.time()
    with resumable(args.work_dir, key, rank, model, optimiser, scheduler, epochs) as job:
        loaders = data_loaders(
            train_set,
            test_set,
            schedule.batch_size,
            world,
            rank,
            schedule.seed,
            workers=loader_workers(device),
            pin_memory=device.type == "cuda",
        )
        run = Run(
            args,
            model,
            optimiser,
            scheduler,
            method,
            schedule.seed,
            schedule.label_smoothing,
            schedule.test_every,
            device,
            rank,
            world,
            started,
        )
        history = run_epochs(run, loaders, job.epochs, job.history, job.lock, job.state_path, key)

        if rank == 0:
            checkpoint.save(
                args.out_model,
                {
                    "arch": arch,
                    "identity": identity(args, schedule, pretrain),
                    "method": asdict(method),
                    **training_state(model, optimiser, scheduler, epochs.stop),
                },
            )
            write_json(args.out_metrics, metrics(args, schedule, pretrain, arch, method, history, world, device))
            job.state_path.unlink(missing_ok=True)
    distributed.teardown()


def metrics(args, schedule, pretrain, arch, method, history, world, device):
    """The model's identity, best and last test top-1, per-epoch history, time and throughput,
    the config used."""
    tested = [row for row in history if "test_top1" in row]
    top1 = [row["test_top1"] for row in tested]
    best = int(np.argmax(top1)) if top1 else None
    seconds = sum(row["seconds"] for row in history)
    samples = sum(row["samples_per_s"] * row["seconds"] for row in history)
    return {
        **identity(args, schedule, pretrain),
        "data": args.data,
        "best_top1": top1[best] if top1 else None,
        "best_epoch": tested[best]["epoch"] if top1 else None,
        "last_top1": top1[-1] if top1 else None,
        "history": history,
        "wall_time_s": seconds,
        "samples_per_s": samples / max(seconds, 1e-9) * world,
        "processes": world,
        "device": device.type,
        "config": {"arch": arch, "schedule": json.loads(args.schedule_json), "method": asdict(method)},
    }
