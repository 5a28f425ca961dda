"""Losses: references (torch, Keras), identities, gradients, shapes/masks/weights, validation, DRW."""

import math

import keras
import numpy as np
import pytest
from keras import ops

import keras_imbalance.losses as L

N, K, T, H, W = 6, 4, 3, 2, 3
RNG: np.random.Generator  # the running test's own generator (see _own_rng)


@pytest.fixture(autouse=True)
def _own_rng(rng):
    """Each test (and the helpers it calls) draws from its own seeded generator, so its data
    do not depend on the tests that ran before it."""
    global RNG
    RNG = rng


def np_(x):
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def log_sigmoid(z):
    return -np.logaddexp(0.0, -z)


def logits(*shape, scale=2.0):
    return (RNG.normal(size=shape) * scale).astype("float32")


def onehot(labels, k=K):
    return np.eye(k, dtype="float32")[labels]


# ----------------------------------------------------------------------------------- public API
def test_public_names_exist_and_have_docstrings():
    for name in L.__all__:
        obj = getattr(L, name)
        assert obj.__doc__ and len(obj.__doc__.strip()) > 40, name


# ---------------------------------------------------------------------------- torch references
@pytest.mark.backend
def test_weighted_bce_equals_torch_bce_with_logits_pos_weight():
    torch = pytest.importorskip("torch")
    x, y = logits(N, K), (RNG.random((N, K)) < 0.3).astype("float32")
    for pw in (3.0, [0.5, 1.0, 2.0, 7.0]):
        ref = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw), reduction="none")(
            torch.tensor(x), torch.tensor(y)
        )
        ours = L.weighted_binary_crossentropy(y, x, pos_weight=pw, from_logits=True)
        np.testing.assert_allclose(np_(ours), ref.numpy(), rtol=1e-5, atol=1e-6)
    # the class with the default reduction = torch's mean
    ref = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([0.5, 1.0, 2.0, 7.0]))(
        torch.tensor(x), torch.tensor(y)
    )
    ours = L.WeightedBinaryCrossentropy(
        pos_weight={0: 0.5, 1: 1.0, 2: 2.0, 3: 7.0}, from_logits=True
    )
    np.testing.assert_allclose(float(ours(y, x)), float(ref), rtol=1e-5, atol=1e-6)


@pytest.mark.backend
def test_weighted_ce_equals_torch_cross_entropy_weight():
    torch = pytest.importorskip("torch")
    w = [0.2, 1.0, 3.0, 5.0]
    x, labels = logits(N, K), RNG.integers(0, K, N)
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), reduction="none")(
        torch.tensor(x), torch.tensor(labels)
    ).numpy()
    dense = L.weighted_categorical_crossentropy(onehot(labels), x, class_weight=w, from_logits=True)
    sparse = L.weighted_sparse_categorical_crossentropy(labels, x, class_weight=w, from_logits=True)
    np.testing.assert_allclose(np_(dense), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_(sparse), ref, rtol=1e-5, atol=1e-6)
    # soft targets: torch's probability-target form
    soft = RNG.dirichlet(np.ones(K), N).astype("float32")
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), reduction="none")(
        torch.tensor(x), torch.tensor(soft)
    ).numpy()
    got = L.weighted_categorical_crossentropy(soft, x, class_weight=w, from_logits=True)
    np.testing.assert_allclose(np_(got), ref, rtol=1e-5, atol=1e-6)
    # ignore_index per element; (N, T) sequence labels
    lab = RNG.integers(0, K, (N, T))
    lab[0, 1] = lab[3, 2] = -100
    xs = logits(N, T, K)
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=-100, reduction="none")(
        torch.tensor(xs).permute(0, 2, 1), torch.tensor(lab)
    ).numpy()
    got = L.weighted_sparse_categorical_crossentropy(
        lab, xs, class_weight=w, from_logits=True, ignore_class=-100
    )
    np.testing.assert_allclose(np_(got), ref, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- Keras references
@pytest.mark.backend
@pytest.mark.parametrize("shape", [(N,), (N, K), (N, T, K), (N, H, W, K)])
@pytest.mark.parametrize("from_logits", [True, False])
def test_unit_weighted_bce_equals_keras_bce(shape, from_logits):
    x = logits(*shape)
    y_pred = x if from_logits else 1.0 / (1.0 + np.exp(-x))
    y = (RNG.random(shape) < 0.4).astype("float32")
    ref = keras.losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=0.1)(y, y_pred)
    ours = L.WeightedBinaryCrossentropy(from_logits=from_logits, label_smoothing=0.1)(y, y_pred)
    np.testing.assert_allclose(float(ours), float(ref), rtol=1e-5, atol=1e-6)
    ref = keras.losses.BinaryFocalCrossentropy(gamma=1.5, from_logits=from_logits)(y, y_pred)
    ours = L.BinaryFocalCrossentropy(gamma=1.5, from_logits=from_logits)(y, y_pred)
    np.testing.assert_allclose(float(ours), float(ref), rtol=1e-5, atol=1e-6)


