"""Classify your own skeletons (or video) with a trained model: top-5 classes and joint activation.

    python -m maskclr.predict --checkpoint results/models/ntu60/xsub/dstformer/maskclr/seed0/model.pt \\
        --poses my_clip.pkl [--out-activation my_clip_activation.npz]
    python -m maskclr.predict --checkpoint ... --video my_clip.mp4 --estimator-json '{"type": "vitpose", ...}'

``--poses`` takes a PYSKL file or a bare annotation (COCO-17 pixel keypoints; for a model trained
on native 3D skeletons, Kinect NTU-25 joints in metres); every sample in it is classified.
``--video`` runs a pose estimator of ``maskclr.poses`` first (its package and weights must be
installed; 2D models only). The input goes through the test-time preprocessing of the evaluation
(docs/method.md §2.3, T frames, crop ratio 2; native 3D models: §2.4, the centre crop they were
tested with); T defaults to the model's temporal size. The activation file holds, per sample, the
mean per-joint activation of person 0 (H36M-17 or NTU-25 order, scaled to max 1), with
``frame_dir`` and the top-5 labels and probabilities.
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from maskclr.data import native3d
from maskclr.data.classes import class_names
from maskclr.data.preprocess import SCORE_CHANNELS
from maskclr.data.pyskl import POSES_2D, POSES_3D, load_pyskl, validate_dataset
from maskclr.errors import InputError, run_cli
from maskclr.evaluate.run import joint_activation, load_model, model_inputs, predict
from maskclr.fileio import atomic_output
from maskclr.poses.base import build_estimator, parse_estimator_json
from maskclr.poses.extract import ESTIMATORS

# Which class list a model's class count most likely means (override with --dataset).
DATASET_BY_CLASSES = {24: "synth", 60: "ntu60", 120: "ntu120", 400: "k400"}


def temporal_size(arch):
    """The frame count a trained backbone was built for (its maxlen or num_frames)."""
    sizes = arch["sizes"]
    return sizes.get("maxlen") or sizes.get("num_frames") or 243


def frame_count(requested, arch, step):
    """``--n-frames`` (default: the model's temporal size), which it may not exceed: the temporal
    embedding has that many rows; a multiple of the backbone's ``frame_step`` (STTFormer's tuples)."""
    limit = temporal_size(arch)
    count = limit if requested is None else requested
    if not 1 <= count <= limit or count % step:
        multiple = f", a multiple of {step} (the backbone's frame_step)" if step > 1 else ""
        raise InputError(f"--n-frames {count}: expected 1..{limit}{multiple} (this model's temporal size)")
    return count


def input_settings(arch, n_frames, args):
    """The evaluation's preprocessing settings for this model: its recorded input pipeline (native
    3D: the test crop) or the 2D pipeline with the persons per sample it was trained on (older
    model.pt files: MotionBERT's two)."""
    if "pipeline" in arch:  # recorded by the trainer for native 3D data only (train.build.input_pipeline)
        return {"pipeline": arch["pipeline"], "n_frames": n_frames, "test_ratio": arch["test_ratio"]}
    return {"n_frames": n_frames, "score_channel": args.score_channel, "max_persons": arch.get("persons", 2)}


def video_annotation(video, spec):
    """Run a pose estimator on one video → a validated PYSKL dataset of one sample."""
    estimator = build_estimator(spec, ESTIMATORS)
    item = {"frame_dir": Path(video).stem, "label": 0, "video": str(video)}
    poses = estimator.estimate(item, np.random.default_rng(0))
    ann = {**item, **poses, "total_frames": poses["keypoint"].shape[1], "original_shape": poses["img_shape"]}
    del ann["video"]
    return validate_dataset([ann], video)


def printable(text):
    """``text`` with control characters escaped (``\\n``, ``\\x1b``): a crafted sample id
    cannot forge output lines or terminal escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def top5(logits, names):
    """[(label, name, probability)] of the five most probable classes, per sample."""
    probs = torch.softmax(logits.float(), dim=1)
    best = probs.topk(min(5, probs.shape[1]), dim=1)
    return [
        [(int(c), names[int(c)], float(p)) for p, c in zip(row_p, row_c)]
        for row_p, row_c in zip(best.values, best.indices)
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.predict", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", required=True, help="a model.pt written by maskclr.train")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--poses", help="a PYSKL file or bare annotation")
    source.add_argument("--video", help="a video, run through --estimator-json first")
    parser.add_argument("--estimator-json", help="with --video: an estimator spec {'type': ..., ...}")
    parser.add_argument(
        "--dataset",
        choices=sorted(set(DATASET_BY_CLASSES.values())),
        help="whose class names to print (default: guessed from the class count)",
    )
    parser.add_argument("--n-frames", type=int, help="frames T (default: the model's temporal size)")
    parser.add_argument("--score-channel", choices=SCORE_CHANNELS, default="motionbert")
    parser.add_argument("--out-activation", help="write the per-joint activation (npz)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.video and not args.estimator_json:
        raise InputError('--video needs --estimator-json (e.g. \'{"type": "vitpose", "weights": ...}\')')
    spec = parse_estimator_json(args.estimator_json) if args.video else None  # before the slow steps
    model, arch, _ = load_model(args.checkpoint, args.threads)
    n_frames = frame_count(args.n_frames, arch, model.backbone.frame_step)
    pre = input_settings(arch, n_frames, args)
    native = pre.get("pipeline") == native3d.PIPELINE
    if args.video and native:
        raise InputError(f"--video: {args.checkpoint} was trained on native 3D skeletons; give them with --poses")
    dataset = (
        video_annotation(args.video, spec)
        if args.video
        else load_pyskl(args.poses, fmt=POSES_3D if native else POSES_2D)
    )
    annotations = dataset["annotations"]
    logits, activation = predict(model, model_inputs(annotations, pre), return_activation=True)
    num_classes = logits.shape[1]
    names = class_names(args.dataset or DATASET_BY_CLASSES.get(num_classes, ""), num_classes)
    ranked = top5(logits, names)
    for ann, best in zip(annotations, ranked):
        print(printable(ann["frame_dir"]))
        for rank, (label, name, prob) in enumerate(best, 1):
            print(f"  {rank}. {name} (label {label}): {100 * prob:.1f} %")
    if args.out_activation:
        with atomic_output(args.out_activation) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    activation=joint_activation(activation).numpy(),
                    frame_dir=np.array([a["frame_dir"] for a in annotations]),
                    top5_labels=np.array([[b[0] for b in r] for r in ranked]),
                    top5_probs=np.array([[b[2] for b in r] for r in ranked], np.float32),
                )


if __name__ == "__main__":
    run_cli(main)
