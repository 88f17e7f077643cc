"""What a training step costs: FLOPs counted by torch, seconds measured, and GPU peak rates.

Shared by ``benchmarks/train_step.py``, ``benchmarks/gpu_check.py`` and ``python -m maskclr.plan``.
The paper's sizes are constants here because the GPU check runs without PyYAML;
tests/unit/test_plan.py checks them against workflow/configs/paper.yaml merged over config.yaml.
"""

import contextlib
import copy
import dataclasses
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from maskclr.models import build_backbone
from maskclr.pretrain import build_pretrainer
from maskclr.train.build import build_model
from maskclr.train.loop import Pathways, step_losses
from maskclr.train.settings import CROSS_ENTROPY, Method

# docs/method.md §3.1, §6: 243 frames, 17 joints, 2 person slots, batch 32 over the 8 GPUs of a
# training job (the SLURM profile's gpu: 8), so 4 samples per process.
PAPER_FRAMES, JOINTS, PERSONS, PAPER_BATCH, TRAIN_GPUS = 243, 17, 2, 32, 8
PAPER_BACKBONES = {
    "dstformer": {
        "dim_feat": 512,
        "dim_rep": 512,
        "depth": 5,
        "num_heads": 8,
        "mlp_ratio": 2,
        "maxlen": 243,
        "embed_init_std": 0.02,
    },
    "sttformer": {
        "num_frames": 243,
        "len_parts": 3,
        "num_heads": 3,
        "config": [
            [64, 64, 16],
            [64, 64, 16],
            [64, 128, 32],
            [128, 128, 32],
            [128, 256, 64],
            [256, 256, 64],
            [256, 256, 64],
            [256, 256, 64],
        ],
    },
    "transformer": {"dim": 256, "depth": 8, "num_heads": 8, "mlp_ratio": 4, "maxlen": 243, "t_patch": 3},
}
# Table 1's STTFormer and Transformer rows on native 3D NTU-25 data (docs/method.md §2.4, §3.3,
# §3.4): 120 frames of 25 Kinect joints, 2 person slots, the sizes of paper.yaml's
# datasets.ntu60_3d.backbones over PAPER_BACKBONES, and each backbone's head from its recipe.
NATIVE_FRAMES, NATIVE_JOINTS = 120, 25
NATIVE_BACKBONES = {
    "sttformer": PAPER_BACKBONES["sttformer"]
    | {"num_joints": NATIVE_JOINTS, "num_frames": NATIVE_FRAMES, "len_parts": 6},
    "transformer": PAPER_BACKBONES["transformer"]
    | {"num_joints": NATIVE_JOINTS, "maxlen": NATIVE_FRAMES, "t_patch": 4, "drop_path": 0.3},
}
ATTENTION_BACKBONES = ("dstformer", "transformer")  # STTFormer's tanh attention does not use attend()
STAGE1 = CROSS_ENTROPY
# The paper's head (workflow/configs/paper.yaml, train.schedule) and the 3D rows' (its recipes
# sttformer and mamp_finetune); a test checks they agree.
PAPER_HEAD = {"head": "mlp", "head_hidden": 2048, "head_dropout": 0.5}
NATIVE_HEADS = {
    "sttformer": {"head": "linear", "head_hidden": 2048, "head_dropout": 0.0},
    "transformer": {"head": "mlp", "head_hidden": 2048, "head_dropout": 0.3},
}
MASKCLR = Method(
    masking="agpm",
    level="token",
    mask_ratio=0.5,
    tau_prop=0.7,
    tau_sim=0.7,
    alpha=0.9,
    beta=0.1,
    gamma=0.9,
    delta=0.7,
    bn_running_stats="standard",
)
# What a step costs depends on its kind only: one pathway with CE (stage 1, and stage 2 without
# masking), two pathways (stage 2 with AGPM or random masking), or an eval-mode forward.
STAGES = {"stage1": STAGE1, "stage2": MASKCLR, "eval": STAGE1}

