"""Balanced batches from Parquet files and memmaps (the same plan as in memory), and shares of
one plan for several replicas (disjoint, union == the single-process epoch)."""

import pickle

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from keras_imbalance._files import SpilledRows
from keras_imbalance.sampling import BalancedBatches, BalancedSampler


def data(n=12_000, features=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    x[:, 0] = np.arange(n)  # the row id
    y = rng.choice(3, size=n, p=[0.85, 0.12, 0.03])
    w = rng.uniform(0.5, 2.0, size=n)
    return x, y, w


def write(folder, x, y, w=None, parts=3, row_group_size=1000, list_column=False):
    folder.mkdir(exist_ok=True)
    bounds = np.linspace(0, len(y), parts + 1).astype(int)
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        if list_column:
            columns = {
                "x": pa.FixedSizeListArray.from_arrays(pa.array(x[lo:hi].ravel()), x.shape[1])
            }
        else:
            columns = {f"f{j}": x[lo:hi, j] for j in range(x.shape[1])}
        columns["label"] = y[lo:hi]
        if w is not None:
            columns["w"] = w[lo:hi]
        # file names sort as the parts' order
        pq.write_table(
            pa.table(columns), folder / f"part-{i}.parquet", row_group_size=row_group_size
        )
    return folder


def same_batches(a, b, epochs=(0, 1)):
    assert len(a) == len(b)
    for epoch in epochs:
        a.epoch = b.epoch = epoch
        for i in range(len(a)):
            for left, right in zip(a[i], b[i], strict=True):
                np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"strategy": "undersample"},
        {"strategy": {0: 0.5, 2: 0.5}, "replacement": True},
        {"strategy": "smote", "k_neighbors": 3},
    ],
)
def test_parquet_batches_equal_in_memory_batches(tmp_path, options):
    x, y, _ = data()
    folder = write(tmp_path / "d", x, y)
    files = BalancedBatches.from_parquet(
        folder, target="label", batch_size=100, random_state=7, **options
    )
    memory = BalancedBatches(x, y, batch_size=100, random_state=7, **options)
    same_batches(files, memory)
    assert files._source.x.decoded >= 12  # every row group was read at least once


def test_parquet_weights_list_column_small_cache_and_pickle(tmp_path):
    x, y, w = data(6000)
    folder = write(tmp_path / "d", x, y, w, list_column=True, row_group_size=500)
    files = BalancedBatches.from_parquet(
        folder,
        target="label",
        sample_weight="w",
        batch_size=64,
        random_state=1,
        cache_bytes=1,
        spill=False,
    )
    memory = BalancedBatches(x, y, sample_weight=w, batch_size=64, random_state=1)
    same_batches(files, memory)
    reader = files._source.x
    assert reader._slots == 1 and reader._slab.shape == (500, 4)  # one row group held
    same_batches(pickle.loads(pickle.dumps(files)), memory)  # a worker process's copy
    # only the label and weight columns are held: no array of the features' size
    assert not any(isinstance(v, np.ndarray) and v.size >= x.size for v in vars(files).values())


def test_parquet_batches_identical_from_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    x, y, _ = data(8000)
    folder = write(tmp_path / "d", x, y, row_group_size=700)
    memory = BalancedBatches(x, y, batch_size=64, random_state=4)
    # a cache of 4 row groups: threads evict each other's row groups while reading
    files = BalancedBatches.from_parquet(
        folder,
        target="label",
        batch_size=64,
        random_state=4,
        cache_bytes=4 * 700 * 16,
        spill=False,
    )
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(files.__getitem__, reversed(range(len(files)))))[::-1]
    for i, (xb, yb) in enumerate(got):
        np.testing.assert_array_equal(xb, memory[i][0])
        np.testing.assert_array_equal(yb, memory[i][1])


def test_parquet_small_cache_and_spill(tmp_path):
    x, y, _ = data(6000)
    folder = write(tmp_path / "d", x, y, row_group_size=400)
    memory = BalancedBatches(x, y, batch_size=32, random_state=2)
    few = BalancedBatches.from_parquet(
        folder, target="label", batch_size=32, random_state=2, cache_bytes=3 * 400 * 16, spill=False
    )
    same_batches(few, memory)
    assert few._source.x._slots == 3
    spilled = BalancedBatches.from_parquet(
        folder, target="label", batch_size=32, random_state=2, spill=tmp_path / "x.npy"
    )
    assert isinstance(spilled._source.x, SpilledRows)
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), x)
    same_batches(spilled, memory)
    with pytest.raises(ValueError, match="spill"):  # never overwritten
        BalancedBatches.from_parquet(folder, target="label", spill=tmp_path / "x.npy")
    with pytest.raises(ValueError, match="spill"):  # never inside the input
        BalancedBatches.from_parquet(folder, target="label", spill=folder / "x.npy")


