"""Hostile and broken inputs (issue 13): each is refused through a real entry point with a clear
message naming the file, sample and key, a non-zero exit, nothing executed and nothing left behind."""

import http.server
import json
import multiprocessing
import pickle
import threading
import time
import zipfile

import numpy as np
import pytest
import torch
from test_bad_input import corrupt, run_preprocess, write
from test_releases import k400_files
from test_train import MASKCLR, SCHEDULE, data, stage1, train  # noqa: F401 (fixtures)

from conftest import make_dataset, preprocess_cli, run_module

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct


class Call:
    """Pickles as ``func(*args)`` (then BUILD ``state`` if given): how a forged pickle reads."""

    def __init__(self, func, *args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args, self.state)


def plain_dtype(code, state=None):
    return Call(np.dtype, code, False, True, state=state)


def forged_array(dtype, data=b"\x01" * 16, shape=(2,)):
    """An array as numpy pickles it (_reconstruct, then BUILD with raw bytes) of a given dtype."""
    return Call(_reconstruct, np.ndarray, (0,), b"b", state=(1, shape, dtype, False, data))


def shared_references(depth, fan_out=50):
    """A few kB of pickle that is fan_out**depth elements when walked naively."""
    item = [1]
    for _ in range(depth):
        item = [item] * fan_out
    return item


# case → (annotation changes, expected message). Each is fed to preprocess as annotation 1.
HOSTILE_ANNOTATIONS = {
    "object array by ndarray call": (
        {"img_shape": Call(np.ndarray, (2,), plain_dtype("O"), b"\x01" * 16)},
        "refusing numpy dtype '|O'",
    ),
    "direct ndarray call": (
        {"img_shape": Call(np.ndarray, (2,), plain_dtype("<i8"), b"\x01" * 16)},
        "refusing a direct call of numpy.ndarray",
    ),
    "huge uninitialised array": (
        {"keypoint": Call(_reconstruct, np.ndarray, (1 << 20, 17, 2), plain_dtype("<f4"))},
        "refusing numpy _reconstruct",
    ),
    "dtype state claiming objects": (
        {"img_shape": forged_array(plain_dtype("<f8", state=(3, "<", None, None, None, -1, -1, 1)))},
        "refusing numpy dtype state",
    ),
    "structured dtype with an object field": (
        {"extra": forged_array(plain_dtype("V8"), data=b"\x01" * 8, shape=(1,))},
        "refusing numpy dtype '|V8'",
    ),
    "object array as extra key": ({"extra": np.array([None, 1], dtype=object)}, "refusing numpy dtype '|O'"),
    "deep nesting": ({"extra": shared_references(40, fan_out=1)}, "nested deeper than 32 levels"),
    "exponential img_shape": ({"img_shape": shared_references(12)}, "key 'img_shape': expected (height, width)"),
    "exponential label": ({"label": shared_references(12)}, "key 'label': expected an integer"),
    "too many frames": (
        {
            "keypoint": np.zeros((1, 100_001, 17, 2), np.float16),
            "keypoint_score": np.zeros((1, 100_001, 17), np.float16),
            "total_frames": 100_001,
        },
        "exceeds the limit of 100 persons x 100000 frames",
    ),
    "float64 beyond float32": (
        {"keypoint": np.full((1, 10, 17, 2), 1e300)},
        "key 'keypoint': contains NaN or infinite values (after the cast to float32)",
    ),
    "negative score": (
        {"keypoint_score": np.full((1, 10, 17), -5.0, np.float32)},
        "key 'keypoint_score': values must lie in [0, 1.5], found -5 to -5",
    ),
    "huge score": ({"keypoint_score": np.full((1, 10, 17), 1e6, np.float32)}, "values must lie in [0, 1.5]"),
    "coordinate beyond float16": (
        {"keypoint": np.full((1, 10, 17, 2), 70_000.0, np.float32)},
        "key 'keypoint': values must lie in [-65504, 65504], found 70000 to 70000",
    ),
    "huge image side": ({"img_shape": (1080, 10**400)}, "key 'img_shape': expected (height, width) integers"),
    "too many persons": (
        {"keypoint": np.zeros((101, 10, 17, 2), np.float16), "keypoint_score": np.zeros((101, 10, 17), np.float16)},
        "101 persons x 10 frames",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_ANNOTATIONS))
