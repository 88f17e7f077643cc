"""Real-data intake: fetching releases, the NTU and Kinetics-400 PYSKL formats, split checks,
video sources, sharded extraction and class names. Files are built here in the exact released
formats (PYSKL tools/data/README.md)."""

import hashlib
import pickle
import zipfile

import numpy as np
import pytest

from conftest import ntu_release, run_module
from maskclr.data.classes import class_names
from maskclr.data.fetch import obtain
from maskclr.data.releases import check_counts, import_k400, import_ntu, select_skeletons
from maskclr.errors import InputError
from maskclr.fileio import load_pickle
from maskclr.poses.extract import merge, shard_items
from maskclr.poses.sources import video_items


def write(path, obj):
    path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


# ---- fetch ------------------------------------------------------------------------------------


def test_local_copy_is_verified_and_linked(tmp_path):
    src = tmp_path / "copy.pkl"
    src.write_bytes(b"release bytes")
    out = tmp_path / "resources" / "ntu60_hrnet.pkl"
    obtain(
        "ntu60_hrnet",
        {
            "path": str(src),
            "urls": ["http://127.0.0.1:9/never"],
            "sha256": hashlib.sha256(b"release bytes").hexdigest(),
        },
        out,
    )
    assert out.is_symlink() and out.resolve() == src.resolve() and out.read_bytes() == b"release bytes"


def test_wrong_checksum_names_the_file_and_key(tmp_path):
    src = tmp_path / "copy.pkl"
    src.write_bytes(b"truncated")
    out = tmp_path / "out.pkl"
    with pytest.raises(
        InputError,
        match=r"downloads\.ntu60_hrnet: the local copy .*copy\.pkl has sha256 .*"
        r"downloads\.ntu60_hrnet\.sha256",
    ):
        obtain("ntu60_hrnet", {"path": str(src), "sha256": "0" * 64}, out)
    assert not out.exists()


def test_mirrors_are_tried_in_order(tmp_path):
    good = tmp_path / "mirror.pkl"
    good.write_bytes(b"payload")
    out = tmp_path / "dl" / "file.pkl"
    spec = {
        "urls": [(tmp_path / "moved.pkl").as_uri(), good.as_uri()],
        "sha256": hashlib.sha256(b"payload").hexdigest(),
    }
    obtain("k400_hrnet", spec, out)
    assert out.read_bytes() == b"payload" and not out.is_symlink()
    assert [p.name for p in out.parent.iterdir()] == ["file.pkl"]  # no temporary left


def test_no_network_and_no_path_say_how_to_provide_the_file(tmp_path):
    out = tmp_path / "k400_kpfiles_2d.zip"
    with pytest.raises(InputError, match=r"(?s)no mirror gave .*127\.0\.0\.1.*set downloads\.k400_kpfiles\.path"):
        obtain("k400_kpfiles", {"urls": ["http://127.0.0.1:9/k400_kpfiles_2d.zip"]}, out)
    with pytest.raises(InputError, match=r"neither 'path' nor 'urls'.*downloads\.k400_kpfiles\.path"):
        obtain("k400_kpfiles", {"urls": []}, out)
    with pytest.raises(InputError, match=r"downloads\.k400_kpfiles\.path: .*does not exist"):
        obtain("k400_kpfiles", {"path": str(tmp_path / "absent.zip")}, out)
    assert not out.exists()


def test_bad_mirror_checksum_falls_through_to_the_next(tmp_path):
    bad, good = tmp_path / "bad.pkl", tmp_path / "good.pkl"
    bad.write_bytes(b"old version")
    good.write_bytes(b"new version")
    out = tmp_path / "out.pkl"
    obtain("x", {"urls": [bad.as_uri(), good.as_uri()], "sha256": hashlib.sha256(b"new version").hexdigest()}, out)
    assert out.read_bytes() == b"new version"


# ---- NTU releases -----------------------------------------------------------------------------


