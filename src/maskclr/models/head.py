"""Action heads: MotionBERT / MaskCLR's MLP head (docs/method.md §3.2, parameter names as MotionBERT's)
and STTFormer's own linear head (§3.4, parameter names as STTFormer's ``fc``).

Both map (N, M, T', J', C) → (logits (N, classes), h (N, hidden)); h is the feature the
contrastive losses compare.
"""

import torch.nn as nn


class ActionHead(nn.Module):
    """(N, M, T', J', C) → (logits (N, classes), h (N, hidden)).

    Dropout → mean over time → flatten joints × channels → mean over persons →
    Linear → BatchNorm → ReLU (= h, the feature the contrastive losses use) → Linear.
    """

    def __init__(self, dim_rep, num_joints, num_classes, hidden=2048, dropout=0.5):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(dim_rep * num_joints, hidden)
        self.bn = nn.BatchNorm1d(hidden, momentum=0.1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, feat):
        n, m = feat.shape[:2]
        feat = self.dropout(feat).mean(dim=2).reshape(n, m, -1).mean(dim=1)
        hidden = self.relu(self.bn(self.fc1(feat)))
        return self.fc2(hidden), hidden


class STTFormerHead(nn.Module):
    """(N, M, T', J', C) → (logits (N, classes), h (N, C)), STTFormer's head.

    Mean over all T'·J' positions and the M persons → dropout → Linear. h is the pooled
    feature *before* the dropout: it is the only feature between backbone and classifier
    (the analogue of ActionHead's penultimate h), and leaving dropout out of it keeps the
    contrastive losses comparing the two pathways' representations, not two dropout draws.
    The reference's Dropout2d (rate 0 in its configs) is left out.
    """

    def __init__(self, dim_rep, num_classes, dropout=0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(dim_rep, num_classes)
        # As the reference's fc_init.
        nn.init.xavier_normal_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, feat):
        hidden = feat.mean(dim=(1, 2, 3))
        return self.fc(self.dropout(hidden)), hidden


# name → builder(dim_rep, num_joints, num_classes, hidden, dropout): the head a backbone's recipe uses.
HEADS = {
    "mlp": ActionHead,
    "linear": lambda dim_rep, num_joints, num_classes, hidden, dropout: STTFormerHead(dim_rep, num_classes, dropout),
}