def test_hostile_annotation(tmp_path, case):
    changes, message = HOSTILE_ANNOTATIONS[case]
    poses = write(tmp_path / "poses.pkl", corrupt(make_dataset(), **changes))
    result, out = run_preprocess(tmp_path, poses)
    assert result.returncode == 2, result.stderr[-2000:]
    assert str(poses) in result.stderr and message in result.stderr
    assert len(result.stderr) < 1000 and "Traceback" not in result.stderr
    assert not out.parent.exists() or not any(out.parent.iterdir())  # no output, no temp file


def test_forged_arrays_are_refused_at_every_pickle_entry_point(tmp_path):
    """The release importer and ``pyskl wrap`` share the unpickler: a forged object array is
    refused there too, before the array exists."""
    poses = write(tmp_path / "poses.pkl", corrupt(make_dataset(), img_shape=forged_array(plain_dtype("O"))))
    release = run_module(
        "maskclr.data.releases",
        "ntu",
        "--release",
        poses,
        "--splits",
        "xsub",
        "--num-classes",
        3,
        "--out",
        tmp_path / "out" / "mq.pkl",
    )
    wrapped = run_module("maskclr.data.pyskl", "wrap", poses, "--out", tmp_path / "out" / "wrapped.pkl")
    for result in (release, wrapped):
        assert result.returncode == 2 and f"{poses}: not a safe skeleton pickle" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_legitimate_numpy_pickles_still_load(tmp_path):
    """Every plain dtype numpy pickles (protocols 2 to 5, scalars, strings, big-endian) loads."""
    from maskclr.fileio import load_pickle

    value = {
        "f": np.arange(6, dtype=">f8").reshape(2, 3),
        "u": np.array(["ab", "c"]),
        "b": np.array([True]),
        "s": np.float16(2.5),
        "i": np.int64(3),
        "c": np.complex64(1j),
        "bytes": np.array([b"x"]),
    }
    for protocol in (2, 3, 4, 5):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps(value, protocol=protocol))
        loaded, expected = load_pickle(path), pickle.loads(path.read_bytes())
        for key in value:
            assert np.array_equal(loaded[key], expected[key]) and loaded[key].dtype == expected[key].dtype, (
                protocol,
                key,
            )


class BrokenServer(http.server.BaseHTTPRequestHandler):
    """/short announces 100,000 bytes and sends 50,000; /chunked cuts a chunked body short;
    /good sends b"payload" whole."""

    def do_GET(self):
        self.send_response(200)
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"100\r\n" + b"x" * 10)  # announces a 256-byte chunk, sends 10
        else:
            body = b"payload" if self.path == "/good" else b"x" * 50_000
            self.send_header("Content-Length", str(len(body) if self.path == "/good" else 100_000))
            self.end_headers()
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def broken_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BrokenServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def fetch(tmp_path, urls):
    out = tmp_path / "dl" / "release.pkl"
    return run_module(
        "maskclr.data.fetch", "--name", "ntu60_hrnet", "--spec-json", json.dumps({"urls": urls}), "--out", out
    ), out


def test_truncated_downloads_fall_through_every_mirror(tmp_path, broken_server):
    """A short body, a cut chunked body and a URL without a scheme are each a failed mirror; the
    one error lists all three, and nothing is kept."""
    urls = [f"{broken_server}/short", f"{broken_server}/chunked", "release.pkl"]
    result, out = fetch(tmp_path, urls)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "downloads.ntu60_hrnet: no mirror gave a valid release.pkl" in result.stderr
    assert f"{urls[0]}: OSError: truncated transfer: received 50000 of the 100000 bytes" in result.stderr
    assert f"{urls[1]}: IncompleteRead" in result.stderr and f"{urls[2]}: ValueError: unknown url type" in result.stderr
    assert not any(out.parent.iterdir())


