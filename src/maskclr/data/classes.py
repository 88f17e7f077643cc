"""Action class names and class groups per dataset: what tables, figures and ``maskclr.predict`` print.

NTU RGB+D 120's names ship as ``ntu120_classes.txt`` (the official action list, A1..A120);
NTU60's classes are its first 60. The synthetic classes come from the generator; datasets
without a shipped list (Kinetics-400) are named by index.

Class groups are the dataset's own partition of its classes, where it has one: the generator's
coarse classes, its two-person classes and its fine-grained pairs (``FINE_PAIRS``); NTU's
two-person interactions (A50-A60, A106-A120), the NTU originals of the generator's five pairs
(``NTU_PAIRS``) and its other one-person actions. The per-class table, the error flow and the
robustness summary report each group's accuracy, so that a cost of noise can be traced to the
classes that pay it, and, for a class with a fine-grained partner, how much of it goes to the partner.

NTU names no pairs of its own: ``NTU_PAIRS`` is our choice, the five pairs the synthetic set was
modelled on, so that the synthetic and the NTU runs report the same pairs. NTU has more such
pairs (wear / take off a shoe, glasses, a hat, a jacket); add them here to report them too.
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
# The NTU actions the synthetic FINE_PAIRS stand for (0-based labels): drink water / brushing
# teeth (A1/A3), make a phone call / touch head (A28/A44), nod head / shake head (A35/A36),
# reading / writing (A11/A12), typing on a keyboard / playing with a phone (A30/A29).
NTU_PAIRS = ((0, 2), (27, 43), (34, 35), (10, 11), (29, 28))


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
        fine = {label for pair in NTU_PAIRS for label in pair}
        groups = {
            "one person": set(range(num_classes)) - NTU_MUTUAL - fine,
            "two persons": NTU_MUTUAL,
            "fine pairs": fine,
        }
    else:
        return {}
    groups = {name: sorted(label for label in labels if label < num_classes) for name, labels in groups.items()}
    return {name: labels for name, labels in groups.items() if labels}


def class_partners(dataset):
    """{label: the other class of its fine-grained pair}, both ways: the synthetic set's
    ``FINE_PAIRS``, NTU's ``NTU_PAIRS``; {} for the others (Kinetics-400, a user's dataset)."""
    pairs = {"synth": FINE_PAIRS, "ntu60": NTU_PAIRS, "ntu120": NTU_PAIRS}.get(dataset.removesuffix("_3d"), ())
    return {a: b for pair in pairs for a, b in (pair, pair[::-1])}
