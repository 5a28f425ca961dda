"""Numpy imbalance metrics against scikit-learn / imbalanced-learn and hand-computed values."""

import subprocess
import sys

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn import metrics as skm

import keras_imbalance.metrics as kim
from keras_imbalance.metrics import (
    balanced_accuracy,
    confusion_matrix,
    from_confusion,
    geometric_mean,
    macro_f1,
    matthews_correlation,
    per_class_recall,
)

# scikit-learn warns about classes absent from y_true; the values are what we compare
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:sklearn")

FUNCTIONS = {
    "balanced_accuracy": balanced_accuracy,
    "geometric_mean": geometric_mean,
    "matthews_correlation": matthews_correlation,
    "macro_f1": macro_f1,
}


def reference(name, y_true, y_pred, sample_weight=None):
    """The trusted value: scikit-learn / imbalanced-learn with their defaults."""
    if name == "balanced_accuracy":
        return skm.balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight)
    if name == "geometric_mean":
        return geometric_mean_score(y_true, y_pred, sample_weight=sample_weight)
    if name == "matthews_correlation":
        return skm.matthews_corrcoef(y_true, y_pred, sample_weight=sample_weight)
    if name == "macro_f1":
        return skm.f1_score(
            y_true, y_pred, average="macro", sample_weight=sample_weight, zero_division=0
        )
    raise AssertionError(name)


def noisy_labels(rng, n, k, accuracy=0.6, p=None):
    y = rng.choice(k, size=n, p=p)
    wrong = rng.random(n) > accuracy
    pred = np.where(wrong, rng.integers(0, k, size=n), y)
    return y, pred


# ---- hand-computed ---------------------------------------------------------------------------

HAND_TRUE = [0, 0, 0, 0, 1, 1]
HAND_PRED = [0, 0, 0, 1, 1, 0]  # C = [[3, 1], [1, 1]]


def test_hand_computed_binary_example():
    np.testing.assert_array_equal(confusion_matrix(HAND_TRUE, HAND_PRED), [[3, 1], [1, 1]])
    # recalls 3/4 and 1/2
    assert balanced_accuracy(HAND_TRUE, HAND_PRED) == pytest.approx(0.625)
    assert geometric_mean(HAND_TRUE, HAND_PRED) == pytest.approx(np.sqrt(0.375))
    # t = p = (4, 2), c = 4, s = 6: (4*6 - 20) / sqrt((36 - 20) * (36 - 20)) = 4 / 16
    assert matthews_correlation(HAND_TRUE, HAND_PRED) == pytest.approx(0.25)
    # F1_0 = 6 / 8, F1_1 = 2 / 4
    assert macro_f1(HAND_TRUE, HAND_PRED) == pytest.approx(0.625)
    np.testing.assert_allclose(per_class_recall(HAND_TRUE, HAND_PRED), [0.75, 0.5])


def test_hand_computed_multiclass_with_class_never_true():
    # class 2 is predicted once but never true; class 3 never appears (num_classes=4)
    y_true = [0, 0, 1, 1]
    y_pred = [0, 2, 1, 1]
    assert balanced_accuracy(y_true, y_pred, num_classes=4) == pytest.approx((0.5 + 1) / 2)
    # imblearn: classes seen = {0, 1, 2}; class 2 has recall 0 -> G = 0
    assert geometric_mean(y_true, y_pred, num_classes=4) == 0.0
    # F1 = (2/3, 1, 0) over the three seen classes
    assert macro_f1(y_true, y_pred, num_classes=4) == pytest.approx((2 / 3 + 1) / 3)
    np.testing.assert_allclose(per_class_recall(y_true, y_pred, num_classes=4), [0.5, 1, 0, 0])


