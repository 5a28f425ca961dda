"""Packed training (keras_imbalance.comparison._packing / _fold): a packed copy trains as the
same strategy trained alone, per-copy early stopping, N-D inputs with user models, identical
candidates trained once, resume after a kill, bad builders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import keras_imbalance as ki
from keras_imbalance import losses
from keras_imbalance.comparison import (
    DEFAULT_MODELS,
    KINDS,
    TrainingSettings,
    _compare,
    _fold,
    _packing,
    compare,
    linear_model,
)

STRATEGIES = KINDS["multiclass"].strategies  # the registry of one class per row


def _three_classes(seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(40, int), np.ones(14, int), np.full(6, 2)]
    x = rng.normal(size=(y.size, 3)) + y[:, None] * np.array([1.0, -0.5, 0.3])
    return x, y


def tiny_sgd(input_shape, n_classes):
    """A small tanh network trained with plain SGD (no dropout, no regulariser)."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Dense(4, activation="tanh"),
            keras.layers.Dense(n_classes),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


tiny_sgd.fixed_epochs = 3

EXACT = ["none", "balanced", "focal", "logit_adjusted", "ldam", "random_over", "random_under"]
EXACT += ["smote", "balanced_batches"]


def _lone(model_fn, name, x, y, seed, epochs):
    """The strategy trained alone the plain Keras way, full batch, no shuffling."""
    import keras

    k = int(y.max()) + 1
    counts = np.bincount(y, minlength=k)
    balanced = ki.class_weights(y, "balanced")
    keras.utils.set_random_seed(seed)
    model = model_fn(tuple(x.shape[1:]), k)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    loss, fit = ce, dict(x=x, y=y)
    if name == "balanced":
        fit["class_weight"] = balanced
    elif name == "focal":
        loss = losses.SparseCategoricalFocalCrossentropy(
            alpha=[balanced[c] for c in range(k)], gamma=2.0, from_logits=True
        )
    elif name == "logit_adjusted":
        loss = losses.LogitAdjustedCrossentropy(
            class_counts=counts.tolist(), tau=1.0, sparse=True, from_logits=True
        )
    elif name == "ldam":
        loss = losses.LDAMCrossentropy(counts.tolist(), sparse=True, from_logits=True)
    elif name in ("random_over", "random_under", "smote"):
        params = {"k_neighbors": 5} if name == "smote" else {}
        xr, yr = ki.resample(x, y, method=name, random_state=seed, **params)
        fit = dict(x=xr, y=yr)
    batches = None
    if name == "balanced_batches":
        from keras_imbalance.sampling import BalancedBatches

        batches = BalancedBatches(x, y, batch_size=y.size, epoch_size=y.size, random_state=seed)
    return fit_alone(model, loss, fit, epochs, batches)


def fit_alone(model, loss, fit, epochs, batches=None):
    """Compile ``model`` with a fresh copy of its builder's optimizer and ``loss``, train it on
    ``fit`` (``x``, ``y``) full batch without shuffling, or on ``batches``; its weights."""
    model.compile(
        optimizer=model.optimizer.__class__.from_config(model.optimizer.get_config()), loss=loss
    )
    if batches is not None:
        model.fit(batches, epochs=epochs, verbose=0)
    else:
        n = fit["y"].shape[0]
        model.fit(**fit, batch_size=n, epochs=epochs, shuffle=False, verbose=0)
    return model.get_weights()


@pytest.mark.parametrize("model_fn", [tiny_sgd, linear_model], ids=["per-copy", "vectorised"])
def test_a_packed_copy_ends_with_the_weights_of_its_lone_fit(model_fn):
    # full-batch training (one step per epoch): each copy's update is its lone fit's exactly;
    # tiny_sgd is built once per copy (any user model), linear_model packs its copies in one
    # layer (PackedDense) and trains with Adam and an L2 penalty
    x, y = _three_classes()
    seed, epochs = 7, 3
    settings = TrainingSettings(batch_size=10_000, epochs=epochs, random_state=0)
    everything = np.arange(y.size)
    model_fn = model_fn if model_fn is tiny_sgd else _fixed(linear_model, epochs)
    fitted = _fold.fit_fold(
        model_fn, [STRATEGIES[s] for s in EXACT], x, y, everything, settings, seed, 3
    )
    assert fitted.fits == 1  # one Keras fit trained them all
    scaled = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    assert_copies_match(fitted, epochs, lambda name: _lone(model_fn, name, scaled, y, seed, epochs))