def test_features_beyond_the_cache_spill_to_a_temporary_file_left_nowhere(tmp_path, monkeypatch):
    import tempfile

    from keras_imbalance.sampling import _keras

    x, y, _ = data(6000)
    folder = write(tmp_path / "d", x, y, row_group_size=400)
    before = sorted(p.name for p in folder.iterdir())
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    memory = BalancedBatches(x, y, batch_size=32, random_state=2)
    options = dict(target="label", batch_size=32, random_state=2, cache_bytes=3 * 400 * 16)
    spilled = BalancedBatches.from_parquet(folder, **options)
    assert isinstance(spilled._source.x, SpilledRows)  # 96 KB of features > a 19 KB cache
    same_batches(spilled, memory)
    assert list(temp.iterdir()) == []  # removed once opened
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing next to the input
    # fits in the cache: no file; a temporary folder in memory: the cache, with a warning
    fits = BalancedBatches.from_parquet(folder, target="label")
    assert not isinstance(fits._source.x, SpilledRows)
    monkeypatch.setattr(_keras, "_filesystem", lambda folder: "tmpfs")
    with pytest.warns(UserWarning, match="is a tmpfs .memory.*spill="):
        cached = BalancedBatches.from_parquet(folder, **options)
    assert cached._source.x._slots == 3
    same_batches(cached, memory, epochs=(0,))


@pytest.mark.parametrize(
    "options, revisit",
    [
        ({}, 1 << 20),
        ({}, 0),  # no class kept in memory: every row read from the file
        ({"strategy": "undersample", "shard": (1, 2), "batch_size": 8}, 1 << 20),
    ],
)
def test_spilled_features_read_in_windows_equal_the_batches(
    tmp_path, monkeypatch, options, revisit
):
    """Spilled features are read a window of batches at a time, in sorted passes of a few
    rows (never mapped): batches equal the in-memory ones in any order of access, across
    epochs, from a pickled copy (a worker process), and the reader equals the memmap."""
    from keras_imbalance import _files
    from keras_imbalance.sampling import _keras

    options = dict(options)
    batch = options.pop("batch_size", 32)
    monkeypatch.setattr(_keras, "_WINDOW_BYTES", 5 * batch * 16)  # 5 batches per window
    monkeypatch.setattr(_files, "_READ_BYTES", 37 * 16)  # reads of 37 rows
    monkeypatch.setattr(_keras, "_REVISIT_BYTES", revisit)
    x, y, _ = data(3000)
    folder = write(tmp_path / "d", x, y, row_group_size=300)
    memory = BalancedBatches(x, y, batch_size=batch, random_state=4, **options)
    spilled = BalancedBatches.from_parquet(
        folder, target="label", batch_size=batch, random_state=4, cache_bytes=1000, **options
    )
    reader = spilled._source.x
    assert isinstance(reader, SpilledRows)
    rows = np.array([2999, 0, 5, 5, 1500, 36, 37, 38, 2998])
    np.testing.assert_array_equal(reader.read(rows), x[rows])
    np.testing.assert_array_equal(reader.take(rows), x[rows])
    same_batches(spilled, memory)
    # the rows of the classes an 'oversample' epoch revisits are kept in memory
    oversample = revisit and "strategy" not in options
    assert spilled._kept[0].tolist() == (np.flatnonzero(y > 0).tolist() if oversample else [])
    n = len(memory)
    assert n > 5  # several windows
    for i in (7 % n, 3, n - 1, 0, 8 % n, 4):  # back and forth across windows
        for left, right in zip(spilled[i], memory[i], strict=True):
            np.testing.assert_array_equal(left, right)
    same_batches(pickle.loads(pickle.dumps(spilled)), memory, epochs=(2,))


def test_row_groups_decoded_a_few_columns_at_a_time(tmp_path, monkeypatch):
    from keras_imbalance import _files

    x, y, _ = data(3000, features=7)
    folder = write(tmp_path / "d", x, y, row_group_size=500)
    reads = []
    real = _files.ParquetSource.read_group
    monkeypatch.setattr(
        _files.ParquetSource,
        "read_group",
        lambda self, g, columns: reads.append(len(columns)) or real(self, g, columns),
    )
    monkeypatch.setattr(_files, "_DECODE_BYTES", 2 * 500 * 4)  # two float32 columns
    files = BalancedBatches.from_parquet(folder, target="label", batch_size=50, random_state=5)
    reads.clear()
    same_batches(files, BalancedBatches(x, y, batch_size=50, random_state=5))
    assert reads and set(reads) == {2, 1}  # 7 columns as 2 + 2 + 2 + 1
    assert files._source.x._slab.shape == x.shape  # every row group fits: no slot padding