@pytest.mark.backend
def test_binary_focal_scalar_alpha_equals_keras_class_balancing():
    x, y = logits(N, K), (RNG.random((N, K)) < 0.3).astype("float32")
    ref = keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.3, gamma=2.0, from_logits=True
    )(y, x)
    ours = L.BinaryFocalCrossentropy(alpha=0.3, gamma=2.0, from_logits=True)(y, x)
    np.testing.assert_allclose(float(ours), float(ref), rtol=1e-5, atol=1e-6)


@pytest.mark.backend
def test_binary_focal_per_label_alpha_hand_computed():
    x, y = logits(N, K), (RNG.random((N, K)) < 0.5).astype("float32")
    alpha = np.array([0.1, 0.5, 0.75, 0.9])
    p = 1 / (1 + np.exp(-x.astype(np.float64)))
    pt = y * p + (1 - y) * (1 - p)
    at = y * alpha + (1 - y) * (1 - alpha)
    expected = -at * (1 - pt) ** 2 * np.log(pt)
    got = L.binary_focal_crossentropy(y, x, alpha=list(alpha), gamma=2.0, from_logits=True)
    np.testing.assert_allclose(np_(got), expected, rtol=1e-4, atol=1e-7)


@pytest.mark.backend
@pytest.mark.parametrize("from_logits", [True, False])
def test_unit_weighted_ce_equals_keras_ce(from_logits):
    x = logits(N, T, K)
    y_pred = x if from_logits else np.exp(log_softmax(x)).astype("float32")
    labels = RNG.integers(0, K, (N, T))
    ref = keras.losses.CategoricalCrossentropy(from_logits=from_logits)(onehot(labels), y_pred)
    ours = L.WeightedCategoricalCrossentropy([1.0] * K, from_logits=from_logits)(
        onehot(labels), y_pred
    )
    np.testing.assert_allclose(float(ours), float(ref), rtol=1e-5, atol=1e-6)
    labels[0, 0] = labels[2, 1] = K  # an ignored label outside 0..K-1
    ref = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=K)(
        labels, y_pred
    )
    ours = L.WeightedSparseCategoricalCrossentropy(
        [1.0] * K, from_logits=from_logits, ignore_class=K
    )
    np.testing.assert_allclose(float(ours(labels, y_pred)), float(ref), rtol=1e-5, atol=1e-6)
    ref = keras.losses.CategoricalFocalCrossentropy(alpha=1.0, gamma=2.0, from_logits=from_logits)
    ours = L.CategoricalFocalCrossentropy(gamma=2.0, from_logits=from_logits)
    y1 = onehot(RNG.integers(0, K, (N, T)))
    np.testing.assert_allclose(
        float(ours(y1, y_pred)), float(ref(y1, y_pred)), rtol=1e-5, atol=1e-6
    )


