"""``python -m maskclr.evaluate``: one trained model over the whole perturbation grid.

Standard pathway, ``eval()`` mode, one deterministic clip per sample (test resampling and
crop_scale ratio 2, as in training's test split). Every row of the output CSV starts with the
model's identity ``dataset, split, backbone, method, stage, seed, pretrain``, copied from its model.pt
(the trainer records what the rule told it, so no reader parses paths); then
``perturbation, level, test_estimator, top1, top5, mean_class_acc, n, …, label`` where

- ``clean``: every test tier (hq/mq/lq) as it is: the model trained on one tier meets the
  others unchanged (Table 2);
- ``noise_st`` / ``noise_spatial``: Gaussian noise of std σ (make_cam units) added to the
  pixel keypoints before preprocessing, i.i.d. per frame or one offset per joint (Fig. 5);
- ``part``: one body part zeroed (x, y, score) in the model input (Fig. 6, left);
- ``joints``: a random fraction of joints zeroed per sample (Fig. 6, right);
- ``frames_noise``: σ noise, then a fraction of frames zeroed, on every tier (Table 3).

An empty list leaves its perturbation out, and ``frames_noise`` null leaves out Table 3's
(the workflow evaluates stage-1 models clean only unless ``robustness.stage1_grid``).

``--preprocess-json`` is the config's ``preprocess`` section (the 2D pipeline) or, for a native
3D model, ``{"pipeline": "native3d", "n_frames": …, "test_ratio": …}`` (``eval_preprocess_settings``):
then the tiers are PYSKL 3D files (NTU-25, metres), σ (``noise_sigmas`` and ``frames_noise``'s
``sigma``) is in metres on the camera-space keypoints, the inputs are ``native3d``'s test clips and
the parts are NTU-25's (docs/method.md §2.4, §7.4).

Each grid point has a row for the whole test set (``label`` empty) followed by one row per class
present in it (``label``: the class index; its top-1 and sample count, the other metrics empty),
so that a table can show which classes a perturbation costs. A class with a fine-grained partner
(``maskclr.data.classes.class_partners``) also has ``to_partner``: the share of its samples
predicted as the partner, which says whether its errors stay within its pair.

The clean row of the training tier also holds the spread of the model's joint activation (the
mechanism of docs/method.md §4.1, measured): ``joints_effective`` = exp(entropy) of each
sample's normalised per-joint activation (17 = uniform, 1 = a single joint) and ``top3_share``, the share of its
three most activated joints, both averaged over the test samples (empty on the other rows).
Also writes the mean joint activation per class (the activation figure) as an npz file, with
the same two numbers and the identity, and the confusion counts of every grid point (true class ×
top-1 prediction, ``counts`` (G, C, C) beside the grid points' ``perturbation``, ``level`` and
``test_estimator``) as a second npz file with the identity: where a perturbation's errors go
(``maskclr.paper.confusion``).
"""

import argparse
import csv
import zlib

import numpy as np
import torch

from maskclr.data import native3d
from maskclr.data.augment import crop_scale
from maskclr.data.classes import class_partners
from maskclr.data.dataset import TEST_SCALE
from maskclr.data.preprocess import preprocess, preprocess_settings
from maskclr.data.pyskl import POSES_2D, POSES_3D, load_pyskl, split_members
from maskclr.errors import InputError
from maskclr.evaluate.collect import CONDITION, EVAL_COLUMNS, IDENTITY
from maskclr.fileio import atomic_output
from maskclr.models.loading import load_strict
from maskclr.robustness.perturbations import add_noise, mask_frames, occlude_part, occlude_random_joints
from maskclr.settings import json_object
from maskclr.train import checkpoint
from maskclr.train.build import build_model
from maskclr.train.distributed import DEVICES, pick_device


def load_model(path, threads, device="auto"):
    """(the trained ActionModel of a model.pt in eval mode, on ``device`` (see ``pick_device``;
    auto: the GPU when there is one); its architecture record; its identity record, None in a
    model.pt written before the trainer recorded it)."""
    device = pick_device(device)
    state = checkpoint.load(path, keys=("arch", "model"))
    torch.set_num_threads(threads)
    model = build_model(state["arch"])
    load_strict(model, state["model"], path, f"the architecture it names ({state['arch']['backbone']})")
    return model.to(device).eval(), state["arch"], state.get("identity")


