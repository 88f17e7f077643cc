"""GPU check: proves the training, evaluation and pose paths on one GPU and measures what the plan needs.

    PYTHONPATH=src python3 benchmarks/gpu_check.py --out gpu_check.json        # one CUDA GPU, <= 8 min
    PYTHONPATH=src python3 benchmarks/gpu_check.py --smoke --out smoke.json    # CPU, tiny sizes, seconds

Needs python3 with torch, numpy and h5py only (no Snakemake, no network). Writes JSON to --out
and prints a readable summary. Sections, each fault-isolated (a failure is recorded as its
"error" and the others still run) under one time guard (what would overrun --budget-s is
recorded as "skipped"):

- device: GPU name, torch and CUDA versions, the bf16 peak MFU is taken against (a table of
  known GPUs, else a large bf16 matmul measured here);
- steps: training steps of each backbone at paper size (docs/method.md §3.1, §6: T = 243, batch 32
  × 2 persons), stage 1 (CE) and stage 2 (AGPM, both pathways, L_sc, L_cc), bf16 autocast and
  fp32: step time, samples/s, TFLOP/s (FlopCounterMode), MFU, peak memory; also bf16 at the
  per-GPU batch of an 8-GPU job (32 / 8) and the eval forwards (the trainer's test pass:
  bf16, batch 32; ``python -m maskclr.evaluate``: fp32, batch 256), which ``python -m
  maskclr.plan`` reads; and the stage-2 / stage-1 time ratios. A batch of 32 may not fit one
  GPU's memory (the paper splits it over 8): such a row records the error, the others still run;
- attention: the stage-1 bf16 step at the per-GPU batch with SDPA forced against explicit
  softmax(QKᵀ/√d)V;
- ddp: one DDP step under ``torchrun --nproc-per-node=1`` in a process group (nccl on GPU,
  gloo on CPU): the trainer creates none for a single process, so this exercises the backend;
- trainer: ``python -m maskclr.train`` under torchrun on a synthetic HDF5 written here: stage
  1 uninterrupted; the same cut by its time budget after one epoch (exit 3) and run again
  (resumed history equal to the uninterrupted one?); stage 2 (MaskCLR) from stage 1;
- evaluate: ``python -m maskclr.evaluate`` over the synthetic test set, and the test-time
  preprocessing rate at T = 243;
- poses: ViTPose-B and HRNet-W32 (random weights) frames/s on 1080p frames through the
  top-down pipeline (two fixed person boxes per frame), and the Faster R-CNN detector's
  frames/s where torchvision imports.

Exit status 0 when every section passed, 1 otherwise (the JSON says which and why).
"""

import argparse
import csv
import dataclasses
import datetime
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from maskclr.data import preprocess, synthetic
from maskclr.data.pyskl import load_pyskl, split_members
from maskclr.errors import InputError
from maskclr.evaluate.run import model_inputs
from maskclr.fileio import dump_pickle
from maskclr.models.attention import explicit_attention, fused_attention
from maskclr.plan.cost import (
    ATTENTION_BACKBONES,
    JOINTS,
    MASKCLR,
    PAPER_BACKBONES,
    PAPER_BATCH,
    PAPER_FRAMES,
    PERSONS,
    STAGE1,
    STAGES,
    TRAIN_GPUS,
    autocast_for,
    gpu_peak,
    make_step,
    matmul_flops_per_s,
    paper_model,
    seconds_per_step,
    step_flops,
)
from maskclr.poses.base import build_estimator
from maskclr.poses.detector import PersonDetector, build_detector
from maskclr.poses.extract import ESTIMATORS
from maskclr.train.fit import OUT_OF_TIME
from maskclr.train.loop import Pathways, step_losses

REPO = Path(__file__).resolve().parents[1]
SCHEMA = 1
NUM_CLASSES = 60
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=1"]
GRID = {
    "seed": 0,
    "noise_sigmas": [0, 0.005],
    "parts": ["head"],
    "joint_fractions": [0.3],
    "frames_noise": {"fraction": 0.5, "sigma": 0.002},
}


