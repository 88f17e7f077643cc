"""Benchmark: one training step of the paper DSTFormer, stage 1 vs stage 2, against references.

    python benchmarks/train_step.py [--samples 2] [--steps 3]

Paper configuration (dim 512, depth 5, 8 heads, T = 243, J = 17). On CPU a batch of 2
one-person sequences in fp32; on a GPU 32 samples × 2 persons in bf16 autocast. Prints, all measured in
this process:
- training samples/s of stage 1 (CE, standard pathway) and stage 2 (MaskCLR: AGPM, both
  pathways, L_sc, L_cc) and their ratio (target ≤ 2.1);
- achieved FLOP/s of a stage-1 step (FLOPs counted by torch.utils.flop_counter) next to the
  FLOP/s of a plain large matmul (CPU target ≥ 85 %);
- our step time over the same model's step with explicit softmax(QKᵀ/√d)V attention
  (CPU target ≤ 1; GPU ≤ 0.4 against an fp32 explicit step), and the same with SDPA forced on
  every layer (on CPU ``attend`` uses the explicit form, which measured faster there).
"""

import argparse
from contextlib import nullcontext

import torch

from maskclr.models.attention import explicit_attention, fused_attention
from maskclr.plan.cost import (
    MASKCLR,
    PAPER_BACKBONES,
    STAGE1,
    autocast_for,
    count_flops,
    make_step,
    matmul_flops_per_s,
    paper_model,
    seconds_per_step,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=2, help="CPU batch: samples of one person (BatchNorm needs 2)")
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    samples, persons = (32, 2) if device.type == "cuda" else (args.samples, 1)
    autocast = autocast_for("bf16" if device.type == "cuda" else "fp32", device)
    torch.manual_seed(0)
    model = paper_model("dstformer", PAPER_BACKBONES["dstformer"]).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(samples, persons, 243, 17, 3, device=device)
    y = torch.randint(0, 60, (samples,), device=device)
    stage1 = make_step(model, STAGE1, x, y, optimiser, autocast)
    stage2 = make_step(model, MASKCLR, x, y, optimiser, autocast)
    t1 = seconds_per_step(stage1, args.steps, device)
    t2 = seconds_per_step(stage2, args.steps, device)
    flops = count_flops(stage1)
    peak = matmul_flops_per_s(device, torch.bfloat16 if device.type == "cuda" else torch.float32)
    reference = make_step(model, STAGE1, x, y, optimiser, nullcontext)  # fp32
    with explicit_attention():
        t_explicit = seconds_per_step(reference, args.steps, device)
    with fused_attention():
        t_fused = seconds_per_step(stage1, args.steps, device)
    n = len(y)
    print(f"device: {device.type}, batch: {n} samples x {x.shape[1]} persons x 243 frames")
    print(f"stage 1: {n / t1:8.2f} samples/s   stage 2: {n / t2:8.2f} samples/s   stage2/stage1 time: {t2 / t1:.2f}")
    print(
        f"stage-1 step: {flops / 1e9:.1f} GFLOP, {flops / t1 / 1e9:.1f} GFLOP/s; plain matmul {peak / 1e9:.1f} "
        f"GFLOP/s; ratio {flops / t1 / peak:.2f}"
    )
    print(
        f"step time vs explicit-attention fp32 step: {t1 / t_explicit:.2f}"
        f" (SDPA forced on every layer: {t_fused / t_explicit:.2f})"
    )


if __name__ == "__main__":
    main()
