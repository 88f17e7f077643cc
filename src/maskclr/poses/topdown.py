"""Top-down pose estimation: person boxes -> affine crops -> heatmaps -> image pixels.

Geometry and decoding follow mmpose 0.x, the version that made PYSKL's HRNet skeletons:

- box (x1, y1, x2, y2) -> centre and size: width ``x2 - x1 + 1`` (mmpose's ``_xyxy2xywh``),
  widened or heightened to the input aspect ratio (192/256), then padded by 1.25;
- crop: the box is mapped onto the (256, 192) input by a scale and a shift, bilinear sampling,
  zeros outside the image; ImageNet mean/std normalisation of RGB in [0, 1];
- heatmap (64, 48): argmax per joint, a quarter-pixel shift towards the higher neighbour,
  score = the heatmap maximum, then back to image pixels through the same box;
- flip test: the mirrored crop's heatmaps, flipped back with left/right joints swapped (and
  shifted one pixel in the classic, non-UDP geometry) and averaged with the plain ones.

Two pixel conventions exist: the classic one (HRNet: crop pixel u <-> centre + (u − W/2)·s with
s = box width / W) and UDP (ViTPose: centre + (u − (W−1)/2)·s with s = box width / (W−1)); the
same on the y axis with H and the box height.
ViTPose's official test decoder adds a DARK refinement on top; this module does not (its
argmax + quarter-offset decoding differs by well under one heatmap pixel).
"""

import numpy as np
import torch
import torch.nn.functional as F

from maskclr.data.joints import COCO_FLIP_PAIRS
from maskclr.errors import InputError
from maskclr.poses import hrnet, vitpose
from maskclr.poses.base import VideoPoseEstimator
from maskclr.poses.detector import build_detector
from maskclr.poses.tracking import max_persons, remove_duplicates
from maskclr.poses.weights import check_weights_spec, fixed_init, load_weights, mmpose_filter_fn

INPUT_SIZE = (256, 192)  # (H, W) of the network input
BOX_PADDING = 1.25
IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
_FLIP = np.arange(17)
for _left, _right in COCO_FLIP_PAIRS:
    _FLIP[[_left, _right]] = _right, _left


def box_to_center_size(boxes, input_size=INPUT_SIZE):
    """Boxes (N, ≥4: x1, y1, x2, y2) -> centres (N, 2) and padded, aspect-fixed sizes (N, 2: w, h) px."""
    boxes = np.asarray(boxes, dtype=np.float64)
    w, h = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
    center = np.stack([boxes[:, 0] + w / 2, boxes[:, 1] + h / 2], axis=1)
    aspect = input_size[1] / input_size[0]
    w, h = np.maximum(w, h * aspect), np.maximum(h, w / aspect)
    return center, np.stack([w, h], axis=1) * BOX_PADDING


def output_to_image(coords, center, size, output_size, udp):
    """Points (N, J, 2) on an (H, W) crop or heatmap of the boxes (center, size) -> image px.

    The box's (w, h) spans W × H output pixels (classic) or W − 1 × H − 1 (UDP), per axis."""
    width_height = np.array(output_size[::-1], dtype=np.float64) - (1 if udp else 0)
    origin = width_height / 2
    return center[:, None] + (coords - origin) * (size / width_height)[:, None]


def crop_boxes(frame, center, size, udp, input_size=INPUT_SIZE):
    """Frame (H, W, 3) uint8 RGB and boxes -> normalised crops (N, 3, *input_size) float32."""
    height, width = input_size
    grid = np.stack(np.meshgrid(np.arange(width), np.arange(height)), axis=-1).reshape(1, -1, 2)
    points = output_to_image(np.broadcast_to(grid, (len(center), height * width, 2)), center, size, input_size, udp)
    img_h, img_w = frame.shape[:2]
    # grid_sample with align_corners=True puts -1/+1 on the centres of the first/last pixels.
    normalised = 2 * points / [max(img_w - 1, 1), max(img_h - 1, 1)] - 1
    image = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float() / 255
    crops = F.grid_sample(
        image.expand(len(center), -1, -1, -1),
        torch.from_numpy(normalised.reshape(-1, height, width, 2)).float(),
        mode="bilinear",
        padding_mode="zeros",
        align_corners=True,
    )
    return (crops - IMAGENET_MEAN) / IMAGENET_STD


def decode_heatmaps(heatmaps):
    """Heatmaps (N, J, h, w) -> heatmap coordinates (N, J, 2: x, y) and maxima (N, J).

    Argmax, then a quarter pixel towards the larger neighbour on each axis (not on the border)."""
    heatmaps = np.asarray(heatmaps, dtype=np.float64)
    n, j, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, j, -1)
    index = flat.argmax(-1)
    score = np.take_along_axis(flat, index[..., None], -1)[..., 0]
    x, y = index % w, index // w
    coords = np.stack([x, y], axis=-1).astype(np.float64)
    inner = (x > 0) & (x < w - 1) & (y > 0) & (y < h - 1)
    nn_, jj = np.nonzero(inner)
    xi, yi = x[inner], y[inner]
    dx = heatmaps[nn_, jj, yi, xi + 1] - heatmaps[nn_, jj, yi, xi - 1]
    dy = heatmaps[nn_, jj, yi + 1, xi] - heatmaps[nn_, jj, yi - 1, xi]
    coords[inner] += 0.25 * np.stack([np.sign(dx), np.sign(dy)], axis=-1)
    return coords, score


