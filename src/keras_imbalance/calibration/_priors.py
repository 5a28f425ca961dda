"""Prior-shift correction of predicted probabilities (known priors, or estimated by EM)."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .._validation import check_number, float_array, invalid

# Rows of an (N, K) probability matrix must sum to 1 within this tolerance (float32 softmax
# outputs are off by ~1e-7; 1e-3 also accepts probabilities rounded to a few decimals).
ROW_SUM_ATOL = 1e-3


def _check_proba(proba, name="proba"):
    """Return ``(P, layout)``: P float64 of shape (N, K) and how to give results back.

    layout is ``"vector"`` for (N,), ``"column"`` for (N, 1) (both binary: the probability
    of the positive class, expanded to ``[1 - p, p]``) and ``"matrix"`` for (N, K >= 2).
    """
    arr = float_array(name, proba, "an array of probabilities")
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        layout = "vector" if arr.ndim == 1 else "column"
        p = arr.reshape(-1)
        arr = np.stack([1.0 - p, p], axis=1)
    elif arr.ndim == 2 and arr.shape[1] >= 2:
        layout = "matrix"
    else:
        raise invalid(
            name,
            "probabilities of shape (n_samples,) or (n_samples, 1) (binary: probability of "
            "the positive class) or (n_samples, n_classes)",
            proba,
        )
    if arr.shape[0] == 0:
        raise invalid(name, "at least one sample", proba)
    if not np.all(np.isfinite(arr)):
        raise invalid(name, "finite probabilities (no NaN or inf)", proba)
    if np.any(arr < 0) or np.any(arr > 1):
        raise invalid(name, "probabilities in [0, 1] (apply softmax/sigmoid to logits)", proba)
    if layout == "matrix":
        sums = arr.sum(axis=1)
        worst = int(np.argmax(np.abs(sums - 1.0)))
        if abs(sums[worst] - 1.0) > ROW_SUM_ATOL:
            raise invalid(
                name,
                f"rows summing to 1 (row {worst} sums to {sums[worst]:.6g}; for multi-label "
                "outputs correct each label as its own binary problem)",
                proba,
            )
    return arr, layout


def _give_back(P, layout):
    if layout == "vector":
        return P[:, 1].copy()
    if layout == "column":
        return P[:, 1:2].copy()
    return P


def _check_priors(name, priors, n_classes, *, positive=False):
    """Priors as a float64 (K,) array summing to 1 (normalised from any non-negative vector).

    Accepts an array-like of length K, a dict ``{class_index: prior}`` covering 0..K-1, or
    (binary only) a scalar prior of the positive class.
    """
    if isinstance(priors, dict):
        keys = sorted(priors, key=repr)
        if not all(isinstance(k, numbers.Integral) and not isinstance(k, bool) for k in keys):
            raise invalid(name, "a dict with integer class indices as keys", priors, kind=TypeError)
        if set(priors) != set(range(n_classes)):
            raise invalid(
                name, f"a dict with exactly the keys 0..{n_classes - 1} (one per class)", priors
            )
        values = [priors[k] for k in range(n_classes)]
    elif isinstance(priors, numbers.Real) and not isinstance(priors, bool):
        if n_classes != 2:
            raise invalid(
                name, f"an array of {n_classes} priors (a scalar is only for binary)", priors
            )
        value = check_number(name, priors, low=0.0, high=1.0)
        values = [1.0 - value, value]
    else:
        values = priors
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise invalid(name, "numeric class priors", priors, kind=TypeError) from None
    if arr.shape != (n_classes,):
        raise invalid(name, f"{n_classes} priors, one per class (shape ({n_classes},))", priors)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise invalid(name, "finite, non-negative priors", priors)
    if positive and np.any(arr == 0):
        raise invalid(name, "strictly positive priors (a training prior of 0 divides by 0)", priors)
    total = arr.sum()
    if total <= 0:
        raise invalid(name, "priors with a positive sum", priors)
    return arr / total


def _reweight(P, ratio):
    """Rows of ``P * ratio`` renormalised; a row with no mass left gets ``ratio``'s shape."""
    num = P * ratio
    den = num.sum(axis=1, keepdims=True)
    empty = den[:, 0] <= 0
    if np.any(empty):  # every class with mass in this row has target prior 0
        num[empty] = ratio
        den[empty] = ratio.sum()
    return num / den


