"""Command line, issue 20: big numbers and repeated values get one line naming the flag and
what is allowed, before any work; outputs are checked for write permission first."""

import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import keras_imbalance
from keras_imbalance import _outputs
from keras_imbalance._cli._common import cpu_count
from keras_imbalance.cli import main


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    frame["y"] = ["neg"] * 48 + ["pos"] * 12
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def no_training(monkeypatch):
    """compare() replaced by a recorder that stops the run (as Ctrl-C would): the checks
    before the work are what is tested."""
    calls = []

    def fake(x, y, **kwargs):
        from joblib.parallel import get_active_backend

        calls.append({**kwargs, "_backend": get_active_backend()[0]})
        raise KeyboardInterrupt

    monkeypatch.setattr(keras_imbalance, "compare", fake)
    return calls


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_jobs_zero_or_negative_is_our_message(capsys, jobs):
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "ecoli3", "--jobs", jobs])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert (
        f"argument --jobs: expected a number of folds trained at once from 1 to {cpu_count()}"
        in (err)
    )
    assert f"got {jobs}" in err and "joblib" not in err.lower()


def test_jobs_above_the_cpus_are_capped_with_a_line(tmp_path, capsys, monkeypatch, no_training):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "ecoli3", "--jobs", "100000", "--strategies", "none"]) == 130
    assert no_training[0]["n_jobs"] == cpu_count()
    err = capsys.readouterr().err
    assert f"--jobs 100000 is more than the {cpu_count()} CPUs here" in err


def test_cv_above_the_largest_class_names_the_flag(tmp_path, capsys, monkeypatch, no_training):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "ecoli3", "--cv", "10000"]) == 2
    err = _one_error_line(capsys)
    assert "--cv 10000: at most 301 folds here" in err and "35" in err
    assert not no_training and not list(tmp_path.iterdir())
    assert main(["compare", "ecoli3", "--cv", "301", "--strategies", "none"]) == 130  # allowed


def test_random_state_above_2_to_the_32_names_the_flag(capsys):
    for command in (["compare", "ecoli3"], ["resample", "ecoli3", "-o", "o.csv"]):
        with pytest.raises(SystemExit) as exit_:
            main([*command, "--random-state", str(2**40)])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "argument --random-state: expected a seed from 0 to 4294967295" in err
        assert str(2**40) in err


@pytest.mark.parametrize(
    "flag, value, words",
    [
        ("--repeats", "1000000", "a number of repeats from 1 to 50"),
        ("--epochs", "1000000000", "a number of epochs from 1 to 10000"),
    ],
)
def test_run_length_flags_have_an_upper_bound(capsys, flag, value, words):
    # before the bound, `compare --repeats 1000000` planned 5 million folds and ran on and on
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "ecoli3", flag, value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: expected {words}, got {value}" in err


def test_repeated_target_empty_strategies_and_a_cost_twice(table, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["inspect", str(table), "--target", "y,y"]) == 2
    assert "--target 'y,y' names the column 'y' more than once" in _one_error_line(capsys)
    assert main(["compare", str(table), "--target", "y,y"]) == 2
    assert "more than once" in _one_error_line(capsys)
    for empty in ("", " , "):
        assert main(["compare", str(table), "--target", "y", "--strategies", empty]) == 2
        assert "--strategies" in _one_error_line(capsys)
    args = ["compare", str(table), "--target", "y", "--cost", "pos=5", "--cost", "pos=9"]
    assert main(args) == 2
    assert "--cost: class 'pos' is given twice (pos=5 and pos=9)" in _one_error_line(capsys)
    assert not list(tmp_path.glob("data-*"))


