"""Command line on files as other tools write them (issue 20): a repeated column name, id
columns, labels written several ways; and a property: the command line reads a CSV as
``pandas.read_csv`` + ``tables.split_target`` do (same classes and columns, or an error both)."""

import contextlib
import io
import json
import string
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_imbalance import describe
from keras_imbalance.cli import main
from keras_imbalance.tables import check_table, split_target


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def _csv(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_repeated_column_name_is_an_error_naming_it(tmp_path, capsys):
    # pandas reads the copy of the label as `target.1`, a perfect feature: balanced accuracy 1.0
    rows = "".join(f"{i % 7},{i % 2},{i % 2}\n" for i in range(40))
    data = _csv(tmp_path, "a,target,target\n" + rows)
    for command in (["inspect"], ["weights"], ["resample", "-o", str(tmp_path / "o.csv")]):
        assert main([command[0], data, "--target", "target", *command[1:]]) == 2
        err = _one_error_line(capsys)
        assert "repeats the column name(s) 'target'" in err and "'target.1'" in err
    assert not (tmp_path / "o.csv").exists()
    # a DataFrame with a repeated column name: the library says so too
    frame = pd.DataFrame([[1, 0, 0], [2, 1, 1]], columns=["a", "target", "target"])
    with pytest.raises(ValueError, match="repeating the column"):
        split_target(frame, "target")


def _with_ids(n=40):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "rownames": np.arange(1, n + 1),
            "subject_id": rng.permutation(n) + 1000,
            "serial": rng.permutation(n) + 500,  # consecutive integers: an id by its values
            "age": rng.integers(20, 30, n),  # integers with repeats: a feature
            "income": rng.permutation(n) * 37 + 1000,  # distinct, not consecutive: a feature
            "height": rng.normal(170, 10, n),
            "y": np.where(np.arange(n) < 30, "no", "yes"),
        }
    )


