"""Confusion matrices and the imbalance scores computed from them (numpy only, never imports Keras).

Each score is written once, as a *reduce* function ``confusion -> score`` taking an array namespace
``xp`` (the ``numpy`` module or ``keras.ops``). The numpy functions of this module call it with
``numpy``; the Keras metrics in :mod:`keras_imbalance.metrics` call it with ``keras.ops`` on their
running confusion counts, so a score accumulated over batches equals the score on the whole data.
Only operations both namespaces share are used (``sum``, ``diagonal``, ``where``, ``sqrt``, ``log``,
``exp``, ``logical_and``, ``logical_or``; not ``maximum``, which ``keras.ops`` computes in float32
on float64 counts), and every 0/0 is resolved with ``where``
(no Python branch on values, so the code also runs inside a compiled Keras step).

Conventions, all matching scikit-learn / imbalanced-learn with ``labels=None``: the confusion
matrix ``C`` has true classes in rows and predicted classes in columns; a class that appears neither
in ``y_true`` nor in ``y_pred`` (all-zero row and column) is left out of the averages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_imbalance._validation import (
    Text,
    check_keywords,
    check_number,
    check_option,
    check_weights_array,
    invalid,
)

# The public names are listed once, in keras_imbalance.metrics.__all__ (this module is private).


# --------------------------------------------------------------------------------------------
# reduce functions: confusion counts (K, K) -> score, written once for numpy and keras.ops
# --------------------------------------------------------------------------------------------


def _divide(num, den, xp, fallback=0.0):
    """``num / den`` where ``den > 0``, ``fallback`` elsewhere (no 0/0 warning, no NaN)."""
    ok = den > 0
    return xp.where(ok, num / xp.where(ok, den, 1.0), fallback)


def _count(mask, like, xp):
    """How many entries of ``mask`` are true, in ``like``'s dtype: ``xp.where(mask, 1.0, 0.0)``
    would be float32 in ``keras.ops`` whatever the counts' dtype, and TensorFlow does not
    divide float64 counts by a float32 tensor."""
    return xp.sum(xp.where(mask, xp.ones_like(like), 0.0))


def _margins(cm, xp):
    tp = xp.diagonal(cm)
    support = xp.sum(cm, axis=1)  # true count per class (row sums)
    predicted = xp.sum(cm, axis=0)  # predicted count per class (column sums)
    return tp, support, predicted


def _recall_cm(cm, xp):
    tp, support, _ = _margins(cm, xp)
    return _divide(tp, support, xp)


def _balanced_accuracy_cm(cm, xp, adjusted=False):
    # mean recall over the classes present in y_true (sklearn drops classes absent from y_true)
    tp, support, _ = _margins(cm, xp)
    present = support > 0
    recall = _divide(tp, support, xp)
    n = _count(present, support, xp)
    score = _divide(xp.sum(xp.where(present, recall, 0.0)), n, xp)
    if adjusted:
        # (score - 1/n) / (1 - 1/n) = (n score - 1) / (n - 1): chance 0, perfect 1
        score = _divide(n * score - 1.0, n - 1.0, xp)
    return score


def _geometric_mean_cm(cm, xp, correction=0.0, average="multiclass"):
    tp, support, predicted = _margins(cm, xp)
    seen = xp.logical_or(support > 0, predicted > 0)
    n = _count(seen, support, xp)
    if average == "multiclass":
        # imblearn's default: geometric mean of the per-class recalls over the classes seen in
        # y_true or y_pred (a class only predicted has recall 0); zero recalls become
        # `correction`, so with the default 0 one missed class makes G zero.
        recall = _divide(tp, support, xp)
        recall = xp.where(recall > 0, recall, correction)
        any_zero = xp.sum(xp.where(xp.logical_and(seen, recall <= 0), 1.0, 0.0)) > 0
        # (prod r_k) ** (1 / n) = exp(mean(log r_k)); log(1) = 0 stands in for the unseen classes
        log_recall = xp.log(xp.where(recall > 0, recall, 1.0))
        mean_log = _divide(xp.sum(xp.where(seen, log_recall, 0.0)), n, xp)
        return xp.where(xp.logical_or(any_zero, n <= 0), 0.0, xp.exp(mean_log))
    # one class against the rest: sqrt(sensitivity * specificity), imblearn's other averages
    total = xp.sum(cm)
    fp = predicted - tp
    negatives = total - support  # TN + FP of each class
    sensitivity = _divide(tp, support, xp)
    specificity = _divide(negatives - fp, negatives, xp)
    if average is None:
        return xp.sqrt(sensitivity * specificity)
    if average == "binary":  # the positive class, 1
        return xp.sqrt(sensitivity[1] * specificity[1])
    if average == "micro":
        sens = _divide(xp.sum(xp.where(seen, tp, 0.0)), xp.sum(xp.where(seen, support, 0.0)), xp)
        tn_all = xp.sum(xp.where(seen, negatives - fp, 0.0))
        spec = _divide(tn_all, xp.sum(xp.where(seen, negatives, 0.0)), xp)
        return xp.sqrt(sens * spec)
    weight = xp.where(seen, support if average == "weighted" else xp.ones_like(support), 0.0)
    norm = xp.sum(weight)
    sens = _divide(xp.sum(weight * sensitivity), norm, xp)
    spec = _divide(xp.sum(weight * specificity), norm, xp)
    return xp.sqrt(sens * spec)


def _matthews_correlation_cm(cm, xp):
    # Gorodkin's R_K (sklearn's multiclass MCC) = cov(t, p) / sqrt(cov(p, p) cov(t, t)), written
    # with one-class-against-the-rest counts so that no two large terms cancel:
    #   s c - sum_k t_k p_k = sum_k (TP_k TN_k - FN_k FP_k),  s^2 - sum_k p_k^2 = sum_k p_k (s - p_k)
    # (s: total, c: trace, t / p: true / predicted counts). With float64 counts every product is
    # exact below 2**53, so rare events ([[19392673, 1], [76216, 0]]) keep their tiny value.
    tp, t, p = _margins(cm, xp)
    s = xp.sum(cm)
    fn = t - tp
    fp = p - tp
    tn = (s - t) - fp
    cov_tp = xp.sum(tp * tn - fn * fp)
    cov_pp = xp.sum(p * (s - p))
    cov_tt = xp.sum(t * (s - t))
    # (xp.where, not xp.maximum: keras.ops.maximum computes float64 in float32)
    den = xp.sqrt(xp.where(cov_pp > 0, cov_pp, 0.0)) * xp.sqrt(xp.where(cov_tt > 0, cov_tt, 0.0))
    return xp.where(den > 0, cov_tp / xp.where(den > 0, den, 1.0), 0.0)


def _macro_f1_cm(cm, xp):
    # F1_k = 2 TP / (2 TP + FP + FN) = 2 TP / (support + predicted), averaged over the classes
    # seen in y_true or y_pred (sklearn's f1_score(average="macro"), zero_division=0).
    tp, support, predicted = _margins(cm, xp)
    den = support + predicted
    seen = den > 0
    f1 = _divide(2.0 * tp, den, xp)
    n = _count(seen, support, xp)
    return _divide(xp.sum(xp.where(seen, f1, 0.0)), n, xp)


def _per_class_iou_cm(cm, xp):
    # IoU_k = TP / (TP + FP + FN) = TP / (support + predicted - TP); NaN marks a class absent
    # from both y_true and y_pred (0 / 0: skipped by the means, not scored 0 or 1)
    tp, support, predicted = _margins(cm, xp)
    return _divide(tp, support + predicted - tp, xp, fallback=float("nan"))


def _mean_iou_cm(cm, xp):
    # mean IoU over the classes seen in y_true or y_pred (keras.metrics.MeanIoU's rule)
    tp, support, predicted = _margins(cm, xp)
    union = support + predicted - tp
    seen = union > 0
    iou = _divide(tp, union, xp)
    n = _count(seen, support, xp)
    return _divide(xp.sum(xp.where(seen, iou, 0.0)), n, xp)


_REDUCERS = {
    "balanced_accuracy": _balanced_accuracy_cm,
    "geometric_mean": _geometric_mean_cm,
    "matthews_correlation": _matthews_correlation_cm,
    "macro_f1": _macro_f1_cm,
    "per_class_recall": _recall_cm,
    "per_class_iou": _per_class_iou_cm,
    "mean_iou": _mean_iou_cm,
    # Dice_k = 2 TP / (2 TP + FP + FN) is F1_k: mean Dice over the seen classes is macro F1
    "mean_dice": _macro_f1_cm,
}
_VECTORS = ("per_class_recall", "per_class_iou")


#: ``average`` of :func:`geometric_mean`, as in imbalanced-learn's ``geometric_mean_score``.
GMEAN_AVERAGES = ("multiclass", "binary", "micro", "macro", "weighted", None)
_OPTIONS = {"balanced_accuracy": ("adjusted",), "geometric_mean": ("average", "correction")}


def metric_options(metric: str, options: dict, num_classes: int | None = None) -> dict:
    """Validate the options of ``metric`` (``adjusted``; ``average`` and ``correction``)."""
    check_keywords(options, _OPTIONS.get(metric, ()), f"an option of metric {metric!r}")
    out = dict(options)
    if "adjusted" in out and not isinstance(out["adjusted"], (bool, np.bool_)):
        raise invalid("adjusted", "a bool", out["adjusted"], kind=TypeError)
    if "correction" in out:
        out["correction"] = check_number("correction", out["correction"], low=0.0, high=1.0)
    if "average" in out:
        check_option("average", out["average"], GMEAN_AVERAGES)
        if out["average"] == "binary" and num_classes is not None and num_classes != 2:
            raise invalid(
                "average",
                "'binary' only for 2 classes (for more: 'macro', 'weighted', 'micro', "
                "'multiclass' or None)",
                Text(f"'binary' with {num_classes} classes"),
            )
    return out


def _is_vector(metric: str, options: dict) -> bool:
    return metric in _VECTORS or (
        metric == "geometric_mean" and "average" in options and options["average"] is None
    )


def from_confusion(confusion: Any, metric: str, **options: Any) -> float | np.ndarray:
    """Compute an imbalance score from a confusion matrix.

    Lets code that already holds confusion counts (cross-validation folds, the report) get every
    score without recomputing predictions. The Keras metrics use the same reduce functions.

    Parameters
    ----------
    confusion : array-like of shape (n_classes, n_classes)
        Counts (or summed sample weights), true classes in rows, predicted classes in columns,
        as returned by :func:`confusion_matrix`.
    metric : {"balanced_accuracy", "geometric_mean", "matthews_correlation", "macro_f1", \
"per_class_recall", "per_class_iou", "mean_iou", "mean_dice"}
        Which score; see the function of the same name for its definition.
    **options
        The options of that function: ``adjusted`` (balanced accuracy), ``average`` and
        ``correction`` (G-mean).

    Returns
    -------
    float or ndarray of shape (n_classes,)
        The score (an array for ``"per_class_recall"``, ``"per_class_iou"`` and a G-mean with
        ``average=None``).

    Examples
    --------
    >>> from keras_imbalance.metrics import from_confusion
    >>> from_confusion([[8, 2], [1, 1]], "balanced_accuracy")
    0.65
    """
    check_option("metric", metric, _REDUCERS)
    cm = _check_confusion(confusion)
    options = metric_options(metric, options, cm.shape[0])
    out = _REDUCERS[metric](cm, np, **options)
    return np.asarray(out, dtype=np.float64) if _is_vector(metric, options) else float(out)


def _check_confusion(confusion: Any) -> np.ndarray:
    cm = check_weights_array("confusion", confusion)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] < 1:
        raise invalid("confusion", "a square 2-D array of counts", confusion)
    return cm


# --------------------------------------------------------------------------------------------
# building the confusion matrix from labels / scores
# --------------------------------------------------------------------------------------------


def _as_labels(name: str, values: np.ndarray) -> np.ndarray:
    """Integer class labels from a 1-D array of ints, bools or integral floats."""
    if values.dtype == bool:
        return values.astype(np.int64)
    if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
        raise invalid(name, "numeric class labels or scores", values, kind=TypeError)
    if np.issubdtype(values.dtype, np.floating):
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise invalid(
                name, "integer class labels 0..K-1 (float scores need binary data)", values
            )
    return values.astype(np.int64)


def _check_not_class_ids(scores: np.ndarray) -> None:
    """Refuse 1-D float "scores" that are whole numbers above 1: class ids stored as floats.

    Read as binary scores, ``[0., 2., 1., 1.]`` would silently become ``[0, 1, 1, 1]``.
    """
    finite = scores[np.isfinite(scores)]
    if (
        finite.size
        and finite.min() >= 0
        and finite.max() >= 2
        and np.all(finite == np.round(finite))
    ):
        raise invalid(
            "y_pred",
            "binary scores to threshold, or integer class indices (y_pred.astype(int); "
            "pass num_classes for more than 2 classes)",
            Text(
                f"whole-number floats up to {finite.max():g} with binary y_true: class ids "
                "stored as floats?"
            ),
        )


def _labels_from(
    y_true: Any, y_pred: Any, threshold: float, num_classes: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    for name, arr in (("y_true", yt), ("y_pred", yp)):
        if arr.ndim == 0 or arr.ndim > 2:
            raise invalid(
                name, "an array of shape (n_samples,), (n_samples, 1) or (n_samples, K)", arr
            )
        if arr.dtype.kind not in "biuf":
            raise invalid(
                name, "a numeric or boolean array (class indices 0..K-1)", arr, kind=TypeError
            )
    if yt.shape[0] != yp.shape[0]:
        raise invalid(
            "y_pred", f"as many rows as y_true ({yt.shape[0]})", Text(f"array of shape {yp.shape}")
        )
    if yt.shape[0] == 0:  # scikit-learn raises too: a score of nothing is not 0
        raise invalid("y_true", "at least one sample", Text("an empty array"))
    # (n, 1) is a column of labels / binary scores
    if yt.ndim == 2 and yt.shape[1] == 1:
        yt = yt[:, 0]
    if yp.ndim == 2 and yp.shape[1] == 1:
        yp = yp[:, 0]
    if num_classes is not None:
        num_classes = check_number("num_classes", num_classes, low=2, integer=True)

    width = [a.shape[1] for a in (yt, yp) if a.ndim == 2]
    if len(width) == 2 and width[0] != width[1]:
        raise invalid(
            "y_pred", f"{width[0]} columns like y_true", Text(f"array of shape {yp.shape}")
        )

    true = np.argmax(yt, axis=1) if yt.ndim == 2 else _as_labels("y_true", yt)
    if yp.ndim == 2:
        pred = np.argmax(yp, axis=1)
    elif np.issubdtype(yp.dtype, np.floating):
        # 1-D float y_pred: binary scores (thresholded) when the problem is binary, else labels
        binary = (num_classes or 2) == 2 and not width and (true.size == 0 or true.max() <= 1)
        if binary:
            _check_not_class_ids(yp)
        pred = (yp > threshold).astype(np.int64) if binary else _as_labels("y_pred", yp)
    else:
        pred = _as_labels("y_pred", yp)

    k = num_classes
    if k is None:
        found = [2] + width + [int(a.max()) + 1 for a in (true, pred) if a.size]
        k = max(found)
    if width and width[0] != k:
        raise invalid("num_classes", f"{width[0]} (the number of columns of y_true / y_pred)", k)
    for name, arr in (("y_true", true), ("y_pred", pred)):
        if arr.size and (arr.min() < 0 or arr.max() >= k):
            raise invalid(
                name, f"class labels in 0..{k - 1}", Text(f"labels in {arr.min()}..{arr.max()}")
            )
    return true, pred, k


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    threshold: float = 0.5,
    sample_weight: Any = None,
    num_classes: int | None = None,
) -> np.ndarray:
    """Confusion matrix (true classes in rows, predicted classes in columns) of any label layout.

    ``C[i, j]`` is the number (or the summed ``sample_weight``) of samples of true class ``i``
    predicted as class ``j``, as in scikit-learn's ``confusion_matrix`` with ``labels=range(K)``.

    How the inputs are read (the same rules serve every score in this module):

    - ``y_true``: shape (n_samples,) or (n_samples, 1) of class indices (ints, bools or integral
      floats), or (n_samples, K) one-hot / soft rows, read by argmax.
    - ``y_pred``: shape (n_samples, K) scores or probabilities, read by argmax; shape
      (n_samples, 1) binary scores, thresholded (``score > threshold`` is class 1); shape
      (n_samples,) of floats in a binary problem: scores, thresholded the same way (hard 0/1 labels
      pass through unchanged for any threshold in [0, 1)); shape (n_samples,) of ints or bools, or
      of integral floats in a multiclass problem: hard labels.

    Flatten sequences and images first (``y.reshape(-1)`` / ``y.reshape(-1, K)``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, K)
        True classes.
    y_pred : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, K)
        Predicted labels or scores (see above).
    threshold : float, default=0.5
        Decision threshold for binary scores (use 0.0 for logits).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weight of each sample.
    num_classes : int, default=None
        Number of classes K (at least 2). Default: the number of columns of a 2-D input, else the
        largest label + 1 (at least 2). Give it when a class may be missing from the data.

    Returns
    -------
    ndarray of shape (K, K), dtype float64

    Examples
    --------
    >>> from keras_imbalance.metrics import confusion_matrix
    >>> confusion_matrix([0, 0, 1, 1], [0.2, 0.7, 0.9, 0.4])
    array([[1., 1.],
           [1., 1.]])
    """
    threshold = check_number("threshold", threshold)
    true, pred, k = _labels_from(y_true, y_pred, threshold, num_classes)
    if sample_weight is None:
        weights = None
    else:
        weights = check_weights_array("sample_weight", sample_weight)
        if weights.shape != true.shape:
            raise invalid("sample_weight", f"an array of shape ({true.shape[0]},)", sample_weight)
    counts = np.bincount(true * k + pred, weights=weights, minlength=k * k)
    return counts.astype(np.float64).reshape(k, k)


def _score(metric, y_true, y_pred, threshold, sample_weight, num_classes, **options):
    options = metric_options(metric, options)
    cm = confusion_matrix(
        y_true, y_pred, threshold=threshold, sample_weight=sample_weight, num_classes=num_classes
    )
    options = metric_options(metric, options, cm.shape[0])
    out = _REDUCERS[metric](cm, np, **options)
    return np.asarray(out, dtype=np.float64) if _is_vector(metric, options) else float(out)


_PARAMS_DOC = """
    Parameters
    ----------
    y_true : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, K)
        True class indices, or one-hot / soft rows (argmax).
    y_pred : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, K)
        Hard labels (ints), binary scores (1-D or (n, 1) floats, thresholded: ``score >
        threshold`` is class 1) or (n, K) scores / probabilities (argmax). See
        :func:`confusion_matrix` for the exact rules.
    threshold : float, default=0.5
        Decision threshold for binary scores (0.0 for logits).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weight of each sample.
    num_classes : int, default=None
        Number of classes K; inferred from the data when omitted.
