"""Prior correction, EM prior estimation and threshold tuning (numpy only)."""

import warnings

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score, f1_score

import keras_imbalance.calibration as calibration
from keras_imbalance.calibration import (
    apply_threshold,
    correct_priors,
    estimate_priors_em,
    tune_threshold,
)

SKLEARN = {
    "f1": lambda y, p, w=None: f1_score(y, p, sample_weight=w, zero_division=0),
    "g_mean": lambda y, p, w=None: geometric_mean_score(y, p, sample_weight=w),
    "balanced_accuracy": lambda y, p, w=None: balanced_accuracy_score(y, p, sample_weight=w),
}
SKLEARN_MULTI = {
    "f1": lambda y, p: f1_score(y, p, average="macro", zero_division=0),
    "g_mean": lambda y, p: geometric_mean_score(y, p),
    "balanced_accuracy": balanced_accuracy_score,
}


def test_public_names_have_docstrings():
    for name in calibration.__all__:
        assert getattr(calibration, name).__doc__, name


# ------------------------------------------------------------------------ correct_priors


def test_correct_priors_hand_computed():
    # ratio = target / train = [0.4, 0.8, 2.4]; p * ratio = [0.08, 0.24, 1.2], sum 1.52
    out = correct_priors([[0.2, 0.3, 0.5]], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6])
    np.testing.assert_allclose(out, [[1 / 19, 3 / 19, 15 / 19]], rtol=1e-12)


def test_correct_priors_binary_closed_form():
    # p r1 / (p r1 + (1 - p) r0), r = [0.9 / 0.5, 0.1 / 0.5] = [1.8, 0.2]
    out = correct_priors(np.array([0.5, 0.9]), 0.5, 0.1)
    np.testing.assert_allclose(out, [0.1, 0.18 / 0.36], rtol=1e-12)


def test_correct_priors_identity_when_priors_equal():
    proba = np.random.default_rng(0).dirichlet([1.0, 2.0, 0.5, 3.0], size=50)
    priors = [0.1, 0.2, 0.3, 0.4]
    np.testing.assert_allclose(correct_priors(proba, priors, priors), proba, atol=1e-12)


def test_correct_priors_binary_forms_agree():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=40)
    two_col = correct_priors(np.c_[1 - p, p], [0.7, 0.3], [0.95, 0.05])
    vector = correct_priors(p, [0.7, 0.3], [0.95, 0.05])
    column = correct_priors(p[:, None], 0.3, 0.05)
    assert vector.shape == (40,) and column.shape == (40, 1)
    np.testing.assert_allclose(vector, two_col[:, 1], rtol=1e-12)
    np.testing.assert_allclose(column[:, 0], two_col[:, 1], rtol=1e-12)


def test_correct_priors_dict_counts_and_round_trip():
    proba = np.random.default_rng(2).dirichlet([1.0, 1.0, 1.0], size=30)
    counts = np.array([600, 300, 100])  # counts are normalised to priors
    as_array = correct_priors(proba, counts / counts.sum(), [1 / 3, 1 / 3, 1 / 3])
    as_counts = correct_priors(proba, counts, {0: 1, 1: 1, 2: 1})
    np.testing.assert_allclose(as_counts, as_array, rtol=1e-12)
    # correcting there and back is the identity; rows still sum to 1
    back = correct_priors(as_array, [1, 1, 1], counts)
    np.testing.assert_allclose(back, proba, atol=1e-12)
    np.testing.assert_allclose(as_array.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("kwargs", "kind", "argument"),
    [
        ({"train_priors": [0.5, -0.1, 0.6]}, ValueError, "train_priors"),
        ({"train_priors": [0.5, 0.5]}, ValueError, "train_priors"),
        ({"train_priors": [0.0, 0.5, 0.5]}, ValueError, "train_priors"),
        ({"target_priors": [np.nan, 0.5, 0.5]}, ValueError, "target_priors"),
        ({"target_priors": {0: 0.5, 1: 0.5}}, ValueError, "target_priors"),
        ({"target_priors": {"a": 0.5, 1: 0.2, 2: 0.3}}, TypeError, "target_priors"),
        ({"target_priors": 0.3}, ValueError, "target_priors"),
        ({"proba": [[0.5, 0.6, 0.1]]}, ValueError, "proba"),
        ({"proba": [[0.5, np.nan, 0.5]]}, ValueError, "proba"),
        ({"proba": [[-0.5, 1.0, 0.5]]}, ValueError, "proba"),
        ({"proba": np.zeros((2, 2, 2))}, ValueError, "proba"),
    ],
)
def test_correct_priors_errors(kwargs, kind, argument):
    args = {"proba": [[0.2, 0.3, 0.5]], "train_priors": [0.2, 0.3, 0.5]}
    args["target_priors"] = [0.2, 0.3, 0.5]
    args.update(kwargs)
    with pytest.raises(kind, match=f"Invalid value for argument `{argument}`"):
        correct_priors(**args)


