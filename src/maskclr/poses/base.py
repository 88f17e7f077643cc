"""The pose-estimator interface that every adapter (simulated or real) implements.

An estimator turns one *source item* into PYSKL arrays. A source item is a dict with at least
``frame_dir`` and ``label``; what else it holds depends on the dataset: a ``video`` path for real
videos, or the ground-truth ``keypoint``/``keypoint_score``/``img_shape`` of a synthetic scene.
To add an estimator, subclass ``PoseEstimator`` in a module of yours and name it in the config's
estimator entry as ``type: "module:Class"`` (see ``maskclr.registry``; or register a name in
``maskclr.poses.extract.ESTIMATORS``); the remaining keys of the entry are its arguments.

For a real estimator on videos, subclass ``VideoPoseEstimator`` and write only ``frame_poses``
(one RGB frame -> the poses found in it, in image pixels): decoding, ``img_shape``, the NTU
post-processing (tracking, 1 or 2 persons, outliers, missing joints; ``maskclr.poses.tracking``)
and the PYSKL arrays come with it. The adapters ``topdown.ViTPoseEstimator``,
``topdown.HRNetEstimator`` and ``openpifpaf_adapter.OpenPifPafEstimator`` are examples; import
heavy packages inside the adapter so that the extraction entry point imports without them.
"""

import itertools
from abc import ABC, abstractmethod

from maskclr.errors import InputError
from maskclr.poses.tracking import max_persons, track_poses
from maskclr.poses.video import read_frames
from maskclr.registry import import_class, is_class_spec
from maskclr.settings import json_object


class PoseEstimator(ABC):
    """Maps a source item to ``{"keypoint": (M, T, 17, 2) px, "keypoint_score": (M, T, 17),
    "img_shape": (H, W)}`` in COCO-17 order; M may differ from the ground truth."""

    @abstractmethod
    def estimate(self, item, rng):
        """Estimate the poses of one source item; ``rng`` is a numpy Generator for this item."""


class VideoPoseEstimator(PoseEstimator):
    """A real estimator on a source item ``{"frame_dir", "label" (0-based), "video": path}``.

    Subclasses implement ``frame_poses`` (or, to batch across frames, ``video_poses``) and set
    ``self.max_persons_rule`` (ntu60/ntu120/none)."""

    max_persons_rule = "ntu60"

    @abstractmethod
    def frame_poses(self, frame):
        """(H, W, 3) uint8 RGB frame -> poses (K, 17, 3: x, y, score) in image px, COCO order."""

    def video_poses(self, frames):
        """An iterable of frames -> a list of per-frame poses, as ``frame_poses``."""
        return [self.frame_poses(frame) for frame in frames]

    def estimate(self, item, rng):
        frames = read_frames(item["video"])
        first = next(frames, None)
        if first is None:
            raise InputError(f"{item['video']}: the video has no frames")
        frames_poses = self.video_poses(itertools.chain([first], frames))
        persons = max_persons(item["label"], self.max_persons_rule, f"item '{item['frame_dir']}'")
        keypoint, score = track_poses(frames_poses, persons)
        return {"keypoint": keypoint, "keypoint_score": score, "img_shape": tuple(int(s) for s in first.shape[:2])}


def lazy_class(path):
    """A constructor for ``"module:Class"`` that imports the module only when called, so that a
    registry can list adapters whose packages (torch, openpifpaf, ...) this environment lacks."""

    def build(**arguments):
        return import_class(path, f"estimator '{path}'")(**arguments)

    build.__qualname__ = build.__name__ = path.split(":")[-1]
    return build


def parse_estimator_json(text):
    """The ``--estimator-json`` argument as a spec dict."""
    return json_object(text, "--estimator-json", ("type",))


def build_estimator(spec, registry):
    """Instantiate the estimator ``spec["type"]`` names (a key of ``registry``, or a class of yours as
    ``"module:Class"``, see ``maskclr.registry``) with the rest of the spec as its arguments."""
    spec = dict(spec)
    kind = spec.pop("type", None)
    if kind not in registry and not is_class_spec(kind):
        raise InputError(
            f"estimator spec: key 'type': expected one of {sorted(registry)} or 'module:Class', got {kind!r}"
        )
    try:
        return (registry.get(kind) or lazy_class(kind))(**spec)
    except TypeError as err:
        raise InputError(f"estimator spec for type '{kind}': {err}") from err