def test_id_columns_are_dropped_with_a_warning_or_kept(tmp_path, capsys):
    path = tmp_path / "ids.csv"
    _with_ids().to_csv(path)  # pandas' own index: `Unnamed: 0`
    assert main(["inspect", str(path), "--target", "y", "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["columns"]["numeric"] == ["age", "income", "height"]
    assert list(report["columns"]["dropped"]) == ["Unnamed: 0", "rownames", "subject_id", "serial"]
    assert report["n_features"] == 3
    warning = [line for line in captured.err.splitlines() if "id column" in line]
    assert len(warning) == 1 and "--keep-id-columns" in warning[0]
    assert (
        "Unnamed: 0" in warning[0]
        and "serial (the 40 consecutive integers 500..539)" in (warning[0])
    )
    assert main(["inspect", str(path), "--target", "y", "--json", "--keep-id-columns"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["columns"]["numeric"] == [
        "Unnamed: 0", "rownames", "subject_id", "serial", "age", "income", "height",
    ]  # fmt: skip
    assert "id column" not in captured.err


def test_resample_never_writes_duplicate_ids(tmp_path, capsys):
    path = tmp_path / "ids.csv"
    frame = _with_ids()
    frame.to_csv(path, index=False)
    out = tmp_path / "o.csv"
    args = ["resample", str(path), "--target", "y", "--method", "random_over", "-o", str(out)]
    assert main(args) == 0
    result = pd.read_csv(out)
    assert list(result.columns) == list(frame.columns)
    assert result["y"].value_counts().to_dict() == {"no": 30, "yes": 30}
    for column in ("rownames", "subject_id", "serial"):
        ids = result[column].dropna()
        assert ids.is_unique and len(ids) == 40  # every input row's id, once
        assert sorted(ids.astype(int)) == sorted(frame[column])
    # the rows that keep an id are the input rows, unchanged
    kept = result.dropna(subset=["rownames"]).sort_values("rownames").reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, frame, check_dtype=False)
    assert result["rownames"].isna().sum() == 20  # the 20 copies of 'yes' rows have none


@pytest.mark.parametrize(
    ("labels", "pairs", "classes"),
    [
        (["ok", "ok "], ["'ok' (", "'ok ' ("], 2),
        (["Yes", "yes"], ["'Yes' (", "'yes' ("], 2),
        (["01", "1"], ["'01' (", "'1' ("], 2),  # pandas alone reads both as 1: one class
        (["1.0", "1", "2"], ["'1.0' (", "'1' ("], 3),
    ],
)
def test_labels_written_several_ways_are_an_error(tmp_path, capsys, labels, pairs, classes):
    values = (labels * 20)[:40]
    values[-10:] = ["other"] * 10
    frame = pd.DataFrame({"a": np.arange(40) % 5, "y": values})
    data = _csv(tmp_path, frame.to_csv(index=False))
    for command in ("inspect", "weights"):
        assert main([command, data, "--target", "y"]) == 2
        err = _one_error_line(capsys)
        assert "--target" in err and "--normalize-labels" in err
        assert all(pair in err for pair in pairs), err
    # merged into the most frequent spelling only when asked
    assert main(["inspect", data, "--target", "y", "--json", "--normalize-labels"]) == 0
    counts = json.loads(capsys.readouterr().out)["counts"]
    assert sum(counts.values()) == 40 and len(counts) == classes
    assert counts["other"] == 10


def test_text_labels_that_are_plain_numbers_stay_numbers(tmp_path, capsys):
    data = _csv(tmp_path, "a,y\n" + "".join(f"{i},{i % 3}\n" for i in range(30)))
    assert main(["weights", data, "--target", "y", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["labels"] == {"0": 0, "1": 1, "2": 2}  # ints, as pandas reads them


def test_split_target_by_hand():
    frame = pd.DataFrame(
        {"Unnamed: 0": range(4), "f": [1.0, 2.0, 3.0, 4.0], "y": ["a", "a ", "b", "b"]}
    )
    with pytest.raises(ValueError, match=r"'a' \(1 rows\) / 'a ' \(1 rows\)"):
        split_target(frame, "y")
    with pytest.warns(UserWarning, match="dropped 1 id column"):
        x, y = split_target(frame, "y", normalize_labels=True)
    assert list(x.columns) == ["f"] and y.tolist() == ["a", "a", "b", "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, _ = split_target(frame, "y", normalize_labels=True, keep_id_columns=True)
    assert list(x.columns) == ["Unnamed: 0", "f"]
    with pytest.raises(ValueError, match="`target`"):
        split_target(frame, "z")
    with pytest.raises(ValueError, match="single class"):
        split_target(frame.assign(y="a"), "y")


# --------------------------------------------------------------------------- property


LABELS = ["a", "a ", "A", "b", "01", "1", "2", "ok", "Yes", "yes", " no"]


@st.composite
def tables(draw):
    n = draw(st.integers(4, 30))
    labels = draw(st.lists(st.sampled_from(LABELS), min_size=n, max_size=n))
    columns = {}
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["int", "float", "text", "distinct", "id"]))
        name = {"id": "row_id", "distinct": f"n{i}"}.get(kind, f"c{i}")
        if kind == "int":
            values = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        elif kind == "float":
            values = draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=n, max_size=n))
        elif kind == "text":
            values = draw(
                st.lists(st.sampled_from(list(string.ascii_lowercase[:3])), min_size=n, max_size=n)
            )
        else:
            values = list(np.random.default_rng(i).permutation(n) * 3)
        columns[name] = values
    columns["label"] = labels
    return pd.DataFrame(columns)


def _cli_report(path):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["inspect", str(path), "--target", "label", "--json"])
    return code, (json.loads(out.getvalue()) if code == 0 else err.getvalue())


def _library_report(path):
    frame = pd.read_csv(path, dtype={"label": str})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, y = split_target(frame, "label")
            spec = check_table(x)
    except (TypeError, ValueError) as exc:
        return 2, str(exc)
    labels = y.to_numpy()
    info = describe(labels.astype(str) if labels.dtype == object else labels)
    counts = {str(k): v for k, v in info.counts_dict().items()}
    return 0, {
        "counts": counts,
        "numeric": list(spec.numeric),
        "categorical": list(spec.categorical),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=tables())
def test_the_cli_reads_a_csv_as_pandas_and_the_library_do(frame):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        frame.to_csv(path, index=False)
        code, cli = _cli_report(path)
        expected_code, library = _library_report(path)
    assert code == expected_code, (cli, library)
    if code == 0:
        assert cli["counts"] == library["counts"]
        assert cli["columns"]["numeric"] == library["numeric"]
        assert cli["columns"]["categorical"] == library["categorical"]


def test_weights_uses_only_the_labels_and_says_nothing_of_ids(tmp_path, capsys):
    path = tmp_path / "ids.csv"
    _with_ids().to_csv(path)
    assert main(["weights", str(path), "--target", "y"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "{0: 0.6666666666666666, 1: 2.0}" in captured.out
