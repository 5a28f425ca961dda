"""Command line on data as users have it (issue 13): raw CSV / Parquet tables in inspect and
resample, class-per-folder image directories in inspect, weights and compare."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from keras_imbalance._outputs import png_software
from keras_imbalance.cli import main


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture
def raw_csv(tmp_path):
    """The issue's table: string target 'fraud'/'ok' (about 2 %), categorical columns, gaps."""
    rng = np.random.default_rng(0)
    n = 600
    fraud = np.arange(n) % 40 == 0
    frame = pd.DataFrame(
        {
            "amount": np.round(rng.gamma(2.0, 40.0, n) + 150 * fraud, 2),
            "merchant": rng.choice(["grocery", "travel", "online"], n),
            "country": rng.choice(["FR", "DE", "IT"], n),
            "hour": rng.integers(0, 24, n),
            "card_present": rng.random(n) < 0.6,
            "tx_id": [f"T{i:05d}" for i in range(n)],
            "label": np.where(fraud, "fraud", "ok"),
        }
    )
    for column in ("amount", "merchant"):
        frame.loc[rng.choice(n, 9, replace=False), column] = np.nan
    path = tmp_path / "fraud.csv"
    frame.to_csv(path, index=False)
    return path


def test_inspect_reports_column_roles_and_missing_counts(raw_csv, capsys):
    assert main(["inspect", str(raw_csv), "--target", "label", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"fraud": 15, "ok": 585}
    assert report["columns"] == {
        "numeric": ["amount", "hour"],
        "categorical": ["merchant", "country", "card_present"],
        "dropped": {"tx_id": "an id: the name of an id column"},
    }
    assert report["missing"] == {"amount": 9, "merchant": 9}
    assert main(["inspect", str(raw_csv), "--target", "label"]) == 0
    out = capsys.readouterr().out
    assert "2 numeric, 3 categorical (merchant, country, card_present)" in out
    assert "1 dropped: tx_id" in out and "missing values: amount 9, merchant 9" in out


def test_resample_a_raw_csv_with_smote(raw_csv, tmp_path, capsys):
    out = tmp_path / "balanced.csv"
    args = ["resample", str(raw_csv), "--target", "label", "-o", str(out)]
    assert main([*args, "--random-state", "0"]) == 0
    printed = capsys.readouterr().out
    assert "note: SMOTE-NC on the categorical columns ['merchant', 'country', 'card_present']" in (
        printed
    )
    assert "18 missing value(s)" in printed and "585 -> " not in printed
    source = pd.read_csv(raw_csv)
    result = pd.read_csv(out)
    assert list(result.columns) == list(source.columns)
    assert result["label"].value_counts().to_dict() == {"fraud": 585, "ok": 585}
    pd.testing.assert_frame_equal(result.iloc[:600], source)  # originals first, unchanged
    synthetic = result.iloc[600:]
    assert set(synthetic["merchant"].dropna()) <= {"grocery", "travel", "online"}
    assert set(synthetic["card_present"]) <= {True, False}
    assert synthetic["hour"].between(0, 23).all() and synthetic["tx_id"].isna().all()


def test_parquet_keeps_categories_and_random_over_copies_nested_cells(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(
        {
            "x": np.arange(30.0),
            "kind": pd.Categorical(["a", "b", "c"] * 10, categories=["c", "b", "a", "z"]),
            "tags": [[i, i + 1] for i in range(30)],
            "y": ["rare"] * 6 + ["common"] * 24,
        }
    )
    data, out = tmp_path / "d.parquet", tmp_path / "o.parquet"
    frame.to_parquet(data)
    assert (
        main(["resample", str(data), "--target", "y", "--method", "random_over", "-o", str(out)])
        == 0
    )
    result = pd.read_parquet(out)
    assert list(result["kind"].cat.categories) == ["c", "b", "a", "z"]
    assert result["y"].value_counts().to_dict() == {"common": 24, "rare": 24}
    assert all(list(t) == [t[0], t[0] + 1] for t in result["tags"])
    # SMOTE needs distances: the nested column is refused with the table's other problems
    assert main(["resample", str(data), "--target", "y", "-o", str(out), "--force"]) == 2
    assert "'tags'" in _one_error_line(capsys)


def test_every_problem_of_a_raw_table_in_one_line_and_nothing_written(tmp_path, capsys):
    frame = pd.DataFrame(
        {
            "a": np.arange(20.0),
            "country": ["FR"] * 20,
            "empty": [np.nan] * 20,
            "y": ["x"] * 15 + ["z"] * 5,
        }
    )
    data, out = tmp_path / "d.csv", tmp_path / "o.csv"
    frame.to_csv(data, index=False)
    for command in (["inspect", str(data)], ["resample", str(data), "-o", str(out)]):
        assert main([*command, "--target", "y"]) == 2
        err = _one_error_line(capsys)
        assert "entirely missing: 'empty'" in err and "'country' ('FR')" in err, err
    assert not out.exists()


# --------------------------------------------------------------------------- image folders


def _folder(root, counts):
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = (digits.images * 255 / 16).round().astype(np.uint8)
    for digit, (name, count) in enumerate(counts.items()):
        os.makedirs(root / name, exist_ok=True)
        for i, array in enumerate(pixels[digits.target == digit][:count]):
            Image.fromarray(array).save(root / name / f"{i:02d}.png")
    return root


def test_inspect_and_weights_on_an_image_folder(tmp_path, capsys):
    root = _folder(tmp_path / "digits", {"zero": 12, "one": 6, "two": 3})
    (root / "two" / "broken.png").write_bytes(b"")
    png = tmp_path / "grid.png"
    assert main(["inspect", str(root), "--json", "--plot", str(png)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    # files are counted (the empty one too), as class_counts does; the grid reads 8 per class
    assert report["counts"] == {"one": 6, "two": 4, "zero": 12}
    assert report["image_shape"] == [8, 8, 3] and report["target"] == "class folder"
    assert "warning: load_image_folder: skipped 1 unreadable" in captured.err
    assert png_software(png).startswith("keras-imbalance")
    assert main(["weights", str(root), "--strategy", "reference"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "{0: 2.0, 1: 3.0, 2: 1.0}"
    # an output inside the folder would become one of its images
    assert main(["inspect", str(root), "--plot", str(root / "zero" / "g.png")]) == 2
    assert "inside the image folder" in _one_error_line(capsys)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("one class", "single class folder"),
        ("mixed sizes", "different sizes (8x8: 8 images"),
        ("unreadable", "class 'two': all 2 file(s) unreadable or empty"),
        ("empty class", "no image file in ['two']"),
    ],
)
def test_bad_image_folders_one_line_exit_2_nothing_written(
    tmp_path, capsys, monkeypatch, case, message
):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    root = tmp_path / "images"
    if case == "one class":
        _folder(root, {"zero": 4})
    else:
        _folder(root, {"zero": 4, "one": 4})
        os.makedirs(root / "two")
    if case == "mixed sizes":
        for i in range(2):
            Image.fromarray(np.zeros((16, 12), np.uint8)).save(root / "two" / f"{i}.png")
    elif case == "unreadable":
        (root / "two" / "a.png").write_bytes(b"")
        (root / "two" / "b.jpg").write_bytes(b"garbage")
    for command in ("inspect", "compare"):
        assert main([command, str(root), "--cv", "2"][: 2 if command == "inspect" else 4]) == 2
        assert message in _one_error_line(capsys)
    assert sorted(os.listdir(tmp_path)) == ["images"]  # no results, report or plot
    if case == "mixed sizes":
        assert main(["inspect", str(root), "--image-size", "8x8", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["image_shape"] == [8, 8, 3]


def test_compare_an_image_folder_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = _folder(tmp_path / "digits", {"zero": 12, "one": 8, "two": 4})
    args = ["compare", str(root), "--image-size", "8x8", "--strategies", "none,balanced"]
    assert main([*args, "--cv", "2", "--epochs", "2", "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "24 images of 8 x 8 x 3" in err
    rows = [
        json.loads(line) for line in (tmp_path / "digits-results.jsonl").read_text().splitlines()
    ]
    assert {r["model"] for r in rows[1:]} == {"cnn"}
    assert rows[0]["config"]["data"]["input_shape"] == [8, 8, 3]
    html = (tmp_path / "digits-report.html").read_text()
    assert html.count("<h2>Example images</h2>") == 1
    assert "<meta name='generator' content='keras-imbalance" in html
    assert "Generated by keras-imbalance." in html
    # --target and --image-size belong to tables and folders respectively
    assert main([*args, "--target", "y"]) == 2
    assert "--target is for tables" in _one_error_line(capsys)
