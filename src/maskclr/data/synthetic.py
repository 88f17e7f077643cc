"""Embedded, procedurally generated NTU-like 2D skeleton dataset in PYSKL format.

Every sequence is one subject performing one action, animated in 3D by forward kinematics from
joint angles and projected by three virtual NTU-like cameras to COCO-17 pixel keypoints. The
output is deterministic from the seed, so the workflow can regenerate identical bytes.

Classes (0-based label: name — what distinguishes it):

0  wave right hand   — right upper arm lateral, forearm up, fast repeated elbow swing (~2 Hz)
1  wave left hand    — the same with the left arm
2  raise right arm   — one slow raise of the straight right arm above the head, then lower
3  raise left arm    — the same with the left arm
4  punch right       — both fists in a guard, one fast forward extension of the right arm
5  punch left        — the same with the left arm (so the guard arm alone says nothing)
6  kick right leg    — the right leg swings forward with a chamber-and-extend knee
7  kick left leg     — the same with the left leg
8  squat             — both hips and knees flex, pelvis drops, arms come forward
9  jump              — crouch with arms back, flight with arms up, landing crouch
10 clap              — both arms forward, hands repeatedly meet at the midline
11 bow               — torso pitches forward and back; the arms keep hanging
12 handshake (two)   — two people face each other; right arms extend, meet and shake
13 push (two)        — one pushes with both arms; the other leans and steps back

Pairs such as wave/raise (timing), raise/punch (direction), wave-left/kick-left (which limb) and
squat/push (legs only) differ in a few joints, so no single joint separates all classes and
occluding some joints hurts. Every subject also moves idly (sway, breathing, arm swing, head),
so joints not involved in an action are never still.

Like NTU RGB+D, each performance is seen by three cameras at the same time (azimuth -45°, 0°,
+45°): the three views of a (subject, action, replication) share one 3D motion. Single-person
replications alternate between facing camera 1 and camera 3 (as NTU's performers alternate
between the left and right camera), with a small random yaw; pairs stand side by side as seen
from camera 2.
"""

import argparse
import dataclasses
import functools

import numpy as np

from maskclr.errors import InputError, run_cli
from maskclr.fileio import dump_pickle
from maskclr.settings import json_object

FPS = 30.0
IMG_SHAPE = (1080, 1920)  # (height, width), as PYSKL's img_shape
NUM_JOINTS = 17

CLASS_NAMES = (
    "wave right hand", "wave left hand", "raise right arm", "raise left arm",
    "punch right", "punch left", "kick right leg", "kick left leg",
    "squat", "jump", "clap", "bow", "handshake", "push",
    "drink water", "brushing teeth", "make a phone call", "touch head (headache)",
    "nod head", "shake head", "reading", "writing",
    "typing on a keyboard", "playing with phone/tablet",
)  # fmt: skip
MUTUAL_CLASSES = frozenset({12, 13})

# Fine-grained neighbours (first, second): one performance differs only in these COCO joints
# (0-4 head, 8/10 right elbow/wrist, 7/9 left elbow/wrist); everything else is shared.
_HEAD, _RIGHT_HAND, _HANDS = (0, 1, 2, 3, 4), (8, 10), (7, 8, 9, 10)
FINE_PAIRS = {
    (14, 15): _HEAD + _RIGHT_HAND,  # drink water / brushing teeth: hand at the mouth
    (16, 17): _RIGHT_HAND,  # phone call / headache: hand at the ear / the temple
    (18, 19): _HEAD,  # nod / shake the head
    (20, 21): _RIGHT_HAND,  # reading / writing: hands in front, head down
    (22, 23): _HANDS,  # typing / playing with a phone: hands in front
}

# NTU-like cameras (1-based id = index + 1): azimuth (deg) and height (m). All three are Kinect v2
# colour cameras (1920×1080, 84.1° horizontal field of view: focal 960 / tan 42.05° ≈ 1064 px).
# NTU's 17 setups vary the distance to the performer; here each performance draws its distance
# from DISTANCE_M (each camera ±0.15 m): nose to ankle, a body is about 380-600 px tall (5th to
# 95th percentile; median ≈ 480 px; squats and bows are shorter).
CAMERAS = ((-45.0, 1.2), (0.0, 1.25), (45.0, 1.15))
VIEWS = len(CAMERAS)  # the views of a performance, unless told fewer: NTU's three (both tiers' command lines)
FOCAL_PX = 1064.0
DISTANCE_M = (2.8, 4.0)
_PRINCIPAL = np.array([960.0, 540.0])
_CAMERA_TARGET = np.array([0.0, 0.0, 0.9])  # cameras look at hip height at the scene centre
XVIEW_TRAIN_CAMERAS = frozenset({2, 3})  # NTU cross-view: cameras 2, 3 train, camera 1 test
XSUB_TRAIN_FRACTION = 0.6

# Seed tags keep the subject and motion streams apart even for equal remaining entropy
# (KINECT_STREAM: the sensor noise of the 3D tier, maskclr.data.kinect).
_SUBJECT_STREAM, _MOTION_STREAM, _CAMERA_STREAM, KINECT_STREAM = 0, 1, 2, 3

