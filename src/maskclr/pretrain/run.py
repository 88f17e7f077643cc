"""``python -m maskclr.pretrain``: self-supervised pretraining of one backbone on a preprocessed HDF5.

Trains the pretrainer of a config entry (``maskclr.pretrain.build_pretrainer``) on the train
part's person-sequences (N·M of them per batch, empty second persons included, as MAMP does)
with MAMP's optimiser: AdamW (β = 0.9, 0.95), no weight decay on biases and 1-D parameters, a
linear warm-up then a half-cosine from ``lr`` to ``min_lr``, set every step. Writes one
checkpoint atomically: ``{"model": state_dict, "meta": {...}}``, which ``maskclr.pretrain.transfer``
loads into a fine-tuned model. Not resumable: the whole run is one job.
"""

import argparse
import json
import math

import numpy as np
import torch
from torch.utils.data import DataLoader

from maskclr.data.dataset import SkeletonDataset
from maskclr.errors import InputError
from maskclr.fileio import atomic_output
from maskclr.models import build_backbone
from maskclr.pretrain import build_pretrainer

# As MAMP's pretrain_mamp_t120_layer8+5_mask90.yaml (lr is its absolute lr at batch 32).
SCHEDULE = {"epochs": 400, "batch_size": 32, "lr": 1e-3, "min_lr": 5e-4, "warmup_epochs": 20, "weight_decay": 0.05}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m maskclr.pretrain", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="preprocessed HDF5 (results/data/...)")
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--backbone-json", required=True, help="backbone size arguments")
    parser.add_argument("--method-json", required=True, help='pretraining entry, e.g. {"method": "mamp"}')
    parser.add_argument("--schedule-json", default="{}", help=f"overrides of {SCHEDULE}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="checkpoint to write")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    return parser.parse_args(argv)


def read_json(text, flag):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{flag}: not JSON: {err}") from err
    if not isinstance(value, dict):
        raise InputError(f"{flag}: expected a JSON object, got {type(value).__name__}")
    return value


def schedule_of(overrides):
    unknown = sorted(set(overrides) - set(SCHEDULE))
    if unknown:
        raise InputError(f"--schedule-json: unknown key '{unknown[0]}' (known: {sorted(SCHEDULE)})")
    return {**SCHEDULE, **overrides}


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
    torch.set_num_threads(args.threads)
    sizes = read_json(args.backbone_json, "--backbone-json")
    entry = read_json(args.method_json, "--method-json")
    schedule = schedule_of(read_json(args.schedule_json, "--schedule-json"))
    data = SkeletonDataset(args.data, "train", seed=args.seed)
    if len(data) < schedule["batch_size"]:
        raise InputError(f"{args.data}: {len(data)} training samples, fewer than one batch of {schedule['batch_size']}")
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
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