# Dense peak TFLOP/s (no sparsity) from the vendors' data sheets: (bf16 tensor cores, fp32 without
# tensor cores). Matched in order as a substring of torch.cuda.get_device_name(), so the more
# specific names come first ("H100 PCIe" before "H100", "L40S" before "L40" before "L4").
GPU_PEAKS = (
    ("H100 PCIe", 756, 51),
    ("H100 NVL", 835, 60),
    ("GH200", 989, 67),
    ("H200 NVL", 835, 60),
    ("H100", 989, 67),
    ("H200", 989, 67),
    ("A100", 312, 19.5),
    ("L40S", 362, 91.6),
    ("L40", 181, 90.5),
    ("L4", 121, 30.3),
    ("A10", 125, 31.2),
    ("RTX 4090", 165, 82.6),
    ("V100", 125, 15.7),  # no bf16 units: its fp16 tensor-core peak
)


def gpu_peak(name):
    """(table entry, bf16 TFLOP/s, fp32 TFLOP/s) of a GPU name, or None when it is not listed."""
    return next((entry for entry in GPU_PEAKS if entry[0] in name), None)


def paper_model(backbone, sizes, num_classes=60, joints=JOINTS, head=PAPER_HEAD):
    """The trainer's ActionModel on CPU for inputs of ``joints`` joints, with ``head`` (a recipe's
    head, head_hidden and head_dropout; by default the paper's: MotionBERT's MLP head, as on the 2D
    pipeline's 17 joints)."""
    return build_model({"backbone": backbone, "sizes": sizes, "num_classes": num_classes, "num_joints": joints} | head)


def pretrainer(backbone, sizes, entry):
    """``maskclr.pretrain``'s model on CPU: the pretrainer of a config ``pretraining`` entry (its
    method and overrides, without its schedule) around the backbone at ``sizes``."""
    return build_pretrainer("pretraining", entry, backbone, build_backbone(backbone, **sizes))


def autocast_for(precision, device):
    """A context factory: bf16 autocast as the trainer uses on GPUs, or plain fp32."""
    if precision == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def make_step(model, method, x, y, optimiser, autocast):
    """One training step of ``method`` on x (N, M, T, J, 3), y (N,), as a callable."""
    pathways = Pathways(model, method)

    def step():
        with autocast():
            loss, _, _ = step_losses(pathways, method, x, y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()

    return step


def seconds_per_step(step, steps, device):
    """Mean seconds of ``steps`` calls of ``step`` after one warm-up call (GPU synchronised)."""
    step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def matmul_flops_per_s(device, dtype, size=2048, repeats=5):
    """FLOP/s of a plain (size × size) @ (size × size) matmul, a reference for what the step reaches."""
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    return 2 * size**3 / seconds_per_step(lambda: a @ b, repeats, device)


def count_flops(fn):
    """FLOPs of the matmuls, convolutions and attention that ``fn()`` runs (FlopCounterMode)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def step_flops(model, method, batch, frames=PAPER_FRAMES, train=True, joints=JOINTS, persons=PERSONS):
    """FLOPs of one training step of ``method`` (forward and backward of its pathways) or, with
    ``train=False``, of an eval-mode forward, on a batch (batch, persons, frames, joints, 3).

    Counted on a copy on the meta device: paper sizes cost no memory and well under a second.
    The contrastive losses are left out (torch.unique has no meta kernel); on the (B, 2048)
    features of a batch they are below 1e-6 of the step.
    """
    meta = copy.deepcopy(model).to("meta")
    x = torch.zeros(batch, persons, frames, joints, 3, device="meta")
    if not train:
        meta.eval()
        with torch.no_grad():
            return count_flops(lambda: meta(x))
    counted = dataclasses.replace(method, gamma=0.0, delta=0.0)
    y = torch.zeros(batch, dtype=torch.long, device="meta")
    return count_flops(lambda: step_losses(Pathways(meta, counted), counted, x, y)[0].backward())


def pretrain_step_flops(model, sequences, frames, joints):
    """FLOPs of one ``maskclr.pretrain`` step (forward and backward) of ``model`` (``pretrainer``)
    on ``sequences`` person-sequences (sequences, frames, joints, 3).

    Counted on one sequence on CPU, then multiplied: the Transformer's pretrainers gather the
    visible tokens through a boolean mask, which has no meta kernel, and every counted operation
    acts on each sequence alone (the masks hold exactly K tokens per sequence), so the count is
    linear in the batch. About a second at paper size; the model's gradients are cleared after.
    """
    x = torch.zeros(1, frames, joints, 3)
    flops = count_flops(lambda: model(x).loss.backward())
    model.zero_grad(set_to_none=True)
    return flops * sequences