def assert_copies_match(fitted, epochs, lone, rtol=1e-5):
    """Each recipe's refit copy, trained ``epochs`` epochs, holds ``lone(name)``: the weights
    of its strategy trained alone."""
    for i, recipe in enumerate(fitted.recipes):
        name = recipe.names["argmax"][0]
        decider = fitted.deciders[(i, "argmax")]
        assert decider.refit and decider.best_epoch == epochs
        for got, want in zip(decider.weights, lone(name), strict=True):
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-5, err_msg=name)


def _fixed(builder, epochs):
    def fn(input_shape, n_classes):
        return builder(input_shape, n_classes)

    fn.fixed_epochs = epochs
    fn.packed = builder.packed
    return fn


class _FakeNet:
    """Stands in for a packed net: copy c's 'weights' are the epoch number, its validation
    'logits' are scripted so that its score peaks at a chosen epoch."""

    def __init__(self, peaks):
        self.peaks = peaks
        self.epoch = 0
        self.copies = len(peaks) + 1

    def logits(self, x):
        out = np.zeros((1, self.copies, 1))
        for c, peak in enumerate(self.peaks):
            out[0, c, 0] = -abs(self.epoch - peak)
        return out

    def all_copy_weights(self, wanted):
        return {c: [np.array(self.epoch + 100 * c)] for c in wanted}


def test_each_copy_stops_at_its_own_best_epoch():
    import keras

    net = _FakeNet(peaks=[3, 7])  # copies 0 and 1 monitored; copy 2 is copy 1's refit partner
    monitor = _packing.CopyMonitor(
        net,
        np.zeros((1, 3, 1)),
        {0: ["argmax"], 1: ["argmax"]},
        lambda copy, rule, logits: float(logits[0, 0]),
        patience=2,
        partners={1: 2},
    )
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.stop_training = False  # as fit() sets it
    monitor.set_model(model)
    for epoch in range(20):
        net.epoch = epoch + 1
        monitor.on_epoch_end(epoch)
        if monitor.model.stop_training:
            break
    assert [monitor.best_epoch[c]["argmax"] for c in (0, 1)] == [3, 7]
    # each copy stopped after its own patience; the fit ran until the last one did
    assert monitor.stopped == [5, 9] and monitor.epochs_run == 9
    assert [monitor.copy_epochs_run(c) for c in (0, 1)] == [5, 9]
    # its weights at its best epoch, and its partner's weights after that many epochs
    assert int(monitor.best_weights[0]["argmax"][0]) == 3
    assert int(monitor.best_weights[1]["argmax"][0]) == 107
    assert int(monitor.partner_weights[1][0]) == 207


