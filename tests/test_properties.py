"""Property tests (hypothesis): weights against scikit-learn and a plain lookup, for every dtype
and layout; normalised weights; resampling keeps the original rows first and their weights."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.utils.class_weight import compute_class_weight

from keras_imbalance import class_weights, resample, sample_weights
from keras_imbalance.weights import WEIGHT_STRATEGIES

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
DTYPES = [*INT_DTYPES, "bool", "float32", "float64", "str"]


@st.composite
def labels(draw, dtype=None, min_size=1):
    """A 1-D label array of a drawn dtype with at least one element."""
    dtype = dtype or draw(st.sampled_from(DTYPES))
    k = 2 if dtype == "bool" else draw(st.integers(1, 6))
    low = -3 if dtype in ("int8", "int16", "int32", "int64", "float32", "float64") else 0
    values = draw(st.lists(st.integers(0, k - 1), min_size=min_size, max_size=300))
    base = np.array(values) + draw(st.integers(low, 3 if low == 0 else 0)) * (dtype != "bool")
    if dtype == "str":
        return np.array([f"class_{v}" for v in base]), dtype
    return base.astype(dtype), dtype


@FAST
@given(labels())
def test_balanced_equals_scikit_learn_for_every_dtype(drawn):
    y, dtype = drawn
    classes = np.unique(y)
    expected = compute_class_weight("balanced", classes=classes, y=y)
    got = class_weights(y, "balanced")
    # keys: the label itself for numbers, the position in sorted order for strings
    keys = range(len(classes)) if dtype == "str" else [int(c) for c in classes]
    assert list(got) == list(keys)
    np.testing.assert_allclose(list(got.values()), expected, rtol=1e-12)
    assert all(type(k) is int for k in got)
    # the identity scikit-learn's tests pin: sum_c w_c n_c = n
    counts = np.array([np.sum(y == c) for c in classes])
    assert float(np.dot(list(got.values()), counts)) == pytest.approx(len(y))


# weights spread over ten orders of magnitude, as real class weights are ({0: 330000, 1: 0.0345})
WEIGHT = st.builds(
    lambda m, e: m * 10.0**e,
    st.integers(2**23, 2**24 - 1).map(lambda i: i / 2**24),  # 24 significant bits
    st.one_of(st.sampled_from([-4, -3, 5, 6]), st.integers(-4, 6)),  # often far apart
)


def _table(draw, n):
    return [draw(WEIGHT) for _ in range(n)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_sample_weights_equal_the_plain_lookup_for_every_dtype_and_layout(data):
    dtype = data.draw(st.sampled_from([*INT_DTYPES, "bool", "float64"]))
    layout = data.draw(st.sampled_from(["sparse", "column", "sequence", "dense", "onehot"]))
    k = 2 if dtype == "bool" else data.draw(st.sampled_from([2, 2, 3, 5]))  # masks are 0/1
    shape = {
        "sparse": (data.draw(st.integers(1, 40)),),
        "column": (data.draw(st.integers(1, 40)), 1),
        "sequence": (data.draw(st.integers(1, 8)), data.draw(st.integers(1, 6))),
        "dense": (data.draw(st.integers(1, 4)), 3, data.draw(st.integers(1, 5))),
        "onehot": (data.draw(st.integers(1, 40)),),
    }[layout]
    seed = data.draw(st.integers(0, 2**32 - 1))
    codes = np.random.default_rng(seed).integers(0, k, size=shape)
    codes.flat[: min(k, codes.size)] = np.arange(min(k, codes.size))  # most classes present
    present = np.arange(k) if layout == "onehot" else np.unique(codes)  # one-hot: every column
    weights = dict(zip(present.tolist(), _table(data.draw, len(present)), strict=True))
    if layout == "onehot":
        y = np.eye(k, dtype=dtype)[codes]
        got = sample_weights(y, {int(c): w for c, w in weights.items()}, classes=range(k))
        expected = np.array([np.float32(weights[int(c)]) for c in codes])
    else:
        y = codes.astype(dtype)
        explicit = {"sparse": None, "column": None, "sequence": "sequence", "dense": "dense"}
        got = sample_weights(y, weights, layout=explicit[layout])
        expected = np.vectorize(lambda c: np.float32(weights[int(c)]), otypes=[np.float32])(
            codes
        ).reshape(codes.shape[:1] if layout == "column" else codes.shape)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


@FAST
@given(
    st.sampled_from(["uint8", "int8", "uint16", "int16", "bool"]),
    st.integers(1, 300),
    st.integers(0, 2**32 - 1),
    WEIGHT,
    WEIGHT,
)
def test_binary_masks_in_small_dtypes_equal_the_plain_lookup(dtype, n, seed, w0, w1):
    # the path that computed w0 + (w1 - w0) * label in float32 ({0: 330000, 1: 0.0345} -> -9 %)
    mask = np.random.default_rng(seed).integers(0, 2, size=(n, 4, 3))  # (N, H, W) masks
    mask[0, 0, :2] = [0, 1]
    got = sample_weights(mask.astype(dtype), {0: w0, 1: w1}, layout="dense")
    np.testing.assert_array_equal(got, np.where(mask == 1, np.float32(w1), np.float32(w0)))


@FAST
@given(st.data())
def test_multilabel_sample_weights_equal_the_plain_lookup(data):
    n, k = data.draw(st.integers(1, 30)), data.draw(st.integers(2, 5))
    seed = data.draw(st.integers(0, 2**32 - 1))
    y = (np.random.default_rng(seed).random((n, k)) < 0.4).astype(
        data.draw(st.sampled_from(["uint8", "int64", "bool", "float32"]))
    )
    positive = _table(data.draw, k)
    got = sample_weights(y, dict(enumerate(positive)), layout="multilabel")
    expected = np.where(y.astype(bool), np.float32(positive), np.float32(1.0))
    np.testing.assert_array_equal(got, expected.astype(np.float32))


@FAST
@given(labels(min_size=2), st.sampled_from(sorted(WEIGHT_STRATEGIES)))
def test_normalize_mean_gives_mean_weight_one(drawn, strategy):
    y, _ = drawn
    w = sample_weights(y, strategy, normalize="mean")
    assert float(w.astype(np.float64).mean()) == pytest.approx(1.0, rel=1e-5)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_resample_keeps_original_rows_first_and_carries_weights(data):
    method = data.draw(st.sampled_from(["random_over", "smote", "borderline_smote1"]))
    sizes = [data.draw(st.integers(20, 40)), data.draw(st.integers(4, 12))]
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], sizes)
    x = rng.normal(size=(len(y), 3)) + y[:, None]
    w = rng.uniform(0.1, 3.0, size=len(y))
    params = {} if method == "random_over" else {"k_neighbors": 3}
    res = resample(x, y, method, sample_weight=w, random_state=seed, **params)
    n = len(y)
    np.testing.assert_array_equal(res.x[:n], x)  # originals first, bit for bit
    np.testing.assert_array_equal(res.y[:n], y)
    np.testing.assert_array_equal(res.sample_weight[:n], w)
    source = res.sample_indices
    copied = source >= 0
    np.testing.assert_array_equal(res.sample_weight[copied], w[source[copied]])
    for label in (0, 1):  # a synthetic row weighs the mean of its class
        new = ~copied & (res.y == label)
        np.testing.assert_allclose(res.sample_weight[new], w[y == label].mean())
