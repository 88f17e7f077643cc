"""The pose-estimator interface that every adapter (simulated or real) implements.

An estimator turns one *source item* into PYSKL arrays. A source item is a dict with at least
``frame_dir`` and ``label``; what else it holds depends on the dataset: a ``video`` path for real
videos, or the ground-truth ``keypoint``/``keypoint_score``/``img_shape`` of a synthetic scene.
To add an estimator, subclass ``PoseEstimator``, register it in ``maskclr.poses.extract.ESTIMATORS``, name its
``type`` in the config's estimator entry; the remaining keys of the entry are its arguments.
"""

from abc import ABC, abstractmethod

from maskclr.errors import InputError


class PoseEstimator(ABC):
    """Maps a source item to ``{"keypoint": (M, T, 17, 2) px, "keypoint_score": (M, T, 17),
    "img_shape": (H, W)}`` in COCO-17 order; M may differ from the ground truth."""

    @abstractmethod
    def estimate(self, item, rng):
        """Estimate the poses of one source item; ``rng`` is a numpy Generator for this item."""


def build_estimator(spec, registry):
    """Instantiate ``registry[spec["type"]](**rest of spec)`` with a clear error for bad specs."""
    spec = dict(spec)
    kind = spec.pop("type", None)
    if kind not in registry:
        raise InputError(f"estimator spec: key 'type': expected one of {sorted(registry)}, got {kind!r}")
    try:
        return registry[kind](**spec)
    except TypeError as err:
        raise InputError(f"estimator spec for type '{kind}': {err}") from err
