"""Test-fold scoring shared by the trained candidates and the ensemble (numpy, scikit-learn).

Stored scores: ``{"index": None or kept positions, "y": labels, "proba": P}`` with ``P`` the
class probabilities rounded to 5 decimals, ``(n,)`` of P(class 1) for binary data and
``(n, k)`` otherwise.
"""

from __future__ import annotations

import math

import numpy as np

from keras_imbalance import calibration, metrics
from keras_imbalance.comparison._settings import METRICS, TUNE_FOR


def pr_auc(y: np.ndarray, proba: np.ndarray, sample_weight=None) -> float:
    """Average precision: of the minority class (binary), macro one-vs-rest (multiclass);
    ``sample_weight``: what each row counts for (a sampled search's class factors)."""
    from sklearn.metrics import average_precision_score

    k = proba.shape[1]
    present = [c for c in range(k) if np.any(y == c)]
    w = sample_weight
    if k == 2:
        counts = np.bincount(y, weights=w, minlength=2)  # the minority of what rows stand for
        pos = int(np.argmin(counts)) if counts.min() > 0 else 1
        if counts[pos] == 0:
            return math.nan
        return float(average_precision_score(y == pos, proba[:, pos], sample_weight=w))
    return float(
        np.mean([average_precision_score(y == c, proba[:, c], sample_weight=w) for c in present])
    )


def kept_rows(n: int, limit: float, seed: int) -> tuple[np.ndarray, list | None]:
    """``(positions kept, their list or None when all are)``: at most ``limit`` of ``n``
    test rows, a seeded random subset beyond."""
    keep = np.arange(n)
    if n <= limit:
        return keep, None
    keep = np.sort(np.random.default_rng(seed).choice(n, size=int(limit), replace=False))
    return keep, keep.tolist()


def stored_scores(y: np.ndarray, proba: np.ndarray, limit: float, seed: int) -> dict:
    """At most ``limit`` test-fold scores (a seeded random subset beyond), rounded: those of
    :func:`every_score` as lists, for the results file."""
    keep, index = kept_rows(y.size, limit, seed)
    kept = every_score(y[keep], proba[keep])
    return {"index": index, "y": kept["y"].tolist(), "proba": kept["proba"].tolist()}


def every_score(y: np.ndarray, proba: np.ndarray) -> dict:
    """Every test row's scores, the values :func:`stored_scores` keeps with no limit, as
    arrays: ``y`` (int64) and ``proba`` rounded to 5 decimals (float64, ``(n,)`` P(class 1)
    for binary data, ``(n, k)`` otherwise). They serve the ensemble and a sampled search's
    PR-AUC while a fold is scored and are never written; as arrays a row of 5 classes takes
    48 bytes (as Python lists of floats, about 220). Rounded in ``proba``'s own dtype, as the
    stored lists are, so that a fold just scored and a fold read back from the results file
    give the ensemble the same numbers."""
    p = np.round(np.asarray(proba), 5)
    return {
        "index": None,
        "y": np.asarray(y, dtype=np.int64),
        "proba": (p[:, 1] if p.shape[1] == 2 else p).astype(np.float64),
    }


def proba_matrix(scores: dict, k: int) -> np.ndarray:
    """``(n, k)`` probabilities of stored scores (binary scores keep P(class 1) only)."""
    p = np.asarray(scores["proba"], dtype=np.float64)
    if k == 2:
        return np.stack([1.0 - p, p], axis=1)
    return p.reshape(-1, k)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


#: decision rules: ``argmax`` of the logits; ``tuned``: a threshold / offsets tuned on the
#: validation rows for the metric; ``cost``: the decision of least expected cost (binary: a
#: threshold tuned on the validation rows for the costs; more classes: the Bayes rule on
#: prior-corrected probabilities)
REFITTED = ("argmax", "cost")  # decided by the refit model when there is one
VALIDATED = ("tuned", "cost")  # need the early-stopped model's validation predictions


def rule_of(strategy, costs) -> str:
    """The decision rule of ``strategy`` (every strategy decides by cost when costs are set)."""
    if costs is not None:
        return "cost"
    return "tuned" if strategy.tuned else "argmax"