# Head points relative to the neck (torso frame, x forward, y left, z up), in body heights:
# nose, left eye, right eye, left ear, right ear (COCO 0-4).
_HEAD_OFFSETS = np.array([
    [0.045, 0.0, 0.065], [0.03, 0.022, 0.08], [0.03, -0.022, 0.08],
    [-0.01, 0.045, 0.07], [-0.01, -0.045, 0.07],
])  # fmt: skip
_NECK_HEIGHT = 0.05  # neck pivot above the shoulder line, in body heights


@dataclasses.dataclass(frozen=True)
class Subject:
    """Body proportions (metres) and motion style (degrees, Hz, factors) of one performer."""

    height: float
    upper_arm: float
    forearm: float
    thigh: float
    shank: float
    torso: float
    shoulder_half: float
    hip_half: float
    ankle_height: float
    speed: float
    amplitude: float
    rest_abduction: float
    rest_elbow: float
    stance_abduction: float
    sway_deg: float
    sway_hz: float
    swing_deg: float
    swing_hz: float
    breath_hz: float
    wave_hz: float


def make_subject(seed, index):
    """The deterministic ``Subject`` number ``index`` (0-based) of dataset ``seed``."""
    rng = np.random.default_rng([seed, _SUBJECT_STREAM, index])
    height = rng.uniform(1.5, 1.9)

    def segment(ratio):
        # Each segment varies on its own (±10%), so limb ratios differ between subjects.
        return float(height * ratio * rng.uniform(0.9, 1.1))

    return Subject(
        height=float(height), upper_arm=segment(0.186), forearm=segment(0.146),
        thigh=segment(0.245), shank=segment(0.246), torso=segment(0.29),
        shoulder_half=segment(0.105), hip_half=segment(0.06), ankle_height=segment(0.04),
        speed=float(rng.uniform(0.8, 1.25)), amplitude=float(rng.uniform(0.85, 1.15)),
        rest_abduction=float(rng.uniform(4.0, 14.0)), rest_elbow=float(rng.uniform(5.0, 20.0)),
        stance_abduction=float(rng.uniform(2.0, 6.0)), sway_deg=float(rng.uniform(1.0, 3.0)),
        sway_hz=float(rng.uniform(0.15, 0.35)), swing_deg=float(rng.uniform(2.0, 6.0)),
        swing_hz=float(rng.uniform(0.3, 0.6)), breath_hz=float(rng.uniform(0.2, 0.35)),
        wave_hz=float(rng.uniform(1.6, 2.4)),
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Timing helpers. ``u`` is the action's normalised time in [0, 1] (shape [T]).


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _envelope(u, rise):
    """0 → 1 → 0 over ``u`` in [0, 1], with smooth ramps ``rise`` long; [T]."""
    return _smoothstep(u / rise) * _smoothstep((1.0 - u) / rise)


def _pulse(u, start, width, rise):
    """An ``_envelope`` squeezed into [start, start + width]; zero outside; [T]."""
    return _envelope((u - start) / width, rise)


def _blend(pose, key, weight, target):
    """Move ``pose[key]`` towards ``target`` by ``weight`` (arrays [T] or scalars)."""
    pose[key] = (1.0 - weight) * pose[key] + weight * target


def _action_time(frames, rng):
    """Normalised action time [T]: random onset/offset and a monotone random time warp."""
    u = (np.arange(frames) + 0.5) / frames
    warp = rng.uniform(-0.5, 0.5)  # |warp| < 1 keeps du/dt = 1 + warp·cos > 0
    u = u + warp * np.sin(2.0 * np.pi * u) / (2.0 * np.pi)
    start, end = rng.uniform(0.04, 0.15), rng.uniform(0.85, 0.96)
    return np.clip((u - start) / (end - start), 0.0, 1.0)


def _rest_pose(subject, t, rng):
    """Idle standing pose of ``subject`` over times ``t`` [T]: dict of [T] arrays.

    Angles are degrees; ``px``/``py`` (m) move the pelvis in the body frame, ``lift`` (m)
    raises it off the ground and ``breath`` (m) raises the shoulders.
    """
    phase = rng.uniform(0.0, 2.0 * np.pi, size=7)
    zeros = np.zeros_like(t)

    def wave(hz, k):
        return np.sin(2.0 * np.pi * hz * t + phase[k])

    sway = wave(subject.sway_hz, 0)
    pose = {
        "px": 0.01 * wave(subject.sway_hz * 0.7, 1), "py": 0.015 * sway, "lift": zeros.copy(),
        "torso_pitch": 1.5 * wave(subject.sway_hz * 0.7, 1), "torso_roll": subject.sway_deg * sway,
        "torso_yaw": zeros.copy(), "head_pitch": 4.0 * wave(0.3, 2), "head_yaw": 3.0 * wave(0.2, 4),
        "breath": 0.005 * wave(subject.breath_hz, 3),
    }  # fmt: skip
    for k, side in enumerate("LR"):
        pose[f"sh_flex_{side}"] = subject.swing_deg * wave(subject.swing_hz, 5 + k)
        pose[f"sh_abd_{side}"] = zeros + subject.rest_abduction
        pose[f"elbow_{side}"] = zeros + subject.rest_elbow
        pose[f"hip_flex_{side}"] = zeros.copy()
        pose[f"hip_abd_{side}"] = zeros + subject.stance_abduction
        pose[f"knee_{side}"] = zeros + 3.0
    return pose


# ----------------------------------------------------------------------------------------------
# Actions: each edits the idle pose in place. Single-person: (pose, u, t, subject, rng);
# two-person: (pose0, pose1, u, t, subject0, subject1, rng) -> distance between the pelvises (m).


def _wave(pose, u, t, s, rng, side):
    env = _envelope(u, 0.25)
    amp = s.amplitude * rng.uniform(0.9, 1.1)
    hz = s.wave_hz * rng.uniform(0.9, 1.1)
    swing = 25.0 * amp * np.sin(2.0 * np.pi * hz * t + rng.uniform(0.0, 2.0 * np.pi))
    # Flexion 90° turns the elbow's bending plane vertical, so the forearm swings side to side.
    _blend(pose, f"sh_flex_{side}", env, 90.0)
    _blend(pose, f"sh_abd_{side}", env, 75.0 * amp + 0.2 * swing)
    _blend(pose, f"elbow_{side}", env, 85.0 + swing)


def _raise(pose, u, t, s, rng, side):
    env = _envelope(u, 0.4)  # slow rise, short hold, slow lowering
    _blend(pose, f"sh_flex_{side}", env, min(175.0, rng.uniform(145.0, 165.0) * s.amplitude))
    _blend(pose, f"sh_abd_{side}", env, rng.uniform(5.0, 20.0))
    _blend(pose, f"elbow_{side}", env, 8.0)


def _punch(pose, u, t, s, rng, side):
    guard = _envelope(u, 0.2)
    for arm in "LR":  # both fists up, so the non-punching arm moves too
        _blend(pose, f"sh_flex_{arm}", guard, 40.0)
        _blend(pose, f"sh_abd_{arm}", guard, 10.0)
        _blend(pose, f"elbow_{arm}", guard, 120.0)
    strike = _pulse(u, rng.uniform(0.3, 0.45), 0.3, 0.35)
    _blend(pose, f"sh_flex_{side}", strike, 88.0)
    _blend(pose, f"sh_abd_{side}", strike, -8.0)
    _blend(pose, f"elbow_{side}", strike, 5.0)
    # Positive yaw turns the right shoulder forward: the punching side leads.
    pose["torso_yaw"] += (15.0 if side == "R" else -15.0) * s.amplitude * strike


def _kick(pose, u, t, s, rng, side):
    phase = _envelope(u, 0.45)
    pose[f"hip_flex_{side}"] += rng.uniform(60.0, 80.0) * s.amplitude * phase
    # Knee chambers (flexes) mid-swing and is straight at the top of the kick.
    pose[f"knee_{side}"] += 360.0 * phase * (1.0 - phase)
    pose["torso_pitch"] -= 10.0 * phase  # lean back for balance


def _squat(pose, u, t, s, rng):
    phase = _envelope(u, 0.35)
    depth = s.amplitude * rng.uniform(0.85, 1.05)
    for limb in "LR":
        pose[f"hip_flex_{limb}"] += 95.0 * depth * phase
        pose[f"hip_abd_{limb}"] += 10.0 * phase
        pose[f"knee_{limb}"] += 115.0 * depth * phase
        _blend(pose, f"sh_flex_{limb}", phase, 80.0)
        _blend(pose, f"elbow_{limb}", phase, 10.0)
    pose["torso_pitch"] += 35.0 * depth * phase


def _jump(pose, u, t, s, rng):
    takeoff = rng.uniform(0.38, 0.45)
    windup = _pulse(u, 0.0, takeoff + 0.05, 0.5)
    landing = _pulse(u, takeoff + 0.22, 0.3, 0.5)
    flight = np.clip((u - takeoff) / 0.25, 0.0, 1.0)
    air = np.sin(np.pi * flight)
    crouch = windup + 0.6 * landing
    for limb in "LR":
        pose[f"hip_flex_{limb}"] += 45.0 * crouch + 10.0 * air
        pose[f"knee_{limb}"] += 80.0 * crouch + 20.0 * air
        pose[f"sh_flex_{limb}"] += -35.0 * windup + 140.0 * air  # swing back, then up
    pose["torso_pitch"] += 25.0 * crouch
    pose["lift"] += rng.uniform(0.15, 0.3) * s.amplitude * air


def _clap(pose, u, t, s, rng):
    env = _envelope(u, 0.25)
    elbow = 30.0
    # Abduction that puts the wrist on the midline: shoulder_half + sin(abd)·reach = 0.
    reach = s.upper_arm + s.forearm * np.cos(np.radians(elbow))
    meet = -np.degrees(np.arcsin(s.shoulder_half / reach))
    hz = 0.8 * s.wave_hz * rng.uniform(0.9, 1.1)
    opening = 0.5 * (1.0 - np.cos(2.0 * np.pi * hz * t + rng.uniform(0.0, 2.0 * np.pi)))
    for arm in "LR":
        _blend(pose, f"sh_flex_{arm}", env, 75.0)
        _blend(pose, f"elbow_{arm}", env, elbow)
        _blend(pose, f"sh_abd_{arm}", env, meet + 35.0 * s.amplitude * opening)


def _bow(pose, u, t, s, rng):
    phase = _envelope(u, 0.35)
    depth = rng.uniform(40.0, 60.0) * s.amplitude * phase
    pose["torso_pitch"] += depth
    pose["head_pitch"] += 0.3 * depth
    for arm in "LR":  # arms are in the torso frame: flex them back so they keep hanging
        pose[f"sh_flex_{arm}"] -= 0.8 * depth


def _handshake(pose0, pose1, u, t, s0, s1, rng):
    reach = _envelope(u, 0.3)
    shake = _pulse(u, 0.3, 0.4, 0.3) * np.sin(2.0 * np.pi * rng.uniform(2.0, 3.0) * t)
    flex, elbow, abd, lean = 50.0, 35.0, -18.0, 8.0
    distance = 0.0
    for pose, s in ((pose0, s0), (pose1, s1)):
        _blend(pose, "sh_flex_R", reach, flex + 8.0 * shake)
        _blend(pose, "sh_abd_R", reach, abd)
        _blend(pose, "elbow_R", reach, elbow)
        pose["torso_pitch"] += lean * reach
        # Each hand's forward reach, so the two right hands meet between the two people.
        distance += np.cos(np.radians(abd)) * (
            s.upper_arm * np.sin(np.radians(flex)) + s.forearm * np.sin(np.radians(flex + elbow))
        ) + s.torso * np.sin(np.radians(lean))
    return float(np.clip(distance + rng.uniform(-0.05, 0.05), 1.0, 1.4))


def _push(pose0, pose1, u, t, s0, s1, rng):
    arms_up = _pulse(u, 0.1, 0.65, 0.3)
    thrust = _pulse(u, 0.3, 0.3, 0.4)
    for arm in "LR":
        _blend(pose0, f"sh_flex_{arm}", arms_up, 75.0)
        _blend(pose0, f"sh_abd_{arm}", arms_up, -8.0)
        _blend(pose0, f"elbow_{arm}", arms_up, 100.0 - 95.0 * thrust)
    step = 0.15 * _smoothstep((u - 0.3) / 0.3)
    pose0["px"] += step
    pose0["torso_pitch"] += 12.0 * thrust
    # The pushed person reacts a little later: leans back, flails the arms, steps back.
    react = _pulse(u, 0.4, 0.35, 0.4)
    pose1["px"] -= rng.uniform(0.3, 0.45) * _smoothstep((u - 0.42) / 0.3)
    pose1["torso_pitch"] -= 15.0 * react
    for arm in "LR":
        pose1[f"sh_abd_{arm}"] += 35.0 * react
        pose1[f"sh_flex_{arm}"] += 40.0 * react
    pose1["hip_flex_R"] -= 25.0 * react
    pose1["knee_R"] += 20.0 * react
    reach = s0.upper_arm * np.sin(np.radians(75.0)) + s0.forearm
    return float(np.clip(reach + 0.25 + rng.uniform(-0.05, 0.05), 1.0, 1.4))


# Fine-grained actions near the face and in front of the body. Wrist targets are in body
# heights, in the torso frame (x forward, y left, z up), relative to the neck; "R" targets are
# for the right hand. Each pair draws all its random numbers before branching on the variant,
# so the two classes of one performance share everything but their named joints. Each pair
# differs by a small shift of those joints and/or a slow oscillation (≤ 1.4 Hz: the demo's 24
# frames resampled from a ~3 s action see about 8 frames per second).
_MOUTH = np.array([0.085, -0.02, 0.03])  # wrist just below and in front of the mouth
_EAR = np.array([0.0, -0.075, 0.035])  # hand on the right ear
_TEMPLE = np.array([0.05, -0.06, 0.09])  # fingers on the right temple (~12 cm from _EAR)
_BOOK = np.array([[0.22, 0.05, -0.22], [0.22, -0.08, -0.22]])  # left, right wrist
_KEYS = np.array([[0.2, 0.07, -0.28], [0.2, -0.07, -0.28]])  # left, right wrist


def _reach(rel, upper, lower, side):
    """Shoulder flexion, abduction and elbow bend (degrees, each [T]) that put the wrist at
    ``rel`` [T, 3] (metres from the shoulder, torso frame): the inverse of ``_limb``.

    The wrist is a·down + b·fold with a = upper + lower·cos(bend), b = lower·sin(bend), so the
    distance fixes the bend, the sideways part the abduction and the rest the flexion.
    """
    dist = np.clip(np.linalg.norm(rel, axis=-1), upper - lower + 1e-6, upper + lower - 1e-6)
    bend = np.arccos(np.clip((dist**2 - upper**2 - lower**2) / (2 * upper * lower), -1, 1))
    a, b = upper + lower * np.cos(bend), lower * np.sin(bend)
    abd = np.arcsin(np.clip(rel[:, 1] / (side * a), -1, 1))
    flex = np.arctan2(rel[:, 2], rel[:, 0]) - np.arctan2(-a * np.cos(abd), b)
    return np.degrees(flex), np.degrees(abd), np.degrees(bend)


def _hand_to(pose, s, weight, side, target):
    """Move the arm of ``side`` towards the wrist ``target`` [T, 3] (body heights from the neck)
    by ``weight`` [T]; the shoulder stays, the elbow follows."""
    sign = 1.0 if side == "L" else -1.0
    rel = target * s.height + np.array([0.0, -sign * s.shoulder_half, _NECK_HEIGHT * s.height])
    for key, angle in zip(("sh_flex", "sh_abd", "elbow"), _reach(rel, s.upper_arm, s.forearm, sign)):
        _blend(pose, f"{key}_{side}", weight, angle)


def _hands_to(pose, s, weight, targets):
    """``_hand_to`` for both arms: ``targets`` [T, 2, 3] holds the left, then the right wrist."""
    for k, side in enumerate("LR"):
        _hand_to(pose, s, weight, side, targets[:, k])


def _oscillation(t, rng, low_hz, high_hz):
    """sin(2π f t + φ) [T] with f ~ U(low_hz, high_hz), φ ~ U(0, 2π)."""
    return np.sin(2.0 * np.pi * rng.uniform(low_hz, high_hz) * t + rng.uniform(0.0, 2.0 * np.pi))


def _hand_at_mouth(pose, u, t, s, rng, brush):
    """Drink water: the head tips back ~35° while the cup follows. Brushing teeth: the head bends
    10° forward over the sink and the wrist moves ±9 cm sideways at ~1.2 Hz."""
    env, hold = _envelope(u, 0.3), _pulse(u, 0.3, 0.45, 0.35)
    amp = s.amplitude * rng.uniform(0.8, 1.2)
    target = np.tile(_MOUTH + rng.normal(0.0, 0.004, 3), (len(t), 1))
    stroke = _oscillation(t, rng, 1.0, 1.4)
    if brush:
        pose["head_pitch"] += 10.0 * env
        target[:, 1] += 0.05 * amp * stroke
    else:
        pose["head_pitch"] -= 35.0 * amp * hold
        target += np.array([-0.02, 0.0, 0.03]) * (amp * hold)[:, None]
    _hand_to(pose, s, env, "R", target)


def _hand_at_head(pose, u, t, s, rng, headache):
    """Make a phone call: the hand rests on the right ear. Touch head (headache): the fingers
    rub the right temple, ~12 cm higher and further forward, in 4 cm circles at ~1 Hz."""
    env = _envelope(u, 0.3)
    jitter = rng.normal(0.0, 0.004, 3)
    hz, phase = rng.uniform(0.8, 1.2), rng.uniform(0.0, 2.0 * np.pi)
    target = np.tile((_TEMPLE if headache else _EAR) + jitter, (len(t), 1))
    if headache:
        angle = 2.0 * np.pi * hz * t + phase
        target += 0.025 * np.stack([np.cos(angle), np.zeros_like(t), np.sin(angle)], -1)
    _hand_to(pose, s, env, "R", target)


def _head_gesture(pose, u, t, s, rng, shake):
    """Nod head/bow (NTU A035): pitch ±30° at ~1 Hz around a 12° bow. Shake head: yaw ±50° (the
    nose moves ~6 cm either way) around the upright head."""
    env = _envelope(u, 0.25)
    swing = env * s.amplitude * rng.uniform(0.8, 1.2) * _oscillation(t, rng, 0.8, 1.2)
    if shake:
        pose["head_yaw"] += 50.0 * swing
    else:
        pose["head_pitch"] += 12.0 * env + 30.0 * swing


def _read_or_write(pose, u, t, s, rng, write):
    """Reading: a book held in both hands at the chest, head down 20°. Writing: the same pose,
    but the right wrist rests 5 cm lower on the page, scribbles (±8 cm at ~1.2 Hz) and drifts
    15 cm to the right along a line."""
    env = _envelope(u, 0.3)
    pose["head_pitch"] += 20.0 * env
    targets = np.tile(_BOOK + rng.normal(0.0, 0.005, (2, 3)), (len(t), 1, 1))
    scribble = _oscillation(t, rng, 1.0, 1.4)
    if write:
        targets[:, 1, 2] -= 0.03
        targets[:, 1, 1] += 0.045 * scribble - 0.09 * u
        targets[:, 1, 0] += 0.02 * np.cos(np.pi * scribble)
    _hands_to(pose, s, env, targets)


def _hands_on_device(pose, u, t, s, rng, phone):
    """Typing on a keyboard: both wrists tap 9 cm up and down, alternating, at ~1.2 Hz. Playing
    with a phone/tablet: the hands 6 cm closer together and still, but for a slow ±10 cm swipe
    of the right wrist."""
    env = _envelope(u, 0.3)
    pose["head_pitch"] += 15.0 * env
    targets = np.tile(_KEYS + rng.normal(0.0, 0.005, (2, 3)), (len(t), 1, 1))
    tap = _oscillation(t, rng, 1.0, 1.4)
    swipe = _oscillation(t, rng, 0.4, 0.6)
    if phone:
        targets[:, :, 1] -= np.array([0.018, -0.018])
        targets[:, 1, 1] += 0.06 * swipe
    else:
        targets[:, 0, 2] += 0.05 * np.maximum(tap, 0.0)
        targets[:, 1, 2] += 0.05 * np.maximum(-tap, 0.0)
    _hands_to(pose, s, env, targets)


# (function, base length in frames at speed 1), in CLASS_NAMES order.
_ACTIONS = (
    (functools.partial(_wave, side="R"), 75), (functools.partial(_wave, side="L"), 75),
    (functools.partial(_raise, side="R"), 90), (functools.partial(_raise, side="L"), 90),
    (functools.partial(_punch, side="R"), 60), (functools.partial(_punch, side="L"), 60),
    (functools.partial(_kick, side="R"), 66), (functools.partial(_kick, side="L"), 66),
    (_squat, 90), (_jump, 66), (_clap, 75), (_bow, 90), (_handshake, 105), (_push, 75),
    *((functools.partial(act, **{flag: value}), 90)
      for act, flag in ((_hand_at_mouth, "brush"), (_hand_at_head, "headache"),
                        (_head_gesture, "shake"), (_read_or_write, "write"), (_hands_on_device, "phone"))
      for value in (False, True)),
)  # fmt: skip
# The class whose random streams a performance uses: a fine pair's first class, for both.
_STREAM_CLASS = {second: first for first, second in FINE_PAIRS}
# A fine pair's class -> (the pair's other class, their named joints).
_PARTNER = {a: (b, list(joints)) for (first, second), joints in FINE_PAIRS.items()
            for a, b in ((first, second), (second, first))}  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Forward kinematics. Body frame: x forward, y the subject's left, z up; origin on the ground.


def _rotation(axis, degrees):
    """Rotation matrices [T, 3, 3] about axis 0 (x), 1 (y) or 2 (z) by ``degrees`` [T]."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    rot = np.zeros(a.shape + (3, 3))
    i, j = [k for k in range(3) if k != axis]
    rot[..., axis, axis] = 1.0
    rot[..., i, i], rot[..., j, j] = c, c
    # Right-handed: about y the sign flips so that positive pitch tilts z towards +x.
    sign = -1.0 if axis == 1 else 1.0
    rot[..., i, j], rot[..., j, i] = -s * sign, s * sign
    return rot


def _limb(root, upper, lower, flex, abd, bend, side, backward):
    """Middle and end joints [T, 3] of a two-segment limb hanging from ``root`` [T, 3].

    ``flex`` swings it forward (90 = horizontal, 180 = up), ``abd`` outwards (to ``side``: +1
    left, -1 right), ``bend`` folds the lower segment forward, or backward for a knee.
    """
    th, ph, be = np.radians(flex), np.radians(abd), np.radians(bend)
    down = np.stack([np.sin(th) * np.cos(ph), side * np.sin(ph), -np.cos(th) * np.cos(ph)], -1)
    # Unit vector ⟂ to ``down`` (d(down)/dθ direction at zero abduction): the bending plane.
    fold = np.stack([np.cos(th), np.zeros_like(th), np.sin(th)], -1)
    sign = -1.0 if backward else 1.0
    lower_dir = np.cos(be)[:, None] * down + sign * np.sin(be)[:, None] * fold
    middle = root + upper * down
    return middle, middle + lower * lower_dir


def _forward_kinematics(pose, s):
    """COCO-17 joints [T, 17, 3] (metres, body frame) of ``pose`` on body ``s``."""
    frames = len(pose["px"])
    legs = {}
    for side, sign in (("L", 1.0), ("R", -1.0)):
        hip = np.tile([0.0, sign * s.hip_half, 0.0], (frames, 1))
        knee, ankle = _limb(
            hip,
            s.thigh,
            s.shank,
            pose[f"hip_flex_{side}"],
            pose[f"hip_abd_{side}"],
            pose[f"knee_{side}"],
            sign,
            backward=True,
        )
        legs[side] = (hip, knee, ankle)
    # The lowest ankle stays on the ground, so squats lower the pelvis and kicks do not lift it.
    low = np.minimum(legs["L"][2][:, 2], legs["R"][2][:, 2])
    pelvis = np.stack([pose["px"], pose["py"], s.ankle_height - low + pose["lift"]], -1)

    torso_rot = _rotation(2, pose["torso_yaw"]) @ _rotation(1, pose["torso_pitch"]) @ _rotation(0, pose["torso_roll"])
    lift = s.torso + pose["breath"]
    arms = {}
    for side, sign in (("L", 1.0), ("R", -1.0)):
        shoulder = np.stack([np.zeros(frames), np.full(frames, sign * s.shoulder_half), lift], -1)
        elbow, wrist = _limb(
            shoulder,
            s.upper_arm,
            s.forearm,
            pose[f"sh_flex_{side}"],
            pose[f"sh_abd_{side}"],
            pose[f"elbow_{side}"],
            sign,
            backward=False,
        )
        arms[side] = (shoulder, elbow, wrist)
    neck = np.stack([np.zeros(frames), np.zeros(frames), lift + _NECK_HEIGHT * s.height], -1)
    head_rot = _rotation(2, pose["head_yaw"]) @ _rotation(1, pose["head_pitch"])
    head = neck[:, None] + np.einsum("tij,kj->tki", head_rot, _HEAD_OFFSETS * s.height)
    # COCO order after the head: shoulders, elbows, wrists, then hips, knees, ankles (L before R).
    arm_joints = np.stack([arms[side][k] for k in range(3) for side in "LR"], 1)
    upper = np.einsum("tij,tkj->tki", torso_rot, np.concatenate([head, arm_joints], axis=1))
    lower = np.stack([legs[side][k] for k in range(3) for side in "LR"], 1)
    return pelvis[:, None] + np.concatenate([upper, lower], axis=1)


def _place(joints, yaw, offset):
    """Rotate body-frame joints [T, 17, 3] by ``yaw`` degrees and move them to ``offset`` (x, y)."""
    rot = _rotation(2, np.array(yaw))
    return joints @ rot.T + np.array([offset[0], offset[1], 0.0])


# ----------------------------------------------------------------------------------------------
# Cameras.


def _camera(azimuth, distance, height, focal):
    """(position [3], rotation [3, 3] world→camera with rows right/down/forward, focal)."""
    az = np.radians(azimuth)
    position = np.array([distance * np.cos(az), distance * np.sin(az), height])
    forward = _CAMERA_TARGET - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    return position, np.stack([right, np.cross(forward, right), forward]), focal


def _project(points, camera):
    """Pixels [..., 2] and in-image flags [...] of world points [..., 3]."""
    position, rotation, focal = camera
    cam = (points - position) @ rotation.T
    depth = cam[..., 2:3]
    pixels = focal * cam[..., :2] / np.where(depth > 0, depth, 1.0) + _PRINCIPAL
    inside = (
        (depth[..., 0] > 0)
        & (pixels[..., 0] >= 0)
        & (pixels[..., 0] < IMG_SHAPE[1])
        & (pixels[..., 1] >= 0)
        & (pixels[..., 1] < IMG_SHAPE[0])
    )
    return pixels, inside


# ----------------------------------------------------------------------------------------------
# Dataset assembly.


def _act(seed, subject, action, rep, people, min_frames, max_frames):
    """World joints [M, T, 17, 3] of one performance of ``action`` as designed (contrast 1).

    Random draws come from the stream of (subject, ``_STREAM_CLASS`` of the action, rep), and
    every draw that is not the action's own comes first: a fine pair's two classes then share
    the length, timing, idle motion, placement and the draws the action makes before branching.
    """
    stream = _STREAM_CLASS.get(action, action)
    rng = np.random.default_rng([seed, _MOTION_STREAM, subject, stream, rep])
    body = people[subject]
    act, base_frames = _ACTIONS[action]
    frames = round(base_frames / body.speed * rng.uniform(0.85, 1.15))
    frames = int(np.clip(frames, min_frames, max_frames))
    t = np.arange(frames) / FPS
    u = _action_time(frames, rng)
    pose = _rest_pose(body, t, rng)
    centre = rng.uniform(-0.15, 0.15, size=2)
    if action not in MUTUAL_CLASSES:
        # NTU performers alternate between facing the left (1) and the right (3) camera.
        facing = CAMERAS[0 if rep % 2 == 0 else 2][0] + rng.uniform(-10.0, 10.0)
        act(pose, u, t, body, rng)
        return _place(_forward_kinematics(pose, body), facing, centre)[None]
    partner_index = (subject + int(rng.integers(1, len(people)))) % len(people)
    partner = people[partner_index]
    partner_pose = _rest_pose(partner, t, rng)
    distance = act(pose, partner_pose, u, t, body, partner, rng)
    # The pair stands side by side as seen from camera 2, facing each other.
    axis = 90.0 + rng.uniform(-15.0, 15.0)
    step = 0.5 * distance * np.array([np.cos(np.radians(axis)), np.sin(np.radians(axis))])
    return np.stack([
        _place(_forward_kinematics(pose, body), axis, centre - step),
        _place(_forward_kinematics(partner_pose, partner), axis + 180.0, centre + step),
    ])  # fmt: skip


def _perform(seed, subject, action, rep, people, min_frames, max_frames, pair_contrast):
    """World joints [M, T, 17, 3] of one performance (shared by all cameras).

    ``pair_contrast`` scales how far a fine pair's two classes are apart: their named joints
    move to ``middle + pair_contrast * (own - middle)``, the middle being the two classes' mean
    in the same performance; 1 keeps the design, 0 makes the pair indistinguishable.
    """
    world = _act(seed, subject, action, rep, people, min_frames, max_frames)
    if action not in _PARTNER or pair_contrast == 1.0:  # skipped at 1: identical bytes to the design
        return world
    partner, joints = _PARTNER[action]
    other = _act(seed, subject, partner, rep, people, min_frames, max_frames)
    middle = 0.5 * (world[:, :, joints] + other[:, :, joints])
    world[:, :, joints] = middle + pair_contrast * (world[:, :, joints] - middle)
    return world


def _views(seed, subject, action, rep, cameras):
    """The ``cameras`` first cameras of one performance, at its setup's distance (±0.15 m each)."""
    rng = np.random.default_rng([seed, _CAMERA_STREAM, subject, _STREAM_CLASS.get(action, action), rep])
    distance = rng.uniform(*DISTANCE_M)
    return [
        _camera(azimuth, distance + rng.uniform(-0.15, 0.15), height, FOCAL_PX) for azimuth, height in CAMERAS[:cameras]
    ]


def _annotation(world, camera, frame_dir, label):
    """PYSKL annotation of world joints [M, T, 17, 3] seen by ``camera``."""
    pixels, inside = _project(world, camera)
    keypoint = np.where(inside[..., None], pixels, 0.0).astype(np.float32)
    return {
        "frame_dir": frame_dir,
        "label": label,
        "img_shape": IMG_SHAPE,
        "original_shape": IMG_SHAPE,
        "total_frames": int(world.shape[1]),
        "keypoint": keypoint,
        "keypoint_score": inside.astype(np.float32),
    }


def frame_dir_name(subject, action, rep, camera):
    """NTU name ``SsssCcccPpppRrrrAaaa`` from 0-based subject/action/rep/camera indices."""
    return f"S001C{camera + 1:03d}P{subject + 1:03d}R{rep + 1:03d}A{action + 1:03d}"


def xsub_train_subjects(subjects):
    """0-based training subjects of the xsub split: the first ~60%, at least one on each side."""
    count = min(subjects - 1, max(1, round(XSUB_TRAIN_FRACTION * subjects)))
    return frozenset(range(count))


def _validate(subjects, replications, cameras, min_frames, max_frames, pair_contrast):
    if pair_contrast < 0:
        raise InputError(f"pair_contrast must be >= 0 (1: the design's fine pairs), got {pair_contrast}")
    if subjects < 2:
        raise InputError(f"subjects must be >= 2 (both cross-subject sides), got {subjects}")
    if not 1 <= cameras <= len(CAMERAS):
        raise InputError(f"cameras must be between 1 and {len(CAMERAS)}, got {cameras}")
    if replications < 1:
        raise InputError(f"replications must be >= 1, got {replications}")
    if not 2 <= min_frames <= max_frames:
        raise InputError(f"need 2 <= min_frames <= max_frames, got min_frames={min_frames}, max_frames={max_frames}")


def scenes(*, seed, subjects=12, replications=2, cameras=VIEWS, min_frames=40, max_frames=120, pair_contrast=1.0):
    """Every view of the dataset: yields (frame_dir, label, world joints (M, T, 17, 3) in metres,
    camera, {protocol: "train" or "val"}), one per subject × action × replication × camera.

    Splits: ``xsub`` by ``xsub_train_subjects``, ``xview`` by ``XVIEW_TRAIN_CAMERAS``. The 2D
    dataset (``generate``) and the Kinect 3D tier (``maskclr.data.kinect``) are both built from it.
    """
    _validate(subjects, replications, cameras, min_frames, max_frames, pair_contrast)
    people = [make_subject(seed, i) for i in range(subjects)]
    train_subjects = xsub_train_subjects(subjects)
    for subject in range(subjects):
        for action in range(len(CLASS_NAMES)):
            for rep in range(replications):
                world = _perform(seed, subject, action, rep, people, min_frames, max_frames, pair_contrast)
                views = _views(seed, subject, action, rep, cameras)
                for camera, view in enumerate(views):
                    sides = {
                        "xsub": "train" if subject in train_subjects else "val",
                        "xview": "train" if camera + 1 in XVIEW_TRAIN_CAMERAS else "val",
                    }
                    yield frame_dir_name(subject, action, rep, camera), action, world, view, sides


def assemble(views, annotation):
    """A PYSKL dict from ``scenes`` output: ``annotation(world, camera, frame_dir, label)`` makes
    each annotation; the splits are ``xsub_train``, ``xsub_val``, ``xview_train``, ``xview_val``."""
    annotations = []
    split = {"xsub_train": [], "xsub_val": [], "xview_train": [], "xview_val": []}
    for name, label, world, camera, sides in views:
        annotations.append(annotation(world, camera, name, label))
        for protocol, side in sides.items():
            split[f"{protocol}_{side}"].append(name)
    return {"split": split, "annotations": annotations}


def generate(**kwargs):
    """The synthetic dataset as a PYSKL dict ``{"split": ..., "annotations": [...]}``.

    One annotation per view of ``scenes(**kwargs)`` (seed, subjects, replications, cameras,
    min_frames, max_frames); ``keypoint`` is float32 [M, T, 17, 2] pixels (COCO-17),
    ``keypoint_score`` float32 [M, T, 17] (1 inside the image, 0 with coordinates (0, 0)
    outside), M = 2 for ``MUTUAL_CLASSES`` and 1 otherwise. The same arguments give
    byte-identical pickles.
    """
    return assemble(scenes(**kwargs), _annotation)


SYNTHETIC_KEYS = ("seed", "subjects", "replications", "min_frames", "max_frames", "pair_contrast")


def scene_settings(text, flag="--synthetic-json"):
    """The ``datasets.<name>.synthetic`` config section given to ``flag``: the ``SYNTHETIC_KEYS``
    arguments of ``scenes`` (checked there), as both tiers' command lines read them."""
    settings = json_object(text, flag, SYNTHETIC_KEYS)
    return {key: settings[key] for key in SYNTHETIC_KEYS}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output pickle (written atomically)")
    parser.add_argument(
        "--synthetic-json", required=True, help=f"datasets.synth.synthetic: {', '.join(SYNTHETIC_KEYS)}"
    )
    parser.add_argument("--cameras", type=int, default=VIEWS, help="views per performance (NTU: 3)")
    args = parser.parse_args(argv)
    data = generate(cameras=args.cameras, **scene_settings(args.synthetic_json))
    dump_pickle(data, args.out)


if __name__ == "__main__":
    run_cli(main)