"""


def _public(function, name: str, returns: str, doc: str, section: str, text: str):
    """``function`` as the public ``name``: its docstring ``doc`` with the shared ``section``
    placeholder filled by ``text`` and its return annotation ``returns`` (a string, as every
    annotation of this module)."""
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc.replace(f"    {{{section}}}\n", text)
    function.__annotations__ = {**function.__annotations__, "return": returns}
    return function


def _plain_score(metric: str, returns: str, doc: str):
    """The public numpy function of a score without options: ``metric``'s reduce of the
    :func:`confusion_matrix` of its arguments. One definition serves
    :func:`matthews_correlation`, :func:`macro_f1` and :func:`per_class_recall`."""

    def score(
        y_true: Any,
        y_pred: Any,
        *,
        threshold: float = 0.5,
        sample_weight: Any = None,
        num_classes: int | None = None,
    ):
        return _score(metric, y_true, y_pred, threshold, sample_weight, num_classes)

    return _public(score, metric, returns, doc, "params", _PARAMS_DOC)


def balanced_accuracy(
    y_true: Any,
    y_pred: Any,
    *,
    threshold: float = 0.5,
    sample_weight: Any = None,
    num_classes: int | None = None,
    adjusted: bool = False,
) -> float:
    """Balanced accuracy: the mean recall over the classes present in ``y_true``.

    ``BA = (1 / |P|) * sum_{k in P} C[k, k] / sum_j C[k, j]`` with ``P`` the classes with at least
    one true sample; equals scikit-learn's ``balanced_accuracy_score``. Chance level is ``1 / |P|``
    whatever the class imbalance; 1.0 is perfect. ``adjusted=True`` rescales it to
    ``(BA - 1/|P|) / (1 - 1/|P|)``, so chance is 0 (scikit-learn's ``adjusted=True``; 0 when
    ``y_true`` holds a single class, where scikit-learn divides by zero).
    {params}
    adjusted : bool, default=False
        Rescale so that chance scores 0 and perfect 1.

    Returns
    -------
    float

    References
    ----------
    Brodersen et al., "The balanced accuracy and its posterior distribution", ICPR 2010.

    Examples
    --------
    >>> from keras_imbalance.metrics import balanced_accuracy
    >>> balanced_accuracy([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0])
    0.625
    >>> balanced_accuracy([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0], adjusted=True)  # 2 * 0.625 - 1
    0.25
    """
    return _score(
        "balanced_accuracy",
        y_true,
        y_pred,
        threshold,
        sample_weight,
        num_classes,
        adjusted=adjusted,
    )


def geometric_mean(
    y_true: Any,
    y_pred: Any,
    *,
    threshold: float = 0.5,
    sample_weight: Any = None,
    num_classes: int | None = None,
    average: str | None = "multiclass",
    correction: float = 0.0,
) -> float | np.ndarray:
    """G-mean: the geometric mean of the per-class recalls.

    ``G = (prod_{k in S} recall_k) ** (1 / |S|)`` with ``recall_k = C[k, k] / sum_j C[k, j]``
    and ``S`` the classes seen in ``y_true`` or ``y_pred`` (a class only predicted has recall 0).
    In the binary case this is ``sqrt(sensitivity * specificity)``. Equals imbalanced-learn's
    ``geometric_mean_score`` with the same ``average`` and ``correction``: by default a single
    class with zero recall makes G zero; ``correction`` replaces zero recalls by a small value.
    {params}
    average : {"multiclass", "binary", "micro", "macro", "weighted"} or None, default="multiclass"
        "multiclass": the formula above. The others score each class against the rest,
        ``sqrt(sensitivity_k * specificity_k)``, as imbalanced-learn does: None returns one
        value per class 0..K-1; "binary" the one of class 1 (2 classes only); "macro" and
        "weighted" take ``sqrt(mean(sensitivity) * mean(specificity))`` over the seen classes
        (unweighted, or weighted by the true count of each class); "micro" pools the counts of
        the seen classes first.
    correction : float in [0, 1], default=0.0
        "multiclass" only: the recall that stands in for a class with zero recall.

    Returns
    -------
    float, or ndarray of shape (K,) when ``average=None``

    References
    ----------
    Kubat & Matwin, "Addressing the curse of imbalanced training sets: one-sided selection",
    ICML 1997.

    Examples
    --------
    >>> from keras_imbalance.metrics import geometric_mean
    >>> round(geometric_mean([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0]), 4)  # sqrt(0.75 * 0.5)
    0.6124
    >>> round(geometric_mean([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], correction=0.001), 4)
    0.01
    """
    return _score(
        "geometric_mean",
        y_true,
        y_pred,
        threshold,
        sample_weight,
        num_classes,
        average=average,
        correction=correction,
    )


matthews_correlation = _plain_score(
    "matthews_correlation",
    "float",
    """Matthews correlation coefficient (multiclass R_K statistic).

    With ``t = C.sum(1)``, ``p = C.sum(0)``, ``c = trace(C)`` and ``s = C.sum()``:
    ``MCC = (c * s - t.p) / sqrt((s**2 - p.p) * (s**2 - t.t))``, and 0 when the denominator is 0
    (a constant ``y_true`` or ``y_pred``), as scikit-learn's ``matthews_corrcoef``. Range [-1, 1]
    (the multiclass minimum lies between -1 and 0); 0 is chance, 1 perfect.
    {params}

    Returns
    -------
    float

    References
    ----------
    Gorodkin, "Comparing two K-category assignments by a K-category correlation coefficient",
    Computational Biology and Chemistry, 2004.

    Examples
    --------
    >>> from keras_imbalance.metrics import matthews_correlation
    >>> round(matthews_correlation([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0]), 4)
    0.25
    """,
)


macro_f1 = _plain_score(
    "macro_f1",
    "float",
    """Macro-averaged F1: the unweighted mean of the per-class F1 scores.

    ``F1_k = 2 C[k, k] / (sum_j C[k, j] + sum_i C[i, k])``, averaged over the classes seen in
    ``y_true`` or ``y_pred``; a class never predicted correctly scores 0. Equals scikit-learn's
    ``f1_score(average="macro")``. Binary data count both classes (not only the positive one, as
    ``f1_score(average="binary")`` would).
    {params}

    Returns
    -------
    float

    References
    ----------
    Sokolova & Lapalme, "A systematic analysis of performance measures for classification tasks",
    Information Processing & Management, 2009.

    Examples
    --------
    >>> from keras_imbalance.metrics import macro_f1
    >>> round(macro_f1([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0]), 4)  # (0.75 + 0.5) / 2
    0.625
    """,
)


per_class_recall = _plain_score(
    "per_class_recall",
    "np.ndarray",
    """Recall of every class: ``C[k, k] / sum_j C[k, j]``, 0 for a class without true samples.

    Equals scikit-learn's ``recall_score(average=None, labels=range(K), zero_division=0)``.
    {params}

    Returns
    -------
    ndarray of shape (K,)

    Examples
    --------
    >>> from keras_imbalance.metrics import per_class_recall
    >>> per_class_recall([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0])
    array([0.75, 0.5 ])
    """,
)


# --------------------------------------------------------------------------------------------
# segmentation: the same confusion counts over pixels
# --------------------------------------------------------------------------------------------


def _pixels(y_true: Any, y_pred: Any, ignore_class, num_classes) -> tuple[np.ndarray, np.ndarray]:
    """Masks of any shape flattened to one row per pixel, without the ``ignore_class`` pixels.

    ``y_pred`` with one more axis than ``y_true`` holds class scores (argmax over its last
    axis); a trailing axis of 1 is a binary score or a label column; equal shapes are label
    maps, or one-hot masks and scores when the last axis is ``num_classes`` and ``y_true``'s
    rows along it are one-hot.
    """
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if yt.ndim >= 2 and yt.shape[-1] == 1 and yt.ndim >= yp.ndim:
        yt = yt[..., 0]
    if yp.ndim >= 2 and yp.shape[-1] == 1 and yp.ndim > yt.ndim:
        yp = yp[..., 0]
    if yp.ndim == yt.ndim + 1:
        if yt.shape != yp.shape[:-1]:
            raise invalid(
                "y_pred", f"scores of shape {yt.shape + (yp.shape[-1],)}", f"shape {yp.shape}"
            )
        yt, yp = yt.reshape(-1), yp.reshape(-1, yp.shape[-1])
    elif yt.shape == yp.shape:
        onehot = (
            num_classes is not None
            and yt.ndim >= 2
            and yt.shape[-1] == num_classes
            and np.all((yt == 0) | (yt == 1))
            and np.all(yt.sum(axis=-1) == 1)
        )
        if onehot:
            yt, yp = yt.reshape(-1, yt.shape[-1]), yp.reshape(-1, yp.shape[-1])
        else:
            yt, yp = yt.reshape(-1), yp.reshape(-1)
    else:
        raise invalid(
            "y_pred",
            f"a label map of shape {yt.shape} or scores of shape {yt.shape} + (K,)",
            f"shape {yp.shape}",
        )
    if ignore_class is not None:
        ignore_class = check_number("ignore_class", ignore_class, integer=True)
        labels = np.argmax(yt, axis=1) if yt.ndim == 2 else yt
        keep = labels != ignore_class
        yt, yp = yt[keep], yp[keep]
    return yt, yp


_MASK_DOC = """
    Parameters
    ----------
    y_true : array-like of shape (N, ...), (N, ..., 1) or (N, ..., K)
        True masks: class indices per pixel (any number of spatial axes), or one-hot masks
        (read as one-hot when their last axis is ``num_classes``).
    y_pred : array-like of shape (N, ...), (N, ..., 1) or (N, ..., K)
        Predicted label maps, binary scores (thresholded) or class scores (argmax over K).
    threshold : float, default=0.5
        Decision threshold for binary scores (0.0 for logits).
    num_classes : int, default=None
        Number of classes K; inferred from the data when omitted (give it when a class may
        be missing from both masks).
    ignore_class : int, default=None
        True label of pixels to leave out (e.g. 255 for "void").
