"""Action class names and class groups per dataset: what tables, figures and ``maskclr.predict`` print.

NTU RGB+D 120's names ship as ``ntu120_classes.txt`` (the official action list, A1..A120);
NTU60's classes are its first 60. The synthetic classes come from the generator; datasets
without a shipped list (Kinetics-400) are named by index.

Class groups are the dataset's own partition of its classes, where it has one: NTU's one-person
actions and its two-person interactions (A50-A60, A106-A120); the generator's coarse classes,
its two-person classes and its fine-grained pairs (``FINE_PAIRS``). The per-class table and the
robustness summary report each group's accuracy, so that a cost of noise can be traced to the
classes that pay it, and, for a class with a fine-grained partner, how much of it goes to the partner.
"""

from pathlib import Path

from maskclr.data.synthetic import CLASS_NAMES as SYNTH_CLASSES
from maskclr.data.synthetic import FINE_PAIRS, MUTUAL_CLASSES

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


# NTU's two-person interactions (0-based labels of A50-A60 and A106-A120).
NTU_MUTUAL = frozenset(range(49, 60)) | frozenset(range(105, 120))


def class_groups(dataset, num_classes):
    """{group name: sorted labels} of a dataset's own class partition (every label in one group),
    in display order; {} for a dataset without one (Kinetics-400, a user's dataset)."""
    dataset = dataset.removesuffix("_3d")
    if dataset == "synth":
        fine = {label for pair in FINE_PAIRS for label in pair}
        groups = {
            "coarse": set(range(num_classes)) - fine - MUTUAL_CLASSES,
            "two persons": MUTUAL_CLASSES,
            "fine pairs": fine,
        }
    elif dataset in ("ntu60", "ntu120"):
        groups = {"one person": set(range(num_classes)) - NTU_MUTUAL, "two persons": NTU_MUTUAL}
    else:
        return {}
    groups = {name: sorted(label for label in labels if label < num_classes) for name, labels in groups.items()}
    return {name: labels for name, labels in groups.items() if labels}


def class_partners(dataset):
    """{label: the other class of its fine-grained pair}, both ways, for a dataset built with such
    pairs (the synthetic set's ``FINE_PAIRS``); {} for the others (NTU names no pairs)."""
    if dataset.removesuffix("_3d") != "synth":
        return {}
    return {a: b for pair in FINE_PAIRS for a, b in (pair, pair[::-1])}