def correct_priors(proba, train_priors, target_priors):
    """Correct predicted probabilities for a change of class priors (Bayes' rule).

    A classifier trained where class ``c`` had prior ``pi_train[c]`` (after re-weighting or
    resampling, the *effective* training priors) estimates ``p(c | x)``. If the deployment
    priors are ``pi_target``, the posterior becomes::

        p'(c | x) = p(c | x) * pi_target[c] / pi_train[c]
                    / sum_j p(j | x) * pi_target[j] / pi_train[j]

    (the likelihoods ``p(x | c)`` are unchanged). For a binary probability ``p`` of the
    positive class this is ``p r1 / (p r1 + (1 - p) r0)`` with ``r = pi_target / pi_train``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes), (n_samples,) or (n_samples, 1)
        Predicted probabilities; the last two forms are the probability of the positive
        class of a binary problem. Rows of the first form must sum to 1 (within 1e-3).
    train_priors : array-like of shape (n_classes,), dict or float
        Class priors the model was trained under. A dict ``{class_index: prior}`` and, for
        binary problems, a scalar prior of the positive class are accepted. Any
        non-negative vector is normalised to sum to 1, so class counts can be passed
        directly (``np.bincount(y_train)``). Must be strictly positive.
    target_priors : array-like of shape (n_classes,), dict or float
        Class priors to correct to (same forms; zeros allowed: that class gets
        probability 0).

    Returns
    -------
    ndarray of the shape of ``proba``, float64
        Corrected probabilities (rows sum to 1). ``target_priors == train_priors`` returns
        ``proba`` unchanged (up to renormalisation of its rows).

    References
    ----------
    Saerens, M., Latinne, P. & Decaestecker, C. (2002). "Adjusting the Outputs of a
    Classifier to New a Priori Probabilities: A Simple Procedure". Neural Computation 14(1),
    21-41 (equation 2.4).

    Examples
    --------
    >>> from keras_imbalance.calibration import correct_priors
    >>> # trained on balanced (resampled) data, deployed where positives are 10 %
    >>> correct_priors([0.5, 0.9], train_priors=0.5, target_priors=0.1).round(4).tolist()
    [0.1, 0.5]
    """
    P, layout = _check_proba(proba)
    k = P.shape[1]
    source = _check_priors("train_priors", train_priors, k, positive=True)
    target = _check_priors("target_priors", target_priors, k)
    return _give_back(_reweight(P, target / source), layout)


def estimate_priors_em(proba, train_priors, *, max_iter=100, tol=1e-6):
    """Estimate unknown deployment priors from unlabelled predictions by EM.

    The expectation-maximisation procedure of Saerens et al. (2002), starting from
    ``pi^(0) = pi_train``::

        E step:  p_i^(s)(c) = p(c | x_i) pi^(s)[c] / pi_train[c]  (renormalised per row)
        M step:  pi^(s+1)[c] = mean_i p_i^(s)(c)

    until ``max_c |pi^(s+1)[c] - pi^(s)[c]| < tol`` or ``max_iter`` steps. It assumes
    well-calibrated ``proba`` and a pure prior shift (``p(x | c)`` unchanged). The adjusted
    probabilities of the last E step are ``correct_priors(proba, train_priors, priors)``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes), (n_samples,) or (n_samples, 1)
        Predicted probabilities on the (unlabelled) deployment data; see
        :func:`correct_priors` for the accepted forms.
    train_priors : array-like of shape (n_classes,), dict or float
        Priors the model was trained under (normalised; strictly positive).
    max_iter : int, default=100
        Maximum number of EM steps; a :class:`sklearn.exceptions.ConvergenceWarning` is
        issued if ``tol`` is not reached.
    tol : float, default=1e-6
        Stopping tolerance on the largest change of a prior.

    Returns
    -------
    priors : ndarray of shape (n_classes,), float64
        Estimated deployment priors, summing to 1. For binary input (``(n_samples,)`` or
        ``(n_samples, 1)``) the shape is ``(2,)``: ``[negative, positive]``.

    References
    ----------
    Saerens, M., Latinne, P. & Decaestecker, C. (2002). Neural Computation 14(1), 21-41,
    section 2.2.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.calibration import estimate_priors_em
    >>> # posteriors of a balanced-trained model on data with 20 % positives
    >>> proba = np.array([0.9] * 20 + [0.1] * 80)
    >>> estimate_priors_em(proba, train_priors=0.5).round(3).tolist()
    [0.875, 0.125]
    """
    P, _ = _check_proba(proba)
    k = P.shape[1]
    source = _check_priors("train_priors", train_priors, k, positive=True)
    max_iter = check_number("max_iter", max_iter, low=1, integer=True)
    tol = check_number("tol", tol, low=0.0)
    priors = source.copy()
    for _ in range(max_iter):
        updated = _reweight(P, priors / source).mean(axis=0)
        change = np.max(np.abs(updated - priors))
        priors = updated
        if change < tol:
            return priors / priors.sum()
    from sklearn.exceptions import ConvergenceWarning

    warnings.warn(
        f"estimate_priors_em did not converge in max_iter={max_iter} steps (last change "
        f"{change:.3g} >= tol={tol:g}); increase max_iter or tol.",
        ConvergenceWarning,
        stacklevel=2,
    )
    return priors / priors.sum()
