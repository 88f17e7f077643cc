"""The device of a job, process-group set-up for torchrun (nccl on GPU, gloo on CPU) and the
global-batch gather."""

import os

import torch
import torch.distributed as dist

from maskclr.errors import InputError

DEVICES = ("auto", "cuda", "cpu")


def pick_device(requested="auto", local_rank=0):
    """The torch device of this process, for ``--device`` auto, cuda or cpu.

    ``auto`` takes the GPU where there is one, so the demo runs on a laptop's CPU. ``cuda`` is
    what a job holding GPUs asks for (the SLURM profile's ``device`` resource): with a CPU-only
    torch build, or no GPU visible, it stops with a message instead of training on the CPU,
    many times slower and easy to take for a slow success.
    """
    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise InputError(
            f"--device cuda: no CUDA device is usable here (torch {torch.__version__}, {build}; "
            f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}); stopping rather than "
            "running on the CPU. Check that the job got a GPU node and that its environment has a CUDA "
            "build of torch (envs/train.yaml); to run on the CPU on purpose, set the rule's resource "
            "device=auto or device=cpu (e.g. --set-resources train_stage1:device=cpu)"
        )
    if local_rank >= torch.cuda.device_count():
        raise InputError(
            f"--device cuda: process {local_rank} of this node needs GPU {local_rank}, but only "
            f"{torch.cuda.device_count()} are visible: start at most that many processes per node"
        )
    return torch.device("cuda", local_rank)


def setup(device="auto"):
    """Initialise the process group when launched by torchrun; returns (rank, world, device).
    ``device``: one of ``DEVICES`` (see ``pick_device``)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = pick_device(device, int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def teardown():
    if dist.is_initialized():
        dist.destroy_process_group()


def world_size():
    return dist.get_world_size() if dist.is_initialized() else 1


def gather(tensor):
    """Concatenate ``tensor`` (B, ...) from all processes in rank order.

    Only this process's slice carries gradient: the gather runs in the forward pass only, so no
    collective is issued during backward, where it could interleave with DDP's gradient
    all-reduces in a different order on each process (a deadlock, seen with gloo). Scale a loss
    of the gathered batch by ``world_size()`` so that DDP's gradient average is exact.
    """
    if world_size() == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(world_size())]
    dist.all_gather(parts, tensor.detach().contiguous())
    parts[dist.get_rank()] = tensor
    return torch.cat(parts)


def barrier():
    if dist.is_initialized():
        dist.barrier()