def small_cnn(input_shape, n_classes):
    import keras

    inputs = keras.Input(input_shape)
    h = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inputs, keras.layers.Dense(n_classes)(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def small_rnn(input_shape, n_classes):
    import keras

    model = keras.Sequential(
        [keras.Input(input_shape), keras.layers.GRU(4), keras.layers.Dense(n_classes)]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


@pytest.mark.parametrize(
    ("shape", "model_fn"),
    [((8, 8, 1), small_cnn), ((5, 3), small_rnn), ((4, 4), None)],
    ids=["cnn", "rnn", "default-models"],
)
def test_any_input_rank_with_the_users_model(shape, model_fn):
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(48, int), np.ones(12, int)]
    x = rng.normal(size=(y.size, *shape)).astype(np.float32) + y.reshape(-1, *[1] * len(shape))
    strategies = ["balanced", "smote", "random_under"]
    result = compare(x, y, strategies=strategies, model_fn=model_fn, cv=2, epochs=2, patience=1)
    folds = result.folds
    models = list(DEFAULT_MODELS) if model_fn is None else [model_fn.__name__]
    assert set(folds["model"]) == set(models)
    for model in models:
        part = folds[folds["model"] == model]
        assert sorted(part["strategy"].unique()) == sorted(["none", "none+threshold", *strategies])
        for _, rows in part.groupby("strategy"):
            assert rows["n_test"].sum() == y.size
    assert result.config["data"]["input_shape"] == list(shape)


def adam_plain(input_shape, n_classes):
    import keras

    model = keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_classes)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def test_identical_candidates_train_once_and_name_every_alias(tmp_path, monkeypatch):
    # binary data: balanced, reference and weighted_ce weigh every row in proportion
    # (n / (2 n_c), n_max / n_c, n / (2 n_c)), and balanced_softmax is logit_adjusted at
    # tau = 1; with Adam and no regulariser a constant factor on the loss changes nothing
    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(60, int), np.ones(20, int)]
    x = rng.normal(size=(80, 2)) + y[:, None]
    names = ["balanced", "reference", "weighted_ce", "logit_adjusted", "balanced_softmax"]
    path = tmp_path / "run.jsonl"
    options = dict(
        strategies=names, cv=2, epochs=2, patience=1, results_path=path, references=False
    )
    result = compare(x, y, model_fn=adam_plain, **options)
    board = result.leaderboard.set_index("strategy")
    assert set(board.index) == {"none", "none+threshold", "balanced", "logit_adjusted"}
    assert board.loc["balanced", "aliases"] == "reference, weighted_ce"
    assert board.loc["logit_adjusted", "aliases"] == "balanced_softmax"
    rows = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert len(rows) == 4 * 2
    # resuming: every alias counts as done, nothing is trained again
    monkeypatch.setattr(_compare, "run_task", lambda *a: pytest.fail("nothing to train"))
    again = compare(x, y, model_fn=adam_plain, **options)
    assert again.leaderboard["mean"].tolist() == result.leaderboard["mean"].tolist()
    monkeypatch.undo()

    # plain SGD is not scale-free: only weights that are equal (balanced, weighted_ce) merge
    def sgd_plain(input_shape, n_classes):
        import keras

        model = adam_plain(input_shape, n_classes)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        return model

    board = compare(x, y, model_fn=sgd_plain, **{**options, "results_path": None}).leaderboard
    board = board.set_index("strategy")
    assert {"balanced", "reference", "logit_adjusted"} <= set(board.index)
    assert board.loc["balanced", "aliases"] == "weighted_ce"
    assert board.loc["reference", "aliases"] == ""


def test_bad_builders_get_one_line_naming_model_fn():
    import keras

    x, y = _three_classes()
    options = dict(strategies=["balanced"], cv=2, epochs=1, patience=1)

    def not_a_model(input_shape, n_classes):
        return "model"

    def too_narrow(input_shape, n_classes):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_classes + 1)])

    def softmax_out(input_shape, n_classes):
        return keras.Sequential(
            [keras.Input(input_shape), keras.layers.Dense(n_classes, activation="softmax")]
        )

    def wrong_input(input_shape, n_classes):
        return keras.Sequential([keras.Input((7,)), keras.layers.Dense(n_classes)])

    cases = [
        (not_a_model, TypeError, r"`model_fn`. Expected a function returning a keras.Model"),
        (too_narrow, ValueError, r"`model_fn`.*3 output logits.*\(None, 4\)"),
        (softmax_out, ValueError, r"`model_fn`.*logits \(no softmax.*rows sum to 1"),
        (wrong_input, ValueError, r"`model_fn`.*inputs of shape \(None, 3\).*raised"),
    ]
    for builder, kind, match in cases:
        with pytest.raises(kind, match=match) as info:
            compare(x, y, model_fn=builder, **options)
        assert "\n" not in str(info.value)


