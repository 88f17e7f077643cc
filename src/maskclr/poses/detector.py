"""Person detectors for the top-down estimators: one frame in, person boxes out.

A detector maps an (H, W, 3) uint8 RGB frame to boxes (K, 5: x1, y1, x2, y2, score) in image
pixels, persons only, score ≥ its threshold. Types (the ``type`` key of the ``detector`` spec):

- ``faster_rcnn``: torchvision's Faster R-CNN R50-FPN (COCO), the detector family PYSKL used;
  keys ``weights`` and ``weights_sha256`` (a torchvision-format checkpoint, e.g.
  ``fasterrcnn_resnet50_fpn_coco-258fb6c6.pth``) or ``random_init: true`` (tests only), and
  ``score_threshold`` (default 0.5, as PYSKL). Needs torchvision, imported on first use;
- ``whole_frame``: one box covering the frame with score 1, for videos known to hold one
  centred person and for tests of the pose path without a detector.
"""

from abc import ABC, abstractmethod

import numpy as np

from maskclr.errors import InputError
from maskclr.poses.weights import check_weights_spec, fixed_init, load_weights

COCO_PERSON = 1  # torchvision's COCO category id of "person"


class PersonDetector(ABC):
    @abstractmethod
    def detect(self, frame):
        """(H, W, 3) uint8 RGB -> (K, 5) float boxes (x1, y1, x2, y2, score) of persons."""


class WholeFrameDetector(PersonDetector):
    def __init__(self, device="cpu"):
        del device  # no network

    def detect(self, frame):
        height, width = frame.shape[:2]
        return np.array([[0, 0, width - 1, height - 1, 1.0]])


def torchvision_filter_fn(checkpoint):
    """State dict of a torchvision detection checkpoint (bare, or under ``model``/``state_dict``)."""
    for key in ("model", "state_dict"):
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    return {k.removeprefix("module."): v for k, v in checkpoint.items()}


class FasterRCNNDetector(PersonDetector):
    def __init__(self, weights=None, weights_sha256=None, random_init=False, score_threshold=0.5, device="cpu"):
        check_weights_spec("detector faster_rcnn", weights, weights_sha256, random_init)
        try:
            from torchvision.models.detection import fasterrcnn_resnet50_fpn
        except (ImportError, RuntimeError) as err:
            raise InputError(
                f"detector faster_rcnn: torchvision is not importable ({err}); "
                "use the environment envs/vitpose.yaml or envs/hrnet.yaml"
            ) from err
        # box_score_thresh low: the person threshold is applied below, after the class filter.
        with fixed_init():  # random_init: the same untrained network in every shard and run
            self.model = fasterrcnn_resnet50_fpn(
                weights=None, weights_backbone=None, num_classes=91, box_score_thresh=0.05
            )
        if weights:
            load_weights(self.model, weights, weights_sha256, torchvision_filter_fn)
        self.model.eval().to(device)
        self.score_threshold, self.device = score_threshold, device

    def detect(self, frame):
        import torch

        image = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1).float().div(255).to(self.device)
        with torch.no_grad():
            out = self.model([image])[0]
        keep = (out["labels"] == COCO_PERSON) & (out["scores"] >= self.score_threshold)
        return torch.cat([out["boxes"][keep], out["scores"][keep, None]], dim=1).cpu().numpy().astype(np.float64)


DETECTORS = {"faster_rcnn": FasterRCNNDetector, "whole_frame": WholeFrameDetector}


def build_detector(spec, device="cpu"):
    """Instantiate a detector from its spec ``{"type": ..., **arguments}``."""
    if not isinstance(spec, dict) or spec.get("type") not in DETECTORS:
        kind = spec.get("type") if isinstance(spec, dict) else spec
        raise InputError(f"estimator spec: key 'detector': 'type' must be one of {sorted(DETECTORS)}, got {kind!r}")
    arguments = {k: v for k, v in spec.items() if k != "type"}
    try:
        return DETECTORS[spec["type"]](**arguments, device=device)
    except TypeError as err:
        raise InputError(f"estimator spec: key 'detector' (type {spec['type']}): {err}") from err
