"""The training job's data loaders: a distributed sampler over the train part, worker processes
and pinned memory on a GPU."""

import os

import torch
from torch.utils.data import DataLoader, DistributedSampler

MAX_WORKERS = 4


def loader_workers(device):
    """Worker processes per loader: on a GPU up to 4, one CPU left to the training process, so that
    augmentation overlaps the steps; none on the CPU, where they would compete with the training's
    threads (and the CPU demo stays fast)."""
    if device.type != "cuda":
        return 0
    return max(0, min(MAX_WORKERS, len(os.sched_getaffinity(0)) - 1))


def data_loaders(train_set, test_set, batch_size, world, rank, seed, workers=0, pin_memory=False):
    """(sampler, train loader, test loader): each process draws ``batch_size // world`` training
    samples per step from its share of a seeded shuffle (``sampler.set_epoch`` each epoch).
    ``test_set`` None (a job that evaluates nothing, ``maskclr.pretrain``): the test loader is None.

    The samples do not depend on ``workers``: augmentation draws from (seed, epoch, index), see
    ``SkeletonDataset``. Persistent workers keep their processes (and dataset copies) across epochs.
    A loader draws the seed of its workers once per iterator from ``generator``: with persistent
    workers that is once per job, not once per epoch, so it must not draw from the global stream
    that dropout and masking use, or a resumed run would differ from an uninterrupted one. Without
    workers that draw stays in the global stream, as the CPU demo's results were made.
    """
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=True)
    options = {"num_workers": workers, "pin_memory": pin_memory}
    if workers:
        options.update(persistent_workers=True, generator=torch.Generator().manual_seed(seed))
    local_batch = batch_size // world
    train_loader = DataLoader(train_set, batch_size=local_batch, sampler=sampler, drop_last=True, **options)
    test_loader = None if test_set is None else DataLoader(test_set, batch_size=max(local_batch, 32), **options)
    return sampler, train_loader, test_loader
