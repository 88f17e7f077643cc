"""OpenPifPaf bottom-up poses (the LQ tier, docs/method.md Q7) through the ``openpifpaf`` package.

openpifpaf 0.13.11 pins torch 1.13.1 and torchvision 0.14.1, so it runs in its own environment
(``envs/openpifpaf.yaml``, Python 3.10) and is imported only when the adapter is built.
Its predictor returns, per frame, annotations whose ``data`` is (17, 3: x, y, confidence) in
image pixels, COCO order, confidence 0 for joints it did not find; ``annotations_to_poses``
turns them into this package's per-frame poses, and ``VideoPoseEstimator`` does the rest.
"""

import numpy as np

from maskclr.errors import InputError
from maskclr.poses.base import VideoPoseEstimator
from maskclr.poses.tracking import max_persons, remove_duplicates
from maskclr.poses.weights import check_weights_spec, verify_sha256


def annotations_to_poses(annotations):
    """OpenPifPaf annotations (each with ``data`` (17, 3)) -> poses (K, 17, 3), duplicates removed
    (on the boxes of the found joints). Unfound joints keep OpenPifPaf's coordinates with score 0;
    the tracking sets them to (0, 0)."""
    poses = np.array([np.asarray(a.data, dtype=np.float64) for a in annotations]).reshape(-1, 17, 3)
    boxes = np.array([pose_box(pose) for pose in poses]).reshape(-1, 5)
    return poses[remove_duplicates(boxes)]


def pose_box(pose):
    """(x1, y1, x2, y2, mean joint score) of a pose's found joints (17, 3)."""
    seen = pose[pose[:, 2] > 0, :2]
    if not len(seen):
        return np.zeros(5)
    return np.array([*seen.min(0), *seen.max(0), pose[:, 2].mean()])


class OpenPifPafEstimator(VideoPoseEstimator):
    """OpenPifPaf on whole frames. Arguments (the config entry's keys besides ``type``):

    - ``weights``, ``weights_sha256``: a local OpenPifPaf checkpoint (.pkl, e.g. the default COCO
      ``shufflenetv2k16-...-cocokp-...pkl``) and its digest, checked before openpifpaf unpickles it; or
    - ``random_init: true`` with ``base_network`` (default ``shufflenetv2k16``): untrained, tests only;
    - ``max_persons_rule``: ntu60, ntu120 or none (default ntu60).

    OpenPifPaf picks its device itself (CUDA when available).
    """

    def __init__(
        self,
        weights=None,
        weights_sha256=None,
        random_init=False,
        base_network="shufflenetv2k16",
        max_persons_rule="ntu60",
    ):
        check_weights_spec("estimator openpifpaf", weights, weights_sha256, random_init)
        if weights:
            verify_sha256(weights, weights_sha256)  # openpifpaf unpickles whole models: check first
        max_persons(0, max_persons_rule)
        self.max_persons_rule = max_persons_rule
        self.predictor = self.load_predictor(weights, base_network)

    def load_predictor(self, weights, base_network):
        """An ``openpifpaf.Predictor`` on the checkpoint file, or untrained on ``base_network``."""
        try:
            import openpifpaf
            from openpifpaf.plugins.coco import CocoKp
        except ImportError as err:
            raise InputError(
                f"estimator openpifpaf: the openpifpaf package is not importable ({err}); "
                "run in the environment envs/openpifpaf.yaml"
            ) from err
        # openpifpaf configures its network factory through class attributes (set by its CLI);
        # set both each time, or an earlier estimator's choice would leak into this one.
        openpifpaf.network.Factory.checkpoint = str(weights) if weights else None
        openpifpaf.network.Factory.base_name = None if weights else base_network
        return openpifpaf.Predictor(head_metas=None if weights else CocoKp().head_metas)

    def frame_poses(self, frame):
        annotations, _, _ = self.predictor.numpy_image(frame)
        return annotations_to_poses(annotations)