"""


def _mask_score_function(metric: str, returns: str, doc: str):
    """The public numpy function of a mask score: ``metric``'s reduce of the confusion counts
    of every pixel (:func:`_pixels`). One definition serves :func:`per_class_iou`,
    :func:`mean_iou` and :func:`mean_dice`."""

    def score(
        y_true: Any,
        y_pred: Any,
        *,
        threshold: float = 0.5,
        num_classes: int | None = None,
        ignore_class: int | None = None,
    ):
        yt, yp = _pixels(y_true, y_pred, ignore_class, num_classes)
        return _score(metric, yt, yp, threshold, None, num_classes)

    return _public(score, metric, returns, doc, "mask_params", _MASK_DOC + "\n")


per_class_iou = _mask_score_function(
    "per_class_iou",
    "np.ndarray",
    """Intersection over union of every class, over all pixels: ``TP / (TP + FP + FN)``.

    ``IoU_k = C[k, k] / (sum_j C[k, j] + sum_i C[i, k] - C[k, k])`` from the confusion counts
    of every pixel (of every image: a dataset-level score, not a mean over images). A class
    absent from both ``y_true`` and ``y_pred`` is NaN (skipped, not scored 0 or 1), so
    ``np.nanmean(per_class_iou(...))`` equals :func:`mean_iou`. Equals scikit-learn's
    ``jaccard_score(average=None, zero_division=np.nan)`` on the flattened pixels.
    {mask_params}
    Returns
    -------
    ndarray of shape (K,)

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.metrics import per_class_iou
    >>> per_class_iou(np.array([[[0, 0], [1, 1]]]), np.array([[[0, 1], [1, 1]]]), num_classes=3)
    array([0.5       , 0.66666667,        nan])
    """,
)


mean_iou = _mask_score_function(
    "mean_iou",
    "float",
    """Mean intersection over union over the classes present in ``y_true`` or ``y_pred``.

    The mean of :func:`per_class_iou` without its NaN entries (classes absent from both are
    skipped, as in ``keras.metrics.MeanIoU``); 0 when no class is present.
    {mask_params}
    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.metrics import mean_iou
    >>> round(mean_iou(np.array([[[0, 0], [1, 1]]]), np.array([[[0, 1], [1, 1]]]), num_classes=3), 4)
    0.5833
    """,
)


mean_dice = _mask_score_function(
    "mean_dice",
    "float",
    """Mean Dice over the classes present in ``y_true`` or ``y_pred``, over all pixels.

    ``Dice_k = 2 C[k, k] / (sum_j C[k, j] + sum_i C[i, k])`` from the confusion counts of
    every pixel (hard predictions; the soft version is the training loss
    :class:`keras_imbalance.losses.DiceLoss`), averaged over the classes present in the masks
    or the predictions. Per class, Dice is F1, so this is :func:`macro_f1` on the flattened
    pixels; accumulated over batches it equals the score on the whole set.
    {mask_params}
    Returns
    -------
    float

    References
    ----------
    Dice, "Measures of the amount of ecologic association between species", Ecology, 1945.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.metrics import mean_dice
    >>> round(mean_dice(np.array([[[0, 0], [1, 1]]]), np.array([[[0, 1], [1, 1]]])), 4)
    0.7333
    """,
)


for _f in (balanced_accuracy, geometric_mean):
    if _f.__doc__:  # None under python -OO
        _f.__doc__ = _f.__doc__.replace("    {params}\n", _PARAMS_DOC)
del _f