def flip_back(heatmaps, shift):
    """Heatmaps of mirrored crops (N, 17, h, w) -> heatmaps of the plain crops."""
    flipped = heatmaps.flip(-1)[:, _FLIP]
    if shift:  # the classic geometry mirrors about (W−1)/2 in the crop but W/2 in the heatmap
        flipped = torch.cat([flipped[..., :1], flipped[..., :-1]], dim=-1)
    return flipped


class TopDownEstimator(VideoPoseEstimator):
    """Detector boxes -> a heatmap network per box -> NTU post-processing -> PYSKL arrays.

    Subclasses set ``create_model(variant, **arch)``, ``udp`` and ``variants``. Arguments (the
    config entry's keys besides ``type``):

    - ``detector``: the person detector's spec, e.g. ``{"type": "faster_rcnn", "weights": PATH,
      "weights_sha256": HEX}`` or ``{"type": "whole_frame"}`` (see ``maskclr.poses.detector``);
    - ``variant``: the architecture (ViTPose: s/b/l/h; HRNet: w32/w48);
    - ``weights``, ``weights_sha256``: a local mmpose checkpoint and its digest; or
    - ``random_init: true``: an untrained network, for tests only;
    - ``arch``: overrides of the variant's architecture (e.g. ``{"depth": 2}``), default none;
    - ``flip_test``: average with the mirrored crop, as mmpose's test configs (default true);
    - ``max_persons_rule``: ntu60, ntu120 (1 person, 2 for mutual actions) or none (default ntu60);
    - ``device`` (default "cpu"), ``batch_size`` (crops per forward pass, default 32).
    """

    create_model = None
    udp = False
    variants = ()

    def __init__(
        self,
        detector,
        variant,
        weights=None,
        weights_sha256=None,
        random_init=False,
        arch=None,
        flip_test=True,
        max_persons_rule="ntu60",
        device="cpu",
        batch_size=32,
    ):
        owner = f"estimator {type(self).__name__}"
        if variant not in self.variants:
            raise InputError(f"{owner}: key 'variant': expected one of {list(self.variants)}, got {variant!r}")
        check_weights_spec(owner, weights, weights_sha256, random_init)
        max_persons(0, max_persons_rule)  # validates the rule now rather than at the first video
        with fixed_init():  # random_init: the same untrained network in every shard and run
            self.network = type(self).create_model(variant, **(arch or {})).eval()
        if weights:
            load_weights(self.network, weights, weights_sha256, mmpose_filter_fn)
        self.network.to(device)
        self.detector = build_detector(detector, device)
        self.flip_test, self.max_persons_rule = flip_test, max_persons_rule
        self.device, self.batch_size = device, batch_size

    @torch.no_grad()
    def heatmaps(self, crops):
        """Normalised crops (N, 3, 256, 192) -> heatmaps (N, 17, 64, 48), flip-averaged if asked."""
        out = []
        for batch in crops.split(self.batch_size):
            batch = batch.to(self.device)
            heatmaps = self.network(batch)
            if self.flip_test:
                heatmaps = (heatmaps + flip_back(self.network(batch.flip(-1)), shift=not self.udp)) / 2
            out.append(heatmaps.float().cpu())
        return torch.cat(out)

    def frame_poses(self, frame):
        return self.video_poses([frame])[0]

    def video_poses(self, frames):
        """Per-frame poses; the crops of consecutive frames share forward passes of ``batch_size``."""
        pending, poses = [], []  # pending: (crops, centres, sizes) of frames not yet through the network
        for frame in frames:
            boxes = self.detector.detect(frame)
            center, size = box_to_center_size(boxes[remove_duplicates(boxes)])
            pending.append((crop_boxes(frame, center, size, self.udp), center, size))
            if sum(len(center) for _, center, _ in pending) >= self.batch_size:
                poses += self.crops_poses(pending)
                pending = []
        return poses + self.crops_poses(pending)

    def crops_poses(self, frames_crops):
        """[(crops (K, 3, 256, 192), centres (K, 2), sizes (K, 2)) per frame] -> [(K, 17, 3) per frame]."""
        counts = [len(center) for _, center, _ in frames_crops]
        if not sum(counts):
            return [np.zeros((0, 17, 3)) for _ in counts]
        heatmaps = self.heatmaps(torch.cat([crops for crops, _, _ in frames_crops]))
        coords, score = decode_heatmaps(heatmaps.numpy())
        center, size = (np.concatenate([frame[i] for frame in frames_crops]) for i in (1, 2))
        xy = output_to_image(coords, center, size, heatmaps.shape[2:], self.udp)
        return np.split(np.concatenate([xy, score[..., None]], axis=-1), np.cumsum(counts)[:-1])


class ViTPoseEstimator(TopDownEstimator):
    """ViTPose on detector boxes (the HQ tier, docs/method.md Q7), UDP geometry; arguments as
    ``TopDownEstimator`` with ``variant`` s/b/l/h (ViTPose-B 256×192: ``b``)."""

    create_model = staticmethod(vitpose.create_model)
    udp = True
    variants = tuple(vitpose.VARIANTS)


class HRNetEstimator(TopDownEstimator):
    """HRNet on detector boxes (the MQ tier, PYSKL's extraction, docs/method.md §2.1), classic
    geometry; arguments as ``TopDownEstimator`` with ``variant`` w32/w48 (PYSKL: ``w32``)."""

    create_model = staticmethod(hrnet.create_model)
    udp = False
    variants = tuple(hrnet.VARIANTS)