# --------------------------------------------------------------------------------- identities
@pytest.mark.backend
def test_focal_with_gamma_zero_is_cross_entropy():
    x, labels = logits(N, K), RNG.integers(0, K, N)
    alpha = [0.5, 1.0, 2.0, 4.0]
    ce = np_(
        L.weighted_categorical_crossentropy(onehot(labels), x, class_weight=alpha, from_logits=True)
    )
    f1 = L.categorical_focal_crossentropy(
        onehot(labels), x, alpha=alpha, gamma=0.0, from_logits=True
    )
    f2 = L.sparse_categorical_focal_crossentropy(
        labels, x, alpha=alpha, gamma=0.0, from_logits=True
    )
    np.testing.assert_allclose(np_(f1), ce, rtol=1e-6)
    np.testing.assert_allclose(np_(f2), ce, rtol=1e-6)
    np.testing.assert_allclose(
        ce,
        -log_softmax(x.astype(np.float64))[np.arange(N), labels] * np.take(alpha, labels),
        rtol=1e-5,
        atol=1e-6,
    )
    y = (RNG.random((N, K)) < 0.5).astype("float32")
    fb = L.binary_focal_crossentropy(y, x, gamma=0.0, from_logits=True)
    bce = -(y * log_sigmoid(x.astype(np.float64)) + (1 - y) * log_sigmoid(-x.astype(np.float64)))
    np.testing.assert_allclose(np_(fb), bce, rtol=1e-5, atol=1e-7)


@pytest.mark.backend
def test_longtail_identities_reduce_to_cross_entropy():
    x, labels = logits(N, K), RNG.integers(0, K, N)
    ce = -log_softmax(x.astype(np.float64))[np.arange(N), labels]
    la = L.logit_adjusted_crossentropy(labels, x, priors=[0.25] * K, sparse=True, from_logits=True)
    la0 = L.logit_adjusted_crossentropy(
        labels, x, class_counts=[90, 5, 3, 2], tau=0.0, sparse=True, from_logits=True
    )
    bs = L.balanced_softmax_crossentropy(onehot(labels), x, class_counts=[7] * K, from_logits=True)
    ldam = L.ldam_crossentropy(
        labels,
        x,
        class_counts=[90, 5, 3, 2],
        max_margin=0.0,
        scale=1.0,
        sparse=True,
        from_logits=True,
    )
    for got in (la, la0, bs, ldam):
        np.testing.assert_allclose(np_(got), ce, rtol=1e-5, atol=1e-6)
    # LDAM converges to CE as the margin vanishes
    tiny = L.ldam_crossentropy(
        labels,
        x,
        class_counts=[90, 5, 3, 2],
        max_margin=1e-6,
        scale=1.0,
        sparse=True,
        from_logits=True,
    )
    np.testing.assert_allclose(np_(tiny), ce, rtol=1e-4)


@pytest.mark.backend
def test_longtail_hand_computed_values():
    x, labels = logits(N, K), RNG.integers(0, K, N)
    counts = np.array([90.0, 5.0, 3.0, 2.0])
    pi = counts / counts.sum()
    la = L.logit_adjusted_crossentropy(
        labels, x, class_counts=counts, tau=1.5, sparse=True, from_logits=True
    )
    exp = -log_softmax(x + 1.5 * np.log(pi))[np.arange(N), labels]
    np.testing.assert_allclose(np_(la), exp, rtol=1e-5, atol=1e-6)
    # priors are scale-free; balanced softmax = logit adjustment with tau = 1
    la2 = L.logit_adjusted_crossentropy(
        labels, x, priors=list(counts * 3), tau=1.5, sparse=True, from_logits=True
    )
    np.testing.assert_allclose(np_(la2), exp, rtol=1e-5, atol=1e-6)
    bs = L.BalancedSoftmaxCrossentropy(list(counts), sparse=True, from_logits=True)(labels, x)
    np.testing.assert_allclose(
        float(bs), np.mean(-log_softmax(x + np.log(pi))[np.arange(N), labels]), rtol=1e-5, atol=1e-6
    )
    # LDAM: margins C / n^(1/4), max margin 0.5, scale 5, weights
    m = counts**-0.25
    m = 0.5 * m / m.max()
    w = np.array([0.5, 1.0, 2.0, 3.0])
    z = 5.0 * (x - onehot(labels) * m)
    exp = -log_softmax(z)[np.arange(N), labels] * w[labels]
    got = L.ldam_crossentropy(
        onehot(labels),
        x,
        class_counts=counts,
        max_margin=0.5,
        scale=5.0,
        class_weight=w,
        from_logits=True,
    )
    np.testing.assert_allclose(np_(got), exp, rtol=1e-5, atol=1e-6)


