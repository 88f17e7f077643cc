"""Action class names per dataset: what tables, figures and ``maskclr.predict`` print.

NTU RGB+D 120's names ship as ``ntu120_classes.txt`` (the official action list, A1..A120);
NTU60's classes are its first 60. The synthetic classes come from the generator; datasets
without a shipped list (Kinetics-400) are named by index.
"""

from pathlib import Path

from maskclr.data.synthetic import CLASS_NAMES as SYNTH_CLASSES

NTU120_FILE = Path(__file__).with_name("ntu120_classes.txt")


def class_names(dataset, num_classes):
    """``num_classes`` names, index = label."""
    dataset = dataset.removesuffix("_3d")  # native 3D skeletons of the same scenes: the same classes
    if dataset == "synth":
        names = list(SYNTH_CLASSES)
    elif dataset in ("ntu60", "ntu120"):
        names = NTU120_FILE.read_text().splitlines()
    else:
        names = []
    return (names + [f"class {i}" for i in range(len(names), num_classes)])[:num_classes]