# ----------------------------------------------------------------------- EM estimation


def _gaussian_posteriors(rng, means, train_priors, deploy_priors, n):
    """Data from a Gaussian mixture with deploy_priors; exact posteriors under train_priors."""
    means = np.asarray(means, dtype=float)
    y = rng.choice(len(means), size=n, p=deploy_priors)
    x = rng.normal(means[y], 1.0)
    log_lik = -0.5 * (x[:, None] - means[None, :]) ** 2
    joint = np.exp(log_lik) * np.asarray(train_priors)
    return joint / joint.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("means", "train", "deploy"),
    [
        ([-1.0, 1.0], [0.5, 0.5], [0.85, 0.15]),
        ([-2.0, 0.0, 2.0], [1 / 3, 1 / 3, 1 / 3], [0.7, 0.2, 0.1]),
        ([-2.0, 0.0, 2.0], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]),
    ],
)
def test_em_recovers_shifted_priors(means, train, deploy):
    proba = _gaussian_posteriors(np.random.default_rng(3), means, train, deploy, 20_000)
    estimate = estimate_priors_em(proba, train, max_iter=1000, tol=1e-8)
    assert estimate.shape == (len(means),)
    np.testing.assert_allclose(estimate.sum(), 1.0)
    # sampling error of a 20,000-sample mixture-proportion MLE is below 0.01 here
    np.testing.assert_allclose(estimate, deploy, atol=0.02)
    # far closer than doing nothing
    assert np.abs(estimate - deploy).max() < 0.25 * np.abs(np.array(train) - deploy).max()


def test_em_binary_vector_form_and_fixed_point():
    proba = _gaussian_posteriors(np.random.default_rng(4), [-1, 1], [0.5, 0.5], [0.9, 0.1], 5000)
    two_col = estimate_priors_em(proba, [0.5, 0.5], tol=1e-10, max_iter=1000)
    vector = estimate_priors_em(proba[:, 1], 0.5, tol=1e-10, max_iter=1000)
    np.testing.assert_allclose(vector, two_col, atol=1e-9)
    # at convergence the mean of the corrected posteriors equals the estimated priors
    corrected = correct_priors(proba, [0.5, 0.5], two_col)
    np.testing.assert_allclose(corrected.mean(axis=0), two_col, atol=1e-8)


def test_em_hand_computed_mle():
    # likelihood ratios 9 (x20) and 1/9 (x80): d/dpi of the log-likelihood vanishes at 1/8
    proba = np.array([0.9] * 20 + [0.1] * 80)
    np.testing.assert_allclose(
        estimate_priors_em(proba, 0.5, max_iter=10_000, tol=1e-12), [0.875, 0.125], atol=1e-6
    )


def test_em_warns_when_not_converged():
    proba = _gaussian_posteriors(np.random.default_rng(5), [-1, 1], [0.5, 0.5], [0.9, 0.1], 500)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        estimate_priors_em(proba, [0.5, 0.5], max_iter=1)
    with pytest.raises(ValueError, match="`max_iter`"):
        estimate_priors_em(proba, [0.5, 0.5], max_iter=0)


# ------------------------------------------------------------------- binary thresholds


def _brute_force(y, p, metric, w=None):
    """Best score over every candidate rule 'p >= t' (each distinct score, and +inf)."""
    return max(SKLEARN[metric](y, (p >= t).astype(int), w) for t in np.r_[np.unique(p), np.inf])


