"""Benchmark: one training step of each Table 1 model at paper size, stage 1 vs stage 2, against references.

    python benchmarks/train_step.py [--samples 2] [--steps 3] [--models dstformer-2d transformer-3d ...]

The models of the paper DAG, each on its own input and with its own head: on MotionBERT's 2D
pipeline (T = 243, J = 17, MotionBERT's MLP head) DSTFormer (dim 512, depth 5, 8 heads), STTFormer
and the Transformer; on native 3D NTU-25 data (T = 120, J = 25) STTFormer (len_parts 6, its
8 blocks, its linear head) and the Transformer (dim 256, depth 8, 8 heads, t_patch 4, MAMP's head,
dropout 0.3); sizes as ``maskclr.plan.cost`` (PAPER_*, NATIVE_*, checked against paper.yaml). On
CPU a batch of ``--samples`` one-person sequences in fp32; on a GPU 32 samples × 2 persons in bf16
autocast. Prints, all measured in this process, per model:
- training samples/s of stage 1 (CE, standard pathway) and stage 2 (MaskCLR: AGPM, both
  pathways, L_sc, L_cc) and their ratio (target ≤ 2.1);
- achieved FLOP/s of a stage-1 step (FLOPs counted by torch.utils.flop_counter) next to the
  FLOP/s of a plain large matmul (CPU target ≥ 85 %);
- for the backbones whose attention is ``attend`` (DSTFormer, Transformer): our step time over
  the same model's step with explicit softmax(QKᵀ/√d)V attention (CPU target ≤ 1; GPU ≤ 0.4
  against an fp32 explicit step), and the same with SDPA forced on every layer (on CPU
  ``attend`` uses the explicit form, which measured faster there).
"""

import argparse
from contextlib import nullcontext

import torch

from maskclr.models.attention import explicit_attention, fused_attention
from maskclr.plan.cost import (
    ATTENTION_BACKBONES,
    JOINTS,
    MASKCLR,
    NATIVE_BACKBONES,
    NATIVE_FRAMES,
    NATIVE_HEADS,
    NATIVE_JOINTS,
    PAPER_BACKBONES,
    PAPER_FRAMES,
    PAPER_HEAD,
    STAGE1,
    autocast_for,
    count_flops,
    make_step,
    matmul_flops_per_s,
    paper_model,
    seconds_per_step,
)

# name → (backbone, sizes, frames, joints, head) of every model the paper DAG trains
MODELS = {
    **{f"{b}-2d": (b, PAPER_BACKBONES[b], PAPER_FRAMES, JOINTS, PAPER_HEAD) for b in PAPER_BACKBONES},
    **{f"{b}-3d": (b, NATIVE_BACKBONES[b], NATIVE_FRAMES, NATIVE_JOINTS, NATIVE_HEADS[b]) for b in NATIVE_BACKBONES},
}


def report(name, device, samples, persons, steps, peak):
    """Time one model's stage-1 and stage-2 steps (and its attention variants) and print them."""
    backbone, sizes, frames, joints, head = MODELS[name]
    autocast = autocast_for("bf16" if device.type == "cuda" else "fp32", device)
    torch.manual_seed(0)
    model = paper_model(backbone, sizes, joints=joints, head=head).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(samples, persons, frames, joints, 3, device=device)
    y = torch.randint(0, 60, (samples,), device=device)
    stage1 = make_step(model, STAGE1, x, y, optimiser, autocast)
    t1 = seconds_per_step(stage1, steps, device)
    t2 = seconds_per_step(make_step(model, MASKCLR, x, y, optimiser, autocast), steps, device)
    flops = count_flops(stage1)
    print(f"{name}: {samples} samples x {persons} persons x {frames} frames x {joints} joints, {head['head']} head")
    print(
        f"  stage 1: {samples / t1:8.2f} samples/s   stage 2: {samples / t2:8.2f} samples/s   "
        f"stage2/stage1 time: {t2 / t1:.2f}"
    )
    print(
        f"  stage-1 step: {flops / 1e9:.1f} GFLOP, {flops / t1 / 1e9:.1f} GFLOP/s; "
        f"over the plain matmul's: {flops / t1 / peak:.2f}"
    )
    if backbone not in ATTENTION_BACKBONES:
        return
    reference = make_step(model, STAGE1, x, y, optimiser, nullcontext)  # fp32
    with explicit_attention():
        t_explicit = seconds_per_step(reference, steps, device)
    with fused_attention():
        t_fused = seconds_per_step(stage1, steps, device)
    print(
        f"  step time vs explicit-attention fp32 step: {t1 / t_explicit:.2f} (SDPA forced: {t_fused / t_explicit:.2f})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=2, help="CPU batch: samples of one person (BatchNorm needs 2)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    samples, persons = (32, 2) if device.type == "cuda" else (args.samples, 1)
    peak = matmul_flops_per_s(device, torch.bfloat16 if device.type == "cuda" else torch.float32)
    print(f"device: {device.type}; plain matmul {peak / 1e9:.1f} GFLOP/s")
    for name in args.models:
        report(name, device, samples, persons, args.steps, peak)


if __name__ == "__main__":
    main()
