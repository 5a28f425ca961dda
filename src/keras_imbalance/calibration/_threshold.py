"""Decision thresholds (binary) and per-class log offsets (multiclass) tuned for a metric."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_number, check_option, check_weights_array, float_array, invalid
from ._priors import _check_proba

METRICS = ("f1", "geometric_mean", "balanced_accuracy", "cost")
# spellings of 0.1, accepted with a DeprecationWarning
_OLD_METRICS = {"g_mean": "geometric_mean"}
# log(0) = -inf would make offsets meaningless; probabilities are floored here first.
_TINY = np.finfo(np.float64).tiny


def _check_labels(y_true, n_samples, n_classes):
    try:
        y = np.asarray(y_true)
    except Exception:  # pragma: no cover - exotic containers
        raise invalid("y_true", "an array of class indices", y_true, kind=TypeError) from None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise invalid("y_true", f"class indices of shape ({n_samples},) matching `proba`", y_true)
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise invalid("y_true", "integer class indices", y_true, kind=TypeError)
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.mod(y, 1) == 0):
        raise invalid("y_true", "integer class indices", y_true)
    y = y.astype(np.int64)
    if np.any(y < 0) or np.any(y >= n_classes):
        raise invalid("y_true", f"class indices in 0..{n_classes - 1} (columns of proba)", y_true)
    return y


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return np.ones(n_samples)
    w = check_weights_array("sample_weight", sample_weight)
    if w.shape != (n_samples,):
        raise invalid("sample_weight", f"an array of shape ({n_samples},)", sample_weight)
    return w


# ----------------------------------------------------------------------------------------
# scores from margins, vectorised over candidate cuts (rows)
# ----------------------------------------------------------------------------------------


def _binary_scores(tp, fp, pos, neg, metric):
    """Binary scores of the positive class for arrays of (weighted) TP and FP counts."""
    fn = pos - tp
    tn = neg - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "f1":  # F1 = 2 TP / (2 TP + FP + FN); 0 when undefined (sklearn)
            den = 2 * tp + fp + fn
            return np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), 0.0)
        tpr = tp / pos
        tnr = tn / neg
    if metric == "balanced_accuracy":
        return 0.5 * (tpr + tnr)
    return np.sqrt(np.clip(tpr * tnr, 0, None))


def _multiclass_scores(tp, predicted, support, metric):
    """Scores from per-class TP, predicted and true counts; rows = candidates, cols = classes.

    Conventions of scikit-learn / imbalanced-learn: macro F1 and G-mean average over the
    classes seen in y_true or y_pred, balanced accuracy over the classes in y_true.
    """
    support = np.broadcast_to(support, tp.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(support > 0, tp / np.where(support > 0, support, 1), 0.0)
        if metric == "balanced_accuracy":
            present = support > 0
            return (recall * present).sum(axis=1) / present.sum(axis=1)
        seen = (support > 0) | (predicted > 1e-12)
        n_seen = seen.sum(axis=1)
        if metric == "f1":
            den = support + predicted
            f1 = np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), 0.0)
            return (f1 * seen).sum(axis=1) / n_seen
        log_recall = np.where(seen, np.log(np.where(recall > 0, recall, 1.0)), 0.0)
        zero = (seen & (recall <= 0)).any(axis=1)
        return np.where(zero, 0.0, np.exp(log_recall.sum(axis=1) / n_seen))


def _cut_points(sorted_values):
    """Midpoints between consecutive distinct values, never equal to the lower one."""
    lo, hi = sorted_values[:-1], sorted_values[1:]
    mid = lo + (hi - lo) / 2
    return np.where(mid > lo, mid, hi)


# ----------------------------------------------------------------------------------------
# binary: exact search over every distinct cut
# ----------------------------------------------------------------------------------------


def _tune_binary(y, p, w, metric, costs=None):
    pos = float(w[y == 1].sum())
    neg = float(w[y == 0].sum())
    order = np.argsort(-p, kind="stable")
    ps, ys, ws = p[order], y[order], w[order]
    tp_cum = np.cumsum(ws * (ys == 1))
    fp_cum = np.cumsum(ws * (ys == 0))
    # the last index of each run of equal scores: predicting "positive iff p >= ps[j]"
    last = np.flatnonzero(np.r_[ps[1:] != ps[:-1], True])
    tp = np.r_[0.0, tp_cum[last]]  # first candidate: nothing predicted positive
    fp = np.r_[0.0, fp_cum[last]]
    if metric == "cost":  # minus the mean cost of the cut, costs[true, predicted]
        fn, tn = pos - tp, neg - fp
        total = costs[1, 1] * tp + costs[0, 1] * fp + costs[1, 0] * fn + costs[0, 0] * tn
        scores = -total / (pos + neg)
    else:
        scores = _binary_scores(tp, fp, pos, neg, metric)
    best = int(np.argmax(scores))  # first maximum = the highest threshold among ties
    distinct = ps[last]  # decreasing
    if best == 0:
        threshold = float(np.nextafter(distinct[0], np.inf))
    elif best == len(distinct):
        threshold = float(distinct[-1])
    else:  # between distinct[best - 1] (included) and distinct[best] (excluded)
        threshold = float(_cut_points(distinct[[best, best - 1]])[0])
    return threshold, float(scores[best])


# ----------------------------------------------------------------------------------------
# multiclass: coordinate ascent on additive log-space offsets
# ----------------------------------------------------------------------------------------


def _score_offsets(logp, y, w, offsets, metric):
    k = logp.shape[1]
    pred = np.argmax(logp + offsets, axis=1)
    tp = np.bincount(pred[pred == y], weights=w[pred == y], minlength=k)
    predicted = np.bincount(pred, weights=w, minlength=k)
    support = np.bincount(y, weights=w, minlength=k)
    return float(_multiclass_scores(tp[None], predicted[None], support, metric)[0])


def _line_search(logp, y, w, offsets, c, metric):
    """Best offset of class ``c`` with the others fixed, over every distinct cut."""
    n, k = logp.shape
    shifted = logp + offsets
    others = shifted.copy()
    others[:, c] = -np.inf
    other = np.argmax(others, axis=1)
    # sample i is predicted c iff offsets[c] > d_i (else it goes to its best other class)
    d = others[np.arange(n), other] - logp[:, c]
    order = np.argsort(d, kind="stable")
    ds, ys, ws, os_ = d[order], y[order], w[order], other[order]
    support = np.bincount(y, weights=w, minlength=k)
    # start: offset below every d (nobody predicted c); then move samples one by one
    tp0 = np.bincount(other[other == y], weights=w[other == y], minlength=k)
    pred0 = np.bincount(other, weights=w, minlength=k)
    move = np.zeros((n, k))
    move[np.arange(n), os_] -= ws
    move[:, c] += ws
    hit = np.zeros((n, k))
    hit[np.arange(n), os_] -= ws * (ys == os_)
    hit[:, c] += ws * (ys == c)
    last = np.flatnonzero(np.r_[ds[1:] != ds[:-1], True])
    predicted = np.vstack([pred0, pred0 + np.cumsum(move, axis=0)[last]])
    tp = np.vstack([tp0, tp0 + np.cumsum(hit, axis=0)[last]])
    scores = _multiclass_scores(tp, predicted, support, metric)
    distinct = ds[last]  # increasing
    candidates = np.r_[
        distinct[0] - 1.0, _cut_points(distinct), distinct[-1] + 1.0
    ]  # candidate j puts the first j runs of samples in class c
    top = scores.max()
    tied = np.flatnonzero(scores >= top - 1e-12)
    # among tied cuts keep the one nearest the current offset (small, stable moves)
    choice = tied[np.argmin(np.abs(candidates[tied] - offsets[c]))]
    return float(candidates[choice])


def _tune_offsets(y, P, w, metric, max_iter):
    k = P.shape[1]
    logp = np.log(np.maximum(P, _TINY))
    offsets = np.zeros(k)
    score = _score_offsets(logp, y, w, offsets, metric)
    for _ in range(max_iter):
        improved = False
        for c in range(k):
            trial = offsets.copy()
            trial[c] = _line_search(logp, y, w, offsets, c, metric)
            trial_score = _score_offsets(logp, y, w, trial, metric)
            if trial_score > score + 1e-12:  # accept strict improvements only
                offsets, score, improved = trial, trial_score, True
        if not improved:
            break
    return offsets - offsets[0], score


def tune_threshold(y_true, proba, metric="f1", *, sample_weight=None, max_iter=20, costs=None):
    """Tune the decision rule of a probabilistic classifier for an imbalance metric.

    **Binary** (``proba`` of shape ``(n_samples,)``, ``(n_samples, 1)`` or
    ``(n_samples, 2)``; the rule is ``positive iff p >= threshold`` on the probability
    ``p`` of class 1): the search is exact and vectorised. Scores are sorted once,
    cumulative (weighted) TP and FP counts give the metric at *every* distinct cut
    (everything negative, then each distinct score value in turn, down to everything
    positive) in O(N log N), and the best cut is returned as the midpoint between the
    lowest score kept positive and the next lower distinct score (so small changes in
    new probabilities do not flip decisions on the tuning points). Ties keep the highest
    threshold. ``metric="f1"`` is the F1 score of class 1; ``"geometric_mean"`` is
    ``sqrt(TPR * TNR)``; ``"balanced_accuracy"`` is ``(TPR + TNR) / 2``; ``"cost"`` minimises
    the mean cost ``sum costs[true, predicted] / n`` of a 2 x 2 ``costs`` matrix (binary only:
    for more classes use :func:`bayes_decision` on calibrated probabilities).

    **Multiclass** (``(n_samples, K)``, ``K >= 3``): per-class additive offsets ``b`` in
    log space, applied as ``argmax_k(log p_k + b_k)`` (equivalently multiplicative
    weights ``exp(b_k)`` on the probabilities; a prior correction is the special case
    ``b_k = log(pi_target[k] / pi_train[k])``). Found by coordinate ascent from
    ``b = 0`` (plain argmax): each step sets one ``b_c`` to the best value of an exact,
    vectorised line search over all the cuts where a sample changes between class ``c``
    and its best other class, and is kept only if the metric strictly improves, so the
    result never scores below argmax on the tuning data. A sweep over all classes is
    repeated up to ``max_iter`` times (until no class improves). The result is a local
    optimum, returned with ``b_0 = 0``. ``"f1"`` is macro F1 (scikit-learn
    ``average="macro"``), ``"geometric_mean"`` the geometric mean of the per-class recalls
    (imbalanced-learn) and ``"balanced_accuracy"`` the mean recall.

    Tune on validation data (not on the training data), then apply with
    :func:`apply_threshold`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class indices (0/1 or bool for binary; 0..K-1 for multiclass). Binary
        problems need both classes.
    proba : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
        Predicted probabilities (the first two forms: of class 1).
    metric : {"f1", "geometric_mean", "balanced_accuracy", "cost"}, default="f1"
        Score to maximise (``"cost"``: the mean cost to minimise). ``"g_mean"``, the 0.1
        spelling of ``"geometric_mean"``, still works with a DeprecationWarning.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights of the samples in the counts.
    max_iter : int, default=20
        Multiclass only: maximum number of coordinate-ascent sweeps.
    costs : array-like of shape (2, 2), default=None
        ``metric="cost"`` only: ``costs[true, predicted]`` (see :func:`cost_matrix`).

    Returns
    -------
    threshold : float or ndarray of shape (n_classes,)
        Binary: the threshold on the probability of class 1. Multiclass: the log-space
        offsets ``b`` (``b[0] == 0``).

    References
    ----------
    Lipton, Elkan & Naryanaswamy (2014), "Optimal Thresholding of Classifiers to Maximize
    F1 Measure"; Collell, Prelec & Patil (2018), "A simple plug-in bagging ensemble based on
    threshold-moving for classifying binary and multiclass imbalanced data".

    Examples
    --------
    >>> from keras_imbalance.calibration import tune_threshold, apply_threshold
    >>> y = [0, 0, 0, 0, 1, 0, 1, 1]
    >>> p = [0.05, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.8]
    >>> t = tune_threshold(y, p, metric="balanced_accuracy")
    >>> round(t, 3), apply_threshold(p, t).tolist()
    (0.275, [0, 0, 0, 0, 1, 1, 1, 1])
    """
    if isinstance(metric, str) and metric in _OLD_METRICS:
        import warnings

        warnings.warn(
            f"tune_threshold(metric={metric!r}) is deprecated and will be removed in "
            f"keras-imbalance 0.2: use metric={_OLD_METRICS[metric]!r}",
            DeprecationWarning,
            stacklevel=2,
        )
        metric = _OLD_METRICS[metric]
    check_option("metric", metric, METRICS)
    P, layout = _check_proba(proba)
    n, k = P.shape
    y = _check_labels(y_true, n, k)
    w = _check_sample_weight(sample_weight, n)
    if (metric == "cost") != (costs is not None):
        raise invalid("costs", "a 2 x 2 matrix exactly when metric='cost'", costs)
    if metric == "cost":
        if k != 2:
            raise invalid(
                "metric",
                "'cost' for binary probabilities (for more classes, bayes_decision)",
                f"{k}-class probabilities",
            )
        costs = np.asarray(costs, dtype=np.float64)
        if costs.shape != (2, 2) or not np.all(np.isfinite(costs)):
            raise invalid("costs", "a finite 2 x 2 matrix", costs)
    if k == 2:
        pos_weight, neg_weight = w[y == 1].sum(), w[y == 0].sum()
        if pos_weight <= 0 or neg_weight <= 0:
            raise invalid(
                "y_true", "both classes 0 and 1 (with positive weight) to tune a threshold", y_true
            )
        return _tune_binary(y, P[:, 1], w, metric, costs)[0]
    max_iter = check_number("max_iter", max_iter, low=1, integer=True)
    return _tune_offsets(y, P, w, metric, max_iter)[0]


def apply_threshold(proba, threshold):
    """Class predictions from probabilities and a tuned threshold or offsets.

    Binary (``threshold`` a number): ``labels = (p >= threshold)`` with ``p`` the
    probability of class 1 (``proba`` of shape ``(n_samples,)``, ``(n_samples, 1)`` or
    ``(n_samples, 2)``). Multiclass (``threshold`` an array of ``K`` log-space offsets ``b``,
    as returned by :func:`tune_threshold`): ``labels = argmax_k(log p_k + b_k)``; offsets of
    zeros give plain argmax.

    Parameters
    ----------
    proba : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
        Predicted probabilities.
    threshold : float or array-like of shape (n_classes,)
        From :func:`tune_threshold` (``0.5`` is the default binary rule).

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.calibration import apply_threshold
    >>> apply_threshold([0.2, 0.35, 0.9], 0.3).tolist()
    [0, 1, 1]
    >>> apply_threshold([[0.5, 0.3, 0.2]], np.log([1.0, 1.0, 3.0])).tolist()
    [2]
    """
    P, _ = _check_proba(proba)
    k = P.shape[1]
    if isinstance(threshold, numbers.Real) and not isinstance(threshold, bool):
        if k != 2:
            raise invalid(
                "threshold",
                f"an array of {k} log-space offsets for {k}-class probabilities",
                threshold,
            )
        if np.isnan(threshold):
            raise invalid("threshold", "a number (not NaN)", threshold)
        return (P[:, 1] >= float(threshold)).astype(np.int64)
    offsets = float_array("threshold", threshold, "a number or an array of offsets")
    if offsets.ndim == 0:
        return apply_threshold(proba, float(offsets))
    if offsets.shape != (k,) or not np.all(np.isfinite(offsets)):
        raise invalid("threshold", f"{k} finite log-space offsets, one per class", threshold)
    return np.argmax(np.log(np.maximum(P, _TINY)) + offsets, axis=1).astype(np.int64)
