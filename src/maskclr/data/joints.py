"""Joint layouts (COCO-17 from the pose estimators, H36M-17 fed to the models) and the mapping.

Every H36M joint is the equal-weight mean of a set of COCO joints (docs/method.md §2.2), so the
coordinate conversion is one (17 × 17) matrix product and the "aligned" score of a derived joint
is the minimum score over its source set (a joint is only as reliable as its worst source).
"""

import numpy as np

COCO_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

# Left/right COCO pairs, for simulated left-right confusions of an estimator.
COCO_FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))

H36M_JOINTS = (
    "root", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "belly", "neck", "nose", "head", "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist",
)  # fmt: skip

# COCO source joints of each H36M joint, in H36M order. belly = mean(root, neck) = mean of the
# two hips and the two shoulders; head = mean of the two eyes (ears are dropped).
H36M_FROM_COCO = (
    (11, 12), (12,), (14,), (16,), (11,), (13,), (15,),
    (5, 6, 11, 12), (5, 6), (0,), (1, 2), (5,), (7,), (9,), (6,), (8,), (10,),
)  # fmt: skip


def _conversion_matrix():
    weights = np.zeros((len(H36M_FROM_COCO), len(COCO_JOINTS)))
    for h36m, sources in enumerate(H36M_FROM_COCO):
        weights[h36m, list(sources)] = 1.0 / len(sources)
    return weights


COCO_TO_H36M = _conversion_matrix()
# Sources padded to 4 by repetition, so a min over axis -1 gives the min over each source set.
_SOURCES_PADDED = np.array([(s * 4)[:4] for s in H36M_FROM_COCO])


def coco_to_h36m(coords):
    """Convert coordinates (..., 17 COCO, C) to (..., 17 H36M, C) as MotionBERT's ``coco2h36m``."""
    # One GEMM over all frames: (..., C, 17) @ (17, 17)ᵀ, much faster than a batched einsum.
    moved = np.swapaxes(coords, -1, -2)
    converted = moved.reshape(-1, moved.shape[-1]) @ COCO_TO_H36M.T.astype(coords.dtype)
    return np.swapaxes(converted.reshape(moved.shape), -1, -2)


def coco_to_h36m_scores(scores):
    """Convert scores (..., 17 COCO) to (..., 17 H36M): each joint gets its sources' minimum."""
    return scores[..., _SOURCES_PADDED].min(axis=-1)


# Kinect v2's 25 joints as NTU RGB+D stores them (docs/method.md §2.2), 0-based.
NTU25_JOINTS = (
    "spine_base", "spine_mid", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot",
    "right_hip", "right_knee", "right_ankle", "right_foot",
    "spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",
)  # fmt: skip

# NTU-25 bones, 0-based joint pairs (CTR-GCN's NTU graph).
NTU25_BONES = (
    (0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (8, 20), (9, 8), (10, 9), (11, 10),
    (12, 0), (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17), (19, 18), (21, 22), (22, 7), (23, 24), (24, 11),
)  # fmt: skip

# Left/right NTU-25 pairs, for Kinect's left-right confusions.
NTU25_FLIP_PAIRS = ((4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23), (22, 24))