def test_ntu_release_is_imported_and_checked(tmp_path):
    release = write(tmp_path / "ntu60_hrnet.pkl", ntu_release())
    out, lists = tmp_path / "poses.pkl", tmp_path / "splits"
    sizes = '{"xsub_train": 5, "xsub_val": 3, "xview_train": 5, "xview_val": 3}'
    result = run_module(
        "maskclr.data.releases",
        "ntu",
        "--release",
        release,
        "--splits",
        "xsub",
        "xview",
        "--num-classes",
        4,
        "--expected-json",
        sizes,
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    poses = load_pickle(out)
    assert len(poses["annotations"]) == 8 and poses["annotations"][1]["keypoint"].shape == (2, 6, 17, 2)
    result = run_module("maskclr.data.pyskl", "splits", out, "--out-dir", lists)
    assert result.returncode == 0, result.stderr
    assert (lists / "xsub_val.txt").read_text().split() == ntu_release()["split"]["xsub_val"]
    assert sorted(p.name for p in lists.iterdir()) == [
        "xsub_train.txt",
        "xsub_val.txt",
        "xview_train.txt",
        "xview_val.txt",
    ]


def test_ntu_size_and_class_checks(tmp_path):
    release = write(tmp_path / "ntu60_hrnet.pkl", ntu_release())
    dataset = import_ntu(release, 4)
    names = ["xsub_train", "xsub_val"]
    check_counts(dataset, release, names, 4, {"xsub_train": 5})
    with pytest.raises(
        InputError,
        match=r"ntu60_hrnet\.pkl: split 'xsub_train' has 5 sequences, expected 40091 "
        r"\(config key expected_sizes\.xsub_train",
    ):
        check_counts(dataset, release, names, 4, {"xsub_train": 40091, "xsub_val": 16487})
    with pytest.raises(InputError, match=r"4 distinct labels, expected 60 classes"):
        check_counts(dataset, release, names, 60, {})
    with pytest.raises(InputError, match=r"no split 'xset_train'"):
        check_counts(dataset, release, ["xset_train"], 4, {})


# ---- Kinetics-400 -----------------------------------------------------------------------------


def skeleton(x, score):
    """One (17, 3) skeleton at x pixels with a constant keypoint score."""
    kp = np.zeros((17, 3), np.float32)
    kp[:, 0], kp[:, 1], kp[:, 2] = x, 100.0, score
    return kp


def test_k400_selection_keeps_boxes_over_threshold_and_the_two_best_per_frame():
    # frame 0: three skeletons (best 0.9, then 0.8, then 0.3); frame 1: one box below threshold
    # only (so the frame is dropped); frame 3: one skeleton.
    kp = np.stack([skeleton(10, 0.3), skeleton(20, 0.9), skeleton(30, 0.8), skeleton(40, 0.99), skeleton(50, 0.7)])
    frames = np.array([0, 0, 0, 1, 3])
    boxes = np.array([0.9, 0.9, 0.6, 0.4, 0.95])
    keypoint, score = select_skeletons(kp, frames, boxes, box_threshold=0.5, max_persons=2)
    assert keypoint.shape == (2, 2, 17, 2) and score.shape == (2, 2, 17)
    assert keypoint[0, 0, 0, 0] == 20 and keypoint[1, 0, 0, 0] == 30  # best first, 0.3 dropped
    assert keypoint[0, 1, 0, 0] == 50 and score[1, 1].sum() == 0  # frame 3, one person; frame 1 gone
    assert np.isclose(score[0, 0, 0], 0.9)


def test_k400_without_any_kept_skeleton_is_empty():
    keypoint, score = select_skeletons(np.stack([skeleton(1, 0.9)]), np.array([0]), np.array([0.2]), 0.5, 2)
    assert keypoint.shape == (0, 0, 17, 2) and score.shape == (0, 0, 17)


def k400_files(tmp_path, as_zip=True):
    """A K400 table of contents and its kpfiles (two files), zipped or in a folder."""
    videos = {"vid_a": (0, [0, 0, 1], [0.9, 0.8, 0.7]), "vid_b": (1, [0, 2], [0.6, 0.3]), "vid_c": (1, [1], [0.99])}
    kpfiles = {"part_0.pkl": {}, "part_1.pkl": {}}
    annotations = []
    for i, (name, (label, frames, boxes)) in enumerate(videos.items()):
        raw = "part_0.pkl" if i < 2 else "part_1.pkl"
        kpfiles[raw][name] = {"keypoint": np.stack([skeleton(10 * (j + 1), 0.5 + 0.1 * j) for j in range(len(frames))])}
        annotations.append(
            {
                "frame_dir": name,
                "label": label,
                "img_shape": (340, 256),
                "original_shape": (340, 256),
                "total_frames": 3,
                "raw_file": f"/mnt/lustre/author/kpfiles/{raw}",
                "frame_inds": np.array(frames, np.int16),
                "box_score": np.array(boxes, np.float16),
                "valid": {0.5: len(frames)},
            }
        )
    toc = write(
        tmp_path / "k400_hrnet.pkl",
        {"split": {"train": ["vid_a", "vid_c"], "val": ["vid_b"]}, "annotations": annotations},
    )
    if as_zip:
        archive = tmp_path / "k400_kpfiles_2d.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for name, content in kpfiles.items():
                zf.writestr(f"kpfiles/{name}", pickle.dumps(content, protocol=4))
        return toc, archive
    folder = tmp_path / "kpfiles"
    folder.mkdir()
    for name, content in kpfiles.items():
        write(folder / name, content)
    return toc, folder


@pytest.mark.parametrize("as_zip", [True, False])
def test_k400_release_is_decompressed(tmp_path, as_zip):
    toc, kpfiles = k400_files(tmp_path, as_zip)
    dataset = import_k400(toc, kpfiles, num_classes=2, box_threshold=0.5, max_persons=2)
    assert dataset["split"] == {"main_train": ["vid_a", "vid_c"], "main_val": ["vid_b"]}
    anns = {a["frame_dir"]: a for a in dataset["annotations"]}
    assert anns["vid_a"]["keypoint"].shape == (2, 2, 17, 2)  # frames 0 and 1; two persons in frame 0
    assert anns["vid_a"]["keypoint"][0, 0, 0, 0] == 20  # the higher mean score (0.6) first
    assert anns["vid_b"]["keypoint"].shape == (1, 1, 17, 2)  # box 0.3 dropped with its frame
    assert anns["vid_c"]["img_shape"] == (340, 256) and anns["vid_c"]["label"] == 1


def test_k400_errors_name_the_kpfile(tmp_path):
    toc, kpfiles = k400_files(tmp_path)
    with zipfile.ZipFile(kpfiles, "w") as zf:  # an archive without part_1.pkl
        zf.writestr("kpfiles/part_0.pkl", pickle.dumps({}, protocol=4))
    with pytest.raises(InputError, match=r"k400_kpfiles_2d\.zip:part_0\.pkl: no skeletons for frame_dir 'vid_a'"):
        import_k400(toc, kpfiles, 2, 0.5, 2)
    with zipfile.ZipFile(kpfiles, "w") as zf:
        zf.writestr("other.pkl", b"")
    with pytest.raises(InputError, match=r"no kpfile 'part_0\.pkl' .*raw_file"):
        import_k400(toc, kpfiles, 2, 0.5, 2)


# ---- video sources and shards -----------------------------------------------------------------


def test_video_items_follow_the_release_and_need_every_video(tmp_path):
    release = ntu_release()
    folder = tmp_path / "videos"
    folder.mkdir()
    for ann in release["annotations"]:
        (folder / f"{ann['frame_dir']}_rgb.avi").write_bytes(b"")
    source = video_items(release, "ntu60_hrnet.pkl", folder, "{frame_dir}_rgb.avi", ["xsub"])
    assert source["split"]["xsub_val"] == release["split"]["xsub_val"] and set(source["split"]) == {
        "xsub_train",
        "xsub_val",
    }
    assert source["annotations"][0] == {
        "frame_dir": release["annotations"][0]["frame_dir"],
        "label": 0,
        "video": str(folder / f"{release['annotations'][0]['frame_dir']}_rgb.avi"),
    }
    (folder / f"{release['annotations'][2]['frame_dir']}_rgb.avi").unlink()
    with pytest.raises(InputError, match=r"videos: 1 of 8 videos are missing, e\.g\. .*S001C003P003R001A003_rgb\.avi"):
        video_items(release, "ntu60_hrnet.pkl", folder, "{frame_dir}_rgb.avi", ["xsub"])


def test_shards_partition_the_items_and_merge_restores_source_order(tmp_path):
    items = list(range(10))
    parts = [shard_items(items, k, 3) for k in range(3)]
    assert sum(parts, []) == items and [len(p) for p in parts] == [3, 4, 3]
    with pytest.raises(InputError, match=r"--shard 3: expected 0 <= shard < --shards 3"):
        shard_items(items, 3, 3)

    source = ntu_release()
    anns = source["annotations"]
    files = [write(tmp_path / f"shard{k}.pkl", {"annotations": anns[k::2]}) for k in range(2)]  # interleaved
    merged = merge(source, files, tmp_path / "out.pkl")
    assert [a["frame_dir"] for a in merged["annotations"]] == [a["frame_dir"] for a in anns]
    with pytest.raises(InputError, match=r"4 source items are in no shard"):
        merge(source, files[:1], tmp_path / "out.pkl")


def test_class_names():
    ntu60 = class_names("ntu60", 60)
    assert len(ntu60) == 60 and ntu60[0] == "drink water" and ntu60[59] == "walking apart from each other"
    assert class_names("ntu120", 120)[119].startswith("finger-guessing game")
    assert all("other person" in n or "each other" in n or n == "handshaking" for n in ntu60[49:60])
    assert class_names("k400", 3) == ["class 0", "class 1", "class 2"]
    assert len(class_names("synth", 14)) == 14
