"""The synthetic scenes as Kinect v2 would record them: a 3D NTU-25 tier in PYSKL's 3D format.

    python -m maskclr.data.kinect --out results/poses/synth/kinect.pkl \\
        --synthetic-json '{"seed": 0, "subjects": 10, "replications": 2, "min_frames": 40, "max_frames": 120}' \\
        --sensor-json '{"jitter_m": 0.01, "extremity_jitter_m": 0.02, "swap_rate": 0.01}'

The same scenes as ``maskclr.data.synthetic`` (the same ``--synthetic-json``, read by the same
parser, and NTU's three cameras, as the 2D command line's default → the same motions, cameras,
frame_dir, labels and splits), so the 2D tiers and this one describe the same performances. Per view:

1. the 25 Kinect joints are derived from the generator's 17 world joints (metres): the spine
   from the hips and shoulders, the head from the ears, and the hands, hand tips, thumbs and feet
   extended along the forearm and the shank (``kinect_joints``);
2. they are expressed in the camera space of Kinect's SDK (``camera_space``): origin at the
   sensor, x to the sensor's left, y up, z the depth, in metres;
3. Kinect-like errors are added (``sensor_noise``): i.i.d. Gaussian jitter per joint and frame,
   larger on the hands and feet, and occasional left/right confusions of a whole body in a frame.

Output: PYSKL's 3D annotation format (``ntu60_3danno.pkl``): ``frame_dir``, ``label``,
``total_frames`` and ``keypoint`` float32 (M, T, 25, 3); no ``img_shape``, no ``keypoint_score``.
"""

import argparse
import dataclasses

import numpy as np

from maskclr.data import synthetic
from maskclr.data.joints import NTU25_FLIP_PAIRS
from maskclr.errors import run_cli
from maskclr.fileio import dump_pickle
from maskclr.settings import check_values, is_number, json_settings

# NTU-25 joints taken as they are from COCO-17 (NTU index: COCO index).
_FROM_COCO = {4: 5, 5: 7, 6: 9, 8: 6, 9: 8, 10: 10, 12: 11, 13: 13, 14: 15, 16: 12, 17: 14, 18: 16}
# (NTU hand, hand tip, thumb, COCO elbow, wrist) per side. Along the forearm from the wrist, as
# fractions of its length (≈ 0.25 m): the palm centre ≈ 7 cm, the finger tips ≈ 16 cm.
_HANDS = ((7, 21, 22, 7, 9), (11, 23, 24, 8, 10))
_PALM, _TIP, _THUMB_ALONG, _THUMB_OUT = 0.3, 0.65, 0.35, 0.2
# (NTU foot, COCO knee, ankle) per side; the Kinect foot joint lies ≈ 10 cm in front of the ankle.
_FEET = ((15, 13, 15), (19, 14, 16))
_FOOT_M = 0.1
_EXTREMITIES = (7, 11, 15, 19, 21, 22, 23, 24)  # hands, feet, tips, thumbs: Kinect's noisiest
_FLIP = np.arange(25)
for _left, _right in NTU25_FLIP_PAIRS:
    _FLIP[_left], _FLIP[_right] = _right, _left
_UP = np.array([0.0, 0.0, 1.0])


@dataclasses.dataclass(frozen=True)
class SensorNoise:
    """Kinect-like errors (``--sensor-json``): jitter std (metres) of the body and of the
    extremities, and the probability per person and frame that the whole body's left and right
    are swapped."""

    jitter_m: float
    extremity_jitter_m: float
    swap_rate: float


# Kinect v2's joint jitter is about 1–2 cm, larger on the hands and feet (the config schema's default).
DEFAULT_NOISE = SensorNoise(jitter_m=0.01, extremity_jitter_m=0.02, swap_rate=0.01)


def sensor_settings(text, flag="--sensor-json"):
    """The ``SensorNoise`` given to ``flag`` as a JSON object with every field, checked."""
    noise = json_settings(SensorNoise, text, flag)
    values = dataclasses.asdict(noise)
    checks = {
        "jitter_m": is_number(noise.jitter_m) and noise.jitter_m >= 0,
        "extremity_jitter_m": is_number(noise.extremity_jitter_m) and noise.extremity_jitter_m >= 0,
        "swap_rate": is_number(noise.swap_rate) and 0 <= noise.swap_rate <= 1,
    }
    check_values(values, checks, flag)
    return noise


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _perpendicular(axis, preferred, fallback):
    """Unit vectors (..., 3) ⟂ ``axis``: ``preferred``'s component, or ``fallback``'s where
    ``preferred`` is nearly parallel to the axis (its component shorter than 0.3)."""
    axis = _unit(axis)

    def component(v):
        return v - (v * axis).sum(-1, keepdims=True) * axis

    first, second = component(preferred), component(fallback)
    short = np.linalg.norm(first, axis=-1, keepdims=True) < 0.3
    return _unit(np.where(short, second, first))


