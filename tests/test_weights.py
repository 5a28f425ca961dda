import math

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from keras_imbalance import class_weights, describe, sample_weights

THREAD = {0: 1000, 1: 500, 2: 100}  # the Keras-users thread


def test_reference_answers_the_thread():
    assert class_weights(THREAD, "reference") == {0: 1.0, 1: 2.0, 2: 10.0}
    assert class_weights(THREAD, "reference", ref=2) == {0: 0.1, 1: 0.2, 2: 1.0}


def test_balanced_by_hand_and_equals_scikit_learn():
    # n = 1600, k = 3: 1600 / (3 * count)
    expected = {0: 1600 / 3000, 1: 1600 / 1500, 2: 1600 / 300}
    assert class_weights(THREAD) == pytest.approx(expected)
    rng = np.random.default_rng(1)
    y = rng.choice([3, 7, 9, 11], size=500, p=[0.7, 0.2, 0.07, 0.03])
    ours = class_weights(y)
    ref = compute_class_weight("balanced", classes=np.unique(y), y=y)
    assert list(ours) == [3, 7, 9, 11]
    assert list(ours.values()) == pytest.approx(ref.tolist())


def test_balanced_property_weights_times_counts_sum_to_n():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 6, size=997) ** 2
    w = class_weights(y)
    counts = np.bincount(y)
    assert sum(w[c] * counts[c] for c in w) == pytest.approx(len(y))


def test_string_labels_are_keyed_by_sorted_position_like_sklearn():
    y = ["spam", "ham", "ham", "ham", "eggs", "ham"]
    ref = compute_class_weight("balanced", classes=np.array(["eggs", "ham", "spam"]), y=y)
    assert class_weights(y) == pytest.approx(dict(enumerate(ref)))


def test_damped_strategies_by_hand():
    b = [1600 / 3000, 1600 / 1500, 1600 / 300]
    assert list(class_weights(THREAD, "sqrt").values()) == pytest.approx([math.sqrt(v) for v in b])
    assert list(class_weights(THREAD, "log").values()) == pytest.approx(
        [math.log(1 + v) for v in b]
    )


def test_log_mu_matches_the_blog_heuristic():
    counts = {0: 10000, 1: 300, 2: 40}
    n = 10340
    expected = {c: max(1.0, math.log(0.15 * n / m)) for c, m in counts.items()}
    assert class_weights(counts, "log_mu") == pytest.approx(expected)
    # ln(0.15 * 10340 / 40) = ln(38.775) = 3.65778...
    assert class_weights(counts, "log_mu")[2] == pytest.approx(3.65778, abs=1e-5)
    assert class_weights(counts, "log_mu", mu=1.0, floor=0.5)[0] == pytest.approx(0.5)


def test_effective_number_by_hand():
    beta = 0.999
    raw = [(1 - beta) / (1 - beta**c) for c in (1000, 500, 100)]
    expected = [3 * r / sum(raw) for r in raw]
    assert list(class_weights(THREAD, "effective_number").values()) == pytest.approx(expected)
    # beta -> 0 gives equal weights
    assert list(class_weights(THREAD, "effective_number", beta=0.0).values()) == pytest.approx(
        [1, 1, 1]
    )


def test_normalize_mean_and_max():
    w = class_weights(THREAD, "reference", normalize="mean")
    assert sum(w[c] * n for c, n in THREAD.items()) / 1600 == pytest.approx(1.0)
    assert w[2] / w[0] == pytest.approx(10.0)
    assert max(class_weights(THREAD, "balanced", normalize="max").values()) == 1.0


def test_clip_bounds():
    w = class_weights(THREAD, "reference", clip=5)
    assert w == {0: 1.0, 1: 2.0, 2: 5.0}
    assert class_weights(THREAD, "reference", clip=(1.5, None)) == {0: 1.5, 1: 2.0, 2: 10.0}