@pytest.mark.backend
def test_batch_balanced_identities_and_mean_weight_one():
    x = logits(8, 3)
    y = np.zeros((8, 3), "float32")
    y[:4, 0] = 1  # label 0 balanced
    y[:1, 1] = 1  # label 1: 1 positive of 8
    # label 2: no positives at all
    got = np_(L.batch_balanced_binary_crossentropy(y, x, from_logits=True))
    bce = -(y * log_sigmoid(x.astype(np.float64)) + (1 - y) * log_sigmoid(-x.astype(np.float64)))
    np.testing.assert_allclose(got[:, 0], bce[:, 0], rtol=1e-5)  # balanced -> plain BCE
    np.testing.assert_allclose(got[:, 2], bce[:, 2], rtol=1e-5)  # no positives -> plain BCE, finite
    np.testing.assert_allclose(got[:1, 1], 4.0 * bce[:1, 1], rtol=1e-5)  # 8 / (2 * 1)
    np.testing.assert_allclose(got[1:, 1], 8 / 14 * bce[1:, 1], rtol=1e-5)  # 8 / (2 * 7)
    # property: at logits 0 every element costs w * log 2 and the weights average 1 per label
    yb = (RNG.random((16, 5)) < 0.2).astype("float32")
    at0 = np_(
        L.batch_balanced_binary_crossentropy(yb, np.zeros((16, 5), "float32"), from_logits=True)
    )
    np.testing.assert_allclose(at0.mean(axis=0) / math.log(2), np.ones(5), rtol=1e-5, atol=1e-6)
    # 1-D targets: counts over the batch
    y1 = np.array([1, 0, 0, 0], "float32")
    np.testing.assert_allclose(
        float(L.BatchBalancedBinaryCrossentropy()(y1, np.full(4, 0.5, "float32"))),
        math.log(2),
        rtol=1e-5,
    )


# ---------------------------------------------------------------------------------- gradients
def _grad(loss, y, x):
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        t = torch.tensor(x, requires_grad=True)
        loss(y, t).backward()
        return t.grad.numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda t: loss(y, t))(x))
    import tensorflow as tf

    t = tf.Variable(x)
    with tf.GradientTape() as tape:
        value = loss(y, t)
    return tape.gradient(value, t).numpy()


ALL_LOGIT_LOSSES = [
    ("binary", L.WeightedBinaryCrossentropy(pos_weight=[1.0, 2.0, 3.0], from_logits=True)),
    ("binary", L.BinaryFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=True)),
    ("binary", L.BinaryFocalCrossentropy(gamma=0.5, from_logits=True)),
    ("binary", L.BatchBalancedBinaryCrossentropy(from_logits=True)),
    ("dense", L.WeightedCategoricalCrossentropy([1.0, 2.0, 3.0], from_logits=True)),
    ("sparse", L.WeightedSparseCategoricalCrossentropy([1.0, 2.0, 3.0], from_logits=True)),
    ("dense", L.CategoricalFocalCrossentropy(alpha=[1.0, 2.0, 3.0], from_logits=True)),
    ("sparse", L.SparseCategoricalFocalCrossentropy(gamma=0.5, from_logits=True)),
    ("sparse", L.LogitAdjustedCrossentropy([100, 10, 1], sparse=True, from_logits=True)),
    ("dense", L.BalancedSoftmaxCrossentropy([100, 10, 1], from_logits=True)),
    ("sparse", L.LDAMCrossentropy([100, 10, 1], sparse=True, from_logits=True)),
]


@pytest.mark.backend
@pytest.mark.parametrize("kind,loss", ALL_LOGIT_LOSSES, ids=lambda v: getattr(v, "name", v))
def test_gradients_finite_at_extreme_logits(kind, loss):
    x = np.array([[100.0, -100.0, 0.0], [-100.0, 100.0, 100.0], [100.0, 100.0, -100.0]], "float32")
    labels = np.array([1, 0, 2])
    y = {"binary": onehot(labels, 3), "dense": onehot(labels, 3), "sparse": labels}[kind]
    assert np.isfinite(float(loss(y, x)))
    g = _grad(loss, y, x)
    assert np.all(np.isfinite(g))
    assert np.any(g != 0)