# ---- against scikit-learn / imbalanced-learn -------------------------------------------------


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("seed,k", [(0, 2), (1, 3), (2, 5), (3, 7)])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_reference_on_random_labels(name, seed, k, weighted):
    rng = np.random.default_rng(seed)
    p = np.linspace(1, 8, k)[::-1] / np.linspace(1, 8, k).sum()  # imbalanced priors
    y, pred = noisy_labels(rng, 300, k, p=p)
    sw = rng.random(300) * 3 if weighted else None
    got = FUNCTIONS[name](y, pred, sample_weight=sw)
    assert got == pytest.approx(reference(name, y, pred, sw), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_equals_reference_with_class_absent_from_y_true(name):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 200)  # classes 0..2 true; class 3 only predicted; class 4 nowhere
    pred = np.where(rng.random(200) < 0.3, rng.integers(0, 4, 200), y)
    assert pred.max() == 3
    got = FUNCTIONS[name](y, pred, num_classes=5)
    assert got == pytest.approx(reference(name, y, pred), abs=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_equals_reference_on_degenerate_predictions(name):
    y = np.array([0, 0, 1, 2, 2, 2])
    for pred in (np.zeros(6, int), y, (y + 1) % 3):
        assert FUNCTIONS[name](y, pred) == pytest.approx(reference(name, y, pred), abs=1e-12)


def test_per_class_recall_equals_sklearn():
    rng = np.random.default_rng(7)
    y, pred = noisy_labels(rng, 250, 4)
    y[y == 3] = 0  # class 3 has no true sample: recall 0 (zero_division=0)
    sw = rng.random(250)
    expected = skm.recall_score(
        y, pred, labels=range(4), average=None, sample_weight=sw, zero_division=0
    )
    np.testing.assert_allclose(per_class_recall(y, pred, sample_weight=sw, num_classes=4), expected)


def test_confusion_matrix_equals_sklearn():
    rng = np.random.default_rng(8)
    y, pred = noisy_labels(rng, 100, 4)
    sw = rng.random(100)
    expected = skm.confusion_matrix(y, pred, labels=range(5), sample_weight=sw)
    np.testing.assert_allclose(
        confusion_matrix(y, pred, sample_weight=sw, num_classes=5), expected, rtol=1e-12
    )


@pytest.mark.parametrize("name", sorted(FUNCTIONS) + ["per_class_recall"])
def test_from_confusion_matches_functions(name):
    rng = np.random.default_rng(9)
    y, pred = noisy_labels(rng, 120, 3)
    cm = skm.confusion_matrix(y, pred)  # sklearn's own matrix
    expected = (
        skm.recall_score(y, pred, average=None)
        if name == "per_class_recall"
        else reference(name, y, pred)
    )
    np.testing.assert_allclose(from_confusion(cm, name), expected, rtol=1e-12)


# ---- layouts: scores, one-hot, thresholds ----------------------------------------------------


def test_scores_and_one_hot_rows_are_read_by_argmax():
    rng = np.random.default_rng(10)
    scores = rng.random((80, 4))
    y = rng.integers(0, 4, 80)
    onehot = np.eye(4)[y]
    labels = scores.argmax(axis=1)
    for name, fn in FUNCTIONS.items():
        expected = reference(name, y, labels)
        assert fn(y, scores) == pytest.approx(expected, abs=1e-12)
        assert fn(onehot, scores) == pytest.approx(expected, abs=1e-12)
        assert fn(y[:, None], labels) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.8])
def test_binary_scores_are_thresholded(threshold):
    rng = np.random.default_rng(11)
    y = (rng.random(150) < 0.2).astype(int)
    scores = np.clip(0.3 * y + rng.random(150) * 0.7, 0, 1)
    hard = (scores > threshold).astype(int)
    for name, fn in FUNCTIONS.items():
        expected = reference(name, y, hard)
        assert fn(y, scores, threshold=threshold) == pytest.approx(expected, abs=1e-12)
        assert fn(y[:, None], scores[:, None], threshold=threshold) == pytest.approx(
            expected, abs=1e-12
        )
        # a 2-column softmax is read by argmax, not thresholded
        two = np.stack([1 - scores, scores], axis=1)
        assert fn(y, two) == pytest.approx(reference(name, y, (scores > 0.5).astype(int)))


