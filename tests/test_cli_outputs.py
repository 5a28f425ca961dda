"""Command line, issue 11: outputs never overwrite an input or a file we did not write, class
weights that work when pasted, one-line errors before any work, and a fast start (issue 12)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from keras_imbalance.cli import main


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    frame["y"] = [0] * 48 + [1] * 12
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        # issue 11 item 1: `compare DATA --report DATA` wrote HTML over the CSV and exited 0
        (["compare", "{data}", "--report", "{data}"], "must end in .html"),
        (["compare", "{data}", "--results", "{data}"], "is the input"),
        (["compare", "{data}", "--results", "{link}"], "is the input"),
        (["compare", "{data}", "--save-model", "{data}"], "must end in .keras"),
        (["compare", "{data}", "--results", "{dir}/r.html", "--report", "{dir}/r.html"], "also"),
        (["compare", "{data}", "--results", "{dir}/r.json", "--report", "{dir}/r.html"], "also"),
        (["compare", "{data}", "--results", "{dir}/missing/r.jsonl"], "does not exist"),
        (["compare", "{data}", "--results", "{dir}"], "is a folder"),
        (["compare", "{data}", "--results", "{dir}/notes.txt"], "not written by keras-imbalance"),
        (["compare", "{data}", "--report", "{dir}/page.html"], "not written by keras-imbalance"),
        (["compare", "{data}", "--save-model", "{dir}/m.keras"], "carries no mark of the tool"),
        (["inspect", "{data}", "--plot", "{data}"], "must end in .png"),
        (["inspect", "{data}", "--plot", "{dir}/missing/c.png"], "does not exist"),
        (["inspect", "{data}", "--plot", "{dir}/other.png"], "not written by keras-imbalance"),
        (["resample", "{data}", "-o", "{data}", "--force"], "is the input"),
        (["resample", "{data}", "-o", "{link}", "--force"], "is the input"),
        (["resample", "{data}", "-o", "{dir}/missing/o.csv"], "does not exist"),
        (["resample", "{data}", "-o", "{dir}/old.csv"], "carries no mark of the tool"),
    ],
)
def test_outputs_never_overwrite_inputs_or_foreign_files(tmp_path, table, capsys, argv, message):
    (tmp_path / "link.csv").symlink_to(table)
    (tmp_path / "notes.txt").write_text("my notes\nline two")
    (tmp_path / "page.html").write_text("<!DOCTYPE html><html><body>mine</body></html>")
    (tmp_path / "m.keras").write_bytes(b"PK not ours")
    (tmp_path / "other.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "old.csv").write_text("x\n1\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    args = [a.format(data=table, link=tmp_path / "link.csv", dir=tmp_path) for a in argv]
    args += ["--target", "y"]
    assert main(args) == 2
    err = _one_error_line(capsys)
    assert message in err
    assert "samples" not in err  # refused before the status line
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before


def test_the_report_json_beside_the_html_is_an_output_too(tmp_path, table, capsys):
    (tmp_path / "r.json").write_text('{"mine": true}')
    args = ["compare", str(table), "--target", "y", "--report", str(tmp_path / "r.html")]
    assert main(args) == 2
    assert "--report's JSON" in _one_error_line(capsys)
    assert (tmp_path / "r.json").read_text() == '{"mine": true}'


def test_our_png_is_replaced_without_force_a_foreign_one_with_force(tmp_path, table, capsys):
    from keras_imbalance._outputs import png_software

    png = tmp_path / "counts.png"
    assert main(["inspect", str(table), "--target", "y", "--plot", str(png)]) == 0
    assert png_software(png).startswith("keras-imbalance")
    assert main(["inspect", str(table), "--target", "y", "--plot", str(png)]) == 0
    foreign = tmp_path / "foreign.png"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\nnot ours")
    assert main(["inspect", str(table), "--target", "y", "--plot", str(foreign)]) == 2
    capsys.readouterr()
    args = ["inspect", str(table), "--target", "y", "--plot", str(foreign), "--force"]
    assert main(args) == 0
    assert png_software(foreign).startswith("keras-imbalance")


def test_resample_output_folder_is_checked_before_the_work(tmp_path, table, capsys):
    # the former check ran after resampling and ended in a traceback
    out = tmp_path / "no" / "where.csv"
    args = ["resample", str(table), "--target", "y", "--method", "random_over", "-o", str(out)]
    assert main(args) == 2
    assert "'" + str(out.parent) + "' does not exist" in _one_error_line(capsys)
    old = tmp_path / "old.csv"
    old.write_text("x\n")
    args = ["resample", str(table), "--target", "y", "--method", "random_over", "-o", str(old)]
    assert main([*args, "--force", "--random-state", "3"]) == 0
    assert pd.read_csv(old)["y"].value_counts().to_dict() == {0: 48, 1: 48}


def test_seed_flag_still_works_and_says_it_is_deprecated(tmp_path, table, capsys):
    outputs = {}
    for flag in ("--seed", "--random-state"):
        out = tmp_path / f"{flag.strip('-')}.csv"
        args = ["resample", str(table), "--target", "y", "-o", str(out), flag, "7"]
        assert main(args) == 0
        outputs[flag] = out.read_text()
    assert outputs["--seed"] == outputs["--random-state"]
    assert "--seed is deprecated, use --random-state" in capsys.readouterr().err


@pytest.mark.slow
def test_compare_force_replaces_foreign_results_and_report(tmp_path, table, capsys):
    results, report = tmp_path / "notes.txt", tmp_path / "page.html"
    results.write_text("my notes\n")
    report.write_text("<!DOCTYPE html><html>mine</html>")
    args = ["compare", str(table), "--target", "y", "--strategies", "balanced", "--cv", "2"]
    args += ["--epochs", "2", "--jobs", "1", "--results", str(results), "--report", str(report)]
    assert main(args) == 2
    assert "not written by keras-imbalance" in _one_error_line(capsys)
    assert results.read_text() == "my notes\n"
    assert main([*args, "--force"]) == 0
    assert results.read_text().startswith('{"type":"header","format":"keras-imbalance-compare/')
    html = report.read_text()
    assert "keras-imbalance" in html and "mine" not in html
    # both are ours now: the same command resumes and rewrites the report without --force
    assert main(args) == 0
    assert capsys.readouterr().err.count("error") == 0


def test_compare_checks_its_inputs_before_the_status_line(tmp_path, table, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(table), "--target", "y", "--strategies", "none,magic"]) == 2
    err = _one_error_line(capsys)
    assert "--strategies: unknown 'magic'" in err and "smote" in err
    assert main(["compare", str(table), "--target", "y", "--cost", "magic=5"]) == 2
    assert "--cost: no class ['magic'] in the data (classes ['0', '1'])" in _one_error_line(capsys)
    assert main(["compare", str(table), "--target", "y", "--cost", "1=many"]) == 2
    assert "--cost '1=many': expected CLASS=COST with a positive number" in _one_error_line(capsys)
    assert main(["compare", str(table), "--target", "y", "--cost", "1=-3"]) == 2
    assert "--cost '1=-3': expected CLASS=COST with a positive number" in _one_error_line(capsys)
    assert not list(tmp_path.glob("*-results.jsonl"))


# --------------------------------------------------------------------------- weights


def test_weights_output_loads_with_int_keys_and_changes_the_keras_loss(tmp_path, table, capsys):
    import keras

    from keras_imbalance import load_class_weight

    assert main(["weights", str(table), "--target", "y", "--strategy", "reference"]) == 0
    printed = tmp_path / "weights.py"
    printed.write_text(capsys.readouterr().out)
    assert main(["weights", str(table), "--target", "y", "--strategy", "reference", "--json"]) == 0
    document = tmp_path / "weights.json"
    document.write_text(capsys.readouterr().out)
    assert json.loads(document.read_text())["labels"] == {"0": 0, "1": 1}
    loaded = load_class_weight(printed)
    assert loaded == load_class_weight(document) == {0: 1.0, 1: 4.0}
    assert all(type(k) is int for k in loaded)

    x = pd.read_csv(table)[["a", "b", "c"]].to_numpy("float32")
    y = pd.read_csv(table)["y"].to_numpy()

    def first_epoch_loss(class_weight):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=0.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        history = model.fit(x, y, batch_size=60, epochs=1, verbose=0, class_weight=class_weight)
        return history.history["loss"][0]

    plain = first_epoch_loss(None)
    # Keras ignores string keys without a word: the JSON-style dict trains unweighted
    assert first_epoch_loss({"0": 1.0, "1": 4.0}) == pytest.approx(plain)
    assert first_epoch_loss(loaded) != pytest.approx(plain)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{0: -1.0}", "non-negative"),
        ('{"a": 1.0}', "whole-number keys"),
        ("[1, 2]", "holds list"),
        ("not a dict", "holds neither"),
        ('{"0": "x"}', "numeric weights"),
    ],
)
def test_load_class_weight_refuses_what_keras_would_misread(tmp_path, text, message):
    from keras_imbalance import load_class_weight

    path = tmp_path / "w.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"argument `path`.*{message}"):
        load_class_weight(path)


# --------------------------------------------------------------------------- robustness


def test_a_closed_pipe_ends_quietly(tmp_path):
    # `keras-imbalance weights ... --json | head -c 1`: no BrokenPipeError traceback
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "keras_imbalance.cli", "inspect", "ecoli3", "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode == 141


def test_nested_parquet_columns_get_one_line(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    path = tmp_path / "nested.parquet"
    frame = pd.DataFrame({"f": [[1, 2], [3], [4, 5], [6]], "label": [{"k": 1}, {"k": 2}] * 2})
    frame["flat"] = [0, 1, 0, 1]
    frame.to_parquet(path)
    assert main(["inspect", str(path), "--target", "label"]) == 2
    assert "--target column 'label' holds lists or dicts" in _one_error_line(capsys)
    args = ["resample", str(path), "--target", "flat", "-o", str(tmp_path / "o.csv")]
    assert main(args) == 2
    assert "lists, dicts or arrays in cells (nested Parquet types; flatten them): 'f', 'label'" in (
        _one_error_line(capsys)
    )


# --------------------------------------------------------------------------- start-up (issue 12)

PROBE = textwrap.dedent(
    """
    import sys
    from keras_imbalance.cli import main
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    heavy = {"sklearn", "imblearn", "keras", "torch", "tensorflow", "jax", "scipy"}
    print("HEAVY", code, sorted({m.split(".")[0] for m in sys.modules} & heavy))
    """
)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["inspect", "{data}", "--target", "y"],
        ["inspect", "{raw}", "--target", "label"],  # issue 13: categories and gaps
        ["inspect", "{images}"],  # issue 13: a class-per-folder image directory
    ],
)
def test_help_and_inspect_import_nothing_heavy(table, tmp_path, argv):
    from PIL import Image

    raw = tmp_path / "raw.csv"
    raw.write_text("amount,country,label\n1.5,FR,ok\n,DE,fraud\n2.5,,ok\n3.0,FR,ok\n")
    for name in ("cat", "dog"):
        os.makedirs(tmp_path / "images" / name)
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "images" / name / "a.png")
    args = [a.format(data=table, raw=raw, images=tmp_path / "images") for a in argv]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY 0 []", proc.stderr[-2000:]