def score(metric, y, pred, proba, k, costs=None) -> float:
    """One metric of predictions ``pred`` (and probabilities, for ``pr_auc``); higher is
    better except for ``expected_cost`` (the mean cost per row)."""
    if metric == "pr_auc":
        return pr_auc(y, proba)
    if metric == "expected_cost":
        return calibration.expected_cost(y, pred, costs)
    cm = metrics.confusion_matrix(y, pred, num_classes=k)
    return metrics.from_confusion(cm, metric)


def tune(y_val, proba_val, metric: str, costs=None):
    """The threshold (binary) or per-class offsets tuned for ``metric`` (for ``costs`` when
    given, binary only) on validation rows; None (argmax) when a class is missing there."""
    try:
        if costs is not None:
            return calibration.tune_threshold(y_val, proba_val, metric="cost", costs=costs)
        return calibration.tune_threshold(y_val, proba_val, metric=TUNE_FOR[metric])
    except ValueError:
        return None


def decide(proba, logits, threshold, prior=None, costs=None) -> np.ndarray:
    """Predicted classes: the Bayes rule for ``costs`` on ``softmax(logits + prior)`` (more
    than 2 classes), the tuned threshold / offsets, or argmax of the logits."""
    if costs is not None and proba.shape[1] > 2:
        shifted = logits if prior is None else logits + prior
        return calibration.bayes_decision(softmax(shifted), costs)
    if threshold is None:
        if costs is not None:  # binary without a tuned threshold: the Bayes threshold
            return calibration.bayes_decision(proba, costs)
        return np.argmax(logits, axis=1)
    if proba.shape[1] == 2:
        return calibration.apply_threshold(proba, float(threshold))
    return calibration.apply_threshold(proba, threshold)


def rule_score(metric, y, logits, rule, k, costs=None, prior=None) -> float:
    """Validation ``metric`` of ``logits`` under a decision rule, higher is better (minus the
    expected cost for ``expected_cost``)."""
    proba = softmax(logits)
    threshold = None
    if rule == "tuned" or (rule == "cost" and k == 2):
        threshold = tune(y, proba, metric, costs if rule == "cost" else None)
    pred = decide(proba, logits, threshold, prior, costs if rule == "cost" else None)
    value = score(metric, y, pred, proba, k, costs)
    return -value if metric == "expected_cost" else value


def fold_scores(y, pred, proba, k, costs=None) -> dict:
    """``metrics`` (every metric of :data:`METRICS`, and ``expected_cost`` with costs),
    ``per_class_recall`` and ``confusion``."""
    cm = metrics.confusion_matrix(y, pred, num_classes=k)
    values = {m: metrics.from_confusion(cm, m) for m in METRICS if m != "pr_auc"}
    values["pr_auc"] = pr_auc(y, proba)
    if costs is not None:
        values["expected_cost"] = float((cm * np.asarray(costs)).sum() / max(cm.sum(), 1))
    recall = np.asarray(metrics.from_confusion(cm, "per_class_recall"), dtype=np.float64)
    recall[cm.sum(axis=1) == 0] = np.nan  # a class without test rows has no recall
    return {
        "metrics": values,
        "per_class_recall": recall.tolist(),
        "confusion": cm.astype(np.int64).tolist(),
    }


def reweigh(row: dict, scores, factors: np.ndarray, costs=None) -> dict:
    """Rescore ``row`` (in place, and returned) as if each test row of class ``c`` were
    ``factors[c]`` rows, as a sampled search weighs them: the confusion matrix's rows
    multiplied by the factors (``metrics.from_confusion`` takes summed weights), PR-AUC as
    the weighted average precision of ``scores`` (``y`` and ``proba`` of every test row).
    The stored confusion matrix keeps the real counts."""
    k = factors.size
    cm = np.asarray(row["confusion"], dtype=np.float64) * factors[:, None]
    values = dict(row["metrics"])
    for name in METRICS:
        if name != "pr_auc":
            values[name] = float(metrics.from_confusion(cm, name))
    if scores is not None and len(scores.get("y", ())):
        y = np.asarray(scores["y"], dtype=np.int64)
        values["pr_auc"] = pr_auc(y, proba_matrix(scores, k), sample_weight=factors[y])
    if costs is not None:
        values["expected_cost"] = float((cm * np.asarray(costs)).sum() / max(cm.sum(), 1e-12))
    row["metrics"] = values
    return row
