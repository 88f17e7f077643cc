"""STTFormer's own head against the reference's formula (docs/method.md §3.4)."""

import torch

from maskclr.models.head import HEADS, STTFormerHead


def reference_logits(feat, fc):
    """STTFormer's forward after its blocks: (N·M, C, T, V) → (N, M·T·V, C, 1) → mean, mean → fc."""
    n, m, t, v, c = feat.shape
    x = feat.permute(0, 1, 4, 2, 3).reshape(n * m, c, t, v)  # the reference's block output layout
    x = x.view(n, m, c, -1).permute(0, 1, 3, 2).contiguous().view(n, -1, c, 1)
    return fc(x.mean(3).mean(1)), x.mean(3).mean(1)


def test_sttformer_head_matches_the_reference_formula():
    torch.manual_seed(0)
    head = STTFormerHead(dim_rep=6, num_classes=4, dropout=0.5).eval()
    feat = torch.randn(3, 2, 5, 7, 6)
    logits, hidden = head(feat)
    want_logits, want_hidden = reference_logits(feat, head.fc)
    torch.testing.assert_close(logits, want_logits)
    torch.testing.assert_close(hidden, want_hidden)
    assert logits.shape == (3, 4) and hidden.shape == (3, 6)
    # The reference initialises fc with zero bias.
    assert (head.fc.bias == 0).all()


def test_dropout_reaches_the_logits_but_not_h():
    torch.manual_seed(0)
    head = STTFormerHead(dim_rep=6, num_classes=4, dropout=0.5).train()
    feat = torch.randn(3, 2, 5, 7, 6)
    (logits_a, hidden_a), (logits_b, hidden_b) = head(feat), head(feat)
    torch.testing.assert_close(hidden_a, hidden_b)
    assert not torch.allclose(logits_a, logits_b)


def test_heads_registry_builds_both_heads():
    mlp = HEADS["mlp"](dim_rep=6, num_joints=7, num_classes=4, hidden=8, dropout=0.5)
    linear = HEADS["linear"](dim_rep=6, num_joints=7, num_classes=4, hidden=8, dropout=0.5)
    assert mlp.fc2.out_features == 4 and isinstance(linear, STTFormerHead) and linear.fc.in_features == 6
