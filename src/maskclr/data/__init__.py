"""Skeleton data: PYSKL loading, the synthetic dataset, MotionBERT preprocessing and the dataset."""


def __getattr__(name):
    # Lazy, so that the numpy-only data tools do not import torch.
    if name == "SkeletonDataset":
        from maskclr.data.dataset import SkeletonDataset

        return SkeletonDataset
    raise AttributeError(name)