@dataclass(frozen=True)
class Sizes:
    """What one run measures: the paper's sizes on a GPU, tiny ones for --smoke on CPU."""

    backbones: dict  # name → size arguments of the timed models
    frames: int  # T of the timed steps
    batch: int  # global batch of a training step
    eval_batch: int  # batch of python -m maskclr.evaluate on this device
    steps: int  # timed steps per measurement, after one warm-up
    matmul: int  # side of the reference matmul
    trainer: dict  # DSTFormer sizes of the trainer runs
    data: dict  # synthetic.generate arguments of the trainer's dataset
    data_frames: int  # T of the trainer's HDF5
    epochs: int  # stage-1 epochs of the trainer runs
    pose_arch: dict  # architecture overrides of the pose networks (none: the real ones)
    frame_shape: tuple  # (H, W) of the pose frames
    pose_frames: int
    detector_size: tuple | None  # (min, max) input side of the detector; None: torchvision's 800/1333
    budget_s: float  # the time guard's default

    @property
    def local_batch(self):
        """The per-GPU batch of an 8-GPU training job."""
        return max(self.batch // TRAIN_GPUS, 2)  # BatchNorm needs 2


GPU = Sizes(
    backbones=PAPER_BACKBONES,
    frames=PAPER_FRAMES,
    batch=PAPER_BATCH,
    eval_batch=256,
    steps=3,
    matmul=8192,
    trainer={"dim_feat": 64, "dim_rep": 64, "depth": 2, "num_heads": 4, "mlp_ratio": 2, "maxlen": PAPER_FRAMES},
    data={"subjects": 8, "replications": 1, "cameras": 3},
    data_frames=PAPER_FRAMES,
    epochs=3,
    pose_arch={"vitpose": {}, "hrnet": {}},
    frame_shape=(1080, 1920),
    pose_frames=64,
    detector_size=None,
    budget_s=450,
)
SMOKE = Sizes(
    backbones={
        "dstformer": {"dim_feat": 16, "dim_rep": 16, "depth": 1, "num_heads": 2, "mlp_ratio": 2, "maxlen": 9},
        "sttformer": {"num_frames": 9, "len_parts": 3, "num_heads": 1, "config": [[8, 8, 4], [8, 16, 4]]},
        "transformer": {"dim": 16, "depth": 1, "num_heads": 2, "mlp_ratio": 2, "maxlen": 9, "t_patch": 3},
    },
    frames=9,
    batch=4,
    eval_batch=8,
    steps=1,
    matmul=256,
    trainer={"dim_feat": 8, "dim_rep": 8, "depth": 1, "num_heads": 2, "mlp_ratio": 2, "maxlen": 9},
    data={"subjects": 3, "replications": 1, "cameras": 1, "min_frames": 10, "max_frames": 20},
    data_frames=9,
    epochs=3,
    pose_arch={"vitpose": {"depth": 1, "embed_dim": 32, "num_heads": 2}, "hrnet": {"width": 4}},
    frame_shape=(108, 192),
    pose_frames=1,
    detector_size=(64, 128),
    budget_s=240,
)


class OutOfTime(Exception):
    """The time guard: this part would run past the section's or the whole check's deadline."""


@dataclass
class Context:
    sizes: Sizes
    device: torch.device
    work: Path
    end: float  # time.monotonic() at which the whole check must be done
    deadline: float = 0.0  # the running section's
    peak_tflops: float | None = None  # bf16 peak for MFU, set by the device section

    def left(self):
        return self.deadline - time.monotonic()

    def check_time(self, what):
        if self.left() <= 0:
            raise OutOfTime(f"time guard: {what} not started")


def free_memory(device):
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device):
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def trainer_precision(device):
    """The trainer's precision: bf16 autocast on GPUs, fp32 on CPU."""
    return "bf16" if device.type == "cuda" else "fp32"


