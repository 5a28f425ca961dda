"""resample_parquet: out-of-core resampling equals in-memory resample; refusals; outputs."""

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from keras_imbalance.resampling import OUT_OF_CORE_METHODS, resample, resample_parquet


@pytest.fixture()
def source(tmp_path):
    rng = np.random.default_rng(0)
    n = 5000
    x = rng.normal(size=(n, 3))
    x[:, 2] += 2.0 * (np.arange(n) % 7 == 0)  # some overlap for Borderline-SMOTE's danger set
    y = rng.choice(3, size=n, p=[0.85, 0.1, 0.05])
    table = pa.table({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "label": y})
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(table.slice(0, 2000), folder / "p0.parquet", row_group_size=600)
    pq.write_table(table.slice(2000), folder / "p1.parquet", row_group_size=600)
    return folder, x, y


@pytest.mark.parametrize("method", OUT_OF_CORE_METHODS)
def test_out_of_core_equals_in_memory(source, tmp_path, method):
    folder, x, y = source
    before = sorted(os.listdir(folder))
    done = resample_parquet(
        folder, tmp_path / "out.parquet", target="label", method=method, random_state=3
    )
    assert sorted(os.listdir(folder)) == before  # nothing written next to the input
    got = pq.read_table(done.path)
    gx = np.column_stack([got[c].to_numpy() for c in "abc"])
    gy = got["label"].to_numpy()
    memory = resample(x, y, method, random_state=3)
    assert done.rows_out == len(memory.y) == got.num_rows
    if method.startswith("random"):  # the same rows, in input order
        rows = np.sort(memory.sample_indices)
        np.testing.assert_array_equal(gx, x[rows])
        np.testing.assert_array_equal(gy, y[rows])
        assert done.synthetic == 0
    else:  # every input row, then the same synthetic rows in the same order
        np.testing.assert_allclose(gx, memory.x, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(gy, memory.y)
        assert done.synthetic == int((memory.sample_indices < 0).sum()) > 0
    assert done.counts_out == {
        int(c): int(n) for c, n in zip(*np.unique(memory.y, return_counts=True), strict=True)
    }


def test_refusals_in_one_line(source, tmp_path):
    folder, _, _ = source
    with pytest.raises(ValueError, match="'adasyn' cannot: its density") as error:
        resample_parquet(folder, tmp_path / "o.parquet", target="label", method="adasyn")
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="memory_limit"):
        resample_parquet(
            folder, tmp_path / "o.parquet", target="label", method="smote", memory_limit=1000
        )
    with pytest.raises(ValueError, match="k_neighbors"):
        resample_parquet(
            folder,
            tmp_path / "o.parquet",
            target="label",
            method="borderline_smote2",
            k_neighbors=6,
            m_neighbors=4,
        )
    assert not (tmp_path / "o.parquet").exists()
    pq.write_table(pa.table({"s": ["a", "b"] * 5, "label": [0, 1] * 5}), tmp_path / "s.parquet")
    with pytest.raises(TypeError, match="non-numeric columns \\['s'\\]"):
        resample_parquet(
            tmp_path / "s.parquet",
            tmp_path / "o.parquet",
            target="label",
            method="smote",
            k_neighbors=2,
        )


def test_outputs_never_touch_inputs(source, tmp_path):
    folder, _, _ = source
    with pytest.raises(ValueError, match="not one of the input files"):
        resample_parquet(folder / "p0.parquet", folder / "p0.parquet", target="label")
    with pytest.raises(ValueError, match="outside the input directory"):
        resample_parquet(folder, folder / "sub.parquet", target="label")
    existing = tmp_path / "exists.parquet"
    existing.write_bytes(b"mine")
    with pytest.raises(ValueError, match="overwrite=True"):
        resample_parquet(folder, existing, target="label")
    assert existing.read_bytes() == b"mine"
    with pytest.raises(TypeError, match="output"):
        resample_parquet(folder, None, target="label")
    done = resample_parquet(folder, existing, target="label", overwrite=True, random_state=0)
    assert pq.read_table(done.path).num_rows == done.rows_out
    assert not any(name.endswith(".partial") for name in os.listdir(tmp_path))
