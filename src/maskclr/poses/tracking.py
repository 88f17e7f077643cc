"""NTU post-processing of per-frame poses into a fixed set of person tracks (docs/method.md §2.1, Q7).

Input: for each frame, the poses found in it, (K_t, 17, 3) arrays of (x, y, score) in image
pixels. Output: PYSKL arrays ``keypoint`` (M, T, 17, 2) and ``keypoint_score`` (M, T, 17).

1. Identity tracking: frame by frame, detections are matched greedily (most similar pair first)
   to live tracks by OKS against the track's pose extrapolated at constant velocity to the
   current frame. The extrapolation is what keeps identities apart when two persons cross;
   a track stays live for ``MAX_GAP`` frames without a match (mmaction2's tracklets use 10).
2. Outlier removal: tracks that cover fewer than ``MIN_TRACK_FRACTION`` of the frames are
   spurious detections (background people, reflections, flicker) and are dropped.
3. Person count: 1 person, or 2 for NTU's mutual actions (``max_persons``); the tracks with the
   largest summed mean keypoint score are kept (long and confident beats brief and confident).
4. Missing joints and frames where a kept person is not found are (0, 0) with score 0.

``remove_duplicates`` is mmaction2's duplicate-box rule, applied to detections before tracking.
"""

import math

import numpy as np

from maskclr.errors import InputError

# COCO keypoint sigmas (OKS), COCO-17 order.
COCO_SIGMAS = (
    np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89])
    / 10
)
MAX_GAP = 10
MIN_SIMILARITY = 0.3
MIN_TRACK_FRACTION = 0.1
# NTU mutual (two-person) actions, 0-based labels: A050–A060, and A106–A120 in NTU120.
MUTUAL_ACTIONS = {"ntu60": set(range(49, 60)), "ntu120": set(range(49, 60)) | set(range(105, 120))}
NUM_CLASSES = {"ntu60": 60, "ntu120": 120}


def max_persons(label, rule, where="item"):
    """Persons to keep for a sample of ``label`` under ``rule`` (ntu60/ntu120: 1 or 2; none: all)."""
    if rule == "none":
        return None
    if rule not in MUTUAL_ACTIONS:
        raise InputError(f"estimator spec: key 'max_persons_rule': expected ntu60, ntu120 or none, got {rule!r}")
    if not 0 <= label < NUM_CLASSES[rule]:
        raise InputError(
            f"{where}: key 'label': {label} is not a 0-based {rule} label "
            f"(0..{NUM_CLASSES[rule] - 1}); check max_persons_rule"
        )
    return 2 if label in MUTUAL_ACTIONS[rule] else 1


def remove_duplicates(boxes, inside_fraction=0.8):
    """Indices of the boxes (K, 5: x1, y1, x2, y2, score) to keep: a box lying more than
    ``inside_fraction`` of its area inside a box of at least its score is a duplicate."""
    x1, y1, x2, y2, score = np.asarray(boxes, dtype=np.float64).T
    inter_w = np.clip(np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1), 0, None)
    inter_h = np.clip(np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1), 0, None)
    inside = inter_w * inter_h / np.maximum((x2 - x1) * (y2 - y1), 1e-9)[:, None] > inside_fraction
    dominated = inside & (score[:, None] <= score) & ~np.eye(len(score), dtype=bool)
    return np.flatnonzero(~dominated.any(axis=1))


def pose_area(pose):
    """Area (px²) of the bounding box of a pose's detected joints (17, 3)."""
    seen = pose[pose[:, 2] > 0, :2]
    return float(np.ptp(seen[:, 0]) * np.ptp(seen[:, 1])) if len(seen) else 0.0


def oks(a, b):
    """Object keypoint similarity of two poses (17, 3) over the joints detected in both, at the
    mean of their two box areas; 0 when they share no detected joint."""
    shared = (a[:, 2] > 0) & (b[:, 2] > 0)
    if not shared.any():
        return 0.0
    area = max((pose_area(a) + pose_area(b)) / 2, 1.0)
    squared = ((a[shared, :2] - b[shared, :2]) ** 2).sum(-1)
    return float(np.exp(-squared / (2 * area * (2 * COCO_SIGMAS[shared]) ** 2)).mean())


class Track:
    """One person's observations: frame indices and (17, 3) poses."""

    def __init__(self, frame, pose):
        self.frames, self.poses = [frame], [pose]

    def add(self, frame, pose):
        self.frames.append(frame)
        self.poses.append(pose)

    def predict(self, frame):
        """The last pose moved at the velocity of the last two observations to ``frame``."""
        last = self.poses[-1].copy()
        if len(self.poses) > 1:
            previous = self.poses[-2]
            both = (last[:, 2] > 0) & (previous[:, 2] > 0)
            step = (frame - self.frames[-1]) / (self.frames[-1] - self.frames[-2])
            last[both, :2] += (last[both, :2] - previous[both, :2]) * step
        return last

    def total_score(self):
        return float(sum(pose[:, 2].mean() for pose in self.poses))


def link(frames_poses):
    """Greedy OKS linking of per-frame poses into ``Track``s (step 1 of the module docstring)."""
    tracks = []
    for t, poses in enumerate(frames_poses):
        live = [track for track in tracks if t - track.frames[-1] <= MAX_GAP]
        similarity = np.array([[oks(track.predict(t), pose) for pose in poses] for track in live])
        matched_tracks, matched_poses = set(), set()
        for flat in np.argsort(-similarity, axis=None) if similarity.size else []:
            i, j = np.unravel_index(flat, similarity.shape)
            if similarity[i, j] < MIN_SIMILARITY:
                break
            if i not in matched_tracks and j not in matched_poses:
                live[i].add(t, poses[j])
                matched_tracks.add(i)
                matched_poses.add(j)
        tracks += [Track(t, pose) for j, pose in enumerate(poses) if j not in matched_poses]
    return tracks


def track_poses(frames_poses, persons):
    """Per-frame poses (list of (K_t, 17, 3)) -> ``keypoint`` (M, T, 17, 2), ``keypoint_score``
    (M, T, 17) float32 with M ≤ ``persons`` (all non-outlier tracks when ``persons`` is None)."""
    frames = len(frames_poses)
    tracks = [
        track
        for track in link([np.asarray(p, dtype=np.float64).reshape(-1, 17, 3) for p in frames_poses])
        if len(track.frames) >= math.ceil(MIN_TRACK_FRACTION * frames)
    ]
    tracks = sorted(tracks, key=Track.total_score, reverse=True)[:persons]
    result = np.zeros((len(tracks), frames, 17, 3), dtype=np.float32)
    for m, track in enumerate(tracks):
        result[m, track.frames] = track.poses
    result[result[..., 2] <= 0] = 0  # missing joints: (0, 0), score 0
    return result[..., :2], result[..., 2]