# ------------------------------------------------------------ shapes, sample weights and masks
@pytest.mark.backend
@pytest.mark.parametrize("shape", [(N,), (N, K), (N, T, K), (N, H, W, K)])
def test_binary_per_element_with_sample_weights(shape):
    x, y = logits(*shape), (RNG.random(shape) < 0.3).astype("float32")
    loss = L.WeightedBinaryCrossentropy(pos_weight=2.0, neg_weight=0.5, from_logits=True)
    elem = -(
        2.0 * y * log_sigmoid(x.astype(np.float64))
        + 0.5 * (1 - y) * log_sigmoid(-x.astype(np.float64))
    )
    np.testing.assert_allclose(
        np_(L.weighted_binary_crossentropy(y, x, pos_weight=2.0, neg_weight=0.5, from_logits=True)),
        elem,
        rtol=1e-5,
        atol=1e-7,
    )
    sw = RNG.random(N).astype("float32")  # one weight per sample, whatever the rank
    sw_b = sw.reshape((N,) + (1,) * (len(shape) - 1))
    np.testing.assert_allclose(
        float(loss(y, x, sample_weight=sw)), np.mean(elem * sw_b), rtol=1e-5, atol=1e-6
    )
    sw_full = RNG.random(shape).astype("float32")  # per label / per element
    np.testing.assert_allclose(
        float(loss(y, x, sample_weight=sw_full)), np.mean(elem * sw_full), rtol=1e-5, atol=1e-6
    )