def kinect_joints(coco):
    """NTU-25 joints (..., 25, 3) from COCO-17 world joints (..., 17, 3) (metres, z up).

    The body's forward direction is (left hip − right hip) × up; thumbs and feet point forward
    (up when the forearm or shank itself points forward).
    """
    out = np.zeros(coco.shape[:-2] + (25, 3))
    for ntu, source in _FROM_COCO.items():
        out[..., ntu, :] = coco[..., source, :]
    base, top = coco[..., (11, 12), :].mean(-2), coco[..., (5, 6), :].mean(-2)
    head = coco[..., (3, 4), :].mean(-2)  # between the ears: the centre of the head
    out[..., 0, :], out[..., 1, :], out[..., 20, :] = base, (base + top) / 2, top
    out[..., 2, :], out[..., 3, :] = top + 0.4 * (head - top), head
    forward = _unit(np.cross(coco[..., 11, :] - coco[..., 12, :], _UP))
    up = np.broadcast_to(_UP, forward.shape)
    for hand, tip, thumb, elbow, wrist in _HANDS:
        forearm = coco[..., wrist, :] - coco[..., elbow, :]
        side = _perpendicular(forearm, forward, up) * np.linalg.norm(forearm, axis=-1, keepdims=True)
        out[..., hand, :] = coco[..., wrist, :] + _PALM * forearm
        out[..., tip, :] = coco[..., wrist, :] + _TIP * forearm
        out[..., thumb, :] = coco[..., wrist, :] + _THUMB_ALONG * forearm + _THUMB_OUT * side
    for foot, knee, ankle in _FEET:
        out[..., foot, :] = coco[..., ankle, :] + _FOOT_M * _perpendicular(
            coco[..., ankle, :] - coco[..., knee, :], forward, up
        )
    return out


def camera_space(world, camera):
    """World points (..., 3) in Kinect's camera space (x to the sensor's left, y up, z depth).

    ``camera`` is the generator's (position, rotation with rows right/down/forward, focal).
    Negating right and down keeps the frame right-handed.
    """
    position, rotation, _ = camera
    return ((world - position) @ rotation.T) * np.array([-1.0, -1.0, 1.0])


def sensor_noise(keypoint, noise, rng):
    """Jitter and left/right swaps (``SensorNoise``) of keypoint (M, T, 25, 3); returns a new array."""
    scale = np.full(25, noise.jitter_m)
    scale[list(_EXTREMITIES)] = noise.extremity_jitter_m
    out = keypoint + rng.normal(0.0, 1.0, keypoint.shape) * scale[:, None]
    swap = rng.random(keypoint.shape[:2]) < noise.swap_rate
    out[swap] = out[swap][:, _FLIP]
    return out


def generate(noise=DEFAULT_NOISE, **scene_args):
    """The Kinect tier of ``synthetic.scenes(**scene_args)`` as a PYSKL 3D dict (see the module
    docstring). Each view's noise comes from its own stream (seed, ``KINECT_STREAM``, view number)."""
    views = list(synthetic.scenes(**scene_args))
    seed = scene_args["seed"]

    def annotation(world, camera, frame_dir, label):
        rng = np.random.default_rng([seed, synthetic.KINECT_STREAM, order[frame_dir]])
        keypoint = sensor_noise(camera_space(kinect_joints(world), camera), noise, rng)
        return {
            "frame_dir": frame_dir,
            "label": label,
            "total_frames": int(world.shape[1]),
            "keypoint": keypoint.astype(np.float32),
        }

    order = {view[0]: i for i, view in enumerate(views)}
    return synthetic.assemble(views, annotation)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.data.kinect", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output pickle (written atomically)")
    parser.add_argument(
        "--synthetic-json",
        required=True,
        help=f"datasets.synth.synthetic, as for maskclr.data.synthetic: {', '.join(synthetic.SYNTHETIC_KEYS)}",
    )
    parser.add_argument(
        "--sensor-json",
        required=True,
        help=f"the sensor model: {', '.join(f.name for f in dataclasses.fields(SensorNoise))}",
    )
    args = parser.parse_args(argv)
    scene_args = synthetic.scene_settings(args.synthetic_json)
    dump_pickle(generate(sensor_settings(args.sensor_json), **scene_args), args.out)


if __name__ == "__main__":
    run_cli(main)