def test_a_good_mirror_after_broken_ones_is_used(tmp_path, broken_server):
    result, out = fetch(tmp_path, [f"{broken_server}/short", f"{broken_server}/chunked", f"{broken_server}/good"])
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == b"payload" and [p.name for p in out.parent.iterdir()] == ["release.pkl"]


# ---- checkpoints and training (defects 5 and 9) ---------------------------------------------------


def test_nan_stage1_model_is_refused_by_stage2_and_predict(data, stage1, tmp_path):
    state = torch.load(stage1 / "model.pt", weights_only=True)
    name = next(iter(state["model"]))
    state["model"][name] = torch.full_like(state["model"][name], float("nan"))
    poisoned = tmp_path / "nan.pt"
    torch.save(state, poisoned)
    stage2 = train(data, tmp_path / "s2", stage="stage2", method=MASKCLR, init=poisoned)
    predicted = run_module("maskclr.predict", "--checkpoint", poisoned, "--poses", data.parent / "poses.pkl")
    for result in (stage2, predicted):
        assert result.returncode == 2, result.stderr[-2000:]
        assert f"{poisoned}: key 'model.{name}': contains NaN or infinite values" in result.stderr
        assert "nan %" not in result.stdout
    assert not (tmp_path / "s2" / "model.pt").exists() and not (tmp_path / "s2" / "metrics.json").exists()


def test_training_stops_on_a_non_finite_loss(data, tmp_path):
    """A learning rate that overflows the weights: stop at the epoch, name the term, record nothing."""
    result = train(data, tmp_path, schedule={**SCHEDULE, "lr_backbone": 1e30, "lr_head": 1e30})
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{data}: epoch 1: loss term(s) not finite: ce_s = nan" in result.stderr
    assert not (tmp_path / "model.pt").exists() and not (tmp_path / "metrics.json").exists()
    assert not list(tmp_path.rglob("*.tmp")) and not (tmp_path / "work" / "lock.json").exists()