@pytest.mark.parametrize("metric", ["f1", "g_mean", "balanced_accuracy"])
@pytest.mark.parametrize("seed", [0, 1])
def test_binary_threshold_matches_brute_force(metric, seed):
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=150) < 0.15).astype(int)
    # informative but noisy scores, rounded to 2 decimals so that ties occur
    p = np.clip(np.round(rng.beta(2, 6, size=150) + 0.25 * y, 2), 0, 1)
    t = tune_threshold(y, p, metric=metric)
    achieved = SKLEARN[metric](y, apply_threshold(p, t))
    assert achieved == pytest.approx(_brute_force(y, p, metric), abs=1e-12)


def test_binary_threshold_sample_weight_matches_brute_force():
    rng = np.random.default_rng(7)
    y = (rng.uniform(size=120) < 0.2).astype(int)
    p = np.round(np.clip(rng.beta(2, 5, size=120) + 0.2 * y, 0, 1), 2)
    w = rng.uniform(0.1, 3.0, size=120)
    for metric in ("f1", "balanced_accuracy"):
        t = tune_threshold(y, p, metric=metric, sample_weight=w)
        achieved = SKLEARN[metric](y, apply_threshold(p, t), w)
        assert achieved == pytest.approx(_brute_force(y, p, metric, w), abs=1e-12)


def test_binary_threshold_hand_computed_and_forms():
    y = [0, 0, 0, 0, 1, 0, 1, 1]
    p = np.array([0.05, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.8])
    # keeping {0.3, 0.35, 0.4, 0.8} positive: TPR 1, TNR 4/5 -> 0.9; cut midway 0.25 | 0.3
    assert tune_threshold(y, p, metric="balanced_accuracy") == pytest.approx(0.275)
    # F1: {0.4, 0.8} -> 2*2 / (4 + 0 + 1) = 0.8 < {0.3, ..., 0.8} -> 2*3 / (6 + 1 + 0)
    assert tune_threshold(y, p, metric="f1") == pytest.approx(0.275)
    # balanced accuracy ties at 0.75 for {0.9} and {0.4, 0.6, 0.9}: the higher cut is kept
    y2, p2 = [0, 1, 0, 1], [0.1, 0.4, 0.6, 0.9]
    assert tune_threshold(y2, p2, metric="balanced_accuracy") == pytest.approx(0.75)
    # F1 there: 2/3, 1/2, 4/5 (cut 0.25), 2/3
    assert tune_threshold(y2, p2, metric="f1") == pytest.approx(0.25)
    assert tune_threshold(y, p[:, None]) == tune_threshold(y, np.c_[1 - p, p])
    # perfectly separable scores: the cut lies between the two groups
    assert tune_threshold([0, 0, 1, 1], [0.1, 0.2, 0.6, 0.7], metric="g_mean") == pytest.approx(0.4)


