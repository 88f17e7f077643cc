"""Real-video pose adapters: geometry and decoding against exact answers with stand-in
networks, and the real networks (random weights, no download) on a short video made here."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import write_video
from maskclr.data.pyskl import validate_dataset
from maskclr.errors import InputError
from maskclr.fileio import sha256
from maskclr.poses import hrnet, vitpose
from maskclr.poses.base import build_estimator
from maskclr.poses.extract import ESTIMATORS, extract
from maskclr.poses.openpifpaf_adapter import OpenPifPafEstimator
from maskclr.poses.topdown import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    box_to_center_size,
    crop_boxes,
    decode_heatmaps,
    flip_back,
    output_to_image,
)
from maskclr.poses.weights import load_weights, mmpose_filter_fn

HEATMAP = (64, 48)
TINY_VITPOSE = {
    "type": "vitpose",
    "variant": "b",
    "random_init": True,
    "arch": {"depth": 2, "embed_dim": 64, "num_heads": 2},
    "detector": {"type": "whole_frame"},
    "flip_test": True,
}


@pytest.fixture(autouse=True)
def one_thread():
    """Two CPU threads on a shared, busy 2-core machine make every small op wait on the other
    thread (HRNet's ~1000 ops went from 0.25 s to 10 s a crop); one thread is steady."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def video(tmp_path):
    return write_video(tmp_path / "S001C001P001R001A001_rgb.avi")


def test_box_to_center_size_fixes_aspect_and_pads():
    center, size = box_to_center_size([[10, 20, 109, 219, 0.9], [0, 0, 299, 99, 0.8]])
    np.testing.assert_allclose(center, [[60, 120], [150, 50]])
    # 100×200 is too narrow for 192/256: widened to 150; 300×100 too flat: heightened to 400.
    np.testing.assert_allclose(size, [[150 * 1.25, 200 * 1.25], [300 * 1.25, 400 * 1.25]])


@pytest.mark.parametrize("udp, center", [(False, (150.0, 140.0)), (True, (150.5, 140.5))])
def test_crop_at_unit_scale_copies_pixels(udp, center):
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    # One image pixel per crop pixel: size = W (classic) or W − 1 (UDP).
    size = np.array([[192.0, 256.0]]) - (1 if udp else 0)
    crop = crop_boxes(frame, np.array([center]), size, udp)
    x0, y0 = (int(center[0] - 95.5), int(center[1] - 127.5)) if udp else (int(center[0]) - 96, int(center[1]) - 128)
    expected = torch.from_numpy(frame[y0 : y0 + 256, x0 : x0 + 192]).permute(2, 0, 1)[None].float() / 255
    # float32 sampling grid: off by < 0.1 % of one intensity step; one pixel off would be ~1.
    torch.testing.assert_close(crop, (expected - IMAGENET_MEAN) / IMAGENET_STD, atol=1e-3, rtol=0)


def test_crop_outside_the_image_is_black():
    frame = np.full((50, 60, 3), 255, dtype=np.uint8)
    crop = crop_boxes(frame, np.array([[1000.0, 1000.0]]), np.array([[192.0, 256.0]]), udp=False)
    torch.testing.assert_close(crop, (torch.zeros_like(crop) - IMAGENET_MEAN) / IMAGENET_STD)


def peaked_heatmaps(peaks, shifts, value=1.0):
    """(1, 17, 64, 48) heatmaps, joint j peaking at ``peaks[j]`` (x, y) with its right/lower
    neighbour raised by ``shifts[j]`` (+1), its left/upper one (−1), or neither (0)."""
    heatmaps = np.zeros((1, 17, *HEATMAP), dtype=np.float32)
    for j, ((x, y), (sx, sy)) in enumerate(zip(peaks, shifts)):
        heatmaps[0, j, y, x] = value
        if sx:
            heatmaps[0, j, y, x + sx] = value / 2
        if sy:
            heatmaps[0, j, y + sy, x] = value / 2
    return heatmaps


def test_decode_heatmaps_quarter_offset_and_border():
    peaks = [(5 + 2 * j, 10 + 2 * j) for j in range(17)]
    shifts = [((-1, 1, 0)[j % 3], (1, 0, -1)[j % 3]) for j in range(17)]
    peaks[16], shifts[16] = (0, 63), (1, -1)  # on the border: no offset
    coords, score = decode_heatmaps(peaked_heatmaps(peaks, shifts, value=0.8))
    expected = np.array(peaks, dtype=float) + 0.25 * np.array(shifts)
    expected[16] = peaks[16]
    np.testing.assert_allclose(coords[0], expected)
    np.testing.assert_allclose(score[0], 0.8)


@pytest.mark.parametrize(
    "udp, origin, step", [(False, (24, 32), (240 / 48, 320 / 64)), (True, (23.5, 31.5), (240 / 47, 320 / 63))]
)
def test_heatmap_to_image_pixels(udp, origin, step):
    center, size = np.array([[500.0, 400.0]]), np.array([[240.0, 320.0]])
    coords = np.array([[[0.0, 0.0], [24.0, 32.0], [47.0, 63.0], [10.25, 5.75]]])
    expected = center + (coords[0] - origin) * step
    np.testing.assert_allclose(output_to_image(coords, center, size, HEATMAP, udp)[0], expected)


def test_flip_back_swaps_sides_and_shifts_in_classic_geometry():
    heatmaps = torch.zeros(1, 17, *HEATMAP)
    heatmaps[0, 5, 10, 3] = 1  # left shoulder, column 3 of the mirrored crop
    plain, shifted = flip_back(heatmaps, shift=False), flip_back(heatmaps, shift=True)
    assert plain[0, 6, 10, 44] == 1 and plain.sum() == 1  # right shoulder, mirrored column 47 − 3
    assert shifted[0, 6, 10, 45] == 1 and shifted.sum() == 1


class FixedHeatmaps(torch.nn.Module):
    """Stand-in pose network: the same known heatmaps for every crop."""

    def __init__(self, heatmaps):
        super().__init__()
        self.heatmaps = torch.from_numpy(heatmaps)
        self.batches = []

    def forward(self, crops):
        self.batches.append(len(crops))
        return self.heatmaps.expand(len(crops), -1, -1, -1)


class BoxesPerFrame:
    """Stand-in detector: the given boxes for the 1st, 2nd, ... frame."""

    def __init__(self, boxes):
        self.boxes = iter(boxes)

    def detect(self, frame):
        return np.array(next(self.boxes), dtype=float).reshape(-1, 5)


@pytest.mark.parametrize("kind, udp", [("hrnet", False), ("vitpose", True)])
def test_topdown_adapter_with_stand_in_network_gives_exact_pixels(kind, udp):
    spec = {
        **TINY_VITPOSE,
        "type": kind,
        "variant": "w32" if kind == "hrnet" else "b",
        "flip_test": False,
        "arch": {"width": 8} if kind == "hrnet" else TINY_VITPOSE["arch"],
        "batch_size": 2,
    }
    estimator = build_estimator(spec, ESTIMATORS)
    peaks = [(4 + 2 * j, 6 + 3 * j) for j in range(17)]
    estimator.network = FixedHeatmaps(peaked_heatmaps(peaks, [(1, -1)] * 17))
    # 192×256 boxes (x2 − x1 + 1 = 192): no aspect fix, padded to 240×320, centres (196, 178)
    # and (496, 178). Frames with 1, 0 and 2 boxes, batch size 2: crops of frames 1–3 share a pass.
    box, moved = [100, 50, 291, 305, 0.99], [400, 50, 591, 305, 0.9]
    estimator.detector = BoxesPerFrame([[box], [], [box, moved]])
    poses = estimator.video_poses([np.zeros((400, 700, 3), np.uint8)] * 3)
    assert [p.shape for p in poses] == [(1, 17, 3), (0, 17, 3), (2, 17, 3)]
    assert estimator.network.batches == [2, 1]  # frame-by-frame passes would be [1, 2]
    origin, step = ((23.5, 31.5), (240 / 47, 320 / 63)) if udp else ((24, 32), (240 / 48, 320 / 64))
    offsets = (np.array(peaks) + [0.25, -0.25] - origin) * step
    for pose, center in ((poses[0][0], (196, 178)), (poses[2][0], (196, 178)), (poses[2][1], (496, 178))):
        np.testing.assert_allclose(pose[:, :2], np.array(center) + offsets, atol=1e-9)
        np.testing.assert_allclose(pose[:, 2], 1.0)


def test_vitpose_real_network_on_a_video(video):
    # The whole path: decoding, boxes, a (small, random) ViTPose with flip test, heatmap decoding,
    # pixels, tracking and PYSKL validation.
    torch.manual_seed(0)
    items = [{"frame_dir": "S001C001P001R001A001", "label": 0, "video": video}]
    annotations = extract(items, build_estimator(TINY_VITPOSE, ESTIMATORS), "hq", 0)
    ann = validate_dataset(annotations, "test")["annotations"][0]
    assert ann["img_shape"] == (120, 160) and ann["total_frames"] == 4
    assert ann["keypoint"].shape == (1, 4, 17, 2) and ann["keypoint"].dtype == np.float32
    found = ann["keypoint_score"] > 0
    # Every found joint lies inside the whole-frame box (0, 0, 159, 119) as fixed to 3:4 and padded:
    # centre (80, 60), size (160, 213.3) · 1.25; a joint is found where its heatmap peak is > 0.
    assert found.any() and (np.abs(ann["keypoint"][found] - [80, 60]) <= [100, 400 / 3]).all()


def test_hrnet_real_network_on_a_video(video):
    # The full HRNet topology at width 8 (w32 itself is checked in test_published_architectures).
    estimator = build_estimator(
        {
            "type": "hrnet",
            "variant": "w32",
            "arch": {"width": 8},
            "random_init": True,
            "detector": {"type": "whole_frame"},
            "max_persons_rule": "ntu120",
        },
        ESTIMATORS,
    )
    result = estimator.estimate({"frame_dir": "S001C001P001R001A050", "label": 49, "video": video}, None)
    assert result["img_shape"] == (120, 160)
    assert result["keypoint"].shape[1:] == (4, 17, 2) and result["keypoint"].shape[0] <= 2
    assert result["keypoint_score"].dtype == np.float32
    assert estimator.network(torch.zeros(2, 3, 256, 192)).shape == (2, 17, 64, 48)


def test_published_architectures():
    vit_b = vitpose.create_model("b").eval()
    with torch.no_grad():
        assert vit_b(torch.zeros(1, 3, 256, 192)).shape == (1, 17, 64, 48)
    assert abs(sum(p.numel() for p in vit_b.backbone.parameters()) - 86e6) < 0.5e6  # ViTPose-B: 86 M
    keys = vit_b.state_dict()
    for key, shape in {
        "backbone.patch_embed.proj.weight": (768, 3, 16, 16),
        "backbone.pos_embed": (1, 193, 768),
        "backbone.blocks.11.attn.qkv.weight": (2304, 768),
        "backbone.last_norm.bias": (768,),
        "keypoint_head.deconv_layers.0.weight": (768, 256, 4, 4),
        "keypoint_head.deconv_layers.4.running_var": (256,),
        "keypoint_head.final_layer.weight": (17, 256, 1, 1),
    }.items():
        assert tuple(keys[key].shape) == shape, key
    w32 = hrnet.create_model("w32").eval()
    with torch.no_grad():
        assert w32(torch.zeros(1, 3, 256, 192)).shape == (1, 17, 64, 48)
    assert round(sum(p.numel() for p in w32.parameters()) / 1e6, 1) == 28.5  # hrnet_w32_coco_256x192: 28.5 M
    keys = w32.state_dict()
    for key, shape in {
        "backbone.conv1.weight": (64, 3, 3, 3),
        "backbone.layer1.0.downsample.0.weight": (256, 64, 1, 1),
        "backbone.transition1.1.0.0.weight": (64, 256, 3, 3),
        "backbone.stage2.0.fuse_layers.1.0.0.0.weight": (64, 32, 3, 3),
        "backbone.stage4.2.fuse_layers.0.3.0.weight": (32, 256, 1, 1),
        "keypoint_head.final_layer.weight": (17, 32, 1, 1),
    }.items():
        assert tuple(keys[key].shape) == shape, key
    assert not any(k.startswith("backbone.stage4.2.fuse_layers.1") for k in keys)  # last module: one output


def test_mmpose_checkpoint_loads_strictly_and_is_checked(tmp_path):
    model = vitpose.create_model("b", depth=1, embed_dim=32, num_heads=2)
    path = tmp_path / "vitpose.pth"
    torch.save({"meta": {"epoch": 210}, "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path)
    fresh = load_weights(
        vitpose.create_model("b", depth=1, embed_dim=32, num_heads=2), path, sha256(path), mmpose_filter_fn
    )
    torch.testing.assert_close(fresh.state_dict(), model.state_dict())
    with pytest.raises(InputError, match="vitpose.pth: sha256"):
        load_weights(model, path, "0" * 64, mmpose_filter_fn)
    with pytest.raises(InputError, match="vitpose.pth: not a checkpoint.*unexpected: backbone.blocks.1"):
        load_weights(vitpose.create_model("b", depth=1, embed_dim=32, num_heads=2), *_deeper(tmp_path))


def _deeper(tmp_path):
    path = tmp_path / "vitpose.pth"
    torch.save(vitpose.create_model("b", depth=2, embed_dim=32, num_heads=2).state_dict(), path)
    return path, sha256(path), mmpose_filter_fn


@pytest.mark.parametrize(
    "change, message",
    [
        ({"random_init": False}, "'weights': a checkpoint path is required"),
        ({"weights": "w.pth", "weights_sha256": "ab"}, "give one, not both"),
        ({"variant": "x"}, "'variant': expected one of"),
        ({"max_persons_rule": "ntu"}, "max_persons_rule"),
        ({"detector": {"type": "yolo"}}, "'detector'"),
        ({"batch": 4}, "unexpected keyword argument 'batch'"),
    ],
)
def test_bad_spec_is_an_input_error(change, message):
    with pytest.raises(InputError, match=message):
        build_estimator({**TINY_VITPOSE, **change}, ESTIMATORS)


def test_missing_video_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="nothere.avi: video file not found"):
        build_estimator(TINY_VITPOSE, ESTIMATORS).estimate(
            {"frame_dir": "x", "label": 0, "video": str(tmp_path / "nothere.avi")}, None
        )


def import_torchvision_or_skip():
    try:
        import torchvision  # noqa: F401
    except (ImportError, RuntimeError) as err:  # PyPI's torchvision beside another torch: RuntimeError
        pytest.skip(f"torchvision is not importable here ({err}); the detector runs in envs/vitpose.yaml")


def test_faster_rcnn_detector_random_init_and_weights(video, tmp_path):
    import_torchvision_or_skip()
    from maskclr.poses.detector import build_detector
    from maskclr.poses.video import read_frames

    torch.manual_seed(0)
    detector = build_detector({"type": "faster_rcnn", "random_init": True, "score_threshold": 0.0})
    boxes = detector.detect(next(read_frames(video)))
    assert boxes.ndim == 2 and boxes.shape[1] == 5 and (boxes[:, 4] >= 0).all()
    path = tmp_path / "fasterrcnn_resnet50_fpn_coco.pth"
    torch.save(detector.model.state_dict(), path)
    loaded = build_detector({"type": "faster_rcnn", "weights": str(path), "weights_sha256": sha256(path)})
    torch.testing.assert_close(loaded.model.state_dict(), detector.model.state_dict())


class DuplicatedBoxes:
    """Stand-in detector: one person box and a weaker box inside it."""

    def detect(self, frame):
        return np.array([[100, 50, 291, 305, 0.99], [120, 60, 280, 300, 0.6]])


def test_topdown_frame_poses_drop_duplicate_boxes():
    estimator = build_estimator({**TINY_VITPOSE, "flip_test": False}, ESTIMATORS)
    estimator.detector = DuplicatedBoxes()
    assert estimator.frame_poses(np.zeros((400, 500, 3), np.uint8)).shape == (1, 17, 3)


def test_extract_imports_without_torch():
    # The simulated tier's environment (envs/data.yaml) has no torch: the registry must not import it.
    code = "import sys, maskclr.poses.extract; print(sorted({'torch', 'imageio'} & set(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


class Annotation:
    def __init__(self, data):
        self.data = data


class StandInPredictor:
    """Known OpenPifPaf output per frame: one person walking right, and a weaker duplicate of it."""

    def __init__(self):
        self.frame_index = 0

    def numpy_image(self, frame):
        t, self.frame_index = self.frame_index, self.frame_index + 1
        person = np.column_stack([np.arange(17) * 3 + 10.0 + t, np.arange(17) * 2 + 5.0, np.full(17, 0.7)])
        person[2] = (33, 44, 0)  # right eye not found; OpenPifPaf's leftover coordinates must not survive
        duplicate = person.copy()
        duplicate[:, 2] = 0.3
        return [Annotation(person), Annotation(duplicate)], None, {}


class StandInPifPaf(OpenPifPafEstimator):
    def load_predictor(self, weights, base_network):
        return StandInPredictor()


def test_openpifpaf_glue_with_stand_in_predictor(video):
    # max_persons_rule none: only duplicate removal can bring the two annotations down to one person.
    result = StandInPifPaf(random_init=True, max_persons_rule="none").estimate(
        {"frame_dir": "S001C001P001R001A001", "label": 0, "video": video}, None
    )
    assert result["img_shape"] == (120, 160) and result["keypoint"].shape == (1, 4, 17, 2)
    for t in range(4):
        expected = np.column_stack([np.arange(17) * 3 + 10.0 + t, np.arange(17) * 2 + 5.0])
        expected[2] = 0
        np.testing.assert_allclose(result["keypoint"][0, t], expected)
    assert (result["keypoint_score"][0, :, 2] == 0).all()
    assert (result["keypoint_score"][0, :, 0] == np.float32(0.7)).all()


@pytest.mark.skipif(
    importlib.util.find_spec("openpifpaf") is None,
    reason="openpifpaf 0.13.11 pins torch 1.13.1 and torchvision 0.14.1, which has no wheel "
    "for this Python 3.11; it runs in envs/openpifpaf.yaml (Python 3.10)",
)
def test_openpifpaf_real_network_on_a_video(video, tmp_path, monkeypatch):
    torch.manual_seed(0)
    untrained = build_estimator({"type": "openpifpaf", "random_init": True, "max_persons_rule": "none"}, ESTIMATORS)
    item = {"frame_dir": "S001C001P001R001A001", "label": 0, "video": video}
    result = untrained.estimate(item, None)
    assert result["img_shape"] == (120, 160) and result["keypoint"].shape[1:] == (4, 17, 2)
    # OpenPifPaf's checkpoints pickle the whole model: save this one and load it back by path.
    path = tmp_path / "shufflenetv2k16-cocokp.pkl"
    torch.save({"model": untrained.predictor.model_cpu, "epoch": 0}, path)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # torch ≥ 2.6 only; 1.13 loads pickles as is
    loaded = build_estimator(
        {"type": "openpifpaf", "weights": str(path), "weights_sha256": sha256(path), "max_persons_rule": "none"},
        ESTIMATORS,
    )
    torch.testing.assert_close(loaded.predictor.model_cpu.state_dict(), untrained.predictor.model_cpu.state_dict())
    assert loaded.estimate(item, None)["keypoint"].shape[1:] == (4, 17, 2)