def test_corrupt_resume_state_and_lock_are_set_aside(data, tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    (tmp_path / "work" / "lock.json").write_text('{"pid": ')
    result = train(data, tmp_path, schedule={**SCHEDULE, "epochs_stage1": 1})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "moved aside to" in result.stderr and "training starts from the beginning" in result.stderr
    assert "lock.json: unreadable lock" in result.stderr and not (tmp_path / "work" / "lock.json").exists()
    assert (tmp_path / "work" / "checkpoint.pt.corrupt").exists() and (tmp_path / "model.pt").exists()


def hold_lock(work, start, results):
    """Enter the work-dir lock at ``start`` (a shared instant); report whether it was acquired."""
    from maskclr.errors import InputError
    from maskclr.train.checkpoint import WorkDirLock

    time.sleep(max(0.0, start - time.time()))
    try:
        with WorkDirLock(work):
            results.put(True)
            time.sleep(0.3)
    except InputError:
        results.put(False)


def test_work_dir_lock_is_atomic(tmp_path):
    """Processes entering the lock at the same instant: exactly one acquires it, every trial."""
    context = multiprocessing.get_context("fork")
    for trial in range(5):
        results, start = context.Queue(), time.time() + 0.3
        workers = [context.Process(target=hold_lock, args=(tmp_path / str(trial), start, results)) for _ in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(results.get() for _ in workers) == [False] * 5 + [True], trial


class Callable:
    def __reduce__(self):
        return (print, ("pwned",))


def wrong_shapes(stage1):
    state = torch.load(stage1 / "model.pt", weights_only=True)
    name = next(iter(state["model"]))
    state["model"][name] = torch.zeros(3, 3, 3)
    return state


BAD_CHECKPOINTS = {
    "pickled callable": (
        lambda stage1: {"arch": Callable()},
        "refusing a maskclr.train checkpoint that holds pickled code or objects (print)",
    ),
    "a tensor": (lambda stage1: torch.zeros(3), "expected a maskclr.train checkpoint (a dict of tensors), got Tensor"),
    "a list": (lambda stage1: [1, 2], "got list"),
    "no model key": (lambda stage1: {"arch": {}}, "key 'model': missing"),
    "wrong shapes": (wrong_shapes, "wrong shape: "),
}


@pytest.mark.parametrize("case", sorted(BAD_CHECKPOINTS))
def test_bad_checkpoint_is_named(data, stage1, tmp_path, case):
    build, message = BAD_CHECKPOINTS[case]
    path = tmp_path / "model.pt"
    torch.save(build(stage1), path)
    result = run_module("maskclr.predict", "--checkpoint", path, "--poses", data.parent / "poses.pkl", cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert (
        f"{path}: " in result.stderr and "Traceback" not in result.stderr and "weights_only=False" not in result.stderr
    )
    assert not (tmp_path / "pwned").exists() and "pwned" not in result.stdout


# case → (arguments after --checkpoint, given the test poses, expected message); the model's maxlen is 8
BAD_PREDICT_ARGUMENTS = {
    "no frames": (lambda poses: ["--poses", poses, "--n-frames", 0], "--n-frames 0: expected 1..8"),
    "negative frames": (lambda poses: ["--poses", poses, "--n-frames", -3], "--n-frames -3: expected 1..8"),
    "frames beyond the model": (
        lambda poses: ["--poses", poses, "--n-frames", 100_000],
        "--n-frames 100000: expected 1..8",
    ),
    "estimator spec not JSON": (
        lambda poses: ["--video", "clip.mp4", "--estimator-json", "{type: vitpose"],
        "--estimator-json: not valid JSON: ",
    ),
    "estimator spec not an object": (
        lambda poses: ["--video", "clip.mp4", "--estimator-json", "[1]"],
        "--estimator-json: expected a JSON object",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PREDICT_ARGUMENTS))
def test_bad_predict_argument_is_named(data, stage1, tmp_path, case):
    arguments, message = BAD_PREDICT_ARGUMENTS[case]
    out = tmp_path / "activation.npz"
    result = run_module(
        "maskclr.predict",
        "--checkpoint",
        stage1 / "model.pt",
        *arguments(data.parent / "poses.pkl"),
        "--out-activation",
        out,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and not result.stdout and list(tmp_path.iterdir()) == []


# ---- Kinetics-400 import (defect 8) ------------------------------------------------------------------


def change_toc(toc, **label_of):
    """Rewrite the K400 table of contents with new labels per frame_dir."""
    index = pickle.loads(toc.read_bytes())
    for ann in index["annotations"]:
        ann["label"] = label_of.get(ann["frame_dir"], ann["label"])
    write(toc, index)


def rezip(archive, members):
    """Rewrite the kpfiles archive with ``members`` {path in the zip: bytes}."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)


def kpfile_members(archive):
    with zipfile.ZipFile(archive) as zf:
        return [(name, zf.read(name)) for name in zf.namelist()]


def far_keypoint(toc, archive):
    """vid_a's first skeleton at x = 70,000 px, beyond float16 (but not float32)."""
    members = kpfile_members(archive)
    part = pickle.loads(members[0][1])
    part["vid_a"]["keypoint"][0, :, 0] = 70_000.0
    rezip(archive, [(members[0][0], pickle.dumps(part)), *members[1:]])


def patch_headers(archive, local_offset, value):
    """Set a 2-byte field of every member's local header and central directory entry (where the
    same field sits 2 bytes later): how a zip made elsewhere would say it."""
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", local_offset + 2)):
        start = data.find(signature)
        while start >= 0:
            data[start + offset : start + offset + 2] = value.to_bytes(2, "little")
            start = data.find(signature, start + 4)
    archive.write_bytes(data)


# case → (change of the table of contents and kpfiles archive, extra arguments, expected message)
HOSTILE_K400 = {
    "fractional label": (
        lambda toc, zf: change_toc(toc, vid_a=1.7),
        (),
        "key 'label': expected an integer in 0..1, got 1.7",
    ),
    "string label": (
        lambda toc, zf: change_toc(toc, vid_a="1"),
        (),
        "key 'label': expected an integer in 0..1, got '1'",
    ),
    "coordinate beyond float16": (
        far_keypoint,
        (),
        "key 'keypoint': values must lie in [-65504, 65504], found 0 to 70000",
    ),
    "duplicate member name": (
        lambda toc, zf: rezip(zf, kpfile_members(zf) + [("copy/part_0.pkl", b"")]),
        (),
        "two kpfiles named 'part_0.pkl' ('kpfiles/part_0.pkl' and 'copy/part_0.pkl')",
    ),
    "member beyond the size cap": (
        lambda toc, zf: rezip(zf, [("kpfiles/part_0.pkl", bytes(2 << 20))]),
        ("--max-kpfile-mib", 1),
        "part_0.pkl: kpfile larger than 1 MiB (--max-kpfile-mib)",
    ),
    "encrypted member": (lambda toc, zf: patch_headers(zf, 6, 0x1), (), "part_0.pkl: encrypted zip member"),
    "unsupported compression": (
        lambda toc, zf: patch_headers(zf, 8, 99),
        (),
        "part_0.pkl: zip member compressed with an unsupported method",
    ),
}


def import_k400_cli(tmp_path, toc, kpfiles, *extra):
    out = tmp_path / "out" / "mq.pkl"
    result = run_module(
        "maskclr.data.releases",
        "k400",
        "--release",
        toc,
        "--kpfiles",
        kpfiles,
        "--splits",
        "main",
        "--num-classes",
        2,
        "--out",
        out,
        *extra,
    )
    return result, out


@pytest.mark.parametrize("case", sorted(HOSTILE_K400))
def test_hostile_k400_release(tmp_path, case):
    change, extra, message = HOSTILE_K400[case]
    toc, kpfiles = k400_files(tmp_path)
    change(toc, kpfiles)
    result, out = import_k400_cli(tmp_path, toc, kpfiles, *extra)
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and not out.parent.exists()


def test_k400_video_without_a_kept_skeleton_stays_as_an_empty_frame(tmp_path):
    """As in PYSKL's splits: the video stays (one empty frame), counted in a warning."""
    toc, kpfiles = k400_files(tmp_path)
    result, out = import_k400_cli(tmp_path, toc, kpfiles, "--box-threshold", 0.65)  # vid_b's boxes: 0.6, 0.3
    assert result.returncode == 0, result.stderr[-2000:]
    assert (
        "1 of 3 videos have no scored skeleton with box score >= 0.65 (['vid_b']): kept as one empty frame"
        in result.stderr
    )
    vid_b = next(a for a in pickle.loads(out.read_bytes())["annotations"] if a["frame_dir"] == "vid_b")
    assert vid_b["total_frames"] == 1 and not vid_b["keypoint"].any() and not vid_b["keypoint_score"].any()


# ---- small ones (defect 11) -----------------------------------------------------------------------


def test_predict_escapes_control_characters_in_sample_ids(data, stage1, tmp_path):
    dataset = make_dataset(count=1)
    dataset["annotations"][0]["frame_dir"] = "clip\n  1. forged (label 0): 100.0 %\x1b[2J"
    poses = write(tmp_path / "clips.pkl", dataset["annotations"])
    result = run_module("maskclr.predict", "--checkpoint", stage1 / "model.pt", "--poses", poses)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "clip\\n  1. forged (label 0): 100.0 %\\x1b[2J" and "forged" not in "".join(lines[1:])


def test_temporary_files_of_a_killed_job_are_removed_by_its_next_run(tmp_path):
    out = tmp_path / "out" / "xsub.h5"
    out.parent.mkdir()
    stale = out.parent / ".xsub.h5.k1ll3d.tmp"
    stale.write_bytes(b"half an HDF5 file")
    other = out.parent / ".other.h5.k1ll3d.tmp"  # another job's: not this job's to remove
    other.write_bytes(b"")
    result = preprocess_cli(write(tmp_path / "poses.pkl", make_dataset()), out, 8)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == [other.name, out.name]
