"""Per-class scores and confusion counts of an evaluation (maskclr.evaluate.run) and the class
groups they are reported in (maskclr.data.classes.class_groups), by hand."""

import pytest
import torch

from maskclr.data.classes import class_groups, class_names, class_partners
from maskclr.data.synthetic import FINE_PAIRS, MUTUAL_CLASSES
from maskclr.evaluate.run import confusion, confusion_arrays, scores


def test_scores_gives_the_whole_set_then_each_class_present():
    # Six samples of classes 0, 0, 0, 2, 2, 3 among 7 (1 is absent); top-1 predictions 0, 1, 0, 2, 0, 0.
    # The last sample ranks its own class 3 sixth: a top-5 miss.
    labels = torch.tensor([0, 0, 0, 2, 2, 3])
    logits = torch.zeros(6, 7)
    logits[torch.arange(6), labels] = 1.0  # the true class second, unless predicted
    logits[torch.arange(6), torch.tensor([0, 1, 0, 2, 0, 0])] = 2.0
    logits[5] = torch.tensor([10.0, 9.0, 8.0, 0.0, 7.0, 6.0, 5.0])  # but the last ranks its class 3 sixth
    whole, *classes = scores(logits, labels, 7)
    assert whole == {
        "label": "",
        "top1": pytest.approx(3 / 6),
        "top5": pytest.approx(5 / 6),
        "mean_class_acc": pytest.approx((2 / 3 + 1 / 2 + 0) / 3),
        "n": 6,
    }
    assert classes == [
        {"label": 0, "top1": pytest.approx(2 / 3), "n": 3},
        {"label": 2, "top1": 0.5, "n": 2},
        {"label": 3, "top1": 0.0, "n": 1},
    ]


def test_a_class_with_a_partner_scores_the_share_predicted_as_it():
    # Classes 0 and 1 are partners, 2 has none; predictions 1, 0, 0 | 0, 2 | 1.
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    logits = torch.nn.functional.one_hot(torch.tensor([1, 0, 0, 0, 2, 1]), 3).float()
    _, zero, one, two = scores(logits, labels, 3, partners={0: 1, 1: 0})
    assert zero["to_partner"] == pytest.approx(1 / 3) and zero["top1"] == pytest.approx(2 / 3)
    assert one["to_partner"] == 0.5 and one["top1"] == 0.0  # one error to the partner, one elsewhere
    assert "to_partner" not in two


def test_confusion_counts_true_classes_by_top1_prediction():
    # The same predictions: 1, 0, 0 | 0, 2 | 1 of labels 0, 0, 0 | 1, 1 | 2, among 4 classes.
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    logits = torch.nn.functional.one_hot(torch.tensor([1, 0, 0, 0, 2, 1]), 4).float()
    counts = confusion(logits, labels, 4)
    assert counts.tolist() == [[2, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    arrays = confusion_arrays({("clean", "0", "mq"): counts, ("noise_st", "0.01", "mq"): 2 * counts})
    assert arrays["perturbation"].tolist() == ["clean", "noise_st"] and arrays["level"].tolist() == ["0", "0.01"]
    assert arrays["test_estimator"].tolist() == ["mq", "mq"] and arrays["counts"].shape == (2, 4, 4)
    assert (arrays["counts"][1] == 2 * counts).all()


def test_partners_are_the_synthetic_fine_pairs_both_ways():
    partners = class_partners("synth")
    assert partners == {a: b for pair in FINE_PAIRS for a, b in (pair, pair[::-1])} and partners[15] == 14
    assert class_partners("synth_3d") == partners and class_partners("k400") == {}


def test_ntu_partners_are_the_actions_the_synthetic_pairs_stand_for():
    synth, ntu = class_names("synth", 24), class_names("ntu120", 120)
    partners = class_partners("ntu120")
    assert partners == class_partners("ntu60") == class_partners("ntu60_3d") and len(partners) == 10
    # the same pairs by name, up to NTU's longer names
    shorten = {"make a phone call/answer phone": "make a phone call", "nod head/bow": "nod head"}
    named = {(shorten.get(ntu[a], ntu[a]), shorten.get(ntu[b], ntu[b])) for a, b in partners.items()}
    assert named == {(synth[a], synth[b]) for a, b in class_partners("synth").items()}


def test_synthetic_groups_are_the_generators_coarse_mutual_and_fine_classes():
    groups = class_groups("synth", 24)
    assert list(groups) == ["coarse", "two persons", "fine pairs"]
    assert groups["fine pairs"] == sorted(label for pair in FINE_PAIRS for label in pair) == list(range(14, 24))
    assert groups["two persons"] == sorted(MUTUAL_CLASSES) == [12, 13]
    assert groups["coarse"] == list(range(12))
    assert class_groups("synth_3d", 24) == groups  # the same scenes, the same classes


def test_ntu_groups_are_its_one_and_two_person_actions_and_the_fine_pairs():
    names = class_names("ntu120", 120)
    groups = class_groups("ntu120", 120)
    assert len(groups["one person"]) == 84 and len(groups["two persons"]) == 26
    assert groups["fine pairs"] == sorted(class_partners("ntu120")) == [0, 2, 10, 11, 27, 28, 29, 34, 35, 43]
    assert names[groups["two persons"][0]].startswith("punching") and names[48].startswith("use a fan")
    assert names[groups["two persons"][11]].startswith("hit other person")  # A106, the first of NTU120's
    assert class_groups("ntu60", 60)["two persons"] == list(range(49, 60))


@pytest.mark.parametrize("dataset, num_classes", [("synth", 24), ("synth", 16), ("ntu60", 60), ("ntu120", 120)])
def test_groups_partition_the_classes(dataset, num_classes):
    labels = [label for group in class_groups(dataset, num_classes).values() for label in group]
    assert sorted(labels) == list(range(num_classes))


def test_a_dataset_without_groups_has_none():
    assert class_groups("k400", 400) == {}
