"""Every model packed on the torch backend (keras_imbalance.comparison._vmap_torch): a builder
without a ``packed`` form (Sequential CNN, functional with two inputs, subclassed, the default
``cnn_model``) trains its copies with ``torch.func.vmap`` over their stacked variables, each
copy equal to its lone fit; a model that cannot be vectorised falls back to the per-copy stack,
with a note naming the failure.

The tests run on the torch backend (the CI's); under another backend they are skipped (the JAX
counterparts are in tests/test_compiled.py).
"""

from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from keras_imbalance.comparison import KINDS, TrainingSettings, _fold, _vmap_torch  # noqa: E402
from keras_imbalance.comparison._models import cnn_model  # noqa: E402
from test_compiled import seq_cnn, subclassed, two_inputs  # noqa: E402
from test_packing import EXACT, _lone, _three_classes, assert_copies_match  # noqa: E402

STRATEGIES = KINDS["multiclass"].strategies


def _backend() -> str:
    import keras

    return keras.backend.backend()


pytestmark = pytest.mark.skipif(
    _backend() != "torch", reason="torch.func vectorises the copies on the torch backend"
)


class _Made:
    """Records what :func:`_vmap_torch.vectorise` returned."""

    def __init__(self, monkeypatch):
        self.found = []
        real = _vmap_torch.vectorise

        def record(*args):
            made = real(*args)
            self.found.append(made)
            return made

        monkeypatch.setattr(_vmap_torch, "vectorise", record)

    @property
    def models(self):
        return [m for m, _ in self.found if m is not None]


def _data(model_fn, side=6):
    """Standardised rows of three classes (4 columns), or ``side x side`` images for the CNN,
    and the strategies each trains (the loss strategies for images: the resamplers take
    tables)."""
    x, y = _three_classes()
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    if model_fn is seq_cnn:
        rng = np.random.default_rng(2)
        x = rng.normal(size=(y.size, side, side, 1)).astype(np.float32) + y[:, None, None, None]
        return x, y, ["none", "balanced", "focal", "logit_adjusted", "ldam"]
    return np.c_[x, x[:, :1] * x[:, 1:2]].astype(np.float32), y, EXACT


def regularised(input_shape, n_classes):
    """A functional model with an L2 kernel penalty and plain SGD: the copies' penalties add
    up, each copy's gradient is its own."""
    import keras

    rows = keras.Input(input_shape)
    h = keras.layers.Dense(5, activation="tanh", kernel_regularizer=keras.regularizers.L2(0.05))(
        rows
    )
    model = keras.Model(rows, keras.layers.Dense(n_classes)(h))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


regularised.fixed_epochs = 3


@pytest.mark.parametrize(
    "model_fn", [seq_cnn, two_inputs, subclassed, regularised], ids=lambda f: f.__name__
)
def test_any_model_is_vectorised_and_each_copy_equals_its_lone_fit(monkeypatch, model_fn):
    # full batch, same seeds: each copy's weights after 3 epochs are its lone Keras fit's
    x, y, names = _data(model_fn)
    seed, epochs = 7, 3
    settings = TrainingSettings(batch_size=10_000, epochs=epochs, standardize=False)
    made = _Made(monkeypatch)
    fitted = _fold.fit_fold(
        model_fn, [STRATEGIES[s] for s in names], x, y, np.arange(y.size), settings, seed, 3
    )
    assert fitted.fits == 1
    assert len(made.models) == 1 and isinstance(made.models[0], _vmap_torch.Vectorised)
    assert made.models[0].copies == len(fitted.recipes)  # fixed epochs: one copy per recipe
    assert all(d.note == "" for d in fitted.deciders.values())
    assert_copies_match(fitted, epochs, lambda name: _lone(model_fn, name, x, y, seed, epochs))


def test_a_convolutional_model_on_large_images_runs_copy_by_copy_and_equals_its_lone_fits(
    monkeypatch,
):
    # 16 x 16 images: the copies run one after the other inside the one model call (stacked
    # variables, one loss, one optimizer update), each equal to its lone fit
    x, y, names = _data(seq_cnn, side=16)
    settings = TrainingSettings(batch_size=10_000, epochs=3, standardize=False)
    made = _Made(monkeypatch)
    fitted = _fold.fit_fold(
        seq_cnn, [STRATEGIES[s] for s in names], x, y, np.arange(y.size), settings, 7, 3
    )
    (model,) = made.models
    assert model.one_by_one and not _vmap_torch.one_by_one(model.lone, x[:8, None, :8, :8])
    assert all(d.note == "" for d in fitted.deciders.values())
    assert_copies_match(fitted, 3, lambda name: _lone(seq_cnn, name, x, y, 7, 3))


