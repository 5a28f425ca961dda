import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from keras_imbalance.cli import main
from keras_imbalance.comparison import DEFAULT_MODELS


def test_inspect_bundled_dataset_prints_counts_and_weights(capsys, tmp_path):
    png = tmp_path / "counts.png"
    assert main(["inspect", "yeast4", "--json", "--plot", str(png)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # --json prints JSON only; the note goes to stderr
    assert "bar chart written" in captured.err
    assert report["counts"] == {"0": 1433, "1": 51}
    assert report["imbalance_ratio"] == pytest.approx(1433 / 51, abs=1e-3)
    assert report["class_weights"]["reference"] == {
        "0": 1.0,
        "1": pytest.approx(1433 / 51, rel=1e-6),
    }
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_weights_prints_a_dict_ready_to_paste(capsys, tmp_path):
    data = tmp_path / "d.csv"
    pd.DataFrame({"f": range(8), "label": ["a"] * 6 + ["b"] * 2}).to_csv(data, index=False)
    assert main(["weights", str(data), "--target", "label", "--strategy", "balanced"]) == 0
    out = capsys.readouterr().out
    # a Python dict with int keys (pasted or loaded), the labels of the ids in a comment
    assert "0 = 'a', 1 = 'b'" in out
    pasted = eval(out.strip().splitlines()[-1])  # what a user pastes into model.fit
    assert pasted == {0: pytest.approx(8 / 12), 1: 2.0}
    assert all(type(k) is int for k in pasted)


def test_resample_writes_new_file_and_never_overwrites(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = tmp_path / "d.csv"
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    frame["y"] = [0] * 50 + [1] * 10
    frame.to_csv(data, index=False)
    original = data.read_bytes()
    out = tmp_path / "out.parquet"
    assert (
        main(["resample", str(data), "--target", "y", "--method", "random_over", "-o", str(out)])
        == 0
    )
    result = pd.read_parquet(out)
    assert result["y"].value_counts().to_dict() == {0: 50, 1: 50}
    assert data.read_bytes() == original
    assert main(["resample", str(data), "--target", "y", "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["resample", str(data), "--target", "y", "-o", str(data), "--force"]) == 2
    assert data.read_bytes() == original


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("a,b\n1,0\n2,1\n", ["--target", "z"], "not a column"),
        ("a,b\n1,0\n2,0\n", ["--target", "b"], "single class"),
        ('a,b\n1,"0\n', ["--target", "b"], "could not be read"),
        ("a,c,b\nx,,0\nx,,1\nx,,1\n", ["--target", "b", "-o", "OUT"], "single value"),
        ("", ["--target", "b"], "could not be read"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, content, args, message):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    command = "resample" if "-o" in args else "inspect"
    args = [str(tmp_path / "o.csv") if a == "OUT" else a for a in args]
    assert main([command, str(data), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_unknown_dataset_name(capsys):
    assert main(["inspect", "no_such_data"]) == 2
    assert "bundled dataset" in capsys.readouterr().err


def test_console_script_runs():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_imbalance.cli",
            "weights",
            "ecoli3",
            "--strategy",
            "reference",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    weights = eval(result.stdout.strip().splitlines()[-1])
    assert weights[0] == 1.0 and weights[1] == pytest.approx(301 / 35)


def test_compare_end_to_end_on_bundled_data_and_resume(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [
        "compare",
        "ecoli3",
        "--strategies",
        "none,balanced",
        "--references",
        "none",
        "--cv",
        "2",
        "--epochs",
        "3",
        "--jobs",
        "1",
    ]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "Use " in out.out
    results = tmp_path / "ecoli3-results.jsonl"
    report = tmp_path / "ecoli3-report.html"
    lines = results.read_text().splitlines()
    assert (
        len(lines) == 1 + 2 * 3 * 2
    )  # header + 2 models x 3 rows (none, none+threshold, balanced) x 2 folds
    html = report.read_text()
    assert "<img" in html and "balanced" in html
    # a second run resumes: nothing is refitted, the file keeps its lines
    assert main(args) == 0
    assert results.read_text().splitlines() == lines
    # other settings against the same results file are refused on one line
    assert main([*args[:-4], "--cv", "3", "--epochs", "3", "--jobs", "1"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "different settings (cv)" in errors[0]


def test_compare_no_refit_scores_the_early_stopped_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["compare", "ecoli3", "--strategies", "balanced", "--cv", "2", "--epochs", "2"]
    for flag, name in (([], "refit"), (["--no-refit"], "plain")):
        args = [*base, *flag, "--jobs", "1", "--results", f"{name}.jsonl", "--report", "r.html"]
        assert main(args) == 0
    for name, expected in (("refit", True), ("plain", False)):
        lines = [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        assert lines[0]["config"]["settings"]["refit"] is expected
        plain_rows = [r for r in lines[1:] if r["strategy"] != "none+threshold"]
        assert plain_rows and all(r["refit"] is expected for r in plain_rows)


def test_compare_bad_strategy_and_a_raw_table(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "ecoli3", "--strategies", "none,magic"]) == 2
    err = capsys.readouterr().err
    assert "magic" in err and "smote" in err
    # a raw table (a categorical column, gaps) runs; it cannot be saved as one Keras model
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "blue", "green"], 40),
            "size": np.where(rng.random(40) < 0.1, np.nan, rng.normal(size=40)),
            "y": ["fraud"] * 10 + ["ok"] * 30,
        }
    )
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    fast = ["--strategies", "balanced", "--cv", "2", "--epochs", "2", "--jobs", "1"]
    assert main(["compare", str(data), "--target", "y", *fast, "--save-model", "m.keras"]) == 2
    assert "--save-model 'm.keras': a raw table" in capsys.readouterr().err
    assert main(["compare", str(data), "--target", "y", *fast]) == 0
    header = json.loads((tmp_path / "d-results.jsonl").read_text().splitlines()[0])
    assert header["config"]["data"]["table"]["categorical"] == ["colour"]


def test_compare_saves_the_recommended_model(tmp_path, capsys, monkeypatch):
    import keras

    from keras_imbalance.datasets import load_dataset

    monkeypatch.chdir(tmp_path)
    args = ["compare", "ecoli3", "--strategies", "balanced,smote,ensemble", "--cv", "2"]
    args += ["--epochs", "2", "--jobs", "1", "--save-model", "best.keras"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "model written to best.keras" in err
    assert "(recommended)" in err  # the leaderboard marks the recommended row
    rows = [
        json.loads(line) for line in (tmp_path / "ecoli3-results.jsonl").read_text().splitlines()
    ]
    ensembles = sorted(r["model"] for r in rows if r.get("strategy") == "ensemble")
    # per fold (2 folds): the joint ensemble and each default model's own
    names = list(DEFAULT_MODELS)
    assert len(names) > 1
    assert ensembles == sorted(2 * [*names, "+".join(names)])
    x, _ = load_dataset("ecoli3")
    proba = np.asarray(
        keras.models.load_model("best.keras").predict(np.asarray(x, "float32"), verbose=0)
    )
    assert proba.shape == (len(x), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    # never overwritten without --force; the suffix is checked before any training
    assert main(args) == 2
    err = capsys.readouterr().err
    # a .keras file carries no mark: the message says so (not "not written by keras-imbalance")
    assert "carries no mark of the tool that wrote it" in err and "--force" in err
    assert main([*args[:-1], "best.h5"]) == 2
    assert "must end in .keras" in capsys.readouterr().err