def test_a_builder_taking_n_features_still_works_with_a_warning():
    import keras

    x, y = _three_classes()

    def old_style(n_features, n_classes):
        return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(n_classes)])

    with pytest.warns(DeprecationWarning, match="input_shape"):
        result = compare(
            x, y, strategies=[], model_fn=old_style, cv=2, epochs=1, patience=1, references=False
        )
    assert len(result.folds) == 4


_KILLED_RUN = """
import os, sys
os.environ["KERAS_BACKEND"] = {backend!r}
import numpy as np
sys.path.insert(0, {tests!r})
from test_packing import _three_classes, tiny_sgd
from keras_imbalance import compare
x, y = _three_classes()
compare(x, y, strategies=["balanced", "smote"], model_fn=tiny_sgd, cv=3, repeats=4,
        epochs=3, results_path={path!r}, n_jobs={jobs}, references=False)
"""


def _start(tmp_path, path, jobs):
    script = tmp_path / "run.py"
    tests = os.path.dirname(__file__)
    import keras

    backend = keras.backend.backend()  # the suite's own: the killed run resumes here
    script.write_text(
        textwrap.dedent(_KILLED_RUN.format(tests=tests, path=str(path), jobs=jobs, backend=backend))
    )
    return subprocess.Popen([sys.executable, str(script)], cwd=tmp_path)