def device_section(ctx):
    """Device, versions and the bf16 peak that MFU is taken against."""
    measured = matmul_flops_per_s(ctx.device, torch.bfloat16, ctx.sizes.matmul, repeats=10) / 1e12
    info = {
        "device": ctx.device.type,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cpus": os.cpu_count(),
        "matmul_bf16_tflops": measured,
        "name": "cpu",
    }
    if ctx.device.type == "cuda":
        props = torch.cuda.get_device_properties(ctx.device)
        info.update(
            name=props.name,
            memory_gib=props.total_memory / 2**30,
            capability=f"{props.major}.{props.minor}",
            bf16_supported=torch.cuda.is_bf16_supported(),
        )
    entry = gpu_peak(info["name"]) if ctx.device.type == "cuda" else None
    ctx.peak_tflops = entry[1] if entry else measured
    info.update(peak_bf16_tflops=ctx.peak_tflops, peak_source=f"table: {entry[0]}" if entry else "measured matmul")
    return info


def training_step(ctx, model, method, precision, batch):
    """A training step of ``method`` on random inputs (batch, 2, T, 17, 3), as a callable."""
    x = torch.randn(batch, PERSONS, ctx.sizes.frames, JOINTS, 3, device=ctx.device)
    y = torch.randint(0, NUM_CLASSES, (batch,), device=ctx.device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)
    return make_step(model, method, x, y, optimiser, autocast_for(precision, ctx.device))


def eval_forward(ctx, model, precision, batch):
    """An eval-mode forward of random inputs (batch, 2, T, 17, 3), as a callable."""
    x = torch.randn(batch, PERSONS, ctx.sizes.frames, JOINTS, 3, device=ctx.device)
    autocast = autocast_for(precision, ctx.device)

    def forward():
        with torch.no_grad(), autocast():
            model(x)

    return forward


def measure(ctx, model, stage, precision, batch, flops):
    """Seconds, samples/s, TFLOP/s, MFU and peak memory of one step kind; ``flops`` its count."""
    free_memory(ctx.device)
    if stage == "eval":
        model.eval()
        step = eval_forward(ctx, model, precision, batch)
    else:
        step = training_step(ctx, model, STAGES[stage], precision, batch)
    try:
        seconds = seconds_per_step(step, ctx.sizes.steps, ctx.device)
    finally:
        model.train()
    tflops = flops / seconds / 1e12
    return {
        "step_s": seconds,
        "samples_per_s": batch / seconds,
        "tflop_per_step": flops / 1e12,
        "tflops": tflops,
        "mfu": tflops / ctx.peak_tflops if ctx.peak_tflops else None,
        "peak_memory_gib": peak_memory_gib(ctx.device),
    }


def step_kinds(sizes):
    """(stage, precision, batch) of every measured step of one backbone."""
    return [(stage, precision, sizes.batch) for precision in ("bf16", "fp32") for stage in ("stage1", "stage2")] + [
        ("stage1", "bf16", sizes.local_batch),
        ("stage2", "bf16", sizes.local_batch),
        ("eval", "bf16", sizes.batch),
        ("eval", "fp32", sizes.eval_batch),
    ]


def guarded_row(ctx, row, measure_row):
    """``row`` with what ``measure_row()`` returns, or with why not (the time guard, out of memory,
    a missing kernel), so that the other rows still run."""
    if ctx.left() <= 0:
        return {**row, "skipped": "time guard"}
    try:
        return {**row, **measure_row()}
    except RuntimeError as err:
        error = f"{type(err).__name__}: {err}"[:500]
    free_memory(ctx.device)  # here, once the exception no longer holds the step's tensors
    return {**row, "error": error}


def steps_section(ctx):
    """Every step kind of every backbone, each in its row."""
    rows = []
    for backbone, sizes in ctx.sizes.backbones.items():
        model = paper_model(backbone, sizes, NUM_CLASSES).to(ctx.device)
        flops = {}  # (stage, batch) → FLOPs, the same in bf16 and fp32

        def counted(stage, batch):
            if (stage, batch) not in flops:
                flops[stage, batch] = step_flops(model, STAGES[stage], batch, ctx.sizes.frames, stage != "eval")
            return flops[stage, batch]

        for stage, precision, batch in step_kinds(ctx.sizes):
            row = {
                "backbone": backbone,
                "sizes": sizes,
                "frames": ctx.sizes.frames,
                "persons": PERSONS,
                "stage": stage,
                "precision": precision,
                "batch": batch,
            }
            rows.append(
                guarded_row(ctx, row, lambda: measure(ctx, model, stage, precision, batch, counted(stage, batch)))
            )
        model = None  # frees its memory before the next backbone's (the closures above hold it)
        free_memory(ctx.device)
    # The paper's jobs run the per-GPU batch and the eval batches (what the planner reads); a
    # whole batch of 32 on one GPU may not fit in memory, which is a finding, not a failure.
    needed = [row for row in rows if row["stage"] == "eval" or row["batch"] == ctx.sizes.local_batch]
    return {
        "rows": rows,
        "stage2_over_stage1": stage_ratios(rows),
        "checks": {
            "job_steps_measured": all("step_s" in row for row in needed),
            "failures_out_of_memory_only": all("OutOfMemoryError" in row["error"] for row in rows if "error" in row),
        },
    }


