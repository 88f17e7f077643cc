"""``python -m maskclr.pretrain`` on a tiny HDF5: a checkpoint that fine-tuning loads, deterministic on CPU."""

import json
import math

import h5py
import numpy as np
import pytest
import torch

from maskclr.errors import InputError
from maskclr.models import ActionModel, build_backbone
from maskclr.pretrain.run import SCHEDULE, lr_at, main
from maskclr.pretrain.transfer import load_pretrained, read_pretrained

SIZES = {"dim": 16, "depth": 1, "num_heads": 2, "maxlen": 16}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "xsub.h5"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as h5:
        h5.attrs["num_classes"] = 3
        for part in ("train", "test"):
            h5[f"{part}/x"] = rng.normal(size=(4, 2, 16, 17, 3)).astype(np.float32)
            h5[f"{part}/label"] = np.array([0, 1, 2, 0])
            h5[f"{part}/frame_dir"] = np.array([f"S001A00{i}" for i in range(4)], dtype=object).astype("S")
    return path


def pretrain(data, out, method='{"method": "mamp", "decoder_dim": 8, "decoder_depth": 1, "decoder_heads": 2}'):
    main(
        ["--data", str(data), "--backbone", "transformer", "--backbone-json", json.dumps(SIZES)]
        + ["--method-json", method, "--schedule-json", '{"epochs": 2, "batch_size": 2, "warmup_epochs": 1}']
        + ["--out", str(out)]
    )
    return torch.load(out, weights_only=True)


def test_pretrain_writes_a_checkpoint_fine_tuning_loads(data, tmp_path):
    first = pretrain(data, tmp_path / "a" / "pretrained.pt")
    assert len(first["meta"]["losses"]) == 2 and all(math.isfinite(v) for v in first["meta"]["losses"])
    assert first["meta"]["method"]["method"] == "mamp" and first["meta"]["sizes"] == SIZES
    assert list((tmp_path / "a").iterdir()) == [tmp_path / "a" / "pretrained.pt"]  # no temporary left
    again = pretrain(data, tmp_path / "b.pt")
    assert first["meta"]["losses"] == again["meta"]["losses"]
    assert all(torch.equal(first["model"][k], again["model"][k]) for k in first["model"])
    model = ActionModel(build_backbone("transformer", **SIZES), num_classes=3, hidden=8)
    new = load_pretrained(model, read_pretrained(tmp_path / "b.pt"), tmp_path / "b.pt")
    assert all(k.startswith("head.") or k == "mask_token" for k in new)


def test_bad_settings_are_named(data, tmp_path):
    with pytest.raises(InputError, match="unknown key 'decoder_width'"):
        pretrain(data, tmp_path / "x.pt", '{"method": "skeletonmae", "decoder_width": 8}')
    with pytest.raises(InputError, match="not a checkpoint written by maskclr.pretrain"):
        torch.save({"weights": {}}, tmp_path / "other.pt")
        read_pretrained(tmp_path / "other.pt")


def test_lr_warms_up_then_follows_a_half_cosine_to_min_lr():
    schedule = {**SCHEDULE, "epochs": 10, "warmup_epochs": 2, "lr": 1.0, "min_lr": 0.2}
    assert [lr_at(e, schedule) for e in (0, 1, 2, 6, 10)] == pytest.approx([0.0, 0.5, 1.0, 0.6, 0.2])
