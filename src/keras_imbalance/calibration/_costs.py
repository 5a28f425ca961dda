"""Cost-sensitive decisions: a validated cost matrix, the Bayes rule and expected cost (numpy).

``costs[i, j]`` is the cost of predicting class ``j`` for a row of true class ``i`` (the
diagonal is usually 0). A per-class cost ``{c: cost_c}`` means ``costs[i, j] = cost_i`` for
``j != i``: missing a row of class ``i`` costs ``cost_i`` whatever it is mistaken for.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import Text, float_array, invalid
from ._priors import _check_proba

__all__ = ["cost_matrix", "bayes_decision", "expected_cost"]


def cost_matrix(costs, classes) -> np.ndarray:
    """The ``(K, K)`` float64 cost matrix of ``costs`` for the ``classes`` (in that order).

    Parameters
    ----------
    costs : dict {class: cost} or array-like of shape (K, K)
        Per-class costs of missing a row of that class (every value > 0; a class left out
        costs 1), keyed by the class labels (compared as text, so ``1`` and ``"1"`` both name
        class 1), or a full matrix ``costs[true, predicted]`` of non-negative values with at
        least one positive entry off the diagonal.
    classes : sequence
        The class labels, in the order of the probability columns.

    Returns
    -------
    ndarray of shape (K, K)

    Examples
    --------
    >>> cost_matrix({"fraud": 50}, ["fraud", "ok"]).tolist()
    [[0.0, 50.0], [1.0, 0.0]]
    """
    names = [str(c) for c in classes]
    k = len(names)
    if isinstance(costs, dict):
        if not costs:
            raise invalid("costs", "a non-empty dict {class: cost} or a K x K matrix", costs)
        unknown = [key for key in costs if str(key) not in names]
        bad = {
            key: value
            for key, value in costs.items()
            if isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not np.isfinite(value)
            or value <= 0
        }
        problems = []
        if unknown:
            problems.append(f"classes that do not exist {unknown} (classes: {names})")
        if bad:
            problems.append(f"costs that are not positive finite numbers {bad}")
        if problems:
            raise invalid("costs", "a positive cost for classes of y", Text("; ".join(problems)))
        per_class = np.ones(k)
        for key, value in costs.items():
            per_class[names.index(str(key))] = float(value)
        matrix = np.repeat(per_class[:, None], k, axis=1)
        np.fill_diagonal(matrix, 0.0)
        return matrix
    matrix = float_array("costs", costs, "a dict {class: cost} or a K x K matrix of numbers")
    if matrix.shape != (k, k):
        raise invalid(
            "costs", f"a {k} x {k} matrix (classes {names})", Text(f"shape {matrix.shape}")
        )
    off = ~np.eye(k, dtype=bool)
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0) or not np.any(matrix[off] > 0):
        raise invalid(
            "costs",
            "finite, non-negative costs with at least one positive cost of a mistake",
            matrix.tolist(),
        )
    return matrix


def bayes_decision(proba, costs) -> np.ndarray:
    """The class of least expected cost: ``argmin_j sum_i proba[:, i] * costs[i, j]``.

    With calibrated probabilities this is the Bayes-optimal decision for the costs; plain
    argmax is the special case of costs 1 off the diagonal.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes) (or (n_samples,) of class 1)
    costs : array-like of shape (n_classes, n_classes)
        ``costs[true, predicted]`` (see :func:`cost_matrix`).

    Returns
    -------
    ndarray of shape (n_samples,), int64

    Examples
    --------
    >>> bayes_decision([[0.9, 0.1], [0.99, 0.01]], [[0, 1], [20, 0]]).tolist()
    [1, 0]
    """
    P, _ = _check_proba(proba)
    c = np.asarray(costs, dtype=np.float64)
    if c.shape != (P.shape[1], P.shape[1]):
        raise invalid("costs", f"a {P.shape[1]} x {P.shape[1]} matrix", Text(f"shape {c.shape}"))
    return np.argmin(P @ c, axis=1).astype(np.int64)


def expected_cost(y_true, y_pred, costs) -> float:
    """Mean cost per row of the decisions ``y_pred``: ``sum_r costs[y_r, pred_r] / n``.

    Examples
    --------
    >>> expected_cost([0, 1, 1], [0, 0, 1], [[0, 1], [20, 0]])
    6.666666666666667
    """
    y = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    c = np.asarray(costs, dtype=np.float64)
    if y.size == 0 or y.shape != p.shape:
        raise invalid("y_pred", f"{y.size} predictions, one per row of y_true", p.size)
    return float(c[y, p].mean())