def host_scale(input_shape, n_classes):
    """A model that reads a value on the host (``float`` of a tensor: the batch's largest
    absolute value scales the features): it trains in a Keras fit, but ``torch.func.vmap``
    cannot batch ``.item()``."""
    import keras

    class HostScale(keras.layers.Layer):
        def call(self, x):
            return x / float(keras.ops.max(keras.ops.abs(x)))

    rows = keras.Input(input_shape)
    model = keras.Model(rows, keras.layers.Dense(n_classes)(HostScale()(rows)))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


host_scale.fixed_epochs = 2


def test_a_model_that_cannot_be_vectorised_falls_back_with_its_note(monkeypatch):
    x, y, _ = _data(host_scale)
    settings = TrainingSettings(batch_size=10_000, epochs=2, standardize=False)
    made = _Made(monkeypatch)
    names = ["none", "balanced", "focal"]
    fitted = _fold.fit_fold(
        host_scale, [STRATEGIES[s] for s in names], x, y, np.arange(y.size), settings, 7, 3
    )
    assert [m for m, _ in made.found] == [None]  # refused once, then the per-copy stack
    notes = {d.note for d in fitted.deciders.values()}
    assert len(notes) == 1
    (note,) = notes
    assert note.startswith("copies trained one after the other: the model cannot be vectorised")
    assert "RuntimeError" in note and ".item()" in note
    assert "\n" not in note
    assert_copies_match(fitted, 2, lambda name: _lone(host_scale, name, x, y, 7, 2))


def test_the_variable_turns_the_vectorised_copies_off(monkeypatch):
    # KERAS_IMBALANCE_VMAP=0: the per-copy stack, as before (the benchmarks' old engine)
    x, y, names = _data(two_inputs)
    settings = TrainingSettings(batch_size=10_000, epochs=3, standardize=False)
    monkeypatch.setenv(_vmap_torch.VMAP_ENV, "0")
    made = _Made(monkeypatch)
    fitted = _fold.fit_fold(
        two_inputs, [STRATEGIES[s] for s in names[:3]], x, y, np.arange(y.size), settings, 7, 3
    )
    assert made.found == [] and not _vmap_torch.enabled()
    assert all(d.note == "" for d in fitted.deciders.values())
    assert_copies_match(fitted, 3, lambda name: _lone(two_inputs, name, x, y, 7, 3))


def test_the_default_cnn_trains_vectorised_with_dropout_and_stays_apart(monkeypatch):
    # the default CNN (same padding, pooling, dropout): vectorised, every copy trained on its
    # own loss (the copies end apart), one random-number state for all of them
    import keras

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(30, int), np.ones(10, int)]
    x = rng.normal(size=(y.size, 8, 8, 1)).astype(np.float32) + y[:, None, None, None]
    settings = TrainingSettings(batch_size=16, epochs=2, standardize=False)
    made = _Made(monkeypatch)

    def builder(input_shape, n_classes):
        return cnn_model(input_shape, n_classes, filters=(4, 4))

    builder.fixed_epochs = 2
    fitted = _fold.fit_fold(
        builder,
        [STRATEGIES[s] for s in ("none", "balanced")],
        x,
        y,
        np.arange(y.size),
        settings,
        3,
        2,
    )
    (model,) = made.models
    seeds = [v for v in model.variables if "seed_state" in v.path]
    assert len(seeds) == 1 and seeds[0].shape == (2,)
    untrained = keras.utils.set_random_seed(3) or builder((8, 8, 1), 2)
    a, b = (fitted.deciders[(i, "argmax")].weights for i in range(2))
    assert all(np.isfinite(w).all() for w in a + b)
    assert not np.allclose(a[0], b[0])  # each copy its own loss
    assert not np.allclose(a[0], untrained.get_weights()[0])  # trained


def adam_net(input_shape, n_classes):
    """A small functional network with Adam (momentum: a retired copy's weights keep moving
    under a zero gradient) and no ``packed`` form; early-stopped (no ``fixed_epochs``)."""
    import keras

    rows = keras.Input(input_shape)
    h = keras.layers.Dense(6, activation="tanh")(rows)
    model = keras.Model(rows, keras.layers.Dense(n_classes)(h))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


def early_cnn(input_shape, n_classes):
    """``seq_cnn`` early-stopped: on 16 x 16 images its copies run one by one."""
    return seq_cnn(input_shape, n_classes)


