"""MaskCLR reproduction: data, pose estimators, models, training, robustness and paper artefacts."""

__version__ = "0.1.0"