def test_user_dict_and_callable():
    assert class_weights([0, 1, 1], {0: 3, 1: 1}) == {0: 3.0, 1: 1.0}
    assert class_weights(["a", "b"], {"a": 2.0, "b": 1.0}) == {0: 2.0, 1: 1.0}
    assert class_weights(THREAD, lambda c: 1.0 / c) == pytest.approx({0: 1e-3, 1: 2e-3, 2: 1e-2})


def test_absent_classes_are_explicit():
    with pytest.raises(ValueError, match="absent"):
        class_weights([0, 0, 1], classes=[0, 1, 2])
    w = class_weights([0, 0, 1], classes=[0, 1, 2], absent="max")
    assert w == pytest.approx({0: 0.75, 1: 1.5, 2: 1.5})  # present ones as if 2 did not exist
    assert class_weights([0, 0, 1], classes=[0, 1, 2], absent="zero")[2] == 0.0


def test_multilabel_gives_positive_weights_like_pos_weight():
    y = np.array([[1, 0], [0, 0], [0, 0], [1, 1]])
    # balanced per label: neg/pos ratio -> label 0: 2/2 = 1, label 1: 3/1 = 3
    assert class_weights(y) == pytest.approx({0: 1.0, 1: 3.0})


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([0, 1], {0: -1.0, 1: 1.0}), {}, "non-negative"),
        (([0, 1], {0: np.nan, 1: 1.0}), {}, "finite"),
        (([0, 1], {0: "x", 1: 1.0}), {}, "numeric"),
        (([0, 1], {0: 1.0, 1: 1.0, 7: 2.0}), {}, "unknown keys"),
        (([0, 1], {0: 1.0}), {}, "no weight for"),
        ((["a", "b"], {"a": 1.0, "z": 1.0}), {}, "unknown keys"),
        (([0, 1], {}), {}, "non-empty"),
        (([0, 1], "balance"), {}, "class_weight"),
        (([0, 1], "balanced"), {"normalize": "sum"}, "normalize"),
        (([0, 1], "balanced"), {"beta": 0.5}, "beta"),
        (([0, 1], "effective_number"), {"beta": 1.0}, "beta"),
        (([0, 1], "reference"), {"ref": 5}, "ref"),
        (([0, 1], "balanced"), {"clip": (3, 1)}, "clip"),
    ],
)
def test_bad_weights_name_the_argument(args, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match) as err:
        class_weights(*args, **kwargs)
    assert "Invalid value for argument" in str(err.value)


def test_single_class_is_allowed_and_weighted_one():
    # one class present: balanced weight n / (1 * n) = 1, not an error
    assert class_weights([1, 1, 1]) == {1: 1.0}


# ----------------------------------------------------------------------------- sample_weights


def _loop_sample_weights(labels, table, mask=None):
    out = np.zeros(labels.shape, np.float32)
    for idx in np.ndindex(labels.shape):
        if mask is None or mask[idx]:
            out[idx] = table[labels[idx]]
    return out


@pytest.mark.parametrize("shape", [(50,), (6, 9), (3, 5, 7)])
def test_sample_weights_equal_a_plain_loop(shape):
    rng = np.random.default_rng(3)
    y = rng.choice([0, 1, 4], size=shape, p=[0.8, 0.15, 0.05])
    table = {0: 0.5, 1: 2.0, 4: 7.0}
    mask = rng.random(shape) > 0.2
    np.testing.assert_array_equal(sample_weights(y, table), _loop_sample_weights(y, table))
    np.testing.assert_array_equal(
        sample_weights(y, table, mask=mask), _loop_sample_weights(y, table, mask)
    )