def model_identity(identity, path, split):
    """The identity columns (IDENTITY) of a model.pt's identity record; InputError when there is
    none, a key is missing or the model was trained on another split than it is evaluated on."""
    if identity is None:
        raise InputError(f"{path}: key 'identity': missing: written before models recorded their identity (retrain it)")
    missing = [key for key in IDENTITY if key not in identity]
    if missing:
        raise InputError(f"{path}: key 'identity.{missing[0]}': missing (expected {', '.join(IDENTITY)})")
    if identity["split"] != split:
        raise InputError(
            f"{path}: key 'identity.split': the model is of split {identity['split']!r}, not --split {split!r}"
        )
    return {key: identity[key] for key in IDENTITY}


def eval_preprocess_settings(text, flag="--preprocess-json"):
    """The test-time preprocessing given to ``flag``: native 3D (``native3d.evaluation_settings``)
    when the object names a ``pipeline``, else the 2D ``preprocess`` section (``preprocess_settings``)."""
    if "pipeline" in json_object(text, flag):
        return native3d.evaluation_settings(text, flag)
    return preprocess_settings(text, flag)


def model_inputs(annotations, pre):
    """(N, P, T, 17, 3) float32 model inputs of PYSKL annotations: the test-time preprocessing
    (deterministic resampling, crop_scale ratio 2) of the preprocess settings ``pre``; native 3D
    settings give native3d's test clips (N, 2, T, 25, 3)."""
    if pre.get("pipeline") == native3d.PIPELINE:
        return native3d.preprocess_test(annotations, pre["n_frames"], pre["test_ratio"])
    x = preprocess(
        annotations, pre["n_frames"], False, score_channel=pre["score_channel"], max_persons=pre["max_persons"]
    )
    return np.stack([crop_scale(sample, TEST_SCALE[0]) for sample in x]).astype(np.float32)


class TestSet:
    """The ``{split}_val`` annotations of one tier, turned into model inputs on demand."""

    def __init__(self, poses_path, split, pre):
        self.native3d = pre.get("pipeline") == native3d.PIPELINE
        self.layout = "ntu25" if self.native3d else "h36m"  # the joints of the model input
        dataset = load_pyskl(poses_path, fmt=POSES_3D if self.native3d else POSES_2D)
        self.annotations = split_members(dataset, f"{split}_val", poses_path)
        self.labels = np.array([a["label"] for a in self.annotations])
        self.pre = pre

    def inputs(self, noise=0.0, spatial=False, rng=None):
        """(N, P, T, J, 3) float32 model inputs, after optional pre-preprocessing noise."""
        annotations = self.annotations
        if noise:
            annotations = [
                {
                    **a,
                    "keypoint": add_noise(
                        a["keypoint"], None if self.native3d else a["img_shape"], noise, rng, spatial
                    ),
                }
                for a in annotations
            ]
        return model_inputs(annotations, self.pre)


@torch.no_grad()
def predict(model, x, batch=None, return_activation=False):
    """Logits (N, classes) and, when asked, the activation (N, P, T', J') of the inputs x, on
    the model's device."""
    device = next(model.parameters()).device
    # Small batches are fastest on CPU (the working set stays in cache); a GPU wants large ones.
    batch = batch or (256 if device.type == "cuda" else 16)
    logits, activations = [], []
    for start in range(0, len(x), batch):
        out = model(torch.from_numpy(x[start : start + batch]).to(device), return_activation=return_activation)
        logits.append(out.logits.float().cpu())
        if return_activation:
            activations.append(out.activation.view(out.logits.shape[0], -1, *out.activation.shape[1:]).cpu())
    return torch.cat(logits), (torch.cat(activations) if return_activation else None)


