"""The action head of MotionBERT / MaskCLR (docs/method.md §3.2), parameter names as MotionBERT's."""

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