def stage_ratios(rows):
    """Stage-2 / stage-1 step time per 'backbone/precision/batch N'."""
    times = {(r["backbone"], r["precision"], r["batch"], r["stage"]): r["step_s"] for r in rows if "step_s" in r}
    return {
        f"{b}/{p}/batch {n}": times[b, p, n, "stage2"] / t
        for (b, p, n, stage), t in times.items()
        if stage == "stage1" and (b, p, n, "stage2") in times
    }


def attention_times(ctx, model):
    """Stage-1 bf16 step seconds at the per-GPU batch with SDPA forced and with explicit attention."""
    step = training_step(ctx, model, STAGE1, "bf16", ctx.sizes.local_batch)
    times = {}
    for name, force in (("sdpa", fused_attention), ("explicit", explicit_attention)):
        with force():
            times[name] = seconds_per_step(step, ctx.sizes.steps, ctx.device)
    return {
        "sdpa_step_s": times["sdpa"],
        "explicit_step_s": times["explicit"],
        "sdpa_over_explicit": times["sdpa"] / times["explicit"],
    }


def attention_section(ctx):
    """SDPA against explicit softmax(QKᵀ/√d)V in the backbones that attend through ``attend``."""
    rows = []
    for backbone in ATTENTION_BACKBONES:
        model = paper_model(backbone, ctx.sizes.backbones[backbone], NUM_CLASSES).to(ctx.device)
        row = {"backbone": backbone, "precision": "bf16", "batch": ctx.sizes.local_batch}
        rows.append(guarded_row(ctx, row, lambda: attention_times(ctx, model)))
        model = None  # frees its memory before the next backbone's (the closures above hold it)
        free_memory(ctx.device)
    return {"rows": rows, "checks": {"all_rows_measured": all("sdpa_step_s" in row for row in rows)}}


