"""``balanced_tf_dataset`` over Parquet files and memmaps: the batches of ``BalancedBatches``
with the same plan, and a memmap read in place (needs tensorflow; skipped without it)."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="balanced_tf_dataset needs tensorflow")

from keras_imbalance.sampling import BalancedBatches, balanced_tf_dataset  # noqa: E402
from test_sampling_files import data, write  # noqa: E402


def epochs_equal(dataset, batches, epochs=2):
    """The k-th iteration over ``dataset`` yields the batches of epoch k of ``batches``."""
    for epoch in range(epochs):
        batches.epoch = epoch
        got = list(dataset)
        assert len(got) == len(batches)
        for i, parts in enumerate(got):
            expected = batches[i]
            assert len(parts) == len(expected)
            for left, right in zip(parts, expected, strict=True):
                np.testing.assert_array_equal(left.numpy(), right)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"strategy": "undersample"},
        {"strategy": {0: 0.5, 2: 0.5}, "replacement": True},
        {"shard": (1, 2)},
    ],
)
def test_parquet_dataset_equals_balanced_batches(tmp_path, options):
    x, y, w = data(n=6000)
    folder = write(tmp_path / "d", x, y, w)
    dataset = balanced_tf_dataset.from_parquet(
        folder, target="label", sample_weight="w", batch_size=100, random_state=7, **options
    )
    memory = BalancedBatches(x, y, sample_weight=w, batch_size=100, random_state=7, **options)
    epochs_equal(dataset, memory)
    if "shard" not in options:  # the in-memory function with the same arguments: the same
        in_memory = balanced_tf_dataset(
            x, y, sample_weight=w, batch_size=100, random_state=7, **options
        )
        epochs_equal(in_memory, memory)

def test_parquet_dataset_counts_and_spill(tmp_path):
    x, y, _ = data(n=3000)
    folder = write(tmp_path / "d", x, y)
    dataset = balanced_tf_dataset.from_parquet(
        folder, target="label", batch_size=64, spill=tmp_path / "x.npy", random_state=3
    )
    epoch = list(dataset)
    xb = np.concatenate([b[0].numpy() for b in epoch])
    yb = np.concatenate([b[1].numpy() for b in epoch])
    # 'oversample': every class drawn n_max times; each majority row exactly once per epoch
    n_max = np.bincount(y).max()
    np.testing.assert_array_equal(np.bincount(yb), [n_max] * 3)
    rows = xb[:, 0].astype(int)
    np.testing.assert_array_equal(np.sort(rows[yb == 0]), np.flatnonzero(y == 0))
    np.testing.assert_array_equal(xb, x[rows])  # the features of the rows named by column 0
    assert (tmp_path / "x.npy").exists()


def test_parquet_dataset_errors(tmp_path):
    x, y, _ = data(n=500)
    folder = write(tmp_path / "d", x, y)
    with pytest.raises(TypeError, match="target"):
        balanced_tf_dataset.from_parquet(folder, target=3)
    with pytest.raises(ValueError, match="label_missing"):
        balanced_tf_dataset.from_parquet(folder, target="label_missing")


def test_memmap_is_read_in_place(tmp_path):
    x, y, _ = data(n=2000)
    writer = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=x.dtype, shape=x.shape)
    writer[:] = x
    writer.flush()
    loaded = np.load(tmp_path / "x.npy", mmap_mode="r")
    dataset = balanced_tf_dataset(loaded, y, batch_size=128, random_state=2)
    writer[:, 1] = -x[:, 1]  # written after the dataset was built: a copy would not see it
    writer.flush()
    changed = x.copy()
    changed[:, 1] = -x[:, 1]
    epochs_equal(dataset, BalancedBatches(changed, y, batch_size=128, random_state=2), epochs=1)