def test_parquet_feature_columns_and_errors(tmp_path):
    x, y, _ = data(3000)
    folder = write(tmp_path / "d", x, y)
    files = BalancedBatches.from_parquet(
        folder, target="label", features=["f0", "f2"], batch_size=50, random_state=0
    )
    memory = BalancedBatches(x[:, [0, 2]], y, batch_size=50, random_state=0)
    same_batches(files, memory, epochs=(0,))
    with pytest.raises(ValueError, match="no column 'nope'"):
        BalancedBatches.from_parquet(folder, target="label", features=["nope"])
    bad = x.copy()
    bad[2500, 1] = np.nan
    write(tmp_path / "nan", bad, y)
    nan = BalancedBatches.from_parquet(tmp_path / "nan", target="label", batch_size=3000)
    with pytest.raises(ValueError, match="non-finite value in row 500 of .*part-2.parquet"):
        nan[0]
    pq.write_table(pa.table({"s": ["a"] * 10, "label": [0, 1] * 5}), tmp_path / "s.parquet")
    with pytest.raises(TypeError, match="features"):
        BalancedBatches.from_parquet(tmp_path / "s.parquet", target="label")


def test_memmap_is_not_copied(tmp_path):
    x, y, _ = data()
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=x.dtype, shape=x.shape)
    mm[:] = x
    mm.flush()
    loaded = np.load(tmp_path / "x.npy", mmap_mode="r")
    batches = BalancedBatches(loaded, y, batch_size=128, random_state=2)
    assert batches._source.x is loaded  # the memmap itself, no copy
    same_batches(batches, BalancedBatches(x, y, batch_size=128, random_state=2), epochs=(0,))
    assert type(batches[0][0]) is np.ndarray


@pytest.mark.parametrize("replacement", [False, True])
def test_shards_partition_the_epoch(replacement):
    x, y, _ = data(5000)
    count, size = 3, 40
    whole = BalancedBatches(x, y, batch_size=size * count, random_state=5, replacement=replacement)
    shards = [
        BalancedBatches(
            x, y, batch_size=size, random_state=5, replacement=replacement, shard=(r, count)
        )
        for r in range(count)
    ]
    assert {len(s) for s in shards} == {len(whole)}
    for epoch in (0, 3):
        whole.epoch = epoch
        for s in shards:
            s.epoch = epoch
        for i in range(len(whole)):
            parts = [s[i] for s in shards]
            assert all(len(p[1]) <= size for p in parts)
            rows = np.sort(np.concatenate([p[0][:, 0] for p in parts]))
            np.testing.assert_array_equal(rows, np.sort(whole[i][0][:, 0]))
    if not replacement:  # draws are distinct slots: each oversample epoch shows every row
        epoch_rows = np.concatenate([s[i][0][:, 0] for s in shards for i in range(len(s))])
        assert len(epoch_rows) == whole.epoch_size
        assert np.bincount(y[epoch_rows.astype(int)]).tolist() == [whole.epoch_size // 3] * 3


def test_sampler_replicas_partition_the_epoch(tmp_path):
    torch = pytest.importorskip("torch")
    _, y, _ = data(5000)
    count, size = 4, 32
    whole = list(BalancedSampler(y, batch_size=size * count, random_state=9))
    ranks = [
        BalancedSampler(y, batch_size=size, random_state=9, num_replicas=count, rank=r)
        for r in range(count)
    ]
    shares = [list(s) for s in ranks]
    assert sum(len(s) for s in shares) == len(whole) == sum(len(s) for s in ranks)
    assert [len(s) for s in shares] == [len(s) for s in ranks]
    # rank r holds the draw slots r, r + count, ... of the single-process epoch
    for r, share in enumerate(shares):
        assert share == whole[r::count]
    loaders = [
        list(torch.utils.data.DataLoader(np.arange(len(y)), batch_size=size, sampler=s))
        for s in ranks
    ]
    assert len({len(batches) for batches in loaders}) == 1  # the same number of steps
    pq.write_table(pa.table({"label": y}), tmp_path / "y.parquet", row_group_size=700)
    from_file = BalancedSampler.from_parquet(
        tmp_path / "y.parquet",
        target="label",
        batch_size=size,
        random_state=9,
        num_replicas=count,
        rank=1,
    )
    assert list(from_file) == shares[1]


def test_bad_shards():
    x, y, _ = data(1000)
    with pytest.raises(TypeError, match="shard"):
        BalancedBatches(x, y, shard=2)
    with pytest.raises(ValueError, match="shard"):
        BalancedBatches(x, y, shard=(3, 3))
    with pytest.raises(ValueError, match="last batch"):  # 1 draw left for 3 replicas
        BalancedBatches(x, y, batch_size=10, epoch_size=31, shard=(0, 3))
    pytest.importorskip("torch")
    with pytest.raises(TypeError, match="rank"):
        BalancedSampler(y, num_replicas=2)
    with pytest.raises(ValueError, match="rank"):
        BalancedSampler(y, num_replicas=2, rank=2)
