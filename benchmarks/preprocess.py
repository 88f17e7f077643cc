"""Benchmark: vectorised preprocessing vs a straightforward per-sample Python loop.

    python benchmarks/preprocess.py [--sequences 5000] [--n-frames 243]

Builds NTU-like random sequences (T_tot 30–300, M 1–2, 1920×1080 pixels), runs the per-sample
loop (MotionBERT's steps written out one sample at a time) and ``maskclr.data.preprocess`` on
the same input in the same process, checks that the test-mode outputs are identical, and prints
sequences/s of both and their ratio. Target: ratio ≥ 20 and ≥ 2,000 sequences/s on one core.
"""

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the target says

import numpy as np  # noqa: E402

from maskclr.data.joints import coco_to_h36m  # noqa: E402
from maskclr.data.preprocess import make_cam, preprocess, resample_indices  # noqa: E402


def random_annotations(count, seed=0):
    """NTU-like annotations: random walks in pixel space, 1 or 2 persons, 30–300 frames."""
    rng = np.random.default_rng(seed)
    annotations = []
    for i in range(count):
        frames, persons = int(rng.integers(30, 301)), int(rng.integers(1, 3))
        start = rng.uniform([300, 200], [1600, 900], (persons, 1, 17, 2))
        keypoint = start + np.cumsum(rng.normal(0, 3, (persons, frames, 17, 2)), axis=1)
        annotations.append(
            {
                "frame_dir": f"S001C001P{i:03d}R001A001",
                "total_frames": frames,
                "label": 0,
                "img_shape": (1080, 1920),
                "keypoint": keypoint.astype(np.float32),
                "keypoint_score": rng.uniform(0, 1, (persons, frames, 17)).astype(np.float32),
            }
        )
    return annotations


def preprocess_loop(annotations, n_frames):
    """Reference 1: test-mode steps 1–6 written as a straightforward per-sample, per-frame loop."""
    out = []
    for ann in annotations:
        x = make_cam(ann["keypoint"], ann["img_shape"])
        persons, frames = x.shape[:2]
        swapped, parity = [False], False
        for t in range(1, frames):
            if persons == 2:
                stay = np.linalg.norm(x[0, t] - x[0, t - 1], axis=-1).sum()
                cross = np.linalg.norm(x[0, t] - x[1, t - 1], axis=-1).sum()
                parity ^= bool(stay > cross)
            swapped.append(parity)
        motion = np.zeros((2, n_frames, 17, 3), np.float32)
        for t, frame in enumerate(resample_indices([frames], n_frames, train=False)[0]):
            for m in range(persons):
                source = (1 - m) if swapped[frame] else m
                motion[m, t, :, :2] = coco_to_h36m(x[source, frame])
                motion[m, t, :, 2] = ann["keypoint_score"][m, frame]
        out.append(motion)
    return np.stack(out)


def preprocess_per_sample(annotations, n_frames):
    """Reference 2: MotionBERT's own structure, one sample at a time with numpy inside it."""
    out = []
    for ann in annotations:
        idx = resample_indices([ann["total_frames"]], n_frames, train=False)[0]
        x = make_cam(ann["keypoint"], ann["img_shape"])
        if x.shape[0] == 2:
            stay = np.linalg.norm(x[0, 1:] - x[0, :-1], axis=-1).sum(-1)
            cross = np.linalg.norm(x[0, 1:] - x[1, :-1], axis=-1).sum(-1)
            sel = (np.cumsum(stay > cross) % 2)[:, None, None]
            tracked = x.copy()
            tracked[0, 1:] = x[1, 1:] * sel + x[0, 1:] * (1 - sel)
            tracked[1, 1:] = x[0, 1:] * sel + x[1, 1:] * (1 - sel)
            x = tracked
        motion = np.concatenate([coco_to_h36m(x)[:, idx], ann["keypoint_score"][:, idx, :, None]], -1)
        if motion.shape[0] == 1:
            motion = np.concatenate([motion, np.zeros_like(motion)])
        out.append(motion.astype(np.float32))
    return np.stack(out)


def timed(fn, *args, repeats=1):
    """Result and best wall time of ``repeats`` calls (the first call also pays page faults)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return result, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequences", type=int, default=5000)
    parser.add_argument("--n-frames", type=int, default=243)
    args = parser.parse_args()
    annotations = random_annotations(args.sequences)
    vectorised, vec_s = timed(preprocess, annotations, args.n_frames, False, repeats=3)
    _, train_s = timed(preprocess, annotations, args.n_frames, True, np.random.default_rng(0), repeats=3)
    n = args.sequences
    print(f"sequences: {n}, n_frames: {args.n_frames}")
    print(f"vectorised (test rule)      : {n / vec_s:9.0f} sequences/s")
    print(f"vectorised (train rule)     : {n / train_s:9.0f} sequences/s")
    for name, reference in (
        ("per-sample per-frame loop", preprocess_loop),
        ("MotionBERT-style per-sample", preprocess_per_sample),
    ):
        expected, ref_s = timed(
            reference, annotations, args.n_frames, repeats=1 + (reference is preprocess_per_sample) * 2
        )
        np.testing.assert_allclose(vectorised, expected, rtol=0, atol=1e-5)
        print(f"{name:28s}: {n / ref_s:9.0f} sequences/s, identical output, vectorised is {ref_s / vec_s:.1f}x faster")


if __name__ == "__main__":
    main()
