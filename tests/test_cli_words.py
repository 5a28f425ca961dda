"""The command line's own words (issue 20 / 21): markup never eats class names, warnings are
one plain line, every option explains itself, --version, progress without ``0/?`` and, when the
output is not a terminal, one plain line per finished (model, fold) and a time estimate."""

import argparse
import io
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import keras_imbalance
from keras_imbalance.cli import build_parser, main

LONG = "Chinstrap_penguins_of_Dream_island_measured_in_2009"


def test_every_option_of_every_command_has_help_text():
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, sub in [("", parser), *commands.choices.items()]:
        for action in sub._actions:
            if action.dest in ("help", "seed"):  # argparse's own; --seed is a hidden alias
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing
    assert {"inspect", "weights", "resample", "compare"} <= set(commands.choices)


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"keras-imbalance {keras_imbalance.__version__}"


@pytest.mark.parametrize(
    "code",
    [
        "from keras_imbalance.cli import build_parser; build_parser().format_help()",
        "import keras_imbalance._names",  # the names the CLI reads: standard library only
    ],
)
def test_help_and_names_import_nothing_heavy(code):
    code += "; import sys; print([m for m in ('numpy', 'pandas', 'keras') if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "[]"


def test_class_names_are_never_read_as_markup_nor_cut(tmp_path, capsys):
    # rich reads `[digit_0, ...]` and `[bold]` as markup; a console not on a terminal was 80
    # columns wide and cut long names ("Chinstr…")
    frame = pd.DataFrame(
        {"a": np.arange(30) % 4, "y": ["[digit_0]"] * 20 + ["[bold]x[/bold]"] * 5 + [LONG] * 5}
    )
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    assert main(["inspect", str(data), "--target", "y"]) == 0
    out = capsys.readouterr().out
    for name in ("[digit_0]", "[bold]x[/bold]", LONG):
        assert name in out
    assert "…" not in out


def test_warnings_are_one_plain_line_without_file_paths(tmp_path, capsys, monkeypatch):
    real = keras_imbalance.describe

    def noisy(*args, **kwargs):
        warnings.warn("something to know\nover two lines", RuntimeWarning, stacklevel=1)
        warnings.warn("something to know\nover two lines", RuntimeWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(keras_imbalance, "describe", noisy)
    before = warnings.showwarning
    assert main(["weights", "ecoli3"]) == 0
    err = capsys.readouterr().err
    assert err == "keras-imbalance weights: warning: something to know over two lines\n"
    assert warnings.showwarning is before  # Python's own again after the command


def test_progress_bar_never_shows_an_unknown_total():
    from rich.console import Console

    from keras_imbalance._cli._progress import Progress

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with Progress(console, jobs=1, terminal=True, folds=2) as bar:
        bar.bar.refresh()
        bar(1, 4, {"model": "mlp", "strategy": "none", "repeat": 0, "fold": 0})
    text = screen.getvalue()
    assert "0/?" not in text and "1/4" in text and "training the first fold" in text


def test_progress_lines_and_an_estimate_when_stdout_is_a_pipe(tmp_path):
    args = ["compare", "ecoli3", "--strategies", "none", "--cv", "2", "--epochs", "2"]
    args += ["--jobs", "1", "--report", "r.html", "--results", "r.jsonl", "--references", "none"]
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "torch")}
    run = subprocess.run(
        [sys.executable, "-m", "keras_imbalance.cli", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    done = [line for line in lines if line.startswith("compare: ") and " done: " in line]
    # 2 default models x 2 folds, each once, as they finish
    assert len(done) == 4, lines
    assert {line.split(" done")[0] for line in done} == {
        f"compare: {m} fold {f}" for m in ("linear", "mlp") for f in (1, 2)
    }
    assert done[-1].split(" done: ")[1].startswith("4/4 model folds")
    estimates = [line for line in lines if line.startswith("compare: estimated total time")]
    assert len(estimates) == 1 and lines.index(estimates[0]) == lines.index(done[0]) + 1
    assert not any(line.startswith("compare ━") or "0/?" in line for line in lines)  # no bar
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()[1:]]
    assert len(rows) == 2 * 2 * 2  # none and none+threshold per model fold


def test_save_model_names_every_class_and_the_board_cuts_no_name(tmp_path, capsys, monkeypatch):
    # `-> probabilities of ` and nothing after: rich read `[digit_0, ...]` as markup
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    labels = np.array(["digit_0"] * 30 + [LONG] * 10)
    frame = pd.DataFrame(rng.normal(size=(40, 2)) + (labels == LONG)[:, None], columns=["a", "b"])
    frame["y"] = labels
    frame.to_csv(tmp_path / "d.csv", index=False)
    args = ["compare", "d.csv", "--target", "y", "--strategies", "none,balanced_batches"]
    args += ["--cv", "2", "--epochs", "2", "--jobs", "1", "--save-model", "m.keras"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"-> probabilities of [{LONG}, digit_0]" in err
    assert f"classes {{'{LONG}': 10, 'digit_0': 30}}" in err
    assert "balanced_batches" in err and "…" not in err


def test_the_time_estimate_by_hand(monkeypatch):
    """4 model folds, 2 at a time: the first one done after 60 s stands for the 2 that
    started together, so 3 more take 60 * 3 / 2 = 90 s; after the third (at 100 s), 100 / 3
    per fold for the last one."""
    from rich.console import Console

    from keras_imbalance._cli import _progress

    clock = iter([0.0, 60.0, 60.0, 61.0, 100.0])
    monkeypatch.setattr(_progress.time, "monotonic", lambda: next(clock))
    screen = io.StringIO()
    bar = _progress.Progress(Console(file=screen, width=200), jobs=2, terminal=False, folds=4)
    for fold, model in ((0, "mlp"), (0, "mlp"), (1, "mlp"), (0, "linear")):
        bar(1, 8, {"model": model, "strategy": "none", "repeat": 0, "fold": fold})
    lines = screen.getvalue().splitlines()
    assert lines == [
        "compare: mlp fold 1 done: 1/4 model folds, 0:01:00 elapsed",
        "compare: estimated total time 0:02:30 (about 0:01:30 left for 3 more model folds)",
        "compare: mlp fold 2 done: 2/4 model folds, 0:01:01 elapsed, about 0:01:01 left",
        "compare: linear fold 1 done: 3/4 model folds, 0:01:40 elapsed, about 0:00:33 left",
    ]


def test_reference_and_ensemble_rows_are_not_counted_as_model_folds():
    import io

    from rich.console import Console

    from keras_imbalance._cli._progress import Progress

    out = io.StringIO()
    progress = Progress(Console(file=out, width=200), jobs=1, terminal=False, folds=2)
    progress.start -= 10  # past the resumed-rows window: these rows were trained
    with progress:
        progress(1, 4, {"model": "mlp", "strategy": "none", "repeat": 0, "fold": 0})
        for fold in (0, 1):
            progress(2, 4, {"model": "reference:logistic", "reference": True, "fold": fold})
        joint = {"model": "linear+mlp", "strategy": "ensemble", "members": ["mlp:none"]}
        progress(3, 4, {**joint, "repeat": 0, "fold": 0})
        progress(4, 4, {"model": "mlp", "strategy": "none", "repeat": 0, "fold": 1})
    done = [line for line in out.getvalue().splitlines() if " done: " in line]
    assert [line.split(" done: ")[1][:17] for line in done] == [
        "1/2 model folds, ",
        "2/2 model folds, ",
    ]