def test_logits_with_threshold_zero():
    rng = np.random.default_rng(12)
    y = rng.integers(0, 2, 60)
    logits = rng.normal(size=60) + y
    np.testing.assert_allclose(
        confusion_matrix(y, logits, threshold=0.0),
        skm.confusion_matrix(y, (logits > 0).astype(int)),
    )


def test_hard_binary_labels_pass_through_any_threshold():
    y = np.array([0, 1, 1, 0, 1])
    pred = np.array([0, 1, 0, 0, 1])
    for t in (0.0, 0.3, 0.99):
        np.testing.assert_array_equal(confusion_matrix(y, pred, threshold=t), [[2, 0], [1, 2]])
        np.testing.assert_array_equal(
            confusion_matrix(y, pred.astype(float), threshold=t), [[2, 0], [1, 2]]
        )


# ---- properties ------------------------------------------------------------------------------


def test_balanced_accuracy_ignores_class_priors():
    # duplicating every sample of one class changes the priors, not the per-class recalls
    rng = np.random.default_rng(13)
    y, pred = noisy_labels(rng, 200, 3)
    sw = np.where(y == 1, 5.0, 1.0)
    assert balanced_accuracy(y, pred, sample_weight=sw) == pytest.approx(balanced_accuracy(y, pred))
    assert geometric_mean(y, pred, sample_weight=sw) == pytest.approx(geometric_mean(y, pred))
    assert skm.accuracy_score(y, pred, sample_weight=sw) != pytest.approx(
        skm.accuracy_score(y, pred)
    )


def test_scores_are_invariant_to_scaling_all_weights():
    rng = np.random.default_rng(14)
    y, pred = noisy_labels(rng, 200, 4)
    sw = rng.random(200)
    for fn in FUNCTIONS.values():
        assert fn(y, pred, sample_weight=sw * 1e6) == pytest.approx(fn(y, pred, sample_weight=sw))


