"""``python -m maskclr.pretrain``: self-supervised pretraining of one backbone on a preprocessed HDF5.

Trains the pretrainer of a config entry (``maskclr.pretrain.build_pretrainer``) on the train
part's person-sequences (N·M of them per batch, empty second persons included, as MAMP does)
with MAMP's optimiser: AdamW (β = 0.9, 0.95), no weight decay on biases and 1-D parameters, a
linear warm-up then a half-cosine from ``lr`` to ``min_lr``, set every step. Writes one
checkpoint atomically: ``{"model": state_dict, "meta": {...}}``, which ``maskclr.pretrain.transfer``
loads into a fine-tuned model, and a small metrics JSON (``--out-metrics``: the settings, the
mean loss of each epoch and the wall time) for the report. Not resumable: the whole run is one job.

``--schedule-json`` is the complete schedule (``SCHEDULE_KEYS``; the config schema holds the
defaults, MAMP's values, recorded here as ``SCHEDULE``). ``--backbone-json`` holds the backbone's
size arguments, e.g. the native 3D ones (``num_joints`` 25, ``maxlen`` 120): the data may be a 2D
or a native 3D HDF5 (``SkeletonDataset`` items (M, T, J, C); every person-sequence is a sample).
"""

import argparse
import math
import time

import numpy as np
import torch
from torch.utils.data import DataLoader

from maskclr.data.dataset import SkeletonDataset
from maskclr.errors import InputError
from maskclr.fileio import atomic_output, write_json
from maskclr.models import build_backbone
from maskclr.pretrain import build_pretrainer
from maskclr.settings import check_values, exact_object, is_int, is_number, json_object
from maskclr.train.distributed import DEVICES, pick_device

SCHEDULE_KEYS = ("epochs", "batch_size", "lr", "min_lr", "warmup_epochs", "weight_decay")
# MAMP's pretrain_mamp_t120_layer8+5_mask90.yaml (lr is its absolute lr at batch 32): the config
# schema's defaults, for reference; the command line reads every key from --schedule-json.
SCHEDULE = {"epochs": 400, "batch_size": 32, "lr": 1e-3, "min_lr": 5e-4, "warmup_epochs": 20, "weight_decay": 0.05}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m maskclr.pretrain", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="preprocessed HDF5 (results/data/...)")
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--backbone-json", required=True, help="backbone size arguments")
    parser.add_argument("--method-json", required=True, help='pretraining entry, e.g. {"method": "mamp"}')
    parser.add_argument("--schedule-json", required=True, help=f"the schedule: {', '.join(SCHEDULE_KEYS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="checkpoint to write")
    parser.add_argument("--out-metrics", required=True, help="metrics JSON to write (settings, losses, wall time)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads")
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="cuda: stop if no GPU is usable; auto: the GPU if there is one",
    )
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


def train(model, loader, schedule, device, generator):
    """Pretrain ``model`` for ``schedule['epochs']``; the mean loss of each epoch."""
    optimizer = optimizer_of(model, schedule["weight_decay"])
    losses = []
    for epoch in range(schedule["epochs"]):
        loader.dataset.set_epoch(epoch)
        total = 0.0
        for step, (x, _) in enumerate(loader):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(epoch + step / len(loader), schedule)
            loss = model(x.flatten(0, 1).to(device), generator=generator).loss
            if not torch.isfinite(loss):
                raise FloatingPointError(f"epoch {epoch}, step {step}: pretraining loss is {loss.item()}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total / len(loader))
    return losses


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    sizes = json_object(args.backbone_json, "--backbone-json")
    entry = json_object(args.method_json, "--method-json")
    schedule = schedule_settings(args.schedule_json)
    data = SkeletonDataset(args.data, "train", seed=args.seed)
    if len(data) < schedule["batch_size"]:
        raise InputError(f"{args.data}: {len(data)} training samples, fewer than one batch of {schedule['batch_size']}")
    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    model = build_pretrainer("--method-json", entry, args.backbone, build_backbone(args.backbone, **sizes)).to(device)
    # Masks are drawn from their own stream, so they do not shift with the weights' initialisation.
    generator = torch.Generator(device).manual_seed(int(np.random.SeedSequence([args.seed, 1]).generate_state(1)[0]))
    loader = DataLoader(
        data,
        batch_size=schedule["batch_size"],
        shuffle=True,
        drop_last=True,
        generator=torch.Generator().manual_seed(args.seed),
    )
    losses = train(model.train(), loader, schedule, device, generator)
    meta = {"backbone": args.backbone, "sizes": sizes, "method": entry, "schedule": schedule, "losses": losses}
    with atomic_output(args.out) as tmp:
        torch.save({"model": model.state_dict(), "meta": meta}, tmp)
    write_json(args.out_metrics, {**meta, "seed": args.seed, "wall_time_s": time.perf_counter() - started})
