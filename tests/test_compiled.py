"""The compiled packed fit on the JAX backend (keras_imbalance.comparison._compiled): it trains
each copy as the step-by-step Keras fit does, freezes a stopped copy at its stop, packs any
model (Sequential CNN, functional with two inputs, subclassed) by vectorising its
``stateless_call``, and falls back to the per-copy stack, with a note, for a model that
cannot be vectorised.

The tests run on the JAX backend; under another backend one test runs this file again in a
subprocess with ``KERAS_BACKEND=jax`` (skipped when jax is not installed).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _jax_rerun import from_another_backend, rerun_on_jax  # noqa: E402
from keras_imbalance.comparison import (  # noqa: E402
    KINDS,
    TrainingSettings,
    _compiled,
    _fold,
    _packing,
    linear_model,
)
from keras_imbalance.comparison._strategies import LossSpec  # noqa: E402
from test_packing import EXACT, _lone, _three_classes, assert_copies_match  # noqa: E402

STRATEGIES = KINDS["multiclass"].strategies  # the registry of one class per row
HAS_JAX = importlib.util.find_spec("jax") is not None


def _backend() -> str:
    import keras

    return keras.backend.backend()


on_jax = pytest.mark.skipif(
    _backend() != "jax",
    reason="the compiled fit runs on the JAX backend (test_the_compiled_tests_pass_on_jax "
    "runs these in a KERAS_BACKEND=jax subprocess)",
)


@from_another_backend
def test_the_compiled_tests_pass_on_jax():
    done = rerun_on_jax(__file__)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    # every test ran there but this one
    assert re.match(r"\d+ passed, 1 skipped in ", done.stdout.splitlines()[-1]), done.stdout


class _Calls:
    """Records the nets that went through the compiled fit."""

    def __init__(self, monkeypatch):
        self.nets = []
        real = _compiled.fit

        def record(net, *args):
            self.nets.append(net)
            return real(net, *args)

        monkeypatch.setattr(_compiled, "fit", record)


def _same_fold(a, b, atol):
    assert a.deciders.keys() == b.deciders.keys()
    for key, d in a.deciders.items():
        e = b.deciders[key]
        assert (d.best_epoch, d.epochs_run, d.refit) == (e.best_epoch, e.epochs_run, e.refit), key
        for got, want in zip(d.weights, e.weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=atol, err_msg=str(key))


@on_jax
@pytest.mark.parametrize(("batch", "atol"), [(10_000, 1e-5), (16, 1e-4)], ids=["full", "mini"])
def test_the_compiled_fold_equals_the_step_by_step_fold(monkeypatch, batch, atol):
    # same seeds, same rows, same steps: early stopping per copy, refit partners, snapshots;
    # full batch to 1e-5, mini-batches (copies grouped by batch size) to float rounding
    x, y = _three_classes()
    settings = TrainingSettings(batch_size=batch, epochs=8, patience=2, random_state=0)
    strategies = [STRATEGIES[s] for s in EXACT]
    calls = _Calls(monkeypatch)
    compiled = _fold.fit_fold(linear_model, strategies, x, y, np.arange(y.size), settings, 3, 3)
    assert calls.nets and all(n.compiled for n in calls.nets)
    monkeypatch.setenv(_compiled.ENGINE_ENV, "0")
    stepwise = _fold.fit_fold(linear_model, strategies, x, y, np.arange(y.size), settings, 3, 3)
    assert len(calls.nets) == 1  # the second fold ran in a Keras fit
    _same_fold(compiled, stepwise, atol)


@on_jax
def test_a_loss_holding_every_copys_constants_keeps_the_copies_in_order(monkeypatch):
    # multi-label: the packed binary loss keeps its per-copy tables inside (not passed to the
    # program), so the copies stay in their order in one group; copies of different sizes
    # (ml_ros, mlsmote add rows) would otherwise be re-ordered by batch size
    from keras_imbalance.comparison.kinds.multilabel import (
        MULTILABEL_STRATEGIES,
        MultilabelTarget,
        rarest_label,
    )

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    y = np.stack([x[:, 0] > 0.1, x[:, 1] > 1.0, x[:, 2] - x[:, 3] > 1.5], axis=1).astype(int)
    settings = TrainingSettings(batch_size=10_000, epochs=3, patience=1, target="multilabel")
    target = MultilabelTarget(3, rarest_label(y, ["a", "b", "c"])[0])
    names = ["none", "balanced", "focal", "ml_ros", "mlsmote"]
    strategies = [MULTILABEL_STRATEGIES[s] for s in names]

    def fold():
        return _fold.fit_fold(
            _tanh_adam, strategies, x, y, np.arange(len(y)), settings, 7, 3, target=target
        )

    calls = _Calls(monkeypatch)
    compiled = fold()
    assert calls.nets and calls.nets[0].compiled
    monkeypatch.setenv(_compiled.ENGINE_ENV, "0")
    _same_fold(compiled, fold(), 1e-5)


def _tanh_adam(input_shape, n_classes):
    import keras

    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(n_classes),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


@on_jax
@pytest.mark.parametrize("compile_s", [1e9, 0.0], ids=["masked", "re-packed"])
def test_a_stopped_copy_keeps_its_best_epoch_and_trains_no_further(monkeypatch, compile_s):
    # two copies of one recipe (each its own batch order); copy 0's score peaks at epoch 2 (patience 1: it stops after epoch
    # 3), copy 1's keeps rising until the last epoch (6). Copy 0 is frozen by a mask, or
    # packed out of the program when a compilation is free.
    monkeypatch.setattr(_compiled, "_COMPILE_S", [compile_s])
    x, y = _three_classes()
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    n = y.size

    def train(epochs, monitor_of=None):
        sample = np.repeat(x[:8, None], 2, axis=1)
        net = _packing.build_net(_tanh_adam, (3,), 3, 2, 5, sample)
        _packing.compile_net(net, [LossSpec(), LossSpec()], 3, TrainingSettings())
        rows = _packing.PackedRows(x, y, [np.arange(n)] * 2, [np.ones(n)] * 2, 3, 0)
        callbacks = [] if monitor_of is None else [monitor_of(net)]
        _packing.fit(net, rows, epochs, callbacks)
        return net, callbacks

    state = {}

    def score(copy, rule, logits):
        epoch = state["monitor"].epochs_run
        return -abs(epoch - 2) if copy == 0 else epoch

    def monitor_of(net):
        val = np.repeat(x[:5, None], 2, axis=1)
        state["monitor"] = _packing.CopyMonitor(
            net, val, {0: ["argmax"], 1: ["argmax"]}, score, patience=1
        )
        return state["monitor"]

    net, (monitor,) = train(6, monitor_of)
    assert net.compiled and monitor.stopped == [3, None] and monitor.epochs_run == 6
    final = net.all_copy_weights([0, 1])
    after = {e: train(e)[0].all_copy_weights([0, 1]) for e in (2, 3, 6)}  # no monitor
    for got, want in zip(monitor.best_weights[0]["argmax"], after[2][0], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # its best epoch
    for got, want in zip(final[0], after[3][0], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # frozen at its stop
    for got, want in zip(final[1], after[6][1], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # the other trained on
    assert not np.allclose(final[0][0], final[1][0])


def seq_cnn(input_shape, n_classes):
    import keras

    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(3, 3, activation="tanh"),
            keras.layers.Flatten(),
            keras.layers.Dense(n_classes),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def pooled_cnn(input_shape, n_classes):
    """A CNN with max pooling over an odd size (5 x 5 -> 3 x 3, padded as ``same``)."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(3, 2, activation="tanh"),
            keras.layers.MaxPooling2D(2, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(n_classes),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def two_inputs(input_shape, n_classes):
    """A functional model with two inputs (two column groups), fed by a one-input wrapper
    (compare passes one array per row)."""
    import keras

    left, right = keras.Input((2,)), keras.Input((input_shape[0] - 2,))
    h = keras.layers.Concatenate()(
        [keras.layers.Dense(3, activation="tanh")(left), keras.layers.Dense(2)(right)]
    )
    inner = keras.Model([left, right], keras.layers.Dense(n_classes)(h))
    rows = keras.Input(input_shape)
    model = keras.Model(rows, inner([rows[:, :2], rows[:, 2:]]))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def subclassed(input_shape, n_classes):
    import keras

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(4, activation="tanh")
            self.out = keras.layers.Dense(n_classes)

        def call(self, x):
            return self.out(self.hidden(x))

    model = Net()
    model(np.zeros((1, *input_shape), dtype=np.float32))  # build
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


for _builder in (seq_cnn, pooled_cnn, two_inputs, subclassed):
    _builder.fixed_epochs = 3


@on_jax
@pytest.mark.parametrize(
    "model_fn", [seq_cnn, pooled_cnn, two_inputs, subclassed], ids=lambda f: f.__name__
)
def test_any_model_is_packed_and_each_copy_equals_its_lone_fit(monkeypatch, model_fn):
    import jax

    from keras_imbalance.comparison import _pooling

    x, y = _three_classes()
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    names = EXACT
    pooled = []  # on CPU the compiled fold's max pooling is _pooling's (Keras' fit keeps its own)
    window_max = _pooling.window_max
    monkeypatch.setattr(_pooling, "window_max", lambda *a: pooled.append(a[1:]) or window_max(*a))
    if model_fn in (
        seq_cnn,
        pooled_cnn,
    ):  # 6 x 6 images: the loss strategies (resamplers take tables)
        rng = np.random.default_rng(2)
        x = rng.normal(size=(y.size, 6, 6, 1)).astype(np.float32) + y[:, None, None, None]
        names = ["none", "balanced", "focal", "logit_adjusted", "ldam"]
    else:
        x = np.c_[x, x[:, :1] * x[:, 1:2]].astype(np.float32)  # 4 columns
    seed, epochs = 7, 3
    settings = TrainingSettings(batch_size=10_000, epochs=epochs, standardize=False)
    calls = _Calls(monkeypatch)
    fitted = _fold.fit_fold(
        model_fn, [STRATEGIES[s] for s in names], x, y, np.arange(y.size), settings, seed, 3
    )
    assert fitted.fits == 1 and len(calls.nets) == 1 and calls.nets[0].compiled
    assert all(d.note == "" for d in fitted.deciders.values())
    assert_copies_match(fitted, epochs, lambda name: _lone(model_fn, name, x, y, seed, epochs))
    on_cpu = jax.default_backend() == "cpu"
    assert set(pooled) == ({((2, 2), True, True)} if model_fn is pooled_cnn and on_cpu else set())


@on_jax
def test_a_convolutional_models_steps_called_apart_equal_the_compiled_loop(monkeypatch):
    # on CPU a CNN's copies are unrolled and its steps run one compiled call each (XLA ran
    # its gradients 4-5x slower inside a loop); the same fold with the steps in one compiled
    # loop gives the same copies (mini-batches: several steps an epoch, copies in groups)
    x, y = _three_classes()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(y.size, 6, 6, 1)).astype(np.float32) + y[:, None, None, None]
    names = ["none", "balanced", "focal", "random_over", "random_under"]
    settings = TrainingSettings(batch_size=16, epochs=3, standardize=False, random_state=0)

    def fold():
        monkeypatch.setattr(_compiled, "_FUNCTIONS", {})  # no program of the other kind
        strategies = [STRATEGIES[s] for s in names]
        return _fold.fit_fold(seq_cnn, strategies, x, y, np.arange(y.size), settings, 7, 3)

    import jax

    calls = _Calls(monkeypatch)
    on_cpu = jax.default_backend() == "cpu"
    assert _compiled._steps_apart(seq_cnn((6, 6, 1), 3)) == on_cpu

    def compiled_epochs():  # a compiled loop has .lower, steps called apart a Python loop
        return {hasattr(f, "lower") for k, f in _compiled._FUNCTIONS.items() if k[0] == "epoch"}

    apart = fold()
    assert compiled_epochs() == {not on_cpu}
    monkeypatch.setattr(_compiled, "_steps_apart", lambda lone: False)
    looped = fold()
    assert compiled_epochs() == {True}
    assert len(calls.nets) == 2 and all(n.compiled for n in calls.nets)
    _same_fold(apart, looped, 1e-5)