def test_perfect_and_inverted_predictions():
    y = np.array([0, 1, 1, 0, 1, 0, 0])
    for fn in FUNCTIONS.values():
        assert fn(y, y) == pytest.approx(1.0)
    assert matthews_correlation(y, 1 - y) == pytest.approx(-1.0)
    assert balanced_accuracy(y, 1 - y) == 0.0


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,exc,fragment",
    [
        ({"y_true": [0, 1, 2], "y_pred": [0, 1, 3]}, None, None),  # valid (K inferred = 4)
        ({"y_true": [0, 1, 2], "y_pred": [0, 1, 3], "num_classes": 3}, ValueError, "y_pred"),
        ({"y_true": [0, -1, 1], "y_pred": [0, 1, 1]}, ValueError, "y_true"),
        ({"y_true": [0, 1, 1], "y_pred": [0, 1]}, ValueError, "y_pred"),
        ({"y_true": [0, 1, 1], "y_pred": [0, 1, 1], "num_classes": 1}, ValueError, "num_classes"),
        ({"y_true": [0, 1, 1], "y_pred": [0, 1, 1], "threshold": "0.5"}, TypeError, "threshold"),
        (
            {"y_true": [0, 1, 1], "y_pred": [0, 1, 1], "sample_weight": [1, -1, 1]},
            ValueError,
            "sample_weight",
        ),
        (
            {"y_true": [0, 1, 1], "y_pred": [0, 1, 1], "sample_weight": [1, 1]},
            ValueError,
            "sample_weight",
        ),
        ({"y_true": ["a", "b"], "y_pred": [0, 1]}, TypeError, "y_true"),
        ({"y_true": [0, 1, 2], "y_pred": [0.5, 1.2, 2.0]}, ValueError, "y_pred"),
        ({"y_true": np.eye(3), "y_pred": np.ones((3, 4))}, ValueError, "y_pred"),
        ({"y_true": np.zeros((2, 2, 2)), "y_pred": np.zeros(2)}, ValueError, "y_true"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs, exc, fragment):
    if exc is None:
        assert confusion_matrix(**kwargs).shape == (4, 4)
        return
    with pytest.raises(exc, match=f"argument `{fragment}`"):
        confusion_matrix(**kwargs)


def test_from_confusion_rejects_bad_input():
    with pytest.raises(ValueError, match="argument `metric`"):
        from_confusion(np.eye(2), "accuracy")
    with pytest.raises(ValueError, match="argument `confusion`"):
        from_confusion(np.ones((2, 3)), "macro_f1")


# ---- package surface -------------------------------------------------------------------------


def test_public_names_exist_and_have_docstrings():
    for name in kim.__all__:
        obj = getattr(kim, name)
        assert obj.__doc__ and "Examples" in obj.__doc__, name


def test_numpy_functions_do_not_import_keras():
    code = (
        "import sys\n"
        "from keras_imbalance.metrics import balanced_accuracy, confusion_matrix\n"
        "assert balanced_accuracy([0, 1], [0, 1]) == 1.0\n"
        "assert 'keras' not in sys.modules, 'keras was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---- issue 11: rare events, empty input, float class ids, the peers' options -------------------

# torchmetrics' rare-event confusion matrices (test_matthews_corrcoef_reduce), true classes in rows
RARE_EVENTS = [
    [[19392673, 1], [76216, 0]],
    [[0, 1], [29690, 278]],
    [[6931024, 0], [29690, 278]],
    [[6931024, 29690], [0, 278]],
]


def _sklearn_mcc_of(confusion):
    """scikit-learn's float64 MCC of a 2x2 confusion matrix (counts as sample weights)."""
    weights = np.asarray(confusion, dtype=np.float64).ravel()
    return skm.matthews_corrcoef([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=weights)


@pytest.mark.parametrize("confusion", RARE_EVENTS)
def test_mcc_of_rare_events_matches_scikit_learn(confusion):
    expected = _sklearn_mcc_of(confusion)
    assert expected != 0
    got = from_confusion(confusion, "matthews_correlation")
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)
    got = matthews_correlation(
        [0, 0, 1, 1], [0, 1, 0, 1], sample_weight=np.ravel(confusion).astype(float)
    )
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)


# torchmetrics' degenerate cases (test_binary/multiclass_zero_division_matches_sklearn):
# (y_pred, y_true), whose reference is scikit-learn's value
DEGENERATE_BINARY = [
    ([0] * 10, [0] * 10),
    ([1] * 10, [1] * 10),
    ([0] * 10, [1] * 10),
    ([1] * 10, [0] * 10),
    ([0] * 10, [0] * 5 + [1] * 5),
    ([1] * 5 + [0] * 5, [0] * 10),
    ([1, 0, 1, 0, 1, 0], [1] * 6),
    ([0] * 10, [0] * 6 + [1] * 4),
    ([1, 1, 1, 0, 0], [1] * 5),
    ([0, 1, 0, 0], [1, 1, 0, 0]),
]
DEGENERATE_MULTICLASS = [
    ([0, 1, 2], [0, 0, 0]),
    ([2, 2, 2, 2], [0, 1, 2, 2]),
    ([1, 1, 1], [1, 1, 1]),
    ([0, 0, 0], [2, 2, 2]),
    ([2, 1, 0, 1], [2, 1, 0, 0]),
]


@pytest.mark.parametrize(("y_pred", "y_true"), DEGENERATE_BINARY + DEGENERATE_MULTICLASS)
def test_mcc_degenerate_cases_match_scikit_learn(y_pred, y_true):
    expected = skm.matthews_corrcoef(y_true, y_pred)
    assert matthews_correlation(y_true, y_pred) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCTIONS) + ["per_class_recall"])
