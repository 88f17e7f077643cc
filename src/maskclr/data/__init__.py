"""Skeleton data: PYSKL loading, the synthetic dataset, MotionBERT preprocessing and the dataset."""
