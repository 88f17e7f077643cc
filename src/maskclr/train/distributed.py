"""Process-group set-up for torchrun (nccl on GPU, gloo on CPU) and the global-batch gather."""

import os

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn


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


def gather(tensor):
    """Concatenate ``tensor`` (B, ...) from all processes in rank order, keeping gradients
    (each process's slice receives the gradient of every process's loss)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return tensor
    return torch.cat(dist_fn.all_gather(tensor))


def barrier():
    if dist.is_initialized():
        dist.barrier()