def run_command(ctx, args):
    """Run ``args`` with the package importable, within the section's time; (CompletedProcess, seconds)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    ctx.check_time(" ".join(map(str, args[:6])))
    start = time.monotonic()
    result = subprocess.run(list(map(str, args)), env=env, capture_output=True, text=True, timeout=ctx.left())
    return result, time.monotonic() - start


def ddp_worker(out, sizes):
    """The torchrun worker of the ddp section: one MaskCLR DDP step in a process group of one."""
    device = torch.device("cuda", int(os.environ["LOCAL_RANK"])) if torch.cuda.is_available() else torch.device("cpu")
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend)
    torch.manual_seed(0)
    model = paper_model("dstformer", sizes.trainer, NUM_CLASSES).to(device)
    pathways = DistributedDataParallel(Pathways(model, MASKCLR), find_unused_parameters=True)
    x = torch.randn(sizes.batch, PERSONS, sizes.data_frames, JOINTS, 3, device=device)
    y = torch.arange(sizes.batch, device=device) % 3
    with autocast_for(trainer_precision(device), device)():
        loss, terms, _ = step_losses(pathways, MASKCLR, x, y)
    loss.backward()
    reduced = loss.detach().float().clone()
    dist.all_reduce(reduced)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    payload = {
        "backend": backend,
        "world": dist.get_world_size(),
        "loss": float(loss),
        "all_reduce": float(reduced),
        "terms": {k: float(v) for k, v in terms.items()},
        "grads": len(grads),
        "grads_finite": all(bool(torch.isfinite(g).all()) for g in grads),
    }
    dist.destroy_process_group()
    Path(out).write_text(json.dumps(payload))


def ddp_section(ctx):
    """One DDP step under torchrun with nccl (GPU) or gloo (CPU)."""
    out = ctx.work / "ddp.json"
    smoke = ["--smoke"] if ctx.sizes is SMOKE else []
    result, seconds = run_command(ctx, [*TORCHRUN, __file__, "--ddp-worker", out, *smoke])
    if result.returncode:
        raise RuntimeError(f"torchrun exited {result.returncode}: {result.stderr[-1500:]}")
    payload = json.loads(out.read_text())
    finite = all(math.isfinite(v) for v in [payload["loss"], *payload["terms"].values()])
    checks = {
        "backend": payload["backend"] == ("nccl" if ctx.device.type == "cuda" else "gloo"),
        "losses_finite": finite and payload["grads_finite"],
        "all_reduce": payload["all_reduce"] == payload["loss"],
    }
    return {**payload, "seconds_torchrun": seconds, "checks": checks}


def synthetic_data(folder, sizes):
    """The project's synthetic PYSKL poses and their preprocessed xsub HDF5: (h5 path, poses path)."""
    folder.mkdir(parents=True, exist_ok=True)
    poses, h5 = folder / "poses.pkl", folder / "xsub.h5"
    if not h5.exists():
        dump_pickle(synthetic.generate(seed=0, **sizes.data), poses)
        preprocess.main(
            [
                "--poses",
                str(poses),
                "--split",
                "xsub",
                "--out",
                str(h5),
                "--preprocess-json",
                json.dumps({"n_frames": sizes.data_frames, "score_channel": "motionbert", "max_persons": 2, "seed": 0}),
                "--num-classes",
                str(len(synthetic.CLASS_NAMES)),
            ]
        )
    return h5, poses


def train(ctx, data, folder, stage, init=None, cut=False):
    """``python -m maskclr.train`` under torchrun; ``cut``: a time budget that ends it after one epoch."""
    schedule = {
        "batch_size": 8 if ctx.sizes is SMOKE else 16,
        "epochs_stage1": ctx.sizes.epochs,
        "epochs_stage2": 2,
        "optimizer": "adamw",
        "lr_backbone": 1e-3,
        "lr_head": 1e-3,
        "weight_decay": 0.01,
        "layer_decay": 1.0,
        "lr_decay": 0.99,
        "lr_schedule": "exponential",
        "warmup_epochs": 0,
        "label_smoothing": 0.0,
        "head": "mlp",
        "head_hidden": 64,
        "head_dropout": 0.5,
        "seed": 0,
        "test_every": 2,
    }
    args = [
        *TORCHRUN,
        "-m",
        "maskclr.train",
        "--data",
        data,
        "--stage",
        stage,
        "--dataset",
        "synth",
        "--split",
        "xsub",
        "--method",
        "stage1" if stage == "stage1" else "maskclr",
        "--backbone",
        "dstformer",
        "--backbone-json",
        json.dumps(ctx.sizes.trainer),
        "--schedule-json",
        json.dumps(schedule),
        "--work-dir",
        folder / "work",
        "--out-model",
        folder / "model.pt",
        "--out-metrics",
        folder / "metrics.json",
    ]
    args += ["--init", init, "--method-json", json.dumps(dataclasses.asdict(MASKCLR))] if init else []
    args += ["--time-budget-min", "1e-6", "--time-margin-min", "0"] if cut else []
    result, seconds = run_command(ctx, args)
    return {"exit": result.returncode, "seconds": seconds, "stderr_tail": result.stderr[-3000:]}


def history(folder):
    """The per-epoch rows of a run's metrics.json without the timings (they differ between runs)."""
    rows = json.loads((folder / "metrics.json").read_text())["history"]
    return [{k: v for k, v in row.items() if k not in ("seconds", "samples_per_s")} for row in rows]


