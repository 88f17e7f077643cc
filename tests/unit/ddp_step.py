"""One MaskCLR training step under torchrun (gloo on CPU); rank 0 saves loss terms and gradients.

    torchrun --standalone --nproc-per-node=2 tests/unit/ddp_step.py OUT.pt

Used by test_train.py to compare DDP with one process on the same global batch.
"""

import sys

import torch
from step_fixture import METHOD, batch, tiny_model
from torch.nn.parallel import DistributedDataParallel

from maskclr.train import distributed
from maskclr.train.loop import Pathways, step_losses


def main(out):
    rank, world, _ = distributed.setup()
    model = tiny_model()
    pathways = DistributedDataParallel(Pathways(model, METHOD), find_unused_parameters=True)
    x, y = batch()
    local = slice(rank * len(y) // world, (rank + 1) * len(y) // world)
    loss, terms, _ = step_losses(pathways, METHOD, x[local], y[local])
    loss.backward()
    losses = [torch.zeros(()) for _ in range(world)]
    torch.distributed.all_gather(losses, terms["loss"])
    if rank == 0:
        grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
        torch.save({"losses": torch.stack(losses), "grads": grads}, out)
    distributed.teardown()


if __name__ == "__main__":
    main(sys.argv[1])