@pytest.mark.backend
@pytest.mark.parametrize("shape", [(N, K), (N, T, K), (N, H, W, K)])
def test_categorical_shapes_with_sample_weights(shape):
    x, labels = logits(*shape), RNG.integers(0, K, shape[:-1])
    w = np.array([0.5, 1.0, 2.0, 4.0])
    elem = (
        -np.take_along_axis(log_softmax(x.astype(np.float64)), labels[..., None], -1)[..., 0]
        * w[labels]
    )
    sw = RNG.random(N).astype("float32")
    sw_b = sw.reshape((N,) + (1,) * (len(shape) - 2))
    for loss, yt in (
        (L.WeightedSparseCategoricalCrossentropy(w, from_logits=True), labels),
        (L.WeightedCategoricalCrossentropy(w, from_logits=True), onehot(labels)),
        (
            L.SparseCategoricalFocalCrossentropy(alpha=w, gamma=0.0, from_logits=True),
            labels[..., None],
        ),
    ):
        np.testing.assert_allclose(float(loss(yt, x)), elem.mean(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            float(loss(yt, x, sample_weight=sw)), np.mean(elem * sw_b), rtol=1e-5, atol=1e-6
        )


@pytest.mark.backend
def test_keras_mask_equals_slicing():
    # A Masking layer masks time steps; the loss must average over unmasked steps only.
    xs = RNG.normal(size=(N, T, 2)).astype("float32")
    xs[0, 2] = 0.0
    xs[3, 1:] = 0.0
    valid = np.any(xs != 0.0, axis=-1)
    model = keras.Sequential(
        [keras.Input((T, 2)), keras.layers.Masking(0.0), keras.layers.Dense(K)]
    )
    raw = keras.Sequential([keras.Input((T, 2)), keras.layers.Dense(K)])
    raw.set_weights(model.get_weights())
    out = np.asarray(raw.predict(xs, verbose=0), np.float64)
    yb = (RNG.random((N, T, K)) < 0.3).astype("float32")
    labels = RNG.integers(0, K, (N, T))
    cases = [
        (
            L.WeightedBinaryCrossentropy(pos_weight=3.0, from_logits=True),
            yb,
            -(3 * yb * log_sigmoid(out) + (1 - yb) * log_sigmoid(-out))[valid],
        ),
        (
            L.WeightedSparseCategoricalCrossentropy([1.0, 2.0, 3.0, 4.0], from_logits=True),
            labels,
            (-np.take_along_axis(log_softmax(out), labels[..., None], -1)[..., 0] * (labels + 1))[
                valid
            ],
        ),
    ]
    for loss, y, elem in cases:
        model.compile(loss=loss)
        got = model.evaluate(xs, y, batch_size=N, verbose=0)
        np.testing.assert_allclose(got, elem.mean(), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------- validation
def test_dict_and_list_weights_agree_and_dict_keys_are_checked():
    x, labels = logits(N, K), RNG.integers(0, K, N)
    a = L.weighted_sparse_categorical_crossentropy(
        labels, x, class_weight={3: 4.0, 0: 1.0, 2: 3.0, 1: 2.0}, from_logits=True
    )
    b = L.weighted_sparse_categorical_crossentropy(
        labels, x, class_weight=np.array([1.0, 2.0, 3.0, 4.0]), from_logits=True
    )
    np.testing.assert_allclose(np_(a), np_(b))
    with pytest.raises(ValueError, match=r"`class_weight`.*missing keys \[1\].*extra keys \[3\]"):
        L.WeightedCategoricalCrossentropy({0: 1.0, 2: 1.0, 3: 1.0})
    with pytest.raises(TypeError, match="`class_weight`"):
        L.WeightedCategoricalCrossentropy({"a": 1.0})


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (
            lambda: L.WeightedCategoricalCrossentropy([1.0, -1.0]),
            ValueError,
            "`class_weight`.*non-negative",
        ),
        (
            lambda: L.WeightedCategoricalCrossentropy([1.0, float("nan")]),
            ValueError,
            "`class_weight`.*finite",
        ),
        (lambda: L.WeightedCategoricalCrossentropy("balanced"), TypeError, "`class_weight`"),
        (lambda: L.WeightedCategoricalCrossentropy(2.0), TypeError, "`class_weight`"),
        (
            lambda: L.WeightedCategoricalCrossentropy([[1.0, 2.0]]),
            ValueError,
            "`class_weight`.*1-D",
        ),
        (lambda: L.WeightedBinaryCrossentropy(pos_weight=-2.0), ValueError, "`pos_weight`"),
        (lambda: L.WeightedBinaryCrossentropy(pos_weight=True), TypeError, "`pos_weight`"),
        (lambda: L.BinaryFocalCrossentropy(alpha=1.5), ValueError, "`alpha`"),
        (lambda: L.BinaryFocalCrossentropy(gamma=-1.0), ValueError, "`gamma`"),
        (
            lambda: L.LogitAdjustedCrossentropy([10, 0, 3]),
            ValueError,
            r"`class_counts`.*zero at class indices \[1\]",
        ),
        (
            lambda: L.LogitAdjustedCrossentropy([10, 3], priors=[0.5, 0.5]),
            ValueError,
            "exactly one",
        ),
        (lambda: L.LogitAdjustedCrossentropy(), ValueError, "exactly one"),
        (lambda: L.LogitAdjustedCrossentropy(priors=[0.5, 0.0]), ValueError, "`priors`"),
        (lambda: L.LDAMCrossentropy([10, 3], scale=0.0), ValueError, "`scale`"),
        (lambda: L.LDAMCrossentropy([10, 3], class_weight=[1.0]), ValueError, "`class_weight`"),
        (
            lambda: L.WeightedSparseCategoricalCrossentropy([1.0], ignore_class=1.5),
            TypeError,
            "`ignore_class`",
        ),
        (lambda: L.WeightedBinaryCrossentropy(from_logits="yes"), TypeError, "`from_logits`"),
        (
            lambda: L.DeferredReweighting(keras.losses.CategoricalCrossentropy(), [1.0], 1),
            TypeError,
            "`loss`",
        ),
        (
            lambda: L.DeferredReweighting(L.LDAMCrossentropy([3, 1]), [1.0, 2.0, 3.0], 1),
            ValueError,
            "`class_weight`",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_length_mismatch_names_both_shapes_at_first_call():
    loss = L.WeightedCategoricalCrossentropy([1.0, 2.0, 3.0], from_logits=True)
    with pytest.raises(ValueError, match=r"`class_weight`.*\(6, 4\).*4 values.*shape \(3,\)"):
        loss(onehot(RNG.integers(0, K, N)), logits(N, K))
    bce = L.WeightedBinaryCrossentropy(pos_weight=[1.0, 2.0], from_logits=True)
    with pytest.raises(ValueError, match=r"`pos_weight`.*\(6, 4\)"):
        bce(np.zeros((N, K), "float32"), logits(N, K))
    la = L.LogitAdjustedCrossentropy([5, 3, 1], sparse=True, from_logits=True)
    with pytest.raises(ValueError, match=r"`class_counts`.*\(6, 4\)"):
        la(RNG.integers(0, 3, N), logits(N, K))


# ------------------------------------------------------------------------ deferred reweighting
@pytest.mark.backend
def test_deferred_reweighting_switches_at_start_epoch_in_fit():
    x = RNG.normal(size=(32, 4)).astype("float32")
    y = np.array([0] * 24 + [1] * 6 + [2] * 2)
    counts, w = [24, 6, 2], np.array([1.0, 4.0, 12.0])
    loss = L.LDAMCrossentropy(counts, max_margin=0.5, scale=2.0, sparse=True, from_logits=True)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    # lr = 0: the model is frozen, so the epoch loss changes only through the weights
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
    drw = L.DeferredReweighting(loss, {0: 1.0, 1: 4.0, 2: 12.0}, start_epoch=2)
    hist = model.fit(x, y, epochs=4, batch_size=32, shuffle=False, verbose=0, callbacks=[drw])
    out = model.predict(x, verbose=0)
    per = np_(
        L.ldam_crossentropy(y, out, class_counts=counts, scale=2.0, sparse=True, from_logits=True)
    )
    expected = [per.mean()] * 2 + [(per * w[y]).mean()] * 2
    np.testing.assert_allclose(hist.history["loss"], expected, rtol=1e-5, atol=1e-6)
    assert loss.current_class_weight == [1.0, 4.0, 12.0]


# ----------------------------------------------------------------------------------- issue 11
@pytest.mark.backend
@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("smoothing", [0.1, 0.35])
def test_focal_label_smoothing_equals_keras(from_logits, smoothing):
    labels = RNG.integers(0, K, N)
    z = logits(N, K)
    y_pred = z if from_logits else np_(ops.softmax(z)).astype("float32")
    reference = keras.losses.CategoricalFocalCrossentropy(
        alpha=1.0, gamma=2.0, from_logits=from_logits, label_smoothing=smoothing, reduction=None
    )(onehot(labels), y_pred)
    ours = L.CategoricalFocalCrossentropy(
        gamma=2.0, from_logits=from_logits, label_smoothing=smoothing, reduction=None
    )(onehot(labels), y_pred)
    sparse = L.SparseCategoricalFocalCrossentropy(
        gamma=2.0, from_logits=from_logits, label_smoothing=smoothing, reduction=None
    )(labels, y_pred)
    np.testing.assert_allclose(np_(ours), np_(reference), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_(sparse), np_(reference), rtol=1e-5, atol=1e-6)
    functional = L.categorical_focal_crossentropy(
        onehot(labels), y_pred, from_logits=from_logits, label_smoothing=smoothing
    )
    np.testing.assert_allclose(np_(functional), np_(reference), rtol=1e-5, atol=1e-6)
    # ignored positions stay out of the loss, smoothing or not
    masked = labels.copy()
    masked[0] = -1
    ignored = L.SparseCategoricalFocalCrossentropy(
        gamma=2.0, from_logits=from_logits, label_smoothing=smoothing, ignore_class=-1
    )
    kept = L.SparseCategoricalFocalCrossentropy(
        gamma=2.0, from_logits=from_logits, label_smoothing=smoothing
    )
    np.testing.assert_allclose(
        np_(ignored(masked, y_pred)), np_(kept(labels[1:], y_pred[1:])), rtol=1e-5
    )
    config = L.CategoricalFocalCrossentropy(label_smoothing=smoothing).get_config()
    assert config["label_smoothing"] == smoothing


@pytest.mark.parametrize(
    "loss",
    [
        L.WeightedBinaryCrossentropy(pos_weight=3.0, from_logits=True),
        L.BinaryFocalCrossentropy(alpha=0.25, from_logits=True),
        L.BatchBalancedBinaryCrossentropy(from_logits=True),
    ],
    ids=lambda loss: loss.name,
)
@pytest.mark.parametrize("bad", [-1.0, 2.0])
def test_binary_targets_outside_0_1_raise_when_eager(loss, bad):
    if keras.backend.backend() != "torch":
        pytest.skip("eager on torch; compiled steps cannot raise on values (documented)")
    with pytest.raises(
        ValueError, match=r"argument `y_true`.*in \[0, 1\].*Received: y_true=values"
    ):
        loss(np.array([bad, 0.0, 1.0]), np.zeros(3, "float32"))
    with pytest.raises(ValueError, match=r"argument `y_true`"):
        L.weighted_binary_crossentropy(np.array([bad, 0.0]), np.zeros(2, "float32"))
    # soft targets are fine
    assert np.isfinite(np_(loss(np.array([0.3, 0.0, 1.0]), np.zeros(3, "float32"))))


@pytest.mark.parametrize(
    "loss",
    [
        L.WeightedSparseCategoricalCrossentropy([1.0, 2.0], from_logits=True),
        L.SparseCategoricalFocalCrossentropy(from_logits=True),
        L.LDAMCrossentropy([10, 1], scale=1.0, sparse=True, from_logits=True),
        L.LogitAdjustedCrossentropy([10, 1], sparse=True, from_logits=True),
    ],
    ids=lambda loss: loss.name,
)
def test_sparse_labels_outside_the_classes_raise_our_error(loss):
    if keras.backend.backend() != "torch":
        pytest.skip("eager on torch; compiled steps cannot raise on values (documented)")
    # torch's own one_hot raised "Class values must be smaller than num_classes"
    with pytest.raises(ValueError, match=r"argument `y_true`.*0\.\.1.*labels from 0 to 5"):
        loss(np.array([0, 5]), np.zeros((2, 2), "float32"))
    with pytest.raises(ValueError, match=r"argument `y_true`.*labels from -3 to 1"):
        loss(np.array([-3, 1]), np.zeros((2, 2), "float32"))


def test_ignore_class_is_not_an_out_of_range_label():
    loss = L.WeightedSparseCategoricalCrossentropy([1.0, 3.0], from_logits=True, ignore_class=255)
    value = float(np_(loss(np.array([0, 1, 255]), np.zeros((3, 2), "float32"))))
    assert value == pytest.approx((1 + 3) * math.log(2) / 2)


@pytest.mark.backend
def test_drw_switch_is_what_get_config_saves():
    loss = L.LDAMCrossentropy([50, 10, 2], scale=2.0, sparse=True, from_logits=True)
    assert loss.get_config()["class_weight"] is None
    drw = L.DeferredReweighting(loss, [0.2, 1.0, 5.0], start_epoch=1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
    x, y = RNG.normal(size=(12, 3)).astype("float32"), RNG.integers(0, 3, 12)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[drw])
    assert loss.get_config()["class_weight"] == pytest.approx([0.2, 1.0, 5.0])
    rebuilt = L.LDAMCrossentropy.from_config(loss.get_config())
    np.testing.assert_allclose(
        np_(rebuilt(y, model.predict(x, verbose=0))), np_(loss(y, model.predict(x, verbose=0)))
    )
    weighted = L.WeightedCategoricalCrossentropy([1.0, 1.0, 1.0])
    weighted.set_class_weight([2.0, 1.0, 0.5])
    assert weighted.get_config()["class_weight"] == [2.0, 1.0, 0.5]


@pytest.mark.backend
def test_out_of_range_labels_in_a_compiled_step_get_a_zero_loss():
    # the documented rule where a value cannot raise: an all-zero one-hot row, loss 0
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        pytest.skip("torch runs eagerly and raises (see the test above)")
    loss = L.WeightedSparseCategoricalCrossentropy([1.0, 2.0], from_logits=True, reduction=None)
    if backend == "tensorflow":
        import tensorflow as tf

        step = tf.function(lambda y, p: loss(y, p))
    else:
        import jax

        step = jax.jit(lambda y, p: loss(y, p))
    out = np_(step(np.array([0, 5]), np.zeros((2, 2), "float32")))
    np.testing.assert_allclose(out, [math.log(2), 0.0], rtol=1e-6)