def trainer_section(ctx):
    """Stage 1 uninterrupted, cut after one epoch and resumed, then stage 2 from it."""
    data, _ = synthetic_data(ctx.work / "data", ctx.sizes)
    full, cut, stage2 = (ctx.work / name for name in ("full", "cut", "stage2"))
    runs = {
        "stage1": train(ctx, data, full, "stage1"),
        "stage1_cut": train(ctx, data, cut, "stage1", cut=True),
        "stage1_resumed": train(ctx, data, cut, "stage1"),
        "stage2": train(ctx, data, stage2, "stage2", init=full / "model.pt"),
    }
    done = all(runs[name]["exit"] == 0 for name in ("stage1", "stage1_resumed", "stage2"))
    if not done:
        return {"runs": runs, "checks": {"runs_finished": False}}
    rows = {"stage1": history(full), "stage1_resumed": history(cut), "stage2": history(stage2)}
    losses = [row[k] for r in rows.values() for row in r for k in ("loss", "ce_s", "ce_m", "l_sc", "l_cc") if k in row]
    metrics = json.loads((full / "metrics.json").read_text())
    cut_log = runs["stage1_cut"]["stderr_tail"]
    checks = {
        "runs_finished": True,
        # torchrun exits 1 and reports its worker's exit code (the trainer's 3: out of time)
        "cut_after_epoch_1": "reached after epoch 1" in cut_log
        and re.search(rf"exitcode\s*: {OUT_OF_TIME} ", cut_log) is not None,
        "resumed": "resuming at epoch 1" in runs["stage1_resumed"]["stderr_tail"],
        "resumed_history_equal": rows["stage1_resumed"] == rows["stage1"],
        "losses_finite": all(math.isfinite(v) for v in losses),
        "stage2_contrastive": all(row["l_sc"] > 0 and row["l_cc"] > 0 for row in rows["stage2"]),
        "device": metrics["device"] == ctx.device.type,
    }
    return {
        "runs": runs,
        "epochs": {k: len(v) for k, v in rows.items()},
        "history": rows,
        "max_resume_difference": max_difference(rows["stage1"], rows["stage1_resumed"]),
        "samples_per_s": metrics["samples_per_s"],
        "checks": checks,
    }


def max_difference(rows, others):
    """Largest absolute difference of the numbers of two equally long histories (inf if not)."""
    if len(rows) != len(others):
        return math.inf
    return max((abs(a[k] - b[k]) for a, b in zip(rows, others) for k in a), default=0.0)


def evaluate_section(ctx):
    """``python -m maskclr.evaluate`` on the trainer's stage-2 model; preprocessing rate at T = 243."""
    _, poses = synthetic_data(ctx.work / "data", ctx.sizes)
    model = ctx.work / "stage2" / "model.pt"
    if not model.exists():
        raise FileNotFoundError(f"{model}: no stage-2 model (see the trainer section)")
    pre = {"n_frames": ctx.sizes.data_frames, "score_channel": "motionbert", "max_persons": PERSONS, "seed": 0}
    out = ctx.work / "eval.csv"
    result, seconds = run_command(
        ctx,
        [
            sys.executable,
            "-m",
            "maskclr.evaluate",
            "--model",
            model,
            "--poses",
            f"mq={poses}",
            "--train-estimator",
            "mq",
            "--split",
            "xsub",
            "--preprocess-json",
            json.dumps(pre),
            "--grid-json",
            json.dumps(GRID),
            "--out-csv",
            out,
            "--out-activation",
            ctx.work / "activation.npz",
            "--out-confusion",
            ctx.work / "confusion.npz",
        ],
    )
    if result.returncode:
        raise RuntimeError(f"maskclr.evaluate exited {result.returncode}: {result.stderr[-1500:]}")
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    grid = [r for r in rows if not r["label"]]  # the whole test set's row of each grid point (then its classes')
    annotations = split_members(load_pyskl(poses), "xsub_val", poses)
    start = time.perf_counter()
    model_inputs(annotations, {**pre, "n_frames": PAPER_FRAMES})
    rate = len(annotations) / (time.perf_counter() - start)
    return {
        "seconds_evaluate": seconds,
        "rows": len(grid),
        "test_samples": len(annotations),
        "top1_clean": float(grid[0]["top1"]),
        "preprocess_samples_per_s": rate,
        "preprocess_frames": PAPER_FRAMES,
        "checks": {"rows_finite": bool(rows) and all(math.isfinite(float(r["top1"])) for r in rows)},
    }