def _wait_for_rows(path, proc, rows, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and len(path.read_text().splitlines()) > rows:
            return
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        time.sleep(0.05)
    pytest.fail("no rows were written")


@pytest.mark.slow
def test_resume_after_a_kill_redoes_no_finished_fold(tmp_path, monkeypatch):
    path = tmp_path / "run.jsonl"
    proc = _start(tmp_path, path, jobs=1)
    _wait_for_rows(path, proc, rows=3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {json.loads(line)["key"] for line in path.read_text().splitlines()[1:]}
    folds_done = {tuple(k.split("|")[2:]) for k in finished}
    complete = {
        f
        for f in folds_done
        if all(
            f"tiny_sgd|{s}|{f[0]}|{f[1]}" in finished
            for s in ("none", "none+threshold", "balanced", "smote")
        )
    }
    assert complete, "at least one (model, fold) finished before the kill"
    ran = []
    real = _compare.run_task
    monkeypatch.setattr(
        _compare,
        "run_task",
        lambda task, *a: ran.append((task.repeat, task.fold)) or real(task, *a),
    )
    x, y = _three_classes()
    compare(
        x,
        y,
        strategies=["balanced", "smote"],
        model_fn=tiny_sgd,
        cv=3,
        repeats=4,
        epochs=3,
        results_path=path,
        references=False,
    )
    assert ran and not {(str(r), str(f)) for r, f in ran} & complete
    assert len(path.read_text().splitlines()) == 1 + 4 * 12


# the run of test_workers_end_with_a_killed_compare: every process that builds a model writes
# its id, so the test knows the workers without asking the system for the run's children
_RECORDING_RUN = """
import functools, os, sys
os.environ["KERAS_BACKEND"] = "torch"
sys.path.insert(0, {tests!r})
from test_packing import _three_classes, tiny_sgd
from keras_imbalance import compare

@functools.wraps(tiny_sgd)
def recorded(input_shape, n_classes):
    with open({pids!r}, "a") as handle:
        handle.write(f"{{os.getpid()}}\\n")
    return tiny_sgd(input_shape, n_classes)

x, y = _three_classes()
compare(x, y, strategies=["balanced", "smote"], model_fn=recorded, cv=3, repeats=4,
        epochs=3, results_path={path!r}, n_jobs=2)
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_workers_end_with_a_killed_compare(tmp_path):
    path, pids = tmp_path / "run.jsonl", tmp_path / "pids.txt"
    script = tmp_path / "run.py"
    tests = os.path.dirname(__file__)
    script.write_text(_RECORDING_RUN.format(tests=tests, path=str(path), pids=str(pids)))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path)
    _wait_for_rows(path, proc, rows=1)
    workers = {int(p) for p in pids.read_text().split()} - {proc.pid}
    assert workers, "the run has worker processes"
    assert all(_running(pid) for pid in workers)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # poll until every worker has ended; the deadline is for a stuck run, not a timing
    deadline = time.monotonic() + 120
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {pid for pid in alive if _running(pid)}
    assert alive == set(), "workers outlived the killed compare"


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (ended, not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user (a reused id)
        return True
    if os.path.exists(f"/proc/{pid}/stat"):  # Linux
        try:
            with open(f"/proc/{pid}/stat") as handle:
                return handle.read().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False
    state = subprocess.run(  # POSIX ps elsewhere (macOS, BSD)
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True
    ).stdout.strip()
    return bool(state) and not state.startswith("Z")


def _early_linear(input_shape, n_classes):
    """``linear_model`` early-stopped (no ``fixed_epochs``): refits partner their copies."""
    return linear_model(input_shape, n_classes)


_early_linear.packed = linear_model.packed


@pytest.mark.parametrize("budget", ["1", "6K"], ids=["a-fit-per-copy", "a-few-copies-per-fit"])
def test_copies_trained_in_groups_under_a_byte_budget_equal_the_one_packed_fit(monkeypatch, budget):
    # mini-batches (shuffled per copy and epoch), early stopping with refit partners,
    # synthetic rows (smote), rows redrawn per epoch (balanced_batches): split into fits by a
    # tiny budget, each copy ends with the weights, epochs and batch of the one packed fit
    x, y = _three_classes()
    names = ["none", "balanced", "focal", "random_under", "smote", "balanced_batches"]
    settings = TrainingSettings(batch_size=16, epochs=6, patience=2, random_state=0)
    everything = np.arange(y.size)

    def run():
        return _fold.fit_fold(
            _early_linear, [STRATEGIES[s] for s in names], x, y, everything, settings, 3, 3
        )

    monkeypatch.setenv("KERAS_IMBALANCE_PACK_BYTES", "1G")
    one = run()
    monkeypatch.setenv("KERAS_IMBALANCE_PACK_BYTES", budget)
    grouped = run()
    assert one.fits == 1 and one.copies == 2 * len(one.recipes)  # early + refit partner
    assert grouped.fits > 2 and grouped.copies < one.copies
    if budget == "1":
        assert grouped.copies == 1
    assert sorted(one.deciders) == sorted(grouped.deciders)
    for key, want in one.deciders.items():
        got = grouped.deciders[key]
        assert (got.best_epoch, got.epochs_run, got.refit, got.batch_size, got.n_fit) == (
            want.best_epoch,
            want.epochs_run,
            want.refit,
            want.batch_size,
            want.n_fit,
        ), key
        for a, b in zip(got.weights, want.weights, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=str(key))


def test_a_bad_byte_budget_is_one_line_naming_the_variable(monkeypatch):
    from keras_imbalance.comparison import _packing

    monkeypatch.setenv("KERAS_IMBALANCE_PACK_BYTES", "1.5G")
    assert _packing.pack_budget() == 3 * 2**29
    monkeypatch.setenv("KERAS_IMBALANCE_PACK_BYTES", "800m")
    assert _packing.pack_budget() == 800 * 2**20
    for bad in ("lots", "-3M", "0"):
        monkeypatch.setenv("KERAS_IMBALANCE_PACK_BYTES", bad)
        with pytest.raises(ValueError, match=r"KERAS_IMBALANCE_PACK_BYTES.*byte count.*"):
            _packing.pack_budget()
    monkeypatch.delenv("KERAS_IMBALANCE_PACK_BYTES")
    assert 64 * 2**20 <= _packing.pack_budget() <= 2**30
