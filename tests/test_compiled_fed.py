"""The compiled fold fed from the host (keras_imbalance.comparison._compiled, JAX backend): a
store of rows read on demand (image files) is never put on the device whole; the epoch program
takes a chunk of steps' rows per call (8-bit pixels where the rows are 8-bit images / 255) and
trains every copy as the program with the rows resident does.

The tests run on the JAX backend; under another backend one test runs this file again in a
subprocess with ``KERAS_BACKEND=jax`` (skipped when jax is not installed).
"""

from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _jax_rerun import from_another_backend, rerun_on_jax  # noqa: E402
from keras_imbalance.comparison import TrainingSettings, _compiled, _data, _packing  # noqa: E402
from keras_imbalance.comparison._strategies import LossSpec  # noqa: E402
from test_compiled import on_jax, seq_cnn  # noqa: E402
from test_images_lazy import _compare_eager_and_lazy, _eager_and_lazy, _folder  # noqa: E402


@from_another_backend
def test_the_fed_tests_pass_on_jax():
    done = rerun_on_jax(__file__)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.match(r"\d+ passed, 1 skipped in ", done.stdout.splitlines()[-1]), done.stdout


class _Gathered:
    """Records each chunk the fed program gets: (steps that run, steps of the call, dtype)."""

    def __init__(self, monkeypatch):
        self.calls = []
        real = _compiled._Run._gather

        def record(run, index, weight, *buffer):
            xs, ys, ws = real(run, index, weight, *buffer)
            self.calls.append((index.shape[0], xs.shape[0], str(xs.dtype)))
            return xs, ys, ws

        monkeypatch.setattr(_compiled._Run, "_gather", record)


@pytest.fixture
def images(tmp_path):
    return _eager_and_lazy(_folder(tmp_path / "imgs", {"a": 30, "b": 12, "c": 6}, seed=4), (6, 6))


