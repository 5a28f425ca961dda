"""Class-weight formulas on count arrays (numpy only).

Every formula takes ``counts`` of shape (m, k) — m independent problems (one for a multi-class
target, one per label for a multi-label target, whose k = 2 columns are negatives, positives) —
and returns weights of the same shape. Counts are all positive here; absent classes are handled
by the caller.
"""

from __future__ import annotations

import numpy as np

from keras_imbalance._validation import check_number, invalid


def balanced(counts, **_):
    """w_c = n / (k * count_c) (scikit-learn's 'balanced')."""
    n = counts.sum(axis=1, keepdims=True)
    return n / (counts.shape[1] * counts)


def reference(counts, *, ref=None, **_):
    """w_c = count_ref / count_c; ref = the majority class unless given (as a column index)."""
    if ref is None:
        base = counts.max(axis=1, keepdims=True)
    else:
        base = counts[:, [ref]]
    return base / counts


def sqrt(counts, **_):
    """w_c = sqrt(n / (k * count_c)): the square root of the balanced weight."""
    return np.sqrt(balanced(counts))


def log(counts, **_):
    """w_c = ln(1 + n / (k * count_c)): the balanced weight damped by a logarithm."""
    return np.log1p(balanced(counts))


def log_mu(counts, *, mu=0.15, floor=1.0, **_):
    """w_c = max(floor, ln(mu * n / count_c)) (mu = 0.15, floor = 1)."""
    mu = check_number("mu", mu, low=0, low_inclusive=False)
    floor = check_number("floor", floor, low=0)
    n = counts.sum(axis=1, keepdims=True)
    return np.maximum(floor, np.log(mu * n / counts))


def effective_number(counts, *, beta=0.999, **_):
    """w_c = (1 - beta) / (1 - beta ** count_c), rescaled so that sum_c w_c = k (Cui et al. 2019)."""
    beta = check_number("beta", beta, low=0, high=1, high_inclusive=False)
    raw = (
        (1.0 - beta) / -np.expm1(counts * np.log(beta)) if beta > 0 else np.ones_like(counts, float)
    )
    return raw * counts.shape[1] / raw.sum(axis=1, keepdims=True)


WEIGHT_STRATEGIES = {
    "balanced": balanced,
    "reference": reference,
    "sqrt": sqrt,
    "log": log,
    "log_mu": log_mu,
    "effective_number": effective_number,
}
OPTIONS = {
    "balanced": set(),
    "reference": {"ref"},
    "sqrt": set(),
    "log": set(),
    "log_mu": {"mu", "floor"},
    "effective_number": {"beta"},
}


def check_options(strategy: str, options: dict) -> None:
    allowed = OPTIONS[strategy]
    extra = sorted(set(options) - allowed)
    if extra:
        raise invalid(
            extra[0],
            f"an option of strategy {strategy!r} ({sorted(allowed) or 'it takes none'})",
            options[extra[0]],
            kind=TypeError,
        )