def test_empty_input_raises_like_scikit_learn(name):
    fn = FUNCTIONS.get(name, per_class_recall)
    with pytest.raises(ValueError, match=r"argument `y_true`.*at least one sample"):
        fn([], [])
    with pytest.raises(ValueError):
        skm.balanced_accuracy_score([], [])


def test_float_class_ids_with_binary_y_true_are_refused():
    # read as scores, [0., 2., 1., 1.] would silently become [0, 1, 1, 1]
    with pytest.raises(ValueError, match=r"argument `y_pred`.*whole-number floats up to 2"):
        balanced_accuracy([0, 1, 1, 1], [0.0, 2.0, 1.0, 1.0])
    # as integers, or with num_classes, they are class ids
    assert balanced_accuracy([0, 1, 1, 1], [0.0, 2.0, 1.0, 1.0], num_classes=3) == pytest.approx(
        skm.balanced_accuracy_score([0, 1, 1, 1], [0, 2, 1, 1])
    )
    # scores, and logits with threshold 0, are still scores
    assert balanced_accuracy([0, 1], [0.2, 0.9]) == 1.0
    assert balanced_accuracy([0, 1], [-3.0, 2.0], threshold=0.0) == 1.0


GMEAN_CASES = [
    ([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]),  # imbalanced-learn's docstring example
    ([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0]),
    ([0, 1, 1, 2, 2, 2, 3], [0, 1, 2, 2, 2, 0, 1]),  # class 3 never predicted right
    ([0, 0, 1, 1], [0, 2, 1, 1]),  # class 2 only predicted
]


@pytest.mark.parametrize(("y_true", "y_pred"), GMEAN_CASES)
@pytest.mark.parametrize(
    "options",
    [
        {"correction": 0.001},
        {"correction": 0.3},
        {"average": "macro"},
        {"average": "weighted"},
        {"average": "micro"},
    ],
)
def test_geometric_mean_options_match_imbalanced_learn(y_true, y_pred, options):
    expected = geometric_mean_score(y_true, y_pred, **options)
    assert geometric_mean(y_true, y_pred, **options) == pytest.approx(expected, rel=1e-12)


def test_geometric_mean_per_class_and_binary_match_imbalanced_learn():
    y_true, y_pred = GMEAN_CASES[0]
    np.testing.assert_allclose(
        geometric_mean(y_true, y_pred, average=None),
        geometric_mean_score(y_true, y_pred, average=None),
    )
    y_true, y_pred = GMEAN_CASES[1]
    assert geometric_mean(y_true, y_pred, average="binary") == pytest.approx(
        geometric_mean_score(y_true, y_pred, average="binary")
    )
    with pytest.raises(ValueError, match=r"`average`.*'binary' only for 2 classes"):
        geometric_mean([0, 1, 2], [0, 1, 2], average="binary")
    with pytest.raises(ValueError, match=r"`correction`"):
        geometric_mean([0, 1], [0, 1], correction=-0.1)


@pytest.mark.parametrize("seed", range(5))
def test_adjusted_balanced_accuracy_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y, pred = noisy_labels(rng, 200, 2 + seed % 3, p=None)
    expected = skm.balanced_accuracy_score(y, pred, adjusted=True)
    assert balanced_accuracy(y, pred, adjusted=True) == pytest.approx(expected, rel=1e-12)
    cm = confusion_matrix(y, pred)
    assert from_confusion(cm, "balanced_accuracy", adjusted=True) == pytest.approx(expected)
    # chance is 0, perfect is 1: 2 * 0.625 - 1 for the hand-computed case
    assert balanced_accuracy(HAND_TRUE, HAND_PRED, adjusted=True) == pytest.approx(0.25)
    with pytest.raises(TypeError, match=r"`adjusted`.*a bool"):
        balanced_accuracy(y, pred, adjusted="yes")
    with pytest.raises(TypeError, match=r"`average`.*an option of metric 'macro_f1'"):
        from_confusion(cm, "macro_f1", average="macro")
