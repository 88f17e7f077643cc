"""Benchmark: training steps at the demo's sizes (config.yaml), per backbone, on one CPU core.

    python benchmarks/demo_step.py [--config config.yaml] [--steps 20] [--repeats 3] [--compile]

Where the demo's time goes. For each backbone at its config.yaml sizes, with the demo's batch,
frames and persons, all in this process on one thread (as each demo job runs):
- samples/s of a stage-1 step (CE, standard pathway) and of a MaskCLR stage-2 step (AGPM, both
  pathways, L_sc, L_cc), and their ratio;
- the step's FLOPs (torch.utils.flop_counter) and the FLOP-bound rate: the samples/s the step
  would reach at the FLOP/s of a plain matmul measured here; achieved / FLOP-bound says how far
  the tiny model is from that bound (it is dominated by per-operator overhead, not arithmetic);
- the gain of ``preprocess.max_persons: 1`` (one person per sample) over MotionBERT's two;
- with ``--compile`` instead: what ``torch.compile`` (inductor's C++ kernels) does to both steps,
  as the eager step's time over the compiled one's, and the seconds their compilation adds, each
  in a new process as in a training job: the first job's (an empty cache), and later jobs' (the
  cache the first left on disk).
Ratios compare runs of this process, interleaved (best of ``--repeats``): the machine is shared.
"""

import argparse
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

import torch
import yaml

from maskclr.plan.cost import MASKCLR, STAGE1, count_flops, make_step, matmul_flops_per_s, seconds_per_step
from maskclr.train.build import build_model

CPU = torch.device("cpu")


def demo_model(config, backbone, num_classes):
    schedule = config["train"]["schedule"]
    arch = {
        "backbone": backbone,
        "sizes": config["backbones"][backbone],
        "num_classes": num_classes,
        "num_joints": 17,  # the demo's 2D pipeline, with MotionBERT's head
        "head": "mlp",
        "head_hidden": schedule["head_hidden"],
        "head_dropout": schedule["head_dropout"],
    }
    return build_model(arch)


def steps(config, backbone, persons, compiled=False):
    """{stage: step callable} on a random batch (batch, persons, frames, 17, 3); ``compiled``:
    through ``torch.compile``, which compiles on the first call."""
    num_classes = config["datasets"]["synth"]["num_classes"]
    batch, frames = config["train"]["schedule"]["batch_size"], config["preprocess"]["n_frames"]
    torch.manual_seed(0)
    model = demo_model(config, backbone, num_classes)
    if compiled:
        model.compile()
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, persons, frames, 17, 3)
    y = torch.randint(0, num_classes, (batch,))
    return {
        name: make_step(model, method, x, y, optimiser, nullcontext)
        for name, method in (("stage1", STAGE1), ("maskclr", MASKCLR))
    }


def best_seconds(steps, n, repeats):
    """{name: best seconds per step} over ``repeats`` rounds, each round timing every step once
    in turn, so that a slow spell of the shared machine hits every configuration alike."""
    rounds = [{name: seconds_per_step(step, n, CPU) for name, step in steps.items()} for _ in range(repeats)]
    return {name: min(r[name] for r in rounds) for name in steps}


def compile_seconds(config, backbone, persons, cache):
    """Seconds of the first stage-1 and MaskCLR steps of a compiled model in a new process (one
    thread; inductor compiles in worker processes of its own) whose inductor cache is ``cache``:
    what compilation adds to training jobs that start with that cache."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as process:
        return process.submit(first_steps_seconds, config, backbone, persons, cache).result()


def first_steps_seconds(config, backbone, persons, cache):
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
    torch.set_num_threads(1)
    compiled = steps(config, backbone, persons, compiled=True)
    start = time.perf_counter()
    for step in compiled.values():
        step()
    return time.perf_counter() - start


def compare_compiled(config, persons, n, repeats):
    """Per backbone: eager / compiled seconds per step (stage 1, MaskCLR), and the seconds the
    compilation of both steps takes with an empty inductor cache (the first job) and with the
    cache the first left on disk (later jobs)."""
    print(
        f"{'backbone':12s} {'stage1 eager/compiled':>21s} {'maskclr eager/compiled':>22s} "
        f"{'compile s, first job':>20s} {'later jobs':>10s}"
    )
    for backbone in config["backbones"]:
        with tempfile.TemporaryDirectory() as cache:
            cold, warm = (compile_seconds(config, backbone, persons, cache) for _ in range(2))
            with mock.patch.dict(os.environ, {"TORCHINDUCTOR_CACHE_DIR": cache}):
                compiled = steps(config, backbone, persons, compiled=True)
                both = {**steps(config, backbone, persons), **{f"compiled {k}": v for k, v in compiled.items()}}
                best = best_seconds(both, n, repeats)
        stage1, maskclr = (best[name] / best[f"compiled {name}"] for name in ("stage1", "maskclr"))
        print(f"{backbone:12s} {stage1:21.2f} {maskclr:22.2f} {cold:20.1f} {warm:10.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=Path(__file__).parents[1] / "config.yaml")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="compare torch.compile with eager steps")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = yaml.safe_load(Path(args.config).read_text())
    persons = config["preprocess"]["max_persons"]
    batch = config["train"]["schedule"]["batch_size"]
    matmul = max(matmul_flops_per_s(CPU, torch.float32, size=512) for _ in range(args.repeats))
    print(
        f"one thread; batch {batch} x {persons} person(s) x {config['preprocess']['n_frames']} frames; "
        f"plain 512^3 matmul: {matmul / 1e9:.1f} GFLOP/s"
    )
    if args.compile:
        compare_compiled(config, persons, args.steps, args.repeats)
        return
    print(
        f"{'backbone':12s} {'stage1 s/s':>10s} {'maskclr s/s':>11s} {'s2/s1':>6s} {'GFLOP/step':>10s} "
        f"{'FLOP-bound s/s':>14s} {'achieved/bound':>14s} {'1 vs 2 persons':>14s}"
    )
    for backbone in config["backbones"]:
        ours, two = steps(config, backbone, persons), steps(config, backbone, 2)
        best = best_seconds({**ours, "two persons": two["stage1"]}, args.steps, args.repeats)
        t1, t2, t_two = best["stage1"], best["maskclr"], best["two persons"]
        flops = count_flops(ours["stage1"])
        bound = batch * matmul / flops
        print(
            f"{backbone:12s} {batch / t1:10.1f} {batch / t2:11.1f} {t2 / t1:6.2f} {flops / 1e9:10.2f} "
            f"{bound:14.0f} {batch / t1 / bound:14.2f} {t_two / t1:14.2f}"
        )


if __name__ == "__main__":
    main()
