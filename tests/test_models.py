"""keras_imbalance.models: the packed ensemble (distinct members, exact balanced undersamples
redrawn every step, save/load in a fresh process, the comparison engine's packed form) and
the periodic embeddings (shapes, a value by hand), plus ``comparison.with_options``."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_imbalance.comparison import (
    compare,
    easy_ensemble_model,
    fit_strategy,
    linear_model,
    mlp_model,
    with_options,
)
from keras_imbalance.models import (
    EnsembleDense,
    PackedEnsemble,
    PeriodicEmbedding,
    balanced_member_mask,
    packed_ensemble,
)


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.int64)
    y[:3] = 1
    x = (rng.normal(size=(n, 5)) + 1.5 * y[:, None] * np.array([1, -1, 0.5, 0, 0])).astype(
        "float32"
    )
    return x, y


def _np(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


# --------------------------------------------------------------------------------------------
# the members' undersamples
# --------------------------------------------------------------------------------------------


@pytest.mark.backend
def test_each_member_keeps_an_exactly_balanced_undersample():
    rng = np.random.default_rng(1)
    # 30 rows of class 0, 12 of class 1, 5 of class 2, and 6 rows of weight 0 (padding)
    labels = np.r_[np.zeros(30), np.ones(12), np.full(5, 2), rng.integers(0, 3, 6)].astype(int)
    weights = np.r_[np.ones(47), np.zeros(6)].astype("float32")
    order = rng.permutation(labels.size)
    labels, weights = labels[order], weights[order]
    keys = rng.random((labels.size, 1, 6)).astype("float32")  # 6 members
    mask = _np(balanced_member_mask(labels[:, None], weights[:, None], keys, 3))[:, 0, :]
    kept = mask > 0
    assert not kept[weights == 0].any()  # padding is never drawn
    for m in range(6):
        counts = np.bincount(labels[kept[:, m]], minlength=3)
        np.testing.assert_array_equal(counts, [5, 5, 5])
        assert kept[(labels == 2) & (weights > 0), m].all()  # every row of the smallest class
        # a kept row weighs n / kept = 47 / 15: the member's mean loss is over its own rows
        np.testing.assert_allclose(mask[kept[:, m], m], 47 / 15, rtol=1e-6)
        # the kept rows of class 0 are those with the 5 smallest keys of the class
        rows = np.flatnonzero((labels == 0) & (weights > 0))
        smallest = rows[np.argsort(keys[rows, 0, m])[:5]]
        assert set(np.flatnonzero(kept[:, m] & (labels == 0))) == set(smallest)
    # members draw different rows
    assert len({tuple(np.flatnonzero(kept[:, m])) for m in range(6)}) > 1


@pytest.mark.backend
def test_the_members_weighted_class_totals_are_equal_whatever_the_weights():
    rng = np.random.default_rng(2)
    labels = np.r_[np.zeros(20), np.ones(5)].astype(int)[:, None]
    keys = rng.random((25, 1, 3)).astype("float32")
    for weights in (
        np.where(labels == 0, 25 / 40, 25 / 10),  # 'balanced' class weights
        rng.uniform(0.5, 2.0, (25, 1)),  # per-row weights
    ):
        weights = weights.astype("float32")
        mask = _np(balanced_member_mask(labels, weights, keys, 2))[:, 0, :]
        for m in range(3):
            kept = mask[:, m] > 0
            np.testing.assert_array_equal(np.bincount(labels[kept, 0]), [5, 5])  # not twice
            totals = [
                np.sum((weights[:, 0] * mask[:, m])[kept & (labels[:, 0] == c)]) for c in (0, 1)
            ]
            np.testing.assert_allclose(totals[0], totals[1], rtol=1e-5)
            # the kept weight (25 rows, 10 kept): 2.5 x the kept rows' own total
            own = np.sum(weights[kept, 0])
            np.testing.assert_allclose(sum(totals), 2.5 * own, rtol=1e-5)
    # a class without rows in the batch: nothing is kept (the batch trains no member)
    mask = _np(balanced_member_mask(np.zeros((4, 1), int), np.ones((4, 1)), keys[:4], 2))
    np.testing.assert_array_equal(mask, 0.0)


def test_undersamples_are_redrawn_at_every_step_of_fit(monkeypatch):
    x, y = _data(80)
    model = packed_ensemble((5,), 2, k=3)
    model.compile(optimizer=model.optimizer, loss=model.loss, run_eagerly=True)  # read the masks
    drawn = []
    original = PackedEnsemble.member_masks

    def record(self, labels, weights):
        mask = original(self, labels, weights)
        drawn.append((_np(labels).ravel().astype(int), _np(mask)[:, 0, :]))
        return mask

    monkeypatch.setattr(PackedEnsemble, "member_masks", record)
    model.fit(x, y, batch_size=80, epochs=3, shuffle=False, verbose=0)  # one step per epoch
    assert len(drawn) == 3
    n1 = int(y.sum())
    for labels, mask in drawn:
        for m in range(3):
            np.testing.assert_array_equal(np.bincount(labels[mask[:, m] > 0]), [n1, n1])
    # a new undersample of the majority class every epoch, for every member
    for m in range(3):
        assert not np.array_equal(drawn[0][1][:, m], drawn[1][1][:, m])
        assert not np.array_equal(drawn[1][1][:, m], drawn[2][1][:, m])


def test_member_sampling_none_keeps_every_row():
    model = packed_ensemble((5,), 2, k=2, member_sampling="none")
    mask = _np(model.member_masks(np.array([[0], [0], [1]]), np.array([[1.0], [0.0], [2.0]])))
    np.testing.assert_array_equal(mask[:, 0, :], [[1, 1], [0, 0], [1, 1]])


# --------------------------------------------------------------------------------------------
# the ensemble
# --------------------------------------------------------------------------------------------


@pytest.mark.backend
@pytest.mark.parametrize("shared", ["none", "batchensemble"])
def test_members_are_distinct_and_the_output_averages_their_probabilities(shared):
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = packed_ensemble((5,), 2, k=4, shared=shared)
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    z = _np(model.member_logits(x, training=False))  # (n, k, 2)
    proba = np.exp(z - z.max(-1, keepdims=True))
    proba /= proba.sum(-1, keepdims=True)
    for a in range(4):
        for b in range(a):
            assert np.abs(proba[:, a] - proba[:, b]).max() > 1e-3, (a, b)
    out = _np(model(x, training=False))
    np.testing.assert_allclose(np.exp(out), proba.mean(axis=1), rtol=1e-5, atol=1e-6)


def test_batchensemble_shares_one_kernel_with_rank_one_adapters():
    shared = EnsembleDense(3, members=4, shared=True, adapter_init="random_signs")
    shared.build((None, 5))
    independent = EnsembleDense(3, members=4)
    independent.build((None, 5))
    assert [tuple(w.shape) for w in shared.weights] == [(5, 3), (4, 5), (4, 3), (4, 3)]
    assert [tuple(w.shape) for w in independent.weights] == [(4, 5, 3), (4, 3)]
    assert set(np.unique(_np(shared.r))) <= {-1.0, 1.0}
    # member m: ((x * r_m) @ W) * s_m + b_m
    x = np.random.default_rng(0).normal(size=(2, 5)).astype("float32")
    w, r, s, b = (_np(v) for v in shared.weights)
    expected = np.stack([((x * r[m]) @ w) * s[m] + b[m] for m in range(4)], axis=1)
    np.testing.assert_allclose(_np(shared(x)), expected, rtol=1e-5, atol=1e-6)


def test_a_packed_copy_computes_what_the_lone_model_with_its_weights_computes():
    x, _ = _data(10)
    for options in ({}, {"shared": "batchensemble", "embeddings": "periodic", "depth": 2}):
        lone = packed_ensemble((5,), 3, k=3, **options)
        packed = packed_ensemble.packed((5,), 3, 4, k=3, **options)
        rng = np.random.default_rng(0)
        packed.set_weights([rng.normal(size=w.shape) * 0.3 for w in packed.get_weights()])
        inputs = rng.normal(size=(10, 4, 5)).astype("float32")
        out = _np(packed(inputs, training=False))
        for c in range(4):
            lone.set_weights([w[c] for w in packed.get_weights()])
            expected = _np(lone(inputs[:, c], training=False))
            np.testing.assert_allclose(out[:, c], expected, rtol=1e-5, atol=1e-5)


def test_compare_trains_the_ensemble_in_its_packed_form():
    x, y = _data(150)
    result = compare(
        x,
        y,
        model_fn={"ens": with_options(packed_ensemble, k=3), "mlp": mlp_model},
        strategies=["none", "balanced", "random_under"],
        cv=2,
        epochs=4,
        metric="geometric_mean",
        random_state=0,
    )
    board = result.leaderboard
    assert {"ens", "mlp"} <= set(board["model"])
    assert board["mean"].notna().all()
    model = fit_strategy(x, y, "none", model_fn=with_options(packed_ensemble, k=3), epochs=3)
    proba = np.asarray(model.predict(x, verbose=0))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


CHILD = (
    "import os, sys, numpy as np; os.environ.setdefault('KERAS_BACKEND', 'torch');"
    "import keras;"
    "bare = sys.argv[3] == 'bare';"  # load without importing keras_imbalance
    "bare or __import__('keras_imbalance.models');"
    "x = np.load(sys.argv[1]);"
    "out = [np.asarray(keras.models.load_model(p).predict(x, verbose=0)) for p in sys.argv[4:]];"
    "assert not bare or not any(m.startswith('keras_imbalance') for m in sys.modules);"
    "np.savez(sys.argv[2], *out)"
)


def _load_in_fresh_process(tmp_path, x, paths, bare):
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    out = tmp_path / f"p-{bare}.npz"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "x.npy"), str(out)]
        + ["bare" if bare else "import"]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = np.load(out)
    return [got[f"arr_{i}"] for i in range(len(paths))]


@pytest.mark.slow
def test_the_ensemble_saves_and_loads_in_a_fresh_process(tmp_path):
    x, y = _data()
    paths, expected = [], []
    for i, options in enumerate(
        ({"shared": "none"}, {"embeddings": "periodic", "member_sampling": "none", "k": 3})
    ):
        model = packed_ensemble((5,), 2, **options)
        model.fit(x, y, batch_size=32, epochs=2, verbose=0)
        paths.append(tmp_path / f"ens{i}.keras")
        model.save(paths[-1])
        expected.append(np.asarray(model.predict(x, verbose=0)))
    got = _load_in_fresh_process(tmp_path, x, paths, bare=False)
    for g, want in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)
    assert keras.models.load_model(paths[1]).get_config()["embeddings"] == "periodic"
    # fit_strategy's model (standardisation + the ensemble + softmax) is made of built-in
    # layers only: it loads with keras.models.load_model, without importing keras_imbalance
    model = fit_strategy(x, y, "none", model_fn=easy_ensemble_model, epochs=2)
    path = tmp_path / "fitted.keras"
    model.save(path)
    (got,) = _load_in_fresh_process(tmp_path, x, [path], bare=True)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


@pytest.mark.backend
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"shared": "none", "depth": 2},
        {"embeddings": "periodic", "depth": 0},
        {"embeddings": "periodic", "shared": "none", "k": 3},
    ],
)
def test_to_functional_predicts_what_the_ensemble_predicts(options):
    x, y = _data(60)
    model = packed_ensemble((5,), 3 if options.get("k") == 3 else 2, **options)
    labels = np.minimum(y + (x[:, 2] > 1), model.n_classes - 1)
    model.fit(x, labels, batch_size=30, epochs=2, verbose=0)
    functional = model.to_functional()
    assert all(type(layer).__module__.startswith("keras.") for layer in functional.layers)
    np.testing.assert_allclose(
        _np(functional(x)), _np(model(x, training=False)), rtol=1e-5, atol=1e-5
    )
    lite = PackedEnsemble(2, k=2, embeddings="periodic")
    lite.embedding.lite = True  # the shared per-feature map of PeriodicEmbedding(lite=True)
    lite.build((None, 4, 2))  # rows of rank 2 are flattened
    rows = np.random.default_rng(0).normal(size=(3, 4, 2)).astype("float32")
    np.testing.assert_allclose(
        _np(lite.to_functional()(rows)), _np(lite(rows)), rtol=1e-5, atol=1e-5
    )


# --------------------------------------------------------------------------------------------
# periodic embeddings
# --------------------------------------------------------------------------------------------


@pytest.mark.backend
def test_periodic_embedding_shapes_and_a_value_by_hand():
    layer = PeriodicEmbedding(n_frequencies=1, d_embedding=1)
    layer.build((None, 2))
    assert [tuple(w.shape) for w in layer.weights] == [(2, 1), (2, 2, 1), (2, 1)]
    # feature 0: c = 1, x = 0.25: v = pi / 2, (cos v, sin v) = (0, 1) -> relu(0*2 + 1*3 - 1) = 2
    # feature 1: c = 0.5, x = 1: v = pi, (cos v, sin v) = (-1, 0) -> relu(-1*4 + 0*5 + 1) = 0
    layer.set_weights(
        [
            np.array([[1.0], [0.5]]),
            np.array([[[2.0], [3.0]], [[4.0], [5.0]]]),
            np.array([[-1.0], [1.0]]),
        ]
    )
    out = _np(layer(np.array([[0.25, 1.0]], dtype="float32")))
    np.testing.assert_allclose(out, [[2.0, 0.0]], atol=1e-6)
    # x = 0: v = 0, (cos v, sin v) = (1, 0): relu(2 - 1) = 1 and relu(4 + 1) = 5
    out = _np(layer(np.array([[0.0, 0.0]], dtype="float32")))
    np.testing.assert_allclose(out, [[1.0, 5.0]], atol=1e-6)
    assert tuple(PeriodicEmbedding(d_embedding=4)(np.ones((3, 6), "float32")).shape) == (3, 24)
    lite = PeriodicEmbedding(n_frequencies=2, d_embedding=3, lite=True)
    assert tuple(lite(np.ones((3, 6), "float32")).shape) == (3, 18)
    assert [tuple(w.shape) for w in lite.weights] == [(6, 2), (4, 3), (1, 3)]


@pytest.mark.backend
def test_periodic_embedding_copies_are_independent():
    packed = PeriodicEmbedding(n_frequencies=3, d_embedding=2, copies=4)
    x = np.random.default_rng(0).normal(size=(5, 4, 3)).astype("float32")
    out = _np(packed(x))
    assert out.shape == (5, 4, 6)
    lone = PeriodicEmbedding(n_frequencies=3, d_embedding=2)
    lone.build((None, 3))
    for c in range(4):
        lone.set_weights([w[c] for w in packed.get_weights()])
        np.testing.assert_allclose(out[:, c], _np(lone(x[:, c])), rtol=1e-5, atol=1e-6)


def test_mlp_with_periodic_embeddings_and_its_packed_form():
    model = mlp_model((5,), 3, embeddings="periodic", sigma=0.5)
    assert model.output_shape == (None, 3)
    assert model.get_layer("embedding").sigma == 0.5
    packed = with_options(mlp_model, embeddings="periodic", sigma=0.5).packed((5,), 3, 2)
    x = np.random.default_rng(0).normal(size=(4, 2, 5)).astype("float32")
    out = _np(packed(x))
    assert out.shape == (4, 2, 3)
    packed.set_weights([np.stack([w, w * 0.5]) for w in model.get_weights()])
    np.testing.assert_allclose(
        _np(packed(x))[:, 0], _np(model(x[:, 0], training=False)), rtol=1e-5, atol=1e-5
    )


# --------------------------------------------------------------------------------------------
# builders and arguments
# --------------------------------------------------------------------------------------------


def test_with_options_keeps_the_packed_form_and_fixed_epochs():
    linear = with_options(linear_model, l2=1e-2)
    assert linear.fixed_epochs == 50
    assert linear.__qualname__ == "linear_model(l2=0.01)"
    packed = linear.packed((3,), 2, 5)
    packed(np.zeros((1, 5, 3), "float32"))
    assert packed.get_weights()[0].shape == (5, 3, 2)
    assert packed.stack[-1].kernel_regularizer.l2 == pytest.approx(1e-2)
    ens = with_options(packed_ensemble, k=2, shared="batchensemble")
    assert ens.fixed_epochs == packed_ensemble.fixed_epochs == 30
    model = ens.packed((3,), 2, 4)
    assert model.k == 2 and model.shared == "batchensemble" and model.copies == 4
    assert ens((3,), 2).k == 2


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: packed_ensemble((4,), 2, k=0), "k"),
        (lambda: packed_ensemble((4,), 2, shared="tabm"), "shared"),
        (lambda: packed_ensemble((4,), 2, member_sampling="bagging"), "member_sampling"),
        (lambda: packed_ensemble((4,), 2, embeddings="ple"), "embeddings"),
        (lambda: packed_ensemble((4,), 2, dropout=1.0), "dropout"),
        (lambda: packed_ensemble((4,), 1), "n_classes"),
        (lambda: packed_ensemble((0,), 2), "input_shape"),
        (lambda: mlp_model((4,), 2, embeddings="periodical"), "embeddings"),
        (lambda: PeriodicEmbedding(sigma=0), "sigma"),
        (lambda: EnsembleDense(3, members=2, adapter_init="zeros"), "adapter_init"),
        (lambda: with_options(mlp_model, widht=3), "options"),
        (lambda: with_options("mlp"), "builder"),
    ],
)
def test_bad_arguments_get_one_line_naming_the_argument(call, name):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    text = str(info.value)
    assert f"`{name}`" in text and "\n" not in text


def test_the_output_is_the_log_of_the_mean_probability():
    model = PackedEnsemble(3, k=2, depth=0)
    model.build((None, 2))
    model.head.set_weights([np.zeros((2, 2, 3)), np.array([[0.0, 0.0, 0.0], [math.log(2), 0, 0]])])
    # member 0: (1/3, 1/3, 1/3); member 1: (1/2, 1/4, 1/4); mean (5/12, 7/24, 7/24)
    out = _np(model(np.zeros((1, 2), "float32")))
    np.testing.assert_allclose(np.exp(out[0]), [5 / 12, 7 / 24, 7 / 24], rtol=1e-6)