def _train(store, y, epochs=3, steps=5):
    """Three copies (their own rows and weights; one redraws each epoch) of a CNN trained on
    ``store`` in the compiled fit; their weights."""
    n, k = len(y), 3
    sample = np.repeat(np.asarray(store[np.arange(8)])[:, None], 3, axis=1)
    net = _packing.build_net(seq_cnn, (6, 6, 3), k, 3, 5, sample)
    _packing.compile_net(net, [LossSpec()] * 3, k, TrainingSettings())
    counts = np.bincount(y[:n], minlength=k)
    rows = [np.arange(n), np.r_[np.arange(n), np.flatnonzero(y == 2)], np.arange(0, n, 2)]
    weights = [np.ones(n), np.ones(rows[1].size), (n / (k * counts))[y[rows[2]]]]
    extra = len(store) - n  # synthetic rows (in the store after the images): copy 0's too
    rows[0] = np.r_[rows[0], np.arange(n, n + extra)]
    weights[0] = np.ones(rows[0].size)

    def redraw(epoch):
        picked = np.random.default_rng(epoch).choice(n, n // 2, replace=False)
        return picked, np.full(picked.size, 2.0)

    labels = np.r_[y, np.zeros(extra, int)]
    data = _packing.PackedRows(store, labels, rows, weights, steps, 0, {1: redraw})
    _packing.fit(net, data, epochs, [])
    assert net.compiled
    return net.all_copy_weights([0, 1, 2])


def _same_weights(a: dict, b: dict) -> None:
    for c in a:
        for got, want in zip(a[c], b[c], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"copy {c}")


@on_jax
@pytest.mark.parametrize("synthetic", [0, 4], ids=["pixels", "with-synthetic-rows"])
def test_the_fed_epoch_equals_the_resident_epoch(images, monkeypatch, synthetic):
    # the same store as an array (resident on the device) and as rows read from the files
    # (fed a chunk of 2 steps per call: 5 steps are calls of 2, 2 and 1); 8-bit pixels
    # when every row is an image, float32 rows when the store has synthetic rows too
    eager, lazy = images
    n = len(eager.y)
    extra = np.linspace(0, 1, synthetic * 108, dtype=np.float32).reshape(synthetic, 6, 6, 3)
    resident = _train(np.concatenate([eager.x, extra]), eager.y)
    blocks = [_data.take(lazy.x, np.arange(n))] + ([extra] if synthetic else [])
    store = _data.LazyStack(blocks)
    assert store.eight_bit == (synthetic == 0)
    step_bytes = 3 * 16 * 108 * (1 if synthetic == 0 else 4)  # 3 copies of a 16-row batch
    monkeypatch.setattr(_compiled, "FEED_BYTES", 2 * step_bytes + 1)
    gathered = _Gathered(monkeypatch)
    fed = _train(store, eager.y)
    kind = "uint8" if synthetic == 0 else "float32"
    assert gathered.calls == [(2, 2, kind), (2, 2, kind), (1, 2, kind)] * 3
    _same_weights(fed, resident)


@on_jax
def test_eight_bit_rows_are_scaled_bit_for_bit(images):
    # every 8-bit value through the program's table equals numpy's v / 255 in float32, and
    # the codes of a store are its decoded rows times 255
    import jax

    codes = np.arange(256, dtype=np.uint8)
    scaled = jax.jit(lambda v: jax.numpy.asarray(_compiled._SCALE8)[v.astype("int32")])(codes)
    assert np.array_equal(np.asarray(scaled), codes.astype(np.float32) / np.float32(255))
    eager, lazy = images
    store = _data.LazyStack([_data.take(lazy.x, np.arange(len(eager.y)))])
    index = np.array([[3, 0, 7], [47, 3, 12]])
    assert store.codes(index).dtype == np.uint8
    assert np.array_equal(_compiled._SCALE8[store.codes(index)], eager.x[index])


def test_a_chunk_is_a_power_of_two_of_steps_within_its_bytes(monkeypatch):
    monkeypatch.setattr(_compiled, "FEED_BYTES", 1000)
    assert _compiled._chunk_steps(100, 50) == 8  # 10 steps fit: 8
    assert _compiled._chunk_steps(100, 5) == 8  # 5 steps, rounded up to a power of two
    assert _compiled._chunk_steps(100, 3) == 4
    assert _compiled._chunk_steps(5000, 50) == 1  # one step is more than the bytes: 1


@on_jax
def test_compare_on_the_lazy_folder_feeds_the_program_and_equals_the_array(tmp_path, monkeypatch):
    # compare on the eager array (rows resident) and on the lazy folder (fed 8-bit pixels):
    # the same folds and leaderboard (_compare_eager_and_lazy)
    gathered = _Gathered(monkeypatch)
    root = _folder(tmp_path / "imgs", {"a": 20, "b": 9, "c": 5}, seed=2)
    _compare_eager_and_lazy(tmp_path, root, (7, 7), ["none", "balanced", "focal"], 5)
    assert gathered.calls and {kind for _, _, kind in gathered.calls} == {"uint8"}


@on_jax
def test_predictions_read_a_bounded_chunk_of_rows(images, monkeypatch):
    # the lone model's compiled predictions on a lazy test fold decode at most
    # predict_rows rows at a time, and equal those on the array
    import keras

    eager, lazy = images
    monkeypatch.setattr(_data, "PREDICT_BYTES", 10 * 108 * 4)  # 10 images per pass
    lone = seq_cnn((6, 6, 3), 3)
    sizes = []
    take = type(lazy.x).take

    def counted(x, rows, axis=0):
        sizes.append(np.size(rows))
        return take(x, rows, axis)

    monkeypatch.setattr(type(lazy.x), "take", counted)
    view = _data.take(lazy.x, np.arange(len(eager.y)))
    got = _compiled.predict(seq_cnn, lone, view)
    assert sizes and max(sizes) == 10 and sum(sizes) == len(eager.y)
    want = keras.ops.convert_to_numpy(lone(eager.x, training=False))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
