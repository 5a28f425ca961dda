"""``resample``: imbalanced-learn's samplers for any ``x`` and ``y`` a Keras model takes.

Layer 1: numpy, pandas and imbalanced-learn; never imports Keras. The algorithms are
imbalanced-learn's; this module only adapts the containers around them:

- N-D ``x`` (images, sequences) is flattened to ``(N, prod(rest))`` and restored;
- ``y`` is read by :mod:`keras_imbalance.targets` (class indices, strings, one-hot or soft
  rows, multi-label rows) and written back in the same layout;
- every output row is traced to its source row (or marked synthetic), so original rows are
  copied bit for bit from the caller's ``x`` and ``sample_weight`` is carried along;
- pandas in, pandas out.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pandas as pd

from keras_imbalance._files import is_arrow_dataset
from keras_imbalance._validation import Text, check_option, check_weights_array, invalid
from keras_imbalance.resampling._methods import (
    METHODS,
    MULTILABEL_METHODS,
    NEIGHBORS,
    TABLE,
)
from keras_imbalance.resampling._multilabel import run_multilabel
from keras_imbalance.resampling._samplers import _run, _run_method
from keras_imbalance.resampling._target import (
    _check_neighbor_counts,
    _check_sampler_args,
    _Target,
)
from keras_imbalance.resampling._torch_neighbors import require_torch
from keras_imbalance.targets import _as_array


def resample(
    x: Any,
    y: Any,
    method: Any = "smote",
    *,
    sample_weight: Any = None,
    layout: str | None = None,
    sampling_strategy: Any = "auto",
    random_state: Any = None,
    neighbors: Any = "sklearn",
    **params: Any,
):
    """Resample ``(x, y)`` with an imbalanced-learn sampler, for any array a Keras model takes.

    The resampling itself is imbalanced-learn's (:class:`~imblearn.over_sampling.SMOTE` and
    friends); this function adapts the containers: N-D ``x`` is flattened to
    ``(n_samples, prod(x.shape[1:]))`` and restored, ``y`` keeps its layout, pandas stays
    pandas and ``sample_weight`` follows the rows. The caller's arrays are never modified.

    Parameters
    ----------
    x : array-like of shape (n_samples, ...) or DataFrame
        Features: tabular ``(N, F)``, sequences ``(N, T, F)``, images ``(N, H, W, C)``, or a
        raw table (DataFrame with categorical columns and missing values, see Notes). An array
        must be finite (NaN and inf raise) for the methods that measure distances;
        ``random_over`` and ``random_under`` only draw rows, so any ``x`` passes through.
    y : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, K), or Series
        Class labels (ints, bools or strings), one-hot or soft rows, or multi-label 0/1 rows
        (see Notes). Per-time-step and per-pixel targets are refused: a row must have one class.
    method : str or imbalanced-learn sampler, default="smote"
        One of :data:`METHODS` (imbalanced-learn's) or :data:`MULTILABEL_METHODS`:

        ============== ==================================================================
        random_over    :class:`~imblearn.over_sampling.RandomOverSampler`
        random_under   :class:`~imblearn.under_sampling.RandomUnderSampler`
        smote          :class:`~imblearn.over_sampling.SMOTE`
        borderline_*   :class:`~imblearn.over_sampling.BorderlineSMOTE`, kind 1 or 2
        adasyn         :class:`~imblearn.over_sampling.ADASYN`
        smotenc        :class:`~imblearn.over_sampling.SMOTENC` (categorical columns;
                       ``smote`` on a raw table is the same)
        tomek          :class:`~imblearn.under_sampling.TomekLinks`
        smote_tomek    :class:`~imblearn.combine.SMOTETomek` (SMOTE, then Tomek links)
        mlsmote        MLSMOTE (Charte et al. 2015), multi-label ``y`` only; see Notes
        ml_ros         ML-ROS, multi-label random over-sampling by IRLbl; see Notes
        ml_rus         ML-RUS, multi-label random under-sampling by IRLbl; see Notes
        ============== ==================================================================

        or any object with ``fit_resample`` (used as is; ``sampling_strategy``,
        ``random_state``, ``neighbors`` and ``params`` must then be left at their defaults).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights. Original and duplicated rows keep the weight of their source row;
        a synthetic row gets the mean weight of the original rows of its class.
    layout : {'binary', 'sparse', 'onehot', 'multilabel'}, optional
        How to read ``y`` when its shape is ambiguous (see :func:`keras_imbalance.describe`);
        ``"multilabel"`` reads a one-per-row 0/1 matrix as multi-label.
    sampling_strategy : str, float or dict, default="auto"
        imbalanced-learn's ``sampling_strategy``. Dict keys are labels as they appear in ``y``
        (the column index for one-hot ``y``, a tuple of 0/1 for multi-label rows).
    random_state : int, RandomState or None, default=None
        Seed of the sampler: a fixed seed gives imbalanced-learn's exact output.
    neighbors : {'sklearn', 'exact', 'approximate', 'torch'} or estimator, default='sklearn'
        Neighbour search used by the SMOTE family and ADASYN: ``'sklearn'`` is
        imbalanced-learn's default (:class:`~sklearn.neighbors.NearestNeighbors`); ``'exact'``
        is :class:`ExactNeighbors` (same neighbours, so the same output for a fixed seed;
        faster when the data are clustered or low-dimensional, see docs/benchmarks.md);
        ``'approximate'`` is :class:`ApproximateNeighbors` (may miss neighbours: measure
        recall on your data); ``'torch'`` is :class:`TorchNeighbors` (exact, same neighbours,
        computed with torch on a CUDA GPU when one is available; needs PyTorch); an estimator with
        ``fit``/``kneighbors`` (e.g. an approximate one) is cloned and given
        ``n_neighbors = k + 1`` for each search. Ignored by the random and Tomek methods.
    **params
        Passed to the imbalanced-learn sampler (``k_neighbors``, ``m_neighbors``,
        ``n_neighbors``, ``categorical_features``, ``shrinkage``...). The multi-label methods
        take ``k_neighbors`` (``mlsmote``, default 5) or ``percentage`` (``ml_ros`` /
        ``ml_rus``, default 25: the number of rows to clone or delete, as a percentage of N).

    Returns
    -------
    Resampled
        Unpacks as ``x_res, y_res = resample(...)`` whatever the arguments, and holds:

        - ``x``: ndarray of shape (n_res, ...) or DataFrame, same trailing shape and dtype as
          ``x`` (imbalanced-learn casts synthetic rows to the dtype of ``x``: cast integer
          images to float first to keep the interpolation);
        - ``y``: same layout and type as ``y``;
        - ``sample_weight``: ndarray of shape (n_res,), or None when no ``sample_weight``
          was given;
        - ``sample_indices``: ndarray of shape (n_res,), the row of the input each output
          row copies, -1 for a synthetic row (None for a sampler object that does not say);
        - ``notes``: tuple of sentences saying what was done to a raw table (empty otherwise).

        Deprecated: with ``sample_weight`` given, the result also unpacks as three values
        ``x_res, y_res, w_res`` (a DeprecationWarning; read ``.sample_weight`` instead). From
        0.2 it unpacks as two values in every case.

    Raises
    ------
    TypeError
        ``x`` is a path or a ``pyarrow`` dataset: :func:`resample_parquet` resamples files
        out of core (it writes a file and returns what it wrote, not arrays).
    ValueError
        Before imbalanced-learn runs: unknown ``method``, lengths that disagree, NaN or inf in
        an array ``x`` (a distance-based method), every problem of a raw table in one message
        (:func:`keras_imbalance.tables.check_table`), a ``sampling_strategy`` naming a class
        absent from ``y``, a class with fewer than ``k_neighbors + 1`` samples for a
        neighbour-based method (the message says what to lower ``k_neighbors`` to),
        per-element ``y``.

    Notes
    -----
    Row order is imbalanced-learn's (over-samplers: original rows first, then new rows).
    Original and duplicated rows are copied from the caller's ``x`` and ``y`` (so soft labels
    of original rows survive); synthetic rows get the hard one-hot row of their class.
    Multi-label ``y`` is resampled on its label powerset: each distinct 0/1 row is one class,
    so ``"auto"`` balances label combinations, not individual labels; a synthetic row gets the
    0/1 row of its combination. pandas: a DataFrame ``x`` comes back with the same columns and
    dtypes (synthetic values of integer columns are rounded) and a fresh RangeIndex; a Series
    ``y`` keeps its name.

    The multi-label methods work on labels, not combinations (``y`` is read as multi-label
    even when every row has one positive label; ``sampling_strategy`` must stay ``"auto"``).
    With ``IRLbl(l) = max_j n_j / n_l`` and ``MeanIR`` its mean over the labels
    (:func:`multilabel_stats`), the *minority* labels have ``IRLbl > MeanIR``:

    - ``mlsmote``: for each minority label, each row having it yields one synthetic row
      ``a + u (b - a)``, ``b`` a random one of the ``k_neighbors`` nearest rows among those
      having the label (in the flattened ``x``, with the ``neighbors`` search), ``u ~ U(0, 1)``
      drawn once per row (on the segment, as imbalanced-learn's SMOTE; the paper draws ``u`` per
      feature). Its label set is the "ranking" vote: a label is set when more than half of
      the ``k + 1`` rows (``a`` and its neighbours) have it. Its weight is the mean weight of
      the rows having that label. IRLbl and MeanIR are those of the input.
    - ``ml_ros``: clones ``percentage`` % of N rows, in turns over the minority labels, each
      turn a random row having that label; a label leaves the turns once its IRLbl, updated
      after every clone, falls to MeanIR or below. Clones keep their source's weight.
    - ``ml_rus``: deletes ``percentage`` % of N rows, in turns over the *majority* labels
      (``IRLbl < MeanIR``), each turn a random remaining row having that label; a label leaves
      once its IRLbl reaches MeanIR. Both stop early when no label is left.

    MeanIR is fixed at its input value (as in the paper); output rows are the original rows
    (or, for ``ml_rus``, the kept ones in their order) followed by the new ones.

    Raw tables: a DataFrame with categorical columns (strings, ``category``, booleans) or
    missing values is resampled through :class:`keras_imbalance.tables.TableEncoder`, fitted
    on its rows: numeric columns imputed with their median and standardised for the neighbour
    search (plus a missing indicator per column with gaps), categorical columns as codes with
    missing values as a category of their own. ``smote``, ``smotenc`` and ``smote_tomek``
    then run SMOTE-NC on the categorical columns (SMOTEN when all of them are categorical);
    ``borderline_smote*`` and ``adasyn`` run on the one-hot encoding (a synthetic row takes
    the category of the nearer source row); ``tomek`` finds links on it. Original rows are
    copied from ``x`` as they are; a synthetic row gets de-standardised numeric values
    (rounded for integer columns; interpolated between the observed values of its two
    source rows, the other's value where one misses it, missing where both do; rows missing
    every numeric column with gaps take no part in the interpolation), categories of the
    original dtype and categories, and missing values in the columns
    :func:`~keras_imbalance.tables.check_table` sets aside (ids, free text, dates).
    ``result.notes`` says which of this happened. A numeric DataFrame without gaps takes the
    plain path, as an array would; ``smotenc`` with ``categorical_features`` given passes
    the DataFrame to imbalanced-learn as it is. With multi-label ``y``, ``ml_ros`` and ``ml_rus``
    copy rows (any column passes), and ``mlsmote`` runs on the one-hot encoding as
    ``borderline_smote*`` does.

    References
    ----------
    Lemaitre, Nogueira, Aridas, "Imbalanced-learn: A Python Toolbox to Tackle the Curse of
    Imbalanced Datasets in Machine Learning", JMLR 18 (2017).
    Chawla et al., "SMOTE: Synthetic Minority Over-sampling Technique", JAIR 16 (2002).
    Charte, Rivera, del Jesus, Herrera, "MLSMOTE: Approaching imbalanced multilabel learning
    through synthetic instance generation", Knowledge-Based Systems 89 (2015).
    Charte, Rivera, del Jesus, Herrera, "Addressing imbalance in multilabel classification:
    Measures and random resampling algorithms", Neurocomputing 163 (2015).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(40, dtype=float).reshape(10, 2, 2)
    >>> y = np.array([0] * 7 + [1] * 3)
    >>> x_res, y_res = resample(x, y, "smote", k_neighbors=2, random_state=0)
    >>> x_res.shape, np.bincount(y_res).tolist()
    ((14, 2, 2), [7, 7])
    >>> res = resample(x, y, "random_over", sample_weight=np.linspace(1, 2, 10), random_state=0)
    >>> res.sample_weight.shape, res.sample_indices[:3].tolist()
    ((14,), [0, 1, 2])
    >>> import pandas as pd
    >>> table = pd.DataFrame({"amount": [5.0, None, 7, 1, 2, 9, 4, 8, 3, 6],
    ...                       "country": ["FR", "DE", None, "FR", "DE", "FR", "DE", "FR", "DE", "IT"]})
    >>> res = resample(table, y, "smote", k_neighbors=2, random_state=0)
    >>> res.x.dtypes.equals(table.dtypes), res.notes[0]
    (True, "SMOTE-NC on the categorical columns ['country']")
    """
    if isinstance(x, (str, bytes, os.PathLike)) or is_arrow_dataset(x):  # files: out of core
        raise invalid(
            "x",
            "an array or DataFrame in memory (a Parquet file or directory is resampled into a "
            "Parquet file by resampling.resample_parquet(source, output, target=COLUMN))",
            x,
            kind=TypeError,
        )
    custom = not isinstance(method, str)
    if custom:
        if not hasattr(method, "fit_resample"):
            raise invalid(
                "method",
                f"one of {METHODS + MULTILABEL_METHODS} or an object with fit_resample",
                method,
                kind=TypeError,
            )
        given = {
            "sampling_strategy": (sampling_strategy, "auto"),
            "random_state": (random_state, None),
            "neighbors": (neighbors, "sklearn"),
            **{name: (value, None) for name, value in params.items()},
        }
        for name, (value, default) in given.items():
            if not (value is default or (isinstance(value, str) and value == default)) or (
                name in params
            ):
                raise invalid(
                    name,
                    "it left at its default when method is a sampler object (set it on the sampler)",
                    value,
                )
    else:
        check_option("method", method, METHODS + MULTILABEL_METHODS)
    if not (isinstance(neighbors, str) or hasattr(neighbors, "kneighbors")):
        raise invalid(
            "neighbors",
            f"one of {NEIGHBORS} or an estimator with kneighbors",
            neighbors,
            kind=TypeError,
        )
    if isinstance(neighbors, str):
        check_option("neighbors", neighbors, NEIGHBORS)
        if neighbors == "torch":
            require_torch("neighbors")

    frame = isinstance(x, pd.DataFrame)
    raw = frame and not custom and _raw_table(x, method, params)
    if raw:  # every problem of the table first, before those of y and of the settings
        from keras_imbalance.resampling._tables import table_spec

        spec = table_spec(x)
    xa = np.empty((len(x), 0)) if raw else _features(x, method, params)
    n = xa.shape[0]
    if not custom and method in MULTILABEL_METHODS:
        if not (isinstance(sampling_strategy, str) and sampling_strategy == "auto"):
            raise invalid(
                "sampling_strategy",
                f"'auto' for method={method!r} (it picks the labels by IRLbl and MeanIR)",
                sampling_strategy,
            )
        if layout not in (None, "multilabel"):
            raise invalid("layout", f"'multilabel' or None for method={method!r}", layout)
        drawn = (method, random_state, neighbors, params)
        return _resample_multilabel(x, xa, spec if raw else None, y, sample_weight, drawn)
    target = _Target(y, layout, n)
    weights = _check_sample_weight(sample_weight, n)
    strategy = target.strategy(sampling_strategy)

    notes = ()
    if custom:
        sampler, x_in = method, xa.reshape(n, -1)
        x_out, y_lab, source = _run(sampler, x_in, target.labels)
    else:
        params = dict(params)
        _check_sampler_args(method, strategy, target.labels, params)
        _check_neighbor_counts(method, params, target, strategy, n)
        if raw:
            from keras_imbalance.resampling._tables import resample_table

            x_res, y_lab, source, notes = resample_table(
                x, spec, method, target.labels, strategy, random_state, neighbors, params
            )
        else:
            x_in = _imblearn_input(x, xa, method, params, frame)
            x_out, y_lab, source = _run_method(
                method, x_in, target.labels, strategy, random_state, neighbors, params
            )

    if source is None and weights is not None:
        raise invalid(
            "sample_weight",
            "None for this sampler: it does not say which output rows are original "
            "(no sample_indices_ and original rows not first)",
            Text("an array"),
        )
    if not raw:
        x_res = _rebuild_x(x, xa, frame, x_out, source)
    y_res = target.rebuild(y_lab, source)
    w_res = None if weights is None else _rebuild_weights(weights, target.labels, y_lab, source)
    return Resampled(x_res, y_res, w_res, source, notes)


class Resampled:
    """The result of :func:`resample`: ``x``, ``y``, ``sample_weight`` and ``sample_indices``.

    Unpacks as ``x_res, y_res = resample(...)``. ``sample_weight`` is None when the call had
    no ``sample_weight``; ``sample_indices[i]`` is the input row that output row ``i`` copies
    (-1 for a synthetic row), or ``sample_indices`` is None when a sampler object does not
    say. ``notes`` is a tuple of sentences on what was done to a raw table (SMOTE-NC on its
    categorical columns, missing values imputed for the neighbour search, columns not used);
    empty otherwise. Unpacking three values ``x_res, y_res, w_res`` still works when ``sample_weight``
    was given, with a DeprecationWarning (removed in 0.2: read ``.sample_weight``).
    """

    __slots__ = ("x", "y", "sample_weight", "sample_indices", "notes")

    def __init__(self, x, y, sample_weight=None, sample_indices=None, notes=()):
        self.x = x
        self.y = y
        self.sample_weight = sample_weight
        self.sample_indices = sample_indices
        self.notes = tuple(notes)

    def _items(self) -> tuple:
        if self.sample_weight is None:
            return (self.x, self.y)
        warnings.warn(
            "Unpacking three values from resample(..., sample_weight=...) is deprecated and "
            "stops working in keras-imbalance 0.2, where the result always unpacks as "
            "x_res, y_res: read the weights from result.sample_weight",
            DeprecationWarning,
            stacklevel=3,
        )
        return (self.x, self.y, self.sample_weight)

    def __iter__(self):
        return iter(self._items())

    def __len__(self) -> int:
        return 2 if self.sample_weight is None else 3

    def __getitem__(self, index):
        return self._items()[index]

    def __repr__(self) -> str:
        n = len(self.y)
        weights = "None" if self.sample_weight is None else f"array of shape ({n},)"
        return f"Resampled(n_samples={n}, x={type(self.x).__name__}, sample_weight={weights})"


def _resample_multilabel(x, xa, spec, y, sample_weight, drawn) -> Resampled:
    """``resample`` for the multi-label methods: same containers, our algorithms. ``spec``:
    the :class:`~keras_imbalance.tables.TableSpec` of a raw DataFrame ``x`` (else None);
    ``drawn``: ``(method, random_state, neighbors, params)``."""
    method, random_state, neighbors, params = drawn
    n = xa.shape[0]
    arr = _as_array(y)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise invalid("y", f"a multi-label 0/1 matrix of shape (N, K) for method={method!r}", arr)
    target = _Target(y, "multilabel", n, powerset=False)
    weights = _check_sample_weight(sample_weight, n)
    notes = ()
    if spec is not None:  # mlsmote on a raw table
        from keras_imbalance.resampling._tables import resample_table_multilabel

        x_res, source, matrix, made_for, notes = resample_table_multilabel(
            x, spec, target.matrix, params, random_state, neighbors
        )
    else:
        source, synth, matrix, made_for = run_multilabel(
            method, xa.reshape(n, -1), target.matrix, params, random_state, neighbors
        )
        x_out = None
        if synth is not None and len(synth):
            x_out = np.concatenate([xa.reshape(n, -1), synth.astype(xa.dtype, copy=False)])
        x_res = _rebuild_x(x, xa, isinstance(x, pd.DataFrame), x_out, source)
    y_res = target.rebuild_matrix(matrix, source)
    w_out = None
    if weights is not None:
        w_out = np.empty(len(source))
        orig = source >= 0
        w_out[orig] = weights[source[orig]]
        synth_rows = np.flatnonzero(~orig)
        for label in np.unique(made_for):  # a synthetic row: the mean weight of its label's rows
            w_out[synth_rows[made_for == label]] = weights[target.matrix[:, label]].mean()
    return Resampled(x_res, y_res, w_out, source, notes)


def _check_sample_weight(sample_weight, n):
    if sample_weight is None:
        return None
    weights = check_weights_array("sample_weight", sample_weight)
    if weights.shape != (n,):
        raise invalid(
            "sample_weight",
            f"one weight per row of x, shape ({n},)",
            Text(f"shape {weights.shape}"),
        )
    return weights


# --------------------------------------------------------------------------- inputs


def _raw_table(x: pd.DataFrame, method: str, params: dict) -> bool:
    """Whether a DataFrame goes through the table encoder (:mod:`._tables`): a method that
    measures distances, on a table with categorical (incl. bool) columns or missing values, and
    ``smotenc`` unless the caller named the ``categorical_features`` (imbalanced-learn then
    takes the DataFrame as it is)."""
    if method in ("random_over", "random_under", "ml_ros", "ml_rus"):
        return False
    if "categorical_features" in params:
        return False
    if method == "smotenc":
        return True
    numeric = all(
        pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d) for d in x.dtypes
    )
    return not numeric or bool(x.isna().to_numpy().any())


def _draws_rows(method: str, params: dict) -> bool:
    """Whether the sampler only draws rows (so any ``x`` works: strings, NaN, nested cells)."""
    entry = TABLE.get(method)
    if entry is None or not entry.draws_rows:
        return False
    return method != "random_over" or params.get("shrinkage") is None


def _features(x: Any, method: Any, params: dict) -> np.ndarray:
    """``x`` as an array (never a copy that is written to); NaN / inf raise naming ``x``."""
    if isinstance(x, pd.Series):
        raise invalid(
            "x", "an array or DataFrame of features (a Series is one column)", x, kind=TypeError
        )
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor
        x = x.detach().cpu().numpy()
    elif hasattr(x, "numpy") and not isinstance(x, (np.ndarray, pd.DataFrame)):
        x = x.numpy()
    if isinstance(x, pd.DataFrame):
        if isinstance(method, str) and _draws_rows(method, params):
            # row numbers are resampled and rows copied with iloc: any column passes through
            return np.empty((len(x), 0))
        xa = x.to_numpy()
        numeric = x.select_dtypes(include=["number", "bool"])
        if method != "smotenc" and numeric.shape[1] != x.shape[1]:
            bad = [c for c in x.columns if c not in numeric.columns][:5]
            shrink = " with shrinkage (it perturbs the copies)" if method == "random_over" else ""
            raise invalid(
                "x",
                f"numeric columns for method={method!r}{shrink}",
                Text(f"a DataFrame with non-numeric columns {bad}"),
                kind=TypeError,
            )
        _check_finite(numeric.to_numpy(dtype=np.float64, na_value=np.nan), numeric.columns)
        return xa
    try:
        xa = np.asarray(x)
    except (TypeError, ValueError):
        raise invalid("x", "an array-like of features", x, kind=TypeError) from None
    if xa.ndim < 2:
        raise invalid(
            "x", "an array of shape (n_samples, n_features, ...) (reshape 1-D x to (-1, 1))", xa
        )
    if xa.shape[0] == 0:
        raise invalid("x", "at least one row", xa)
    if isinstance(method, str) and _draws_rows(method, params):
        return xa
    if xa.dtype.kind in "biuf":
        _check_finite(xa, None)
    elif method not in ("random_over", "random_under", "smotenc"):
        raise invalid("x", f"numeric features for method={method!r}", xa, kind=TypeError)
    return xa


def _check_finite(xa: np.ndarray, columns) -> None:
    if xa.dtype.kind != "f":
        return
    finite = np.isfinite(xa)
    if finite.all():
        return
    bad = np.argwhere(~finite)[0]
    where = f"row {bad[0]}" + (
        f", column {columns[bad[1]]!r}"
        if columns is not None
        else f", index {tuple(bad[1:].tolist())}"
    )
    value = xa[tuple(bad)]
    raise ValueError(
        f"Invalid value for argument `x`. Expected finite features (no NaN or inf; impute or "
        f"drop them first). Received: x with {int((~finite).sum())} non-finite value(s), the "
        f"first {value} at {where}"
    )


def _imblearn_input(x, xa, method, params, frame):
    n = xa.shape[0]
    if _draws_rows(method, params):
        # These samplers only draw row indices from y: hand them row numbers, so any x works
        # (object arrays, mixed DataFrames, NaN) and the output equals imbalanced-learn's.
        return np.arange(n).reshape(n, 1)
    if method == "smotenc":
        if frame:
            params.setdefault("categorical_features", "auto")
            return x
        if "categorical_features" not in params:
            raise invalid(
                "categorical_features",
                "the indices or boolean mask of the categorical columns of x for method='smotenc'",
                None,
            )
    return xa.reshape(n, -1)


# --------------------------------------------------------------------------- outputs


def _rebuild_x(x, xa, frame, x_out, source):
    n = xa.shape[0]
    trailing = xa.shape[1:]
    if source is None:
        if frame:
            return pd.DataFrame(np.asarray(x_out), columns=x.columns)
        return np.asarray(x_out).reshape((-1,) + trailing)
    orig = source >= 0
    synth_rows = np.flatnonzero(~orig)
    if frame:
        parts = [x.iloc[source[orig]].reset_index(drop=True)]
        if synth_rows.size:
            syn = (
                x_out.iloc[synth_rows]
                if isinstance(x_out, pd.DataFrame)
                else pd.DataFrame(np.asarray(x_out)[synth_rows], columns=x.columns)
            )
            syn = syn.reset_index(drop=True)
            for col, dtype in x.dtypes.items():
                if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_integer_dtype(
                    syn[col].dtype
                ):
                    syn[col] = np.round(syn[col].to_numpy(dtype=np.float64))
            parts.append(syn.astype(x.dtypes.to_dict()))
        both = pd.concat(parts, ignore_index=True)
        order = np.concatenate([np.flatnonzero(orig), synth_rows])
        return both.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    if (
        isinstance(x_out, np.ndarray)
        and x_out.dtype == xa.dtype
        and n < len(source)
        and not orig[n:].any()
        and np.array_equal(source[:n], np.arange(n))
        and not np.may_share_memory(x_out, xa)
    ):
        # originals first and unchanged (checked by _same_rows or sample_indices_), then the
        # synthetic rows: imbalanced-learn's own output already is the result
        return x_out.reshape((-1,) + trailing)
    out = np.empty((len(source),) + trailing, dtype=xa.dtype)
    out[orig] = xa[source[orig]]
    if synth_rows.size:
        out[synth_rows] = np.asarray(x_out)[synth_rows].reshape((-1,) + trailing)
    return out


def _rebuild_weights(weights, labels, y_out, source):
    out = np.empty(len(y_out), dtype=np.float64)
    orig = source >= 0
    out[orig] = weights[source[orig]]
    synth = ~orig
    if synth.any():
        for label in np.unique(y_out[synth]):
            members = labels == label
            out[synth & (y_out == label)] = weights[members].mean()
    return out