def _refuse_writing(monkeypatch, folder):
    """A folder the user may not write to: a real chmod (root writes anyway, so the check
    asks os.access, which is replaced here for that folder)."""
    real = os.access
    folder = os.path.realpath(folder)

    def access(path, mode, *args, **kwargs):
        if os.path.realpath(path) == folder and mode & os.W_OK:
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(_outputs.os, "access", access)


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["compare", "{data}", "--report", "{ro}/r.html"], "--report"),
        (["compare", "{data}", "--results", "{ro}/r.jsonl"], "--results"),
        (["compare", "{data}", "--save-model", "{ro}/m.keras"], "--save-model"),
        (["inspect", "{data}", "--plot", "{ro}/p.png"], "--plot"),
        (["resample", "{data}", "-o", "{ro}/o.csv"], "-o"),
    ],
)
def test_outputs_need_a_writable_folder_before_the_work(
    table, tmp_path, capsys, monkeypatch, no_training, argv, flag
):
    readonly = tmp_path / "ro"
    readonly.mkdir()
    _refuse_writing(monkeypatch, readonly)
    monkeypatch.chdir(tmp_path)
    args = [a.format(data=table, ro=readonly) for a in argv] + ["--target", "y"]
    assert main(args) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"keras-imbalance {argv[0]}: error: {flag} ")
    assert "is not writable" in err
    assert not no_training and not list(readonly.iterdir())


def test_resample_onto_its_own_earlier_output(table, tmp_path, capsys):
    out = tmp_path / "o.csv"
    args = ["resample", str(table), "--target", "y", "--method", "random_over", "-o", str(out)]
    assert main(args) == 0
    first = out.read_bytes()
    capsys.readouterr()
    assert main(args) == 2
    err = _one_error_line(capsys)
    assert "was not written by keras-imbalance" not in err  # it was: say what is true
    assert "carries no mark of the tool that wrote it" in err and "--force" in err
    assert out.read_bytes() == first
    assert main([*args, "--force"]) == 0


def test_image_size_beyond_the_memory_is_refused_before_reading(tmp_path, capsys, monkeypatch):
    root = tmp_path / "images"
    for name, count in (("one", 6), ("two", 3)):
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / name / f"{i}.png")
    decoded = []
    from keras_imbalance.datasets import _images

    real = _images._read
    monkeypatch.setattr(_images, "_read", lambda *a: decoded.append(1) or real(*a))
    monkeypatch.chdir(tmp_path)
    for command in ("inspect", "compare"):
        assert main([command, str(root), "--image-size", "100000x100000"]) == 2
        err = _one_error_line(capsys)
        assert "--image-size" in err and "100000x100000" in err
        # images x height x width x channels x 6 bytes (uint8 copies and float32)
        need = 9 * 100000 * 100000 * 3 * 6
        assert f"need about {need / 1e12:.1f} TB" in err
    assert not decoded
    # a size that fits reads as before
    assert main(["inspect", str(root), "--image-size", "4x4", "--json"]) == 0
    assert decoded


def test_jobs_beyond_the_free_memory_are_capped_with_a_line(
    tmp_path, capsys, monkeypatch, no_training
):
    from keras_imbalance._cli import _compare
    from keras_imbalance.datasets import _images

    monkeypatch.setattr(_images, "available_memory", lambda: int(1.5 * _compare.WORKER_BYTES))
    monkeypatch.setattr(_compare, "cpu_count", lambda: 8)
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "ecoli3", "--jobs", "4", "--strategies", "none"]) == 130
    assert no_training[0]["n_jobs"] == 1  # one worker (600 MB + the data) fits in 900 MB
    err = capsys.readouterr().err
    assert "--jobs 4 workers would need about 2.4 GB and 900.0 MB is free: running 1" in err


def test_idle_workers_do_not_outlive_the_command(tmp_path, monkeypatch, no_training):
    """Workers that never got a fold have no parent watch: loky keeps an idle worker 300 s,
    past a killed command; compare runs them with a short idle timeout."""
    from keras_imbalance._cli._compare import WORKER_IDLE_SECONDS

    monkeypatch.chdir(tmp_path)
    assert main(["compare", "ecoli3", "--strategies", "none"]) == 130
    backend = no_training[0]["_backend"]
    assert type(backend).__name__ == "LokyBackend"
    assert backend.backend_kwargs == {"idle_worker_timeout": WORKER_IDLE_SECONDS}
    assert WORKER_IDLE_SECONDS <= 30