class _Calls:
    """Counts, per training step of the first packed fit, the copies and rows the vectorised
    model computed (the rows its vectorised function got; one by one: the lone model's calls
    too), and keeps that fit's early-stopping monitor and its copies' row counts."""

    def __init__(self, monkeypatch):
        from keras_imbalance.comparison import _packing

        self.copies, self.rows, self.lone_calls, self.monitors = [], [], [], []
        self.sizes = None  # rows of each copy of the first fit
        self.fitting = False
        real_function, real_fit = _vmap_torch.Vectorised._function, _packing.fit
        calls = self

        def function(model, training, vectorised):
            fn = real_function(model, training, vectorised)

            def counted(tv, own, shared, x):
                if training and calls.fitting:
                    calls.copies.append(int(x.shape[0]))  # x: (copies, rows, ...)
                    calls.rows.append(int(x.shape[1]))
                    calls.lone_calls.append(0)
                return fn(tv, own, shared, x)

            return counted

        def fit(net, rows, epochs, callbacks):
            first = not calls.monitors
            if first:
                calls.sizes = [r.size for r in rows.rows]
            calls.monitors += [cb for cb in callbacks if isinstance(cb, _packing.CopyMonitor)]
            real_call = net.lone.stateless_call

            def stateless_call(*args, **kwargs):
                if kwargs.get("training") and calls.fitting:
                    calls.lone_calls[-1] += 1
                return real_call(*args, **kwargs)

            net.lone.stateless_call = stateless_call
            calls.fitting = first
            try:
                return real_fit(net, rows, epochs, callbacks)
            finally:
                calls.fitting = False
                del net.lone.stateless_call

        monkeypatch.setattr(_vmap_torch.Vectorised, "_function", function)
        monkeypatch.setattr(_packing, "fit", fit)


@pytest.mark.parametrize("model_fn", [adam_net, early_cnn], ids=["vectorised", "one-by-one"])
def test_a_retired_copy_is_left_out_and_keeps_the_weights_of_its_lone_fit(monkeypatch, model_fn):
    # early stopping, full batch (one step per epoch): the copies stop at different epochs;
    # once a copy (and its refit partner) retired, the training calls compute only the
    # others, and every copy ends with what its own fit (packed=False) gives it: weights,
    # best epoch, epochs run
    x, y, _ = _data(seq_cnn if model_fn is early_cnn else adam_net, side=16)
    names = ["none", "balanced", "focal", "random_over", "random_under"]
    strategies = [STRATEGIES[s] for s in names]
    settings = TrainingSettings(
        batch_size=10_000, epochs=40, patience=3, standardize=False, metric="matthews_correlation"
    )
    calls = _Calls(monkeypatch)
    packed = _fold.fit_fold(model_fn, strategies, x, y, np.arange(y.size), settings, 2, 3)
    monitor = calls.monitors[0]
    lone = _fold.fit_fold(
        model_fn,
        strategies,
        x,
        y,
        np.arange(y.size),
        dataclasses.replace(settings, packed=False),
        2,
        3,
    )
    assert packed.fits == 1 and lone.fits == 2 * len(packed.recipes)
    stops = [monitor.copy_epochs_run(m) for m in range(len(monitor.copies))]
    assert max(stops) - min(stops) >= 2  # some copies left out for two epochs or more
    # epoch e (one step) computes the copies not stopped before it, each with its partner,
    # on the rows of the largest of them (the rows only retired copies used are left out)
    epochs = range(1, max(stops) + 1)
    want = [2 * sum(s >= e for s in stops) for e in epochs]
    assert calls.copies == want
    live = [[c for m, c in enumerate(monitor.copies) if stops[m] >= e] for e in epochs]
    partner = monitor.partners
    live = [[*cs, *(partner[monitor.copies.index(c)] for c in cs)] for cs in live]
    assert calls.rows == [max(calls.sizes[c] for c in cs) for cs in live]
    assert min(calls.rows) < max(calls.rows)  # the oversampled (largest) copies stopped early
    if model_fn is early_cnn:  # one by one: the lone model ran once per live copy
        assert calls.lone_calls == want
    assert sorted(packed.deciders) == sorted(lone.deciders)
    for key, got in packed.deciders.items():
        alone = lone.deciders[key]
        assert got.best_epoch == alone.best_epoch, key
        if not got.refit:  # (a packed refit copy reports its partner's epochs run)
            assert got.epochs_run == alone.epochs_run, key
        for a, b in zip(got.weights, alone.weights, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=str(key))