def test_sample_weights_onehot_strings_and_user_weights():
    onehot = np.eye(3)[[0, 2, 2, 1]]
    np.testing.assert_allclose(sample_weights(onehot, {0: 1, 1: 2, 2: 3}), [1, 3, 3, 2])
    np.testing.assert_allclose(
        sample_weights(["b", "a", "b"], {"a": 4.0, "b": 1.0}, sample_weight=[1, 2, 3]), [1, 8, 3]
    )
    seq = np.array([[0, 1, 1], [1, 0, 0]])
    np.testing.assert_allclose(
        sample_weights(seq, {0: 1, 1: 2}, sample_weight=[10, 1], layout="sequence"),
        [[10, 20, 20], [2, 1, 1]],
    )


def test_sample_weights_ignore_class_and_negative_padding():
    seg = np.array([[[0, 255], [1, 1]]])
    np.testing.assert_allclose(
        sample_weights(seg, {0: 2.0, 1: 0.5}, ignore_class=255), [[[2, 0], [0.5, 0.5]]]
    )
    seq = np.array([[2, 1, -1, -1]])
    np.testing.assert_allclose(
        sample_weights(seq, {1: 1.0, 2: 3.0}, ignore_class=-1), [[3, 1, 0, 0]]
    )


def test_sample_weights_multilabel_matrix():
    y = np.array([[1, 0], [0, 0], [0, 0], [1, 1]])
    sw = sample_weights(y, {0: 2.0, 1: 5.0})
    np.testing.assert_allclose(sw, [[2, 1], [1, 1], [1, 1], [2, 5]])
    # balanced per label: w_pos = n / (2 pos), w_neg = n / (2 neg)
    sw = sample_weights(y, "balanced")
    np.testing.assert_allclose(sw[:, 1], [4 / 6, 4 / 6, 4 / 6, 2.0], rtol=1e-6)


def test_sample_weights_mean_normalised_keep_mean_one():
    rng = np.random.default_rng(4)
    y = rng.choice(3, size=(20, 8), p=[0.9, 0.08, 0.02])
    sw = sample_weights(y, "reference", normalize="mean")
    assert sw.mean() == pytest.approx(1.0, rel=1e-5)


def test_sample_weights_bad_shapes():
    with pytest.raises(ValueError, match="sample_weight"):
        sample_weights([0, 1, 1], "balanced", sample_weight=[1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        sample_weights([0, 1, 1], "balanced", sample_weight=[1, -2, 1])
    with pytest.raises(ValueError, match="lacks \\[3\\]"):
        sample_weights(np.array([0, 1, 3]), "balanced", classes=[0, 1])


@pytest.mark.parametrize("values", [[0, 1], [0, 1, 2], [1, 3]])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, bool])
def test_sample_weights_small_integer_paths_equal_a_plain_loop(values, dtype):
    if dtype is bool and values != [0, 1]:
        pytest.skip("bool holds 0/1 only")
    rng = np.random.default_rng(5)
    y = rng.choice(values, size=(2, 3_000, 7)).astype(dtype)
    table = {v: 0.5 + 2.0 * i for i, v in enumerate(values)}
    expected = _loop_sample_weights(y.astype(int), table)
    np.testing.assert_array_equal(sample_weights(y, table, layout="dense"), expected)
    counts = np.bincount(y.astype(int).ravel())[values]
    balanced = y.size / (len(values) * counts)
    np.testing.assert_allclose(
        sample_weights(y, "balanced", layout="dense"),
        _loop_sample_weights(y.astype(int), dict(zip(values, balanced, strict=True))),
        rtol=1e-6,
    )


@pytest.mark.parametrize("k", [2, 3, 9])
def test_sample_weights_across_chunk_boundaries(k):
    # 2.5e6 elements span three processing chunks of 2**20
    rng = np.random.default_rng(6)
    y = rng.integers(0, k, size=2_500_000).astype(np.uint8)
    table = rng.uniform(0.1, 5, size=k)
    expected = table.astype(np.float32)[y]
    np.testing.assert_array_equal(sample_weights(y, dict(enumerate(table))), expected)
    assert describe(y).counts.tolist() == np.bincount(y, minlength=k).tolist()


