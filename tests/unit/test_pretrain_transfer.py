"""The pretraining registry, STTFormer's SkeletonMAE, and pretrain → fine-tune weight transfer."""

import pytest
import torch

from maskclr.errors import InputError
from maskclr.models import ActionModel, build_backbone
from maskclr.pretrain import build_pretrainer
from maskclr.pretrain.masking import masked_count, uniform_mask
from maskclr.pretrain.transfer import load_pretrained

SIZES = {
    "transformer": {"dim": 16, "depth": 2, "num_heads": 2, "maxlen": 16},
    "sttformer": {"num_frames": 12, "len_parts": 3, "config": ((8, 8, 4), (8, 16, 4))},
}
ENTRIES = {
    "mamp": {"method": "mamp", "decoder_dim": 8, "decoder_depth": 1, "decoder_heads": 2},
    "skeletonmae": {"method": "skeletonmae", "decoder_dim": 8, "decoder_depth": 1, "decoder_heads": 2},
}


def pretrainer(method, backbone, seed=0):
    torch.manual_seed(seed)
    return build_pretrainer(method, ENTRIES[method], backbone, build_backbone(backbone, **SIZES[backbone]))


def fine_tune_model(backbone, seed=1):
    torch.manual_seed(seed)
    return ActionModel(build_backbone(backbone, **SIZES[backbone]), num_classes=5, hidden=8)


HEAD = sorted(
    f"head.{name}"
    for name in ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    + [f"bn.{b}" for b in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]
)


@pytest.mark.parametrize(
    ("method", "backbone", "new"),
    [
        # MAE-style methods train only a decoder mask token, so the fine-tuned model's is new.
        ("mamp", "transformer", sorted(HEAD + ["mask_token"])),
        ("skeletonmae", "transformer", sorted(HEAD + ["mask_token"])),
        # STTFormer's encoder mask token sits where MaskCLR's goes, so it is carried over.
        ("skeletonmae", "sttformer", HEAD),
    ],
)
def test_every_encoder_weight_loads_and_only_heads_are_new(method, backbone, new):
    source = pretrainer(method, backbone)
    with torch.no_grad():  # weights no fresh model has, so a weight the load skipped is caught
        for parameter in source.parameters():
            parameter.add_(0.5)
    state = source.state_dict()
    model = fine_tune_model(backbone)
    assert load_pretrained(model, state, "pre.pt") == new
    loaded = model.state_dict()
    encoder = {k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")}
    assert set(encoder) == {k.removeprefix("backbone.") for k in loaded if k.startswith("backbone.")}
    for name, value in encoder.items():
        assert torch.equal(loaded[f"backbone.{name}"], value), name
    if "mask_token" not in new:
        assert torch.equal(loaded["mask_token"], state["mask_token"])
    assert not any(k.startswith("decoder") for k in loaded)


def test_transfer_refuses_a_different_encoder_size():
    state = pretrainer("mamp", "transformer").state_dict()
    torch.manual_seed(0)
    model = ActionModel(build_backbone("transformer", dim=16, depth=3, num_heads=2, maxlen=16), 5, hidden=8)
    with pytest.raises(InputError, match=r"pre\.pt: .*missing: blocks\.2"):
        load_pretrained(model, state, "pre.pt")


def test_transfer_refuses_foreign_keys():
    state = pretrainer("mamp", "transformer").state_dict()
    with pytest.raises(InputError, match="pre.pt: unexpected key 'optimizer.lr'"):
        load_pretrained(fine_tune_model("transformer"), {**state, "optimizer.lr": torch.ones(1)}, "pre.pt")
    with pytest.raises(InputError, match="no 'encoder.\\*' weights"):
        load_pretrained(fine_tune_model("transformer"), {"mask_token": state["decoder.mask_token"]}, "pre.pt")


def test_sttformer_skeletonmae_reconstructs_masked_frames_with_a_mask_token():
    model = pretrainer("skeletonmae", "sttformer")
    x = torch.randn(2, 12, 17, 3, generator=torch.Generator().manual_seed(0))
    out = model(x, generator=torch.Generator().manual_seed(1))
    # One token per frame and joint; the target is its raw coordinates (no per-token normalisation).
    assert out.pred.shape == out.target.shape == (2, 12 * 17, 3)
    torch.testing.assert_close(out.target, x.flatten(1, 2))
    assert out.mask.sum(dim=1).tolist() == [masked_count(12 * 17, 0.9)] * 2
    torch.testing.assert_close(out.loss, (out.pred - out.target).square().mean(-1)[out.mask].mean())
    out.loss.backward()
    assert model.mask_token.grad.abs().sum() > 0
    # Masked entries are replaced after the input map, so their input values do not matter.
    model.eval()
    mask = uniform_mask(2, 12 * 17, 0.5, torch.Generator().manual_seed(2))
    changed = x + 3.0 * mask.view(2, 12, 17, 1)
    torch.testing.assert_close(model.predict(changed, mask), model.predict(x, mask))


@pytest.mark.parametrize(
    ("entry", "backbone", "message"),
    [
        ({"method": "mae"}, "transformer", "entry 'p': key 'method': expected one of"),
        ({"mask_ratio": 0.9}, "transformer", "key 'method'"),
        ({"method": "mamp"}, "sttformer", "method 'mamp' pretrains \\['transformer'\\], not backbone 'sttformer'"),
        ({"method": "mamp", "tau": 0.8, "temperature": 1}, "transformer", "unknown key 'temperature'"),
    ],
)
def test_registry_names_the_bad_entry(entry, backbone, message):
    with pytest.raises(InputError, match=message):
        build_pretrainer("p", entry, backbone, build_backbone(backbone, **SIZES[backbone]))


def test_registry_overrides_defaults():
    model = build_pretrainer(
        "p",
        {"method": "mamp", "decoder_depth": 2},
        "transformer",
        build_backbone("transformer", **SIZES["transformer"]),
    )
    assert len(model.decoder.blocks) == 2 and model.decoder.pred.out_features == 4 * 3