def host_feature(input_shape, n_classes):
    """A model that computes a feature on the host (``jax.pure_callback`` without a
    ``vmap_method``): it trains in a Keras fit, but cannot be vectorised."""
    import jax
    import keras

    class HostTanh(keras.layers.Layer):
        def call(self, x):
            shape = jax.ShapeDtypeStruct(x.shape, "float32")
            found = jax.pure_callback(lambda a: np.tanh(a).astype(np.float32), shape, x)
            return jax.lax.stop_gradient(found)

    rows = keras.Input(input_shape)
    h = keras.layers.Concatenate()([rows, HostTanh()(rows)])
    model = keras.Model(rows, keras.layers.Dense(n_classes)(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


host_feature.fixed_epochs = 2


@on_jax
def test_a_model_that_cannot_be_vectorised_falls_back_with_its_note(monkeypatch):
    x, y = _three_classes()
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    settings = TrainingSettings(batch_size=10_000, epochs=2, standardize=False, random_state=0)
    calls = _Calls(monkeypatch)
    names = ["none", "balanced", "focal"]
    fitted = _fold.fit_fold(
        host_feature, [STRATEGIES[s] for s in names], x, y, np.arange(y.size), settings, 7, 3
    )
    assert calls.nets == []  # trained by the per-copy stack in a Keras fit
    notes = {d.note for d in fitted.deciders.values()}
    assert len(notes) == 1
    (note,) = notes
    assert note.startswith("copies trained one after the other: the model cannot be vectorised")
    assert "NotImplementedError: vmap is only supported for the pure_callback" in note
    assert "\n" not in note
    assert_copies_match(fitted, 2, lambda name: _lone(host_feature, name, x, y, 7, 2))


@on_jax
def test_the_compilation_cache_folder_follows_its_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(_compiled.CACHE_ENV, str(tmp_path / "jax"))
    assert _compiled.cache_dir() == str(tmp_path / "jax")
    monkeypatch.setenv(_compiled.CACHE_ENV, "off")
    assert _compiled.cache_dir() is None
    monkeypatch.delenv(_compiled.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _compiled.cache_dir() == os.path.join(str(tmp_path), "keras-imbalance", "jax")


@on_jax
def test_dropout_draws_one_fresh_mask_per_step_shared_by_the_copies():
    # the copies' seed states are equal: the vectorised model draws one mask for all copies
    # (not one per copy), a correct dropout for each (units dropped at rate 0.5, rescaled by
    # 2, a new mask at the next step), and the one new state goes to every slot
    import jax.numpy as jnp

    from keras_imbalance.comparison import mlp_model

    lone = mlp_model((4,), 2, width=256, dropout=0.5)
    assert _compiled._seed_states(lone) == [0]
    model = _compiled.Stacked(lone, 3, ("test", 1))
    tv, ntv = model.state
    x = jnp.ones((64, 3, 4), "float32")
    run = _compiled._vmapped(lone, True)
    out, new_ntv, _ = run(tv, ntv, x)
    out = np.asarray(out)
    np.testing.assert_array_equal(out[:, 0], out[:, 1])  # same rows, same weights, one mask
    np.testing.assert_array_equal(out[:, 0], out[:, 2])
    state = np.asarray(new_ntv[0])
    assert (state == state[0]).all() and not np.array_equal(state[0], np.asarray(ntv[0])[0])
    # the hidden layer's dropped share, from the mask itself: h_train = mask * h / (1 - rate)
    hidden = [layer for layer in lone.layers if type(layer).__name__ == "Dense"][0]

    def hidden_out(t, n, training):
        masked = lone.layers[1]  # the Dropout after the hidden Dense
        h = hidden.stateless_call(t[:2], [], x[:, 0])[0]
        return masked.stateless_call([], n, h, training=training)[0]

    t0 = [v[0] for v in tv]
    trained = np.asarray(hidden_out(t0, [ntv[0][0]], True))
    plain = np.asarray(hidden_out(t0, [ntv[0][0]], False))
    live = plain > 0
    kept = trained[live] != 0
    assert 0.4 < kept.mean() < 0.6
    np.testing.assert_allclose(trained[live][kept], 2 * plain[live][kept], rtol=1e-6)
    again = np.asarray(hidden_out(t0, [new_ntv[0][0]], True))
    assert not np.array_equal(again != 0, trained != 0)  # the next step: a new mask
