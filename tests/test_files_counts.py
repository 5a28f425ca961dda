"""Class counts and weights read from Parquet files, directories, pyarrow datasets, memmaps and
Dask collections: equal to the in-memory counts; bad files named in one line."""

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from keras_imbalance import class_counts, class_weights


def labels(n=20_000, seed=0, names=None):
    y = np.random.default_rng(seed).choice(3, size=n, p=[0.9, 0.08, 0.02])
    return y if names is None else np.asarray(names)[y]


def write_parts(folder, y, parts=3, row_group_size=1500, **extra):
    folder.mkdir(exist_ok=True)
    bounds = np.linspace(0, len(y), parts + 1).astype(int)
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        table = {"x0": np.arange(lo, hi, dtype="float32"), "label": y[lo:hi]}
        table.update({k: v[lo:hi] for k, v in extra.items()})
        pq.write_table(pa.table(table), folder / f"part-{i}.parquet", row_group_size=row_group_size)
    return folder


@pytest.mark.parametrize("names", [None, ["common", "rare", "rarest"]])
def test_parquet_directory_file_and_dataset_count_like_memory(tmp_path, names):
    y = labels(names=names)
    folder = write_parts(tmp_path / "d", y)
    expected = class_counts(y)
    assert class_counts(folder, target="label") == expected
    assert class_counts(str(folder / "part-0.parquet"), target="label") == class_counts(
        y[: len(y) // 3]
    )
    assert class_counts(ds.dataset(folder), target="label") == expected
    # a dataset that is not a plain set of files (in memory) is streamed batch by batch
    assert class_counts(ds.dataset(pq.read_table(folder)), target="label") == expected
    assert class_weights(folder, target="label") == class_weights(y)
    assert class_weights(folder, "effective_number", target="label") == class_weights(
        y, "effective_number"
    )


def test_progress_reports_rows_read(tmp_path):
    y = labels(9000)
    folder = write_parts(tmp_path / "d", y, row_group_size=1000)
    seen = []
    class_counts(folder, target="label", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(d, 9000) for d in range(1000, 9001, 1000)]


def test_options_match_memory(tmp_path):
    y = labels()
    folder = write_parts(tmp_path / "d", y)
    assert class_counts(folder, target="label", ignore_class=1) == class_counts(y, ignore_class=1)
    assert class_counts(folder, target="label", classes=[0, 1, 2, 3]) == {
        0: int((y == 0).sum()),
        1: int((y == 1).sum()),
        2: int((y == 2).sum()),
        3: 0,
    }
    with pytest.raises(ValueError, match="classes"):
        class_counts(folder, target="label", classes=[0, 1])


def test_bool_float_and_one_hot_columns(tmp_path):
    y = labels() == 2
    pq.write_table(pa.table({"b": y, "f": y.astype("float64")}), tmp_path / "t.parquet")
    assert (
        class_counts(tmp_path / "t.parquet", target="b")
        == class_counts(y)
        == {0: int((~y).sum()), 1: int(y.sum())}
    )
    assert class_counts(tmp_path / "t.parquet", target="f") == class_counts(y)
    onehot = np.eye(3, dtype="float32")[labels(3000)]
    column = pa.FixedSizeListArray.from_arrays(pa.array(onehot.reshape(-1)), 3)
    pq.write_table(pa.table({"y": column}), tmp_path / "o.parquet", row_group_size=700)
    assert class_counts(tmp_path / "o.parquet", target="y") == class_counts(onehot)


def test_memmap_counts_in_chunks(tmp_path, monkeypatch):
    import keras_imbalance._files as files

    monkeypatch.setattr(files, "_MEMMAP_CHUNK", 4096)  # several chunks
    y = labels(50_000).astype(np.int16)
    mm = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=y.dtype, shape=y.shape)
    mm[:] = y
    mm.flush()
    loaded = np.load(tmp_path / "y.npy", mmap_mode="r")
    assert isinstance(loaded, np.memmap)
    assert class_counts(loaded) == class_counts(y)
    assert class_weights(loaded, "sqrt") == class_weights(y, "sqrt")


def test_bad_files_named_in_one_line(tmp_path):
    folder = write_parts(tmp_path / "d", labels(3000))
    pq.write_table(pa.table({"label": ["a", "b"]}), folder / "strings.parquet")
    pq.write_table(pa.table({"other": [1, 2]}), folder / "nolabel.parquet")
    (folder / "notes.txt").write_text("not parquet")
    (folder / "_SUCCESS").write_text("")  # skipped, as pyarrow.dataset skips it
    with pytest.raises(ValueError) as error:
        class_counts(folder, target="label")
    text = str(error.value)
    assert "\n" not in text and "3 bad file(s)" in text
    for name in ("strings.parquet", "nolabel.parquet", "notes.txt"):
        assert name in text
    assert "_SUCCESS" not in text


def test_missing_target_and_nulls(tmp_path):
    folder = write_parts(tmp_path / "d", labels(3000))
    with pytest.raises(TypeError, match="target"):
        class_counts(folder)
    pq.write_table(pa.table({"label": [1, None, 0]}), tmp_path / "n.parquet")
    with pytest.raises(ValueError, match="1 missing label"):
        class_counts(tmp_path / "n.parquet", target="label")
    with pytest.raises(ValueError, match="no such file"):
        class_counts(tmp_path / "absent.parquet", target="label")


def test_dask_dataframe_and_series():
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    y = labels(names=["a", "b", "c"])
    frame = dd.from_pandas(pd.DataFrame({"x": np.arange(len(y)), "label": y}), npartitions=4)
    assert class_counts(frame, target="label") == class_counts(y)
    assert class_counts(frame["label"]) == class_counts(y)
    assert class_weights(frame, target="label") == class_weights(y)
