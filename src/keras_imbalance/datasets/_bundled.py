"""Datasets bundled with the package (no download, no optional dependency)."""

from __future__ import annotations

import difflib
from importlib import resources

import numpy as np

from .._validation import invalid
from ._digits import load_digits_lt

_DESCRIPTIONS = {
    "yeast4": "KEEL yeast4: 1,484 x 8, 51 positives (class ME2 vs rest), IR 28.1",
    "ecoli3": "KEEL ecoli3: 336 x 7, 35 positives (class imU vs rest), IR 8.6",
    "digits_lt": "long-tailed digits: 490 x 64, 10 classes, 120 down to 12 per class, IR 10",
}


def list_datasets():
    """Names of the bundled datasets, with a one-line description of each.

    Returns
    -------
    datasets : dict of str to str
        ``{"yeast4": ..., "ecoli3": ..., "digits_lt": ...}``; each name can be passed to
        :func:`load_dataset` (and to the CLI in place of a file).

    Examples
    --------
    >>> from keras_imbalance.datasets import list_datasets
    >>> sorted(list_datasets())
    ['digits_lt', 'ecoli3', 'yeast4']
    """
    return dict(_DESCRIPTIONS)


def _read_csv_frame(name):
    import pandas as pd

    with (
        resources.files("keras_imbalance.datasets")
        .joinpath("data", f"{name}.csv")
        .open("rb") as handle
    ):
        return pd.read_csv(handle)


def load_dataset(name, *, as_frame=False):
    """Load a bundled imbalanced dataset.

    ``"yeast4"`` and ``"ecoli3"`` are the KEEL imbalanced binary versions of the UCI
    Yeast and E. coli protein-localisation data, stored as CSV files in the package with
    the KEEL attribute names as columns and a ``target`` column: **1 = positive
    (minority) class, 0 = negative (majority)**.

    ==========  =========  ==========  ==========  =====  ============================
    name        samples    features    positives   IR     positive class (UCI)
    ==========  =========  ==========  ==========  =====  ============================
    yeast4      1,484      8           51          28.1   ME2 vs all other classes
    ecoli3      336        7           35          8.6    imU vs all other classes
    digits_lt   490        64          10 classes  10     120, 93, 72, ..., 12 per digit
    ==========  =========  ==========  ==========  =====  ============================

    ``"digits_lt"`` is the training split of
    ``load_digits_lt(imbalance_ratio=10, random_state=0)`` (classes 0..9 with
    ``[120, 93, 72, 56, 43, 33, 26, 20, 15, 12]`` images, pixel columns ``pixel_0`` ..
    ``pixel_63`` in ``[0, 1]``): the ratio 10 leaves every class at least 12 samples, enough
    for 5-fold stratified cross-validation. Use :func:`load_digits_lt` itself for other
    ratios and for its balanced test split.

    Parameters
    ----------
    name : {"yeast4", "ecoli3", "digits_lt"}
        See :func:`list_datasets`.
    as_frame : bool, default=False
        Return one :class:`pandas.DataFrame` (features plus the ``target`` column) instead
        of ``(X, y)``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64
        Or, with ``as_frame=True``, a DataFrame of shape (n_samples, n_features + 1).

    References
    ----------
    Alcalá-Fdez, J. et al. (2011). "KEEL Data-Mining Software Tool: Data Set Repository,
    Integration of Algorithms and Experimental Analysis Framework". J. Multiple-Valued
    Logic and Soft Computing 17, 255-287 (https://sci2s.ugr.es/keel/imbalanced.php).
    Nakai, K. & Kanehisa, M. (1991, 1992), the UCI Yeast and Ecoli data sets
    (Dua & Graff, UCI Machine Learning Repository).

    Examples
    --------
    >>> from keras_imbalance.datasets import load_dataset
    >>> X, y = load_dataset("ecoli3")
    >>> X.shape, int(y.sum())
    ((336, 7), 35)
    >>> load_dataset("yeast4", as_frame=True).columns[-1]
    'target'
    """
    if not isinstance(name, str):
        raise invalid("name", f"one of {sorted(_DESCRIPTIONS)}", name, kind=TypeError)
    if name not in _DESCRIPTIONS:
        close = difflib.get_close_matches(name.lower(), list(_DESCRIPTIONS), n=3, cutoff=0.5)
        hint = f" (did you mean {close}?)" if close else ""
        raise invalid("name", f"one of {sorted(_DESCRIPTIONS)}{hint}", name)
    if not isinstance(as_frame, (bool, np.bool_)):
        raise invalid("as_frame", "a bool", as_frame, kind=TypeError)
    if name == "digits_lt":
        x, y, _, _ = load_digits_lt(imbalance_ratio=10, random_state=0)
        X = x.astype(np.float64)
        if not as_frame:
            return X, y
        import pandas as pd

        frame = pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(X.shape[1])])
        frame["target"] = y
        return frame
    frame = _read_csv_frame(name)
    if as_frame:
        return frame
    X = frame.drop(columns="target").to_numpy(dtype=np.float64)
    y = frame["target"].to_numpy(dtype=np.int64)
    return X, y