def test_reference_with_an_absent_class_before_the_reference():
    # present: {0: 2, 1: 1}; reference = class 1 -> {0: 1/2, 1: 1}; absent 5 takes the max
    got = class_weights([0, 0, 1], "reference", classes=[5, 0, 1], ref=1, absent="max")
    assert got == pytest.approx({5: 1.0, 0: 0.5, 1: 1.0})
    with pytest.raises(ValueError, match="ref"):
        class_weights(np.array([[1, 0], [0, 0], [1, 0]]), "reference", ref=1, absent="max")


# ----------------------------------------------------------------------------- issue 11


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint16, bool])
def test_small_dtype_binary_labels_equal_the_plain_lookup_exactly(dtype):
    # the former fast path computed w0 + (w1 - w0) * label in float32: 0.03125, not 0.0345
    table = {0: 330_000.0, 1: 0.0345}
    y = np.array([0, 1, 1, 0, 1], dtype=dtype)
    got = sample_weights(y, table)
    expected = np.array([np.float32(table[int(v)]) for v in y])
    np.testing.assert_array_equal(got, expected)
    assert got[1] == np.float32(0.0345)


def test_strategy_keyword_is_deprecated_for_class_weight():
    with pytest.warns(DeprecationWarning, match="class_weight="):
        old = class_weights(THREAD, strategy="reference")
    assert old == class_weights(THREAD, class_weight="reference") == {0: 1.0, 1: 2.0, 2: 10.0}
    with pytest.raises(TypeError, match="`strategy`"):
        class_weights(THREAD, "balanced", strategy="reference")


def test_weight_strategies_constant_and_its_deprecated_name():
    from keras_imbalance import weights

    assert tuple(weights.WEIGHT_STRATEGIES) == (
        "balanced",
        "reference",
        "sqrt",
        "log",
        "log_mu",
        "effective_number",
    )
    with pytest.warns(DeprecationWarning, match="WEIGHT_STRATEGIES"):
        assert weights.STRATEGIES is weights.WEIGHT_STRATEGIES


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # 'auto' names its equivalent
        (
            lambda: class_weights([0, 1], "auto"),
            r"'auto' is scikit-learn's old name: use 'balanced'",
        ),
        # "every class", not "every classe"
        (lambda: class_weights([0, 1], {0: 1.0}), r"a weight for every class\. Received"),
        # one shape, not "(18,) or (18,)"
        (
            lambda: sample_weights(np.arange(18) % 2, "balanced", sample_weight=np.ones(5)),
            r"Expected shape \(18,\) \(one weight per sample\)\. Received: sample_weight=shape \(5,\)$",
        ),
        # a numpy scalar is shown as a number, not np.int64(5)
        (lambda: class_weights([0, 1], "reference", ref=np.int64(5)), r"Received: ref=5$"),
        # errors name the argument the user passed
        (lambda: class_weights([0.5, 1.0]), r"argument `y_or_counts`"),
        (
            lambda: class_weights("/no/such/folder"),
            r"`y_or_counts`.*no such directory: '/no/such/folder'",
        ),
    ],
)
def test_unclear_weight_errors_are_clear(call, message):
    with pytest.raises((ValueError, TypeError), match=message) as info:
        call()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("top", [10**9, 10**12])
def test_a_huge_label_span_is_one_clear_error_not_a_memory_error(top):
    for labels in (np.array([0, top]), np.array([0, top], dtype=np.int32) if top < 2**31 else None):
        if labels is None:
            continue
        with pytest.raises(ValueError, match=r"`y_or_counts`.*spanning at most.*0 to 1000"):
            class_weights(labels)
        with pytest.raises(ValueError, match=r"`y`.*spanning at most"):
            sample_weights(labels, "balanced")


def test_classes_far_apart_are_looked_up_without_a_table_of_the_span():
    w = sample_weights([0, 1, 1], {0: 2.0, 1: 3.0, 10**12: 4.0}, classes=[0, 1, 10**12])
    assert w.tolist() == [2.0, 3.0, 3.0]
