"""``SkeletonDataset``: the preprocessed HDF5 split as a PyTorch dataset (docs/method.md §2.3, 7–8;
the native 3D NTU-25 files of ``maskclr.data.native3d``, §2.4)."""

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from maskclr.data import native3d
from maskclr.data.augment import crop_scale, random_move
from maskclr.errors import InputError

TRAIN_SCALE = (1.0, 3.0)  # crop_scale ratio range in training (MotionBERT scale_range_train)
TEST_SCALE = (2.0, 2.0)  # fixed ratio at test time (MotionBERT scale_range_test)


class SkeletonDataset(Dataset):
    """One part (``"train"`` or ``"test"``) of ``results/data/{dataset}/{estimator}/{split}.h5``.

    Items are ``(x, label)`` with x float32 tensor (P, T, 17, 3), P = 2 (or 1: ``max_persons``). Training items get
    ``random_move`` and ``crop_scale`` with ratio ~ U(1, 3); test items get ``crop_scale`` with
    ratio 2. The whole part is read into memory once. Augmentation randomness comes from
    ``(seed, epoch, index)``: call ``set_epoch`` each epoch for fresh draws. The epoch lives in
    shared memory, so that the DataLoader's persistent worker processes (which hold copies of
    the dataset made when they started) see it change; the draws do not depend on the workers.

    A native 3D file (attribute ``pipeline`` = ``native3d``) gives x (2, n_frames, 25, 3) in
    metres: training items are cropped, resized and rotated (``native3d.augment``, with the
    file's parameters; ``random_move`` False turns this off), test items are read as stored.
    """

    def __init__(self, path, part, *, random_move=None, scale_range=None, seed=0):
        if part not in ("train", "test"):
            raise ValueError(f"part must be 'train' or 'test', got {part!r}")
        train = part == "train"
        self.random_move = train if random_move is None else random_move
        self.scale_range = tuple(scale_range or (TRAIN_SCALE if train else TEST_SCALE))
        self.seed = seed
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        try:
            with h5py.File(path, "r") as h5:
                self.x = h5[part]["x"][()]
                self.labels = h5[part]["label"][()]
                self.frame_dirs = h5[part]["frame_dir"].asstr()[()]
                self.attrs = dict(h5.attrs)
                self.native3d = self.attrs.get("pipeline") == native3d.PIPELINE
                self.lengths = h5[part]["length"][()] if self.native3d else None
        except (OSError, KeyError) as err:
            raise InputError(f"{path}: not a preprocessed skeleton HDF5 with group '{part}': {err}") from err
        self.num_classes = int(self.attrs["num_classes"])
        joints = 25 if self.native3d else 17
        if (
            self.x.ndim != 5
            or self.x.shape[1] not in (1, 2)
            or self.x.shape[3:] != (joints, 3)
            or len(self.x) != len(self.labels)
        ):
            raise InputError(
                f"{path}: group '{part}': key 'x': expected shape (N, 1 or 2, T, {joints}, 3) matching "
                f"{len(self.labels)} labels, got {self.x.shape}"
            )

    def __len__(self):
        return len(self.labels)

    @property
    def epoch(self):
        return int(self._epoch)

    def set_epoch(self, epoch):
        self._epoch.fill_(epoch)

    def __getitem__(self, index):
        rng = np.random.default_rng((self.seed, self.epoch, index))
        if self.native3d:
            return self._native3d_item(index, rng)
        motion = self.x[index]
        if self.random_move:
            motion = random_move(motion, rng)
        motion = crop_scale(motion, rng.uniform(*self.scale_range))
        return torch.from_numpy(motion.astype(np.float32)), int(self.labels[index])

    def _native3d_item(self, index, rng):
        motion = self.x[index]
        if self.random_move:
            motion = native3d.augment(self.x[index : index + 1], self.lengths[index : index + 1], rng, self.attrs)[0]
        return torch.from_numpy(motion.astype(np.float32)), int(self.labels[index])