def scores(logits, labels, num_classes, partners=None):
    """Rows of logits (N, C) against labels (N,): the whole test set's (top-1, top-5, mean per-class
    accuracy, n; ``label`` empty), then one per class present (``label``, its top-1 and n; for a
    class in ``partners`` ({label: partner label}), ``to_partner``: the share predicted as it)."""
    labels, partners = torch.as_tensor(labels), partners or {}
    top5 = logits.topk(min(5, logits.shape[1]), dim=1).indices
    hit1 = top5[:, 0] == labels
    members = {c: labels == c for c in range(num_classes) if (labels == c).any()}
    per_class = [
        {"label": c, "top1": float(hit1[member].float().mean()), "n": int(member.sum())}
        for c, member in members.items()
    ]
    for row in per_class:
        if row["label"] in partners:
            predicted = top5[members[row["label"]], 0]
            row["to_partner"] = float((predicted == partners[row["label"]]).float().mean())
    whole = {
        "label": "",
        "top1": float(hit1.float().mean()),
        "top5": float((top5 == labels[:, None]).any(1).float().mean()),
        "mean_class_acc": sum(c["top1"] for c in per_class) / len(per_class),
        "n": len(labels),
    }
    return [whole, *per_class]


def rng_for(seed, *keys):
    """A generator per grid point, independent of the order in which the grid is run."""
    return np.random.default_rng([seed, *(zlib.crc32(str(k).encode()) for k in keys)])


GRID_KEYS = ("seed", "noise_sigmas", "parts", "joint_fractions", "frames_noise")


def grid_logits(model, sets, clean, train_tier, grid):
    """Every grid point's logits: yields (perturbation, level, tier, logits (N, classes)).
    ``clean``: {tier: unperturbed inputs}."""
    seed = grid["seed"]
    clean_logits = {tier: predict(model, x)[0] for tier, x in clean.items()}
    for tier, logits in clean_logits.items():
        yield "clean", 0, tier, logits
    train = sets[train_tier]
    for kind, spatial in (("noise_st", False), ("noise_spatial", True)):
        for sigma in grid["noise_sigmas"]:
            if sigma:
                x = train.inputs(sigma, spatial, rng_for(seed, kind, sigma))
                yield kind, sigma, train_tier, predict(model, x)[0]
            else:  # σ = 0 is the clean input: reuse its logits
                yield kind, 0, train_tier, clean_logits[train_tier]
    for part in grid["parts"]:
        yield "part", part, train_tier, predict(model, occlude_part(clean[train_tier], part, train.layout))[0]
    for fraction in grid["joint_fractions"]:
        x = occlude_random_joints(clean[train_tier], fraction, rng_for(seed, "joints", fraction))
        yield "joints", fraction, train_tier, predict(model, x)[0]
    if grid["frames_noise"] is None:
        return
    frames, sigma = grid["frames_noise"]["fraction"], grid["frames_noise"]["sigma"]
    for tier, test in sets.items():
        x = test.inputs(sigma, False, rng_for(seed, "frames_noise", tier))
        yield "frames_noise", frames, tier, predict(model, mask_frames(x, frames, rng_for(seed, "frames", tier)))[0]


def confusion(logits, labels, num_classes):
    """Counts (C, C) of logits (N, C) against labels (N,): row = true class, column = the top-1
    prediction."""
    index = torch.as_tensor(labels) * num_classes + logits.argmax(dim=1)
    return torch.bincount(index, minlength=num_classes * num_classes).view(num_classes, num_classes).numpy()


def evaluate(model, sets, clean, train_tier, grid, num_classes, partners=None):
    """Every grid point scored: (rows of EVAL_COLUMNS, {(perturbation, level, tier): confusion
    counts (C, C)}). ``partners``: the classes' fine-grained partners (``scores``)."""
    rows, confusions = [], {}
    for perturbation, level, tier, logits in grid_logits(model, sets, clean, train_tier, grid):
        labels, point = sets[tier].labels, (perturbation, str(level), tier)
        rows += [{**dict(zip(CONDITION, point)), **r} for r in scores(logits, labels, num_classes, partners)]
        confusions[point] = confusion(logits, labels, num_classes)
    return rows, confusions


def confusion_arrays(confusions):
    """The npz arrays of ``evaluate``'s confusions: counts (G, C, C) and, per grid point G, its
    perturbation, level and test_estimator (strings, as in the CSV)."""
    conditions = list(confusions)
    arrays = {key: np.array([c[i] for c in conditions]) for i, key in enumerate(CONDITION)}
    return {**arrays, "counts": np.stack([confusions[c] for c in conditions]).astype(np.int32)}


