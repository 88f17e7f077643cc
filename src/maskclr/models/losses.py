"""MaskCLR's losses (docs/method.md §5): NT-Xent between pathways, per sample and per class.

Features are the head's hidden vectors h (B, D) of the standard (s) and masked (m) pathway,
L2-normalised here; gradients flow into both pathways. Call with the global batch (gathered
across processes) so that every other sample is a negative, as §5.2 requires.
"""

import torch
import torch.nn.functional as F


def nt_xent(z_s, z_m, tau):
    """NT-Xent between paired rows of z_s and z_m (B, D): the positive of u_i is v_i, the
    negatives are the other 2B − 2 features of both pathways. Mean over the 2B anchors."""
    features = F.normalize(torch.cat([z_s, z_m]).float(), dim=1)
    batch = z_s.shape[0]
    similarity = features @ features.T / tau
    similarity.fill_diagonal_(float("-inf"))  # an anchor is not its own negative
    positive = torch.cat([torch.arange(batch, 2 * batch), torch.arange(batch)]).to(z_s.device)
    return F.cross_entropy(similarity, positive)


def sample_contrastive(h_s, h_m, tau):
    """L_sc: NT-Xent between the two pathways' features of the same samples."""
    return nt_xent(h_s, h_m, tau)


def class_contrastive(h_s, h_m, labels, tau):
    """L_cc: NT-Xent between the pathways' class-wise mean features (raw features averaged per
    ground-truth class present in the batch, then normalised); 0 with fewer than 2 classes."""
    classes, index = torch.unique(labels, return_inverse=True)
    if len(classes) < 2:
        return h_s.sum() * 0.0  # keeps the graph, so every process runs the same backward
    counts = torch.bincount(index, minlength=len(classes)).to(h_s.dtype)[:, None]
    means = [
        torch.zeros(len(classes), h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, index, h) / counts
        for h in (h_s, h_m)
    ]
    return nt_xent(*means, tau)