def test_binary_threshold_errors():
    with pytest.raises(ValueError, match="`metric`"):
        tune_threshold([0, 1], [0.2, 0.8], metric="accuracy")
    with pytest.raises(ValueError, match="`y_true`.*both classes"):
        tune_threshold([1, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="`y_true`"):
        tune_threshold([0, 2], [0.2, 0.8])
    with pytest.raises(ValueError, match="`y_true`"):
        tune_threshold([0, 1, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="`sample_weight`"):
        tune_threshold([0, 1], [0.2, 0.8], sample_weight=[1.0, -1.0])


# ------------------------------------------------------------------ multiclass offsets


def _shifted_multiclass(seed, n=400, k=4):
    """Posteriors of a model trained on balanced data, scored on long-tailed data."""
    rng = np.random.default_rng(seed)
    priors = 0.5 ** np.arange(k)
    priors /= priors.sum()
    means = np.linspace(-3, 3, k)
    y = rng.choice(k, size=n, p=priors)
    x = rng.normal(means[y], 1.4)
    lik = np.exp(-0.5 * ((x[:, None] - means[None, :]) / 1.4) ** 2)
    # a miscalibrated model that favours class 0, as after training on skewed data
    proba = lik * np.r_[6.0, np.ones(k - 1)]
    return y, proba / proba.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("metric", ["f1", "g_mean", "balanced_accuracy"])
@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_offsets_never_worse_than_argmax(metric, seed):
    y, proba = _shifted_multiclass(seed)
    offsets = tune_threshold(y, proba, metric=metric)
    assert offsets.shape == (4,) and offsets[0] == 0.0
    base = SKLEARN_MULTI[metric](y, proba.argmax(axis=1))
    tuned = SKLEARN_MULTI[metric](y, apply_threshold(proba, offsets))
    assert tuned >= base - 1e-12


def test_multiclass_offsets_fix_a_never_predicted_class():
    # class 2 never wins the argmax, so its recall and the G-mean are 0
    proba = np.array([[0.6, 0.3, 0.1]] * 5 + [[0.2, 0.7, 0.1]] * 5 + [[0.5, 0.1, 0.4]] * 3)
    y = np.array([0] * 5 + [1] * 5 + [2] * 3)
    assert geometric_mean_score(y, proba.argmax(axis=1)) == 0.0
    offsets = tune_threshold(y, proba, metric="g_mean")
    assert np.array_equal(apply_threshold(proba, offsets), y)


def test_apply_threshold_values_and_errors():
    assert apply_threshold([0.2, 0.3, 0.9], 0.3).tolist() == [0, 1, 1]
    proba = np.random.default_rng(0).dirichlet([1, 1, 1], size=20)
    assert np.array_equal(apply_threshold(proba, np.zeros(3)), proba.argmax(axis=1))
    # multiplicative weights exp(b): [0.5, 0.3, 0.2] * [1, 1, 3] -> class 2
    assert apply_threshold([[0.5, 0.3, 0.2]], np.log([1.0, 1.0, 3.0])).tolist() == [2]
    with pytest.raises(ValueError, match="`threshold`"):
        apply_threshold(proba, 0.5)
    with pytest.raises(ValueError, match="`threshold`"):
        apply_threshold(proba, [0.0, 1.0])
    with pytest.raises(TypeError, match="`threshold`"):
        apply_threshold(proba, "high")


def test_no_warnings_on_degenerate_scores():
    # constant scores: only "all negative" or "all positive" is possible
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = tune_threshold([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], metric="f1")
    assert apply_threshold([0.5] * 4, t).tolist() == [1, 1, 1, 1]


def test_cost_threshold_is_the_brute_force_minimum_of_the_mean_cost():
    from keras_imbalance.calibration import expected_cost

    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.1).astype(int)
    p = np.clip(0.3 * y + rng.random(300) * 0.7, 0, 1)
    costs = np.array([[0.0, 1.0], [28.0, 0.0]])
    t = tune_threshold(y, p, metric="cost", costs=costs)
    got = expected_cost(y, (p >= t).astype(int), costs)
    # every distinct cut, by brute force
    cuts = np.r_[np.unique(p), 1.1]
    best = min(expected_cost(y, (p >= c).astype(int), costs) for c in cuts)
    assert got == pytest.approx(best)
    # hand value: with costs 28:1 the cut flags far more rows than the 0.5 threshold
    assert expected_cost(y, (p >= 0.5).astype(int), costs) > got


def test_bayes_decision_and_cost_matrix_by_hand():
    from keras_imbalance.calibration import bayes_decision, cost_matrix

    c = cost_matrix({"fraud": 50, "ok": 1}, ["fraud", "ok"])
    assert c.tolist() == [[0.0, 50.0], [1.0, 0.0]]
    # predict "fraud" (0) when 50 p_fraud > p_ok, i.e. p_fraud > 1/51
    assert bayes_decision([[0.03, 0.97], [0.01, 0.99]], c).tolist() == [0, 1]
    three = cost_matrix({2: 10}, [0, 1, 2])  # class 2 costs 10 to miss, the others 1
    assert three.tolist() == [[0, 1, 1], [1, 0, 1], [10, 10, 0]]
    assert bayes_decision([[0.5, 0.4, 0.1]], three).tolist() == [2]  # 10 * 0.1 > 0.5
    with pytest.raises(ValueError, match=r"`costs`.*do not exist \['fruad'\].*not positive"):
        cost_matrix({"fruad": 5, "ok": 0}, ["fraud", "ok"])
    with pytest.raises(ValueError, match=r"`costs`.*non-negative"):
        cost_matrix([[0, -1], [1, 0]], [0, 1])
    with pytest.raises(ValueError, match=r"`metric`.*'cost' for binary"):
        tune_threshold([0, 1, 2], np.eye(3), metric="cost", costs=np.ones((3, 3)))
