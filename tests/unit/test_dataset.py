"""crop_scale, random_move, the HDF5 round trip and SkeletonDataset shapes and ranges."""

import h5py
import numpy as np
import pytest

from conftest import make_dataset, preprocess_cli
from maskclr.data.augment import crop_scale, random_move
from maskclr.data.dataset import SkeletonDataset


def box_sample():
    """Four valid points (0,0), (2,0), (0,1), (2,1) with score 1, and one invalid point."""
    motion = np.zeros((1, 1, 5, 3))
    motion[0, 0, :4] = [[0, 0, 1], [2, 0, 1], [0, 1, 1], [2, 1, 1]]
    motion[0, 0, 4] = [7, 7, 0]
    return motion


def test_crop_scale_hand_computed():
    out = crop_scale(box_sample(), ratio=1.0)  # side 2, origin (0, −0.5)
    np.testing.assert_allclose(out[0, 0, :4, :2], [[-1, -0.5], [1, -0.5], [-1, 0.5], [1, 0.5]])
    np.testing.assert_allclose(out[0, 0, :4, 2], 1)  # scores unchanged
    assert out[0, 0, 4, 0] == 1  # outside the box: clipped to 1
    out = crop_scale(box_sample(), ratio=2.0)  # side 4, origin (−1, −1.5)
    np.testing.assert_allclose(out[0, 0, 3, :2], [0.5, 0.25])


def test_crop_scale_degenerate_gives_zeros():
    few = box_sample()
    few[0, 0, 3, 2] = 0  # only 3 valid entries
    assert (crop_scale(few, 1.0) == 0).all()
    same = np.zeros((1, 1, 5, 3))
    same[..., 2] = 1  # all at one point: side 0
    assert (crop_scale(same, 1.0) == 0).all()


def test_random_move_is_a_bounded_similarity():
    rng = np.random.default_rng(0)
    motion = np.zeros((2, 50, 17, 3))
    motion[..., 0] = 1.0  # every joint at (1, 0)
    for _ in range(20):
        out = random_move(motion, rng)
        radius = np.hypot(out[..., 0], out[..., 1])
        assert radius.min() >= 0.9 - 0.15 and radius.max() <= 1.1 + 0.15
        origin = random_move(np.zeros_like(motion), rng)  # translation only
        assert np.abs(origin[..., :2]).max() <= 0.1
        assert (origin[..., 2] == 0).all()
    assert np.abs(np.diff(out[0, :, 0, :2], axis=0)).max() < 0.02  # interpolated: smooth in time
    assert np.array_equal(out[0], out[1])  # both persons get the same transform


@pytest.fixture
def h5_file(tmp_path):
    import pickle

    poses = tmp_path / "poses.pkl"
    poses.write_bytes(pickle.dumps(make_dataset(count=8, persons=2, frames=30), protocol=4))
    out = tmp_path / "xsub.h5"
    result = preprocess_cli(poses, out, 16, seed=5)
    assert result.returncode == 0, result.stderr
    return out, poses


def test_h5_layout_and_attributes(h5_file):
    out, poses = h5_file
    from maskclr.fileio import sha256

    with h5py.File(out) as h5:
        assert h5["train/x"].shape == (4, 2, 16, 17, 3) and h5["train/x"].dtype == np.float32
        assert h5["test/x"].shape == (4, 2, 16, 17, 3)
        assert h5["train/label"][()].tolist() == [0, 2, 1, 0]
        assert h5["test/frame_dir"].asstr()[0] == "S001C001P002R001A002"
        assert h5.attrs["n_frames"] == 16 and h5.attrs["score_channel"] == "motionbert"
        assert h5.attrs["source_sha256"] == sha256(poses) and h5.attrs["seed"] == 5


def test_dataset_shapes_and_ranges(h5_file):
    out, _ = h5_file
    test = SkeletonDataset(out, "test")
    x, label = test[0]
    assert x.shape == (2, 16, 17, 3) and x.dtype.is_floating_point and label == 1
    assert len(test) == 4 and test.num_classes == 3
    assert float(x[..., :2].abs().max()) <= 1.0
    test.set_epoch(3)
    np.testing.assert_array_equal(test[0][0].numpy(), x.numpy())  # test items do not change with the epoch
    train = SkeletonDataset(out, "train", seed=1)
    first = train[0][0].numpy()
    np.testing.assert_array_equal(first, train[0][0].numpy())  # same (seed, epoch, index)
    train.set_epoch(1)
    assert not np.array_equal(first, train[0][0].numpy())  # fresh draws per epoch
    assert np.abs(first[..., :2]).max() <= 1.0


def test_worker_loaders_draw_the_same_batches_as_the_training_process(h5_file):
    """Persistent workers (the GPU's loaders) see each epoch's set_epoch: their batches equal
    those drawn in the training process (the CPU's), epoch by epoch."""
    import torch

    from maskclr.train.loaders import data_loaders

    out, _ = h5_file

    def batches(workers):
        train = SkeletonDataset(out, "train", seed=3)
        sampler, loader, _ = data_loaders(train, SkeletonDataset(out, "test"), 2, 1, 0, 3, workers=workers)
        drawn = []
        for epoch in range(2):
            sampler.set_epoch(epoch)
            train.set_epoch(epoch)
            drawn += [x for x, _ in loader]
        return torch.stack(drawn)

    in_process = batches(0)
    assert not torch.equal(in_process[:2], in_process[2:])  # the epochs differ
    assert torch.equal(batches(2), in_process)


def test_processes_share_each_global_batch(h5_file):
    """With 2 processes, each draws half of a global batch of 4 from its own half of one seeded
    shuffle: the two ranks' samples of an epoch are disjoint and together cover the train split."""
    from maskclr.train.loaders import data_loaders

    out, _ = h5_file
    train = SkeletonDataset(out, "train", seed=3)
    drawn = []
    for rank in (0, 1):
        sampler, loader, test = data_loaders(train, None, 4, 2, rank, 3)
        sampler.set_epoch(0)
        assert loader.batch_size == 2 and test is None
        drawn.append(list(sampler))
    assert not set(drawn[0]) & set(drawn[1]) and sorted(drawn[0] + drawn[1]) == list(range(len(train)))


def test_dataset_bad_file(tmp_path):
    from maskclr.errors import InputError

    with pytest.raises(InputError, match="not a preprocessed skeleton HDF5"):
        SkeletonDataset(tmp_path / "absent.h5", "train")
