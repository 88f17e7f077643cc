"""Process-group set-up for torchrun (nccl on GPU, gloo on CPU) and the global-batch gather."""

import os

import torch
import torch.distributed as dist


def setup():
    """Initialise the process group when launched by torchrun; returns (rank, world, device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
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
