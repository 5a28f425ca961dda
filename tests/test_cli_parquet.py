"""The command line on Parquet files and directories read out of core (issue 24, items 1 and 5):
``inspect`` / ``weights`` count the label column only, ``resample`` streams rows through
``resampling.resample_parquet``; the output rules of every command hold."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from keras_imbalance.cli import main  # noqa: E402
from keras_imbalance.resampling import resample, resample_parquet  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _one_error_line(capsys):
    """The error line (after the progress lines of a count that ran before the problem)."""
    lines = capsys.readouterr().err.strip().splitlines()
    err = "\n".join(line for line in lines if "labels read" not in line)
    assert "\n" not in err and "Traceback" not in err, err
    return err


def _table(n=900, seed=0, labels=("common", "middle", "rare"), p=(0.8, 0.15, 0.05)):
    rng = np.random.default_rng(seed)
    y = rng.choice(np.asarray(labels), size=n, p=list(p))
    return pa.table({"a": rng.normal(size=n), "b": rng.normal(size=n), "label": y})


@pytest.fixture()
def folder(tmp_path):
    """A directory of two Parquet files (row groups of 100) and the same rows as one CSV."""
    table = _table()
    data = tmp_path / "parts"
    data.mkdir()
    pq.write_table(table.slice(0, 400), data / "p0.parquet", row_group_size=100)
    pq.write_table(table.slice(400), data / "p1.parquet", row_group_size=100)
    table.to_pandas().to_csv(tmp_path / "same.csv", index=False)
    return data, table


def _snapshot(path: Path) -> dict:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): p.read_bytes() for p in files}


def test_inspect_counts_equal_the_csv_of_the_same_rows(folder, tmp_path, capsys):
    data, table = folder
    assert main(["inspect", str(data), "--target", "label", "--json"]) == 0
    parquet = json.loads(capsys.readouterr().out)
    assert main(["inspect", str(tmp_path / "same.csv"), "--target", "label", "--json"]) == 0
    csv = json.loads(capsys.readouterr().out)
    counts = pd.Series(table["label"].to_numpy()).value_counts()
    assert parquet["counts"] == {str(k): int(v) for k, v in sorted(counts.items())}
    for key in ("counts", "imbalance_ratio", "class_weights", "n_samples", "layout", "target"):
        assert parquet[key] == csv[key], key
    assert parquet["imbalance_ratio"] == round(counts.max() / counts.min(), 3)
    assert parquet["files"] == 2 and parquet["n_features"] == 2
    assert parquet["schema"] == {"a": "double", "b": "double"}
    # the text names what it did not read
    assert main(["inspect", str(data), "--target", "label"]) == 0
    text = capsys.readouterr().out
    assert "columns (schema only): a (double), b (double)" in text
    assert "feature facts" in text and "not shown" in text
    plot = tmp_path / "counts.png"
    assert main(["inspect", str(data), "--target", "label", "--plot", str(plot)]) == 0
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert main(["inspect", str(data), "--target", "label", "--plot", str(data / "c.png")]) == 2
    assert "is inside the Parquet directory" in _one_error_line(capsys)
    assert f"{table.num_rows} samples, 2 features, target label" in text


def test_weights_equal_the_csv_of_the_same_rows(folder, tmp_path, capsys):
    data, table = folder
    for strategy in ("balanced", "effective_number"):
        assert (
            main(["weights", str(data), "--target", "label", "--strategy", strategy, "--json"]) == 0
        )
        parquet = json.loads(capsys.readouterr().out)
        args = ["weights", str(tmp_path / "same.csv"), "--target", "label", "--strategy", strategy]
        assert main([*args, "--json"]) == 0
        csv = json.loads(capsys.readouterr().out)
        assert parquet["class_weight"] == csv["class_weight"]
        assert parquet["labels"] == csv["labels"] == {"0": "common", "1": "middle", "2": "rare"}
        assert parquet["data"] == "parts"
    # balanced by hand: n / (k * count_c)
    counts = pd.Series(table["label"].to_numpy()).value_counts().sort_index()
    expected = {str(i): table.num_rows / (3 * c) for i, c in enumerate(counts)}
    assert main(["weights", str(data), "--target", "label", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["class_weight"]
    assert got == pytest.approx(expected)


def test_integer_labels_of_one_file(tmp_path, capsys):
    y = np.array([0] * 70 + [1] * 20 + [3] * 10)
    path = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"x": np.arange(100.0), "y": y}), path, row_group_size=30)
    assert main(["weights", str(path), "--target", "y"]) == 0
    pasted = eval(capsys.readouterr().out.strip().splitlines()[-1])
    assert pasted == pytest.approx({0: 100 / 210, 1: 100 / 60, 3: 100 / 30})
    assert all(type(k) is int for k in pasted)


@pytest.mark.parametrize("method", ["random_under", "random_over", "smote"])
def test_resample_writes_what_the_library_writes(folder, tmp_path, capsys, method):
    data, _ = folder
    before = _snapshot(data)
    out = tmp_path / f"{method}.parquet"
    args = ["resample", str(data), "--target", "label", "--method", method, "-o", str(out)]
    assert main([*args, "--random-state", "7"]) == 0
    said = capsys.readouterr().out
    reference = resample_parquet(
        data, tmp_path / "ref.parquet", target="label", method=method, random_state=7
    )
    assert pq.read_table(out).equals(pq.read_table(reference.path))
    assert (
        f"{reference.rows_in} -> {reference.rows_out} rows ({reference.synthetic} synthetic); "
        f"class counts {reference.counts_in} -> {reference.counts_out}"
    ) in said
    assert _snapshot(data) == before  # nothing written into the input directory


def test_resample_of_one_file_equals_in_memory_resample(tmp_path, capsys):
    table = _table(seed=1)
    path, out = tmp_path / "one.parquet", tmp_path / "out.parquet"
    pq.write_table(table, path, row_group_size=128)
    argv = ["resample", str(path), "--target", "label", "--method", "random_over", "-o", str(out)]
    assert main(argv) == 0
    assert "note: random_over out of core" in capsys.readouterr().out
    got = pq.read_table(out).to_pandas()
    frame = table.to_pandas()
    memory = resample(frame[["a", "b"]], frame["label"], "random_over", random_state=0)
    rows = np.sort(memory.sample_indices)  # the same rows, in input order
    pd.testing.assert_frame_equal(got, frame.iloc[rows].reset_index(drop=True))


def test_output_that_is_the_input_is_refused_and_the_input_kept(folder, tmp_path, capsys):
    data, _ = folder
    part = data / "p0.parquet"
    before = _snapshot(data)
    for target in (part, data / "new.parquet"):  # an input file; a new file inside the input
        argv = ["resample", str(data), "--target", "label", "-o", str(target), "--force"]
        assert main([*argv, "--method", "random_under"]) == 2
        err = _one_error_line(capsys)
        assert f"-o {str(target)!r}" in err
    assert _snapshot(data) == before
    one = tmp_path / "one.parquet"
    pq.write_table(_table(), one)
    original = one.read_bytes()
    assert main(["resample", str(one), "--target", "label", "-o", str(one), "--force"]) == 2
    assert "never overwrites its input" in _one_error_line(capsys)
    assert one.read_bytes() == original


def test_existing_output_needs_force(folder, tmp_path, capsys):
    data, _ = folder
    out = tmp_path / "out.parquet"
    out.write_bytes(b"someone else's file")
    argv = ["resample", str(data), "--target", "label", "--method", "random_under", "-o", str(out)]
    assert main(argv) == 2
    assert "--force" in _one_error_line(capsys)
    assert out.read_bytes() == b"someone else's file"
    assert main([*argv, "--force"]) == 0
    assert pq.read_table(out).num_rows > 0


def test_a_bad_file_of_a_directory_is_named_in_one_line(folder, tmp_path, capsys):
    data, _ = folder
    (data / "p2.parquet").write_bytes(b"not parquet at all")
    pq.write_table(pa.table({"a": [1.0], "other": ["x"]}), data / "p3.parquet")
    for argv in (
        ["inspect", str(data), "--target", "label"],
        ["weights", str(data), "--target", "label"],
        ["resample", str(data), "--target", "label", "-o", str(tmp_path / "o.parquet")],
    ):
        assert main(argv) == 2
        err = _one_error_line(capsys)
        assert "2 bad file(s)" in err and "p2.parquet" in err and "p3.parquet" in err, err
        assert "no column 'label'" in err
    assert not (tmp_path / "o.parquet").exists()


def test_refusals_in_one_line(folder, tmp_path, capsys):
    data, _ = folder
    out = str(tmp_path / "o.parquet")
    cases = [
        (["inspect", str(data)], "--target is required"),
        (["weights", str(data), "--target", "nope"], "no column 'nope'"),
        (["resample", str(data), "--target", "label", "-o", out, "--method", "adasyn"],
         "--method adasyn needs every row in memory"),
        (["resample", str(data), "--target", "label", "-o", str(tmp_path / "o.csv")],
         "is not a .parquet file"),
        (["weights", str(data), "--target", "label", "--normalize-labels"],
         "--normalize-labels"),
    ]  # fmt: skip
    for argv, words in cases:
        assert main(argv) == 2
        assert words in _one_error_line(capsys)
    assert main(["compare", str(data), "--target", "label"]) == 2  # not an image folder
    assert "is a directory of Parquet files: `compare` needs the table" in _one_error_line(capsys)
    assert sorted(os.listdir(tmp_path)) == ["parts", "same.csv"]  # no results file, no report
    single = tmp_path / "single.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0], "label": ["x", "x"]}), single)
    assert main(["inspect", str(single), "--target", "label"]) == 2
    assert "single class ('x')" in _one_error_line(capsys)
    assert not (tmp_path / "o.parquet").exists() and not (tmp_path / "o.csv").exists()


def test_one_file_falls_back_to_memory_where_out_of_core_cannot(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame(
        {
            "tx_id": np.arange(n) + 5000,
            "amount": rng.normal(size=n),
            "shop": rng.choice(["a", "b"], size=n),
            "label": [1] * 20 + [0] * (n - 20),
        }
    )
    path, out = tmp_path / "raw.parquet", tmp_path / "out.parquet"
    frame.to_parquet(path, index=False)
    assert main(["resample", str(path), "--target", "label", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "note: reading" in said and "into memory" in said and "'tx_id'" in said
    got = pd.read_parquet(out)
    assert got["label"].value_counts().to_dict() == {0: 100, 1: 100}
    assert got["tx_id"].iloc[n:].isna().all()  # synthetic rows: no id (in-memory rules)


def test_progress_lines_when_stderr_is_a_pipe(folder, tmp_path):
    data, table = folder
    env = {**os.environ, "PYTHONPATH": SRC, "KERAS_BACKEND": "torch"}
    proc = subprocess.run(
        [sys.executable, "-m", "keras_imbalance.cli", "weights", str(data), "--target", "label"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "labels read" in line]
    # nine row groups of 100: a line for each tenth of the rows reached, the last says all
    assert lines[-1] == f"weights: {table.num_rows:,} labels read of {table.num_rows:,} (100%)"
    assert 2 <= len(lines) <= 11
    assert "labels read" not in proc.stdout  # stdout holds only the dict (weights > w.py)
    assert eval(proc.stdout.strip().splitlines()[-1]).keys() == {0, 1, 2}


def test_resample_refuses_a_path_and_points_at_resample_parquet(folder):
    data, _ = folder
    with pytest.raises(TypeError, match="resample_parquet") as error:
        resample(str(data), None)
    assert "\n" not in str(error.value)
    with pytest.raises(TypeError, match="resample_parquet"):
        resample(data / "p0.parquet", np.zeros(400))


def test_the_bar_on_a_terminal_ends_at_the_total_and_plain_lines_count_tenths():
    import io

    from rich.console import Console

    from keras_imbalance._cli._progress import RowProgress

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    with RowProgress(terminal, what="weights", terminal=True) as progress:
        for done in (300, 600, 1000):
            progress(done, 1000)
        assert progress.bar.tasks[0].completed == 1000 == progress.bar.tasks[0].total
    assert "labels read" not in screen.getvalue()  # the bar, no plain lines
    log = io.StringIO()
    plain = Console(file=log, force_terminal=False, width=10_000, color_system=None)
    with RowProgress(plain, what="inspect", terminal=False) as progress:
        for done in range(70, 1001, 70):  # 70, 140, ..., 980: tenths 0, 1, ..., 9
            progress(done, 1000)
        progress(1000, 1000)
    lines = log.getvalue().splitlines()
    assert len(lines) == 11  # one per tenth reached (0 to 9), then the end
    assert lines[0] == "inspect: 70 labels read of 1,000 (7%)"
    assert lines[-1] == "inspect: 1,000 labels read of 1,000 (100%)"


def test_a_stored_pandas_index_is_not_a_feature(tmp_path, capsys):
    frame = pd.DataFrame({"a": np.arange(40.0), "y": [0] * 30 + [1] * 10}, index=np.arange(40) * 3)
    path = tmp_path / "indexed.parquet"
    frame.to_parquet(path)  # the index is stored as the column __index_level_0__
    assert main(["inspect", str(path), "--target", "y", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["schema"] == {"a": "double"} and report["n_features"] == 1
    out = tmp_path / "out.parquet"
    assert main(["resample", str(path), "--target", "y", "-o", str(out)]) == 0
    assert "into memory" in capsys.readouterr().out  # SMOTE would interpolate the index
    assert pd.read_parquet(out)["y"].value_counts().to_dict() == {0: 30, 1: 30}