class TwoPersons(PersonDetector):
    """Two fixed person boxes side by side: random detector weights find no one, and NTU frames hold
    one or two persons, so the pose pipeline is timed on two crops per frame."""

    def detect(self, frame):
        h, w = frame.shape[:2]
        return np.array([[0.2 * w, 0.1 * h, 0.45 * w, 0.95 * h, 1.0], [0.55 * w, 0.1 * h, 0.8 * w, 0.95 * h, 1.0]])


def poses_section(ctx):
    """Frames/s of the top-down estimators (random weights) and of the person detector."""
    frame = np.random.default_rng(0).integers(0, 256, (*ctx.sizes.frame_shape, 3), dtype=np.uint8)
    frames = [frame] * ctx.sizes.pose_frames
    rows = []
    for kind, variant in (("vitpose", "b"), ("hrnet", "w32")):
        ctx.check_time(kind)
        arch = ctx.sizes.pose_arch[kind]
        estimator = build_estimator(
            {
                "type": kind,
                "variant": variant,
                "random_init": True,
                "arch": arch,
                "detector": {"type": "whole_frame"},
                "device": ctx.device.type,
                "batch_size": 64,
            },
            ESTIMATORS,
        )
        estimator.detector = TwoPersons()
        seconds = seconds_per_step(lambda: estimator.video_poses(frames), 1, ctx.device)
        rows.append(
            {
                "estimator": f"{kind}-{variant}",
                "arch": arch,
                "frame_shape": list(ctx.sizes.frame_shape),
                "frames": len(frames),
                "persons_per_frame": 2,
                "flip_test": estimator.flip_test,
                "frames_per_s": len(frames) / seconds,
            }
        )
        estimator = None  # frees its memory before the next estimator's
        free_memory(ctx.device)
    return {"estimators": rows, "detector": detector_row(ctx, frame)}