def joint_activation(activation):
    """Activation (N, P, T', J') → (N, J'): person 0, mean over time, each sample scaled to max 1."""
    per_sample = activation[:, 0].mean(dim=1)
    return per_sample / per_sample.amax(dim=1, keepdim=True).clamp_min(1e-12)


def activation_spread(per_sample):
    """Per-joint activations (N, J) ≥ 0 → (mean effective number of joints, mean top-3 share).

    Each sample's activation is normalised to p (sums to 1); its effective number of joints is
    exp(−Σ p log p) (J for a uniform p, 1 for a one-hot p) and its top-3 share the sum of its
    three largest p.
    """
    p = per_sample / per_sample.sum(dim=1, keepdim=True).clamp_min(1e-12)
    entropy = -(p * p.clamp_min(1e-12).log()).sum(dim=1)
    top3 = p.topk(min(3, p.shape[1]), dim=1).values.sum(dim=1)
    return {"joints_effective": float(entropy.exp().mean()), "top3_share": float(top3.mean())}


def class_activation(per_sample, x, labels, num_classes):
    """Mean per-joint activation per class (C, J), each class scaled to max 1, and the mean
    skeleton (C, J, 2) of person 0, from per-sample activations (N, J) of the clean inputs
    x (N, P, T, J, 3)."""
    present = [c for c in range(num_classes) if (labels == c).any()]
    act = np.stack([per_sample[torch.as_tensor(labels == c)].mean(0).numpy() for c in present])
    pose = np.stack([x[labels == c, 0, :, :, :2].mean(axis=(0, 1)) for c in present])
    return {"activation": act / act.max(axis=1, keepdims=True), "pose": pose, "labels": np.array(present)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument(
        "--poses",
        action="append",
        required=True,
        metavar="TIER=PATH",
        help="test poses of a quality tier (repeat for hq, mq, lq)",
    )
    parser.add_argument("--train-estimator", required=True, help="the tier the model was trained on")
    parser.add_argument("--split", required=True)
    parser.add_argument(
        "--preprocess-json",
        required=True,
        help='config.preprocess (2D), or {"pipeline": "native3d", "n_frames": N, "test_ratio": R} (native 3D)',
    )
    parser.add_argument("--grid-json", required=True, help=f"config robustness grid: {', '.join(GRID_KEYS)}")
    parser.add_argument("--out-csv", required=True)
    parser.add_argument("--out-activation", required=True)
    parser.add_argument("--out-confusion", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="cuda: stop if no GPU is usable; auto: the GPU if there is one",
    )
    args = parser.parse_args(argv)
    pre = eval_preprocess_settings(args.preprocess_json)
    grid = json_object(args.grid_json, "--grid-json", GRID_KEYS)
    poses = dict(item.split("=", 1) for item in args.poses)
    if args.train_estimator not in poses:
        raise InputError(f"--poses: no poses for the training tier '{args.train_estimator}'")
    model, arch, identity = load_model(args.model, args.threads, args.device)
    identity = model_identity(identity, args.model, args.split)
    num_classes = arch["num_classes"]
    sets = {tier: TestSet(path, args.split, pre) for tier, path in sorted(poses.items())}
    for tier, test in sets.items():
        if len(test.labels) and test.labels.max() >= num_classes:  # it would be counted as a miss
            raise InputError(
                f"{poses[tier]}: split '{args.split}_val': label {test.labels.max()} is beyond the "
                f"{num_classes} classes of {args.model} (its architecture's num_classes)"
            )
    clean = {tier: test.inputs() for tier, test in sets.items()}
    partners = class_partners(identity["dataset"])
    rows, confusions = evaluate(model, sets, clean, args.train_estimator, grid, num_classes, partners)
    tier = args.train_estimator
    per_sample = joint_activation(predict(model, clean[tier], return_activation=True)[1])
    spread = activation_spread(per_sample)
    next(r for r in rows if r["perturbation"] == "clean" and r["test_estimator"] == tier and r["label"] == "").update(
        spread
    )
    with atomic_output(args.out_csv) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, EVAL_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows({**identity, **row} for row in rows)
    activation = class_activation(per_sample, clean[tier], sets[tier].labels, num_classes)
    with atomic_output(args.out_activation) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **activation, **spread, **identity)
    with atomic_output(args.out_confusion) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **confusion_arrays(confusions), **identity)
