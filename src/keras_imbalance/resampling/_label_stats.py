"""``resampled_label_stats``: the label imbalance of multi-label ``y`` before and after each
multi-label method (a user of :func:`resample`, kept out of :mod:`._multilabel`, which ``resample``
itself uses)."""

from __future__ import annotations

from typing import Any

from keras_imbalance._validation import invalid
from keras_imbalance.resampling._core import resample
from keras_imbalance.resampling._methods import MULTILABEL_METHODS
from keras_imbalance.resampling._multilabel import _PARAMS, multilabel_stats


def resampled_label_stats(
    x: Any, y: Any, *, methods=MULTILABEL_METHODS, random_state: Any = 0, **params: Any
) -> dict:
    """:func:`multilabel_stats` of ``y`` and of ``y`` resampled by each multi-label method.

    Parameters
    ----------
    x : array-like of shape (n_samples, ...) or DataFrame
        Features (``mlsmote`` needs them numeric; ``ml_ros`` / ``ml_rus`` only copy rows).
    y : array-like of shape (n_samples, n_labels)
        0/1 label matrix.
    methods : sequence of str, default=MULTILABEL_METHODS
        Any of ``"mlsmote"``, ``"ml_ros"``, ``"ml_rus"``.
    random_state : int, RandomState or None, default=0
    **params
        Passed to :func:`keras_imbalance.resample` (``k_neighbors``, ``percentage``), to the
        methods that take them.

    Returns
    -------
    dict
        ``{"none": stats of y, method: stats after that method, ...}``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1, 0]] * 8 + [[1, 1]] * 2)
    >>> stats = resampled_label_stats(np.arange(10.0)[:, None], y, methods=["ml_ros"],
    ...                               percentage=100)
    >>> stats["none"]["mean_ir"], stats["ml_ros"]["mean_ir"]   # 2 clones of a [1, 1] row
    (3.0, 2.0)
    """
    out = {"none": multilabel_stats(y)}
    for method in methods:
        if method not in MULTILABEL_METHODS:
            raise invalid("methods", f"names among {MULTILABEL_METHODS}", method)
        mine = {k: v for k, v in params.items() if k in _PARAMS[method]}
        resampled = resample(x, y, method, random_state=random_state, **mine)[1]
        out[method] = multilabel_stats(resampled)
    return out