def detector_row(ctx, frame):
    """Faster R-CNN R50-FPN (random weights) frames/s, or why it was skipped."""
    ctx.check_time("detector")
    try:
        detector = build_detector({"type": "faster_rcnn", "random_init": True}, ctx.device.type)
    except InputError as err:
        return {"skipped": str(err)}
    if ctx.sizes.detector_size:  # smoke: torchvision would upscale every frame to 800 px on CPU
        transform = detector.model.transform
        transform.min_size, transform.max_size = ctx.sizes.detector_size[:1], ctx.sizes.detector_size[1]
    count = max(ctx.sizes.pose_frames // 8, 1)
    seconds = seconds_per_step(lambda: [detector.detect(frame) for _ in range(count)], 1, ctx.device)
    return {
        "frame_shape": list(ctx.sizes.frame_shape),
        "input_size": ctx.sizes.detector_size,
        "frames_per_s": count / seconds,
    }


# (name, section, share of the budget it may use at most): the shares add up to more than 1,
# since the sections that finish early leave their time to the later ones.
SECTIONS = (
    ("device", device_section, 0.05),
    ("steps", steps_section, 0.4),
    ("attention", attention_section, 0.1),
    ("ddp", ddp_section, 0.1),
    ("trainer", trainer_section, 0.25),
    ("evaluate", evaluate_section, 0.1),
    ("poses", poses_section, 0.15),
)


def run_section(ctx, name, section, share, budget):
    """One section, fault-isolated and time-guarded: its result with ok, seconds and error or skipped."""
    start = time.monotonic()
    ctx.deadline = min(ctx.end, start + share * budget)
    try:
        ctx.check_time(f"section {name}")
        result = section(ctx)
        result["ok"] = all(result.get("checks", {}).values())
    except OutOfTime as err:
        result = {"ok": False, "skipped": str(err)}
    except Exception as err:  # any error: one failing section must not stop the others
        result = {
            "ok": False,
            "error": f"{type(err).__name__}: {err}"[:2000],
            "traceback": traceback.format_exc()[-3000:],
        }
    free_memory(ctx.device)
    result["seconds"] = time.monotonic() - start
    return result


def run_check(sizes, device, budget):
    """Every section in order; the whole report."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        ctx = Context(sizes, device, Path(tmp), end=start + budget)
        sections = {name: run_section(ctx, name, section, share, budget) for name, section, share in SECTIONS}
    return {
        "schema": SCHEMA,
        "smoke": sizes is SMOKE,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "budget_s": budget,
        "wall_s": time.monotonic() - start,
        "sections": sections,
    }


def fmt(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return "-" if value is None else str(value)


def steps_table(rows):
    """The steps section as a Markdown table."""
    head = "| backbone | stage | precision | batch | step s | samples/s | TFLOP/s | MFU | peak GiB |"
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        status = r.get("error") or r.get("skipped")
        values = [r.get(k) for k in ("step_s", "samples_per_s", "tflops", "mfu", "peak_memory_gib")]
        cells = [fmt(v) for v in values] if not status else [status[:60], "", "", "", ""]
        lines.append("| " + " | ".join([r["backbone"], r["stage"], r["precision"], str(r["batch"]), *cells]) + " |")
    return lines


def report(result):
    """A readable summary: the device, each section's status and scalars, the steps table."""
    sections = result["sections"]
    device = sections["device"]
    lines = [
        f"GPU check ({'smoke, CPU' if result['smoke'] else 'GPU'}), {result['date']}, "
        f"{result['wall_s']:.0f} s: {device.get('name')} torch {device.get('torch')} CUDA {device.get('cuda')}, "
        f"bf16 peak {fmt(device.get('peak_bf16_tflops'))} TFLOP/s ({device.get('peak_source')})"
    ]
    for name, section in sections.items():
        status = "ok" if section["ok"] else ("skipped" if "skipped" in section else "FAILED")
        scalars = {
            k: v for k, v in section.items() if isinstance(v, (int, float, str)) and k not in ("ok", "traceback")
        }
        failed = [k for k, v in section.get("checks", {}).items() if not v]
        lines.append(
            f"- {name}: {status}"
            + "".join(f", {k} {fmt(v)}" for k, v in scalars.items())
            + (f", failed checks: {failed}" if failed else "")
        )
    steps = sections["steps"]
    if steps.get("rows"):
        lines += [
            "",
            *steps_table(steps["rows"]),
            "",
            "stage 2 / stage 1: " + ", ".join(f"{k} {v:.2f}" for k, v in steps["stage2_over_stage1"].items()),
        ]
    for row in sections["attention"].get("rows", []):
        lines.append(
            f"SDPA / explicit attention, {row['backbone']} stage 1 bf16, batch {row['batch']}: "
            + fmt(row.get("sdpa_over_explicit", row.get("error") or row.get("skipped")))
        )
    for row in sections["poses"].get("estimators", []):
        lines.append(
            f"{row['estimator']}: {row['frames_per_s']:.1f} frames/s ({row['frame_shape'][0]}p, 2 persons, "
            f"flip test {row['flip_test']})"
        )
    detector = sections["poses"].get("detector", {})
    if detector:
        lines.append(
            "detector: "
            + (
                f"{detector['frames_per_s']:.1f} frames/s"
                if "frames_per_s" in detector
                else f"skipped: {detector['skipped']}"
            )
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="gpu_check.json", help="the JSON report")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny sizes: the check of the check")
    parser.add_argument("--budget-s", type=float, help="time guard (default: 450 on GPU, 240 in --smoke)")
    parser.add_argument("--ddp-worker", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else GPU
    if args.smoke:
        torch.set_num_threads(1)  # tiny sizes: more threads only add overhead on a shared CI machine
    if args.ddp_worker:
        return ddp_worker(args.ddp_worker, sizes)
    if not args.smoke and not torch.cuda.is_available():
        sys.exit(
            f"gpu_check: torch {torch.__version__} of {sys.executable} sees no CUDA device "
            "(use an interpreter with CUDA torch, or --smoke for the CPU check)"
        )
    result = run_check(sizes, torch.device("cpu" if args.smoke else "cuda"), args.budget_s or sizes.budget_s)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(report(result))
    sys.exit(0 if all(section["ok"] for section in result["sections"].values()) else 1)


if __name__ == "__main__":
    main()
