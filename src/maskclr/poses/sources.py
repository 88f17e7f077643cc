"""The videos a real dataset's pose extraction runs on, as a source file of items.

    python -m maskclr.poses.sources --release ntu60_hrnet.pkl --videos /data/nturgb+d_rgb \\
        --pattern '{frame_dir}_rgb.avi' --splits xsub xview --out results/raw/ntu60/videos.pkl

The released skeleton file decides which sequences exist, their labels and their splits: the
re-extracted tiers (Table 2) then cover exactly the sequences of the HRNet release, with the
missing-skeleton samples already left out. Every listed video must exist; the error names the
first missing ones and the folder, since NTU RGB videos must be requested by the user.
"""

import argparse
from pathlib import Path

from maskclr.data.releases import split_names, workflow_splits
from maskclr.errors import InputError, run_cli
from maskclr.fileio import dump_pickle, load_pickle


def video_items(release, release_path, folder, pattern, splits):
    """Source items ``{frame_dir, label, video}`` of the sequences in ``splits``, with the splits."""
    split = workflow_splits(release["split"])
    names = split_names(splits)
    absent = [n for n in names if n not in split]
    if absent:
        raise InputError(f"{release_path}: key 'split': no split '{absent[0]}' (available: {', '.join(sorted(split))})")
    wanted = {d for n in names for d in split[n]}
    items = [
        {
            "frame_dir": a["frame_dir"],
            "label": int(a["label"]),
            "video": str(Path(folder) / pattern.format(frame_dir=a["frame_dir"])),
        }
        for a in release["annotations"]
        if a["frame_dir"] in wanted
    ]
    missing = [i["video"] for i in items if not Path(i["video"]).is_file()]
    if missing:
        raise InputError(
            f"{folder}: {len(missing)} of {len(items)} videos are missing, e.g. "
            f"{', '.join(missing[:3])} (config keys videos and video_pattern)"
        )
    return {"split": {n: list(split[n]) for n in names}, "annotations": items}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.poses.sources", description=__doc__.split("\n")[0])
    parser.add_argument("--release", required=True, help="the PYSKL release: sequences, labels and splits")
    parser.add_argument("--videos", required=True, help="folder of the dataset's RGB videos")
    parser.add_argument("--pattern", required=True, help="file name of a video, e.g. '{frame_dir}_rgb.avi'")
    parser.add_argument("--splits", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if not Path(args.videos).is_dir():
        raise InputError(
            f"{args.videos}: not a folder (config key videos: the dataset's RGB videos; "
            "NTU RGB+D videos are licence-restricted and must be requested, see README)"
        )
    release = load_pickle(args.release)
    dump_pickle(video_items(release, args.release, args.videos, args.pattern, args.splits), args.out)


if __name__ == "__main__":
    run_cli(main)
