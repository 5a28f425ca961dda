"""class_weights and sample_weights: numpy only, vectorised, every target layout."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_imbalance import _files
from keras_imbalance._validation import Text, check_option, check_weights_array, invalid
from keras_imbalance.targets import (
    _CHUNK,
    _FEW,
    TargetInfo,
    _Analysis,
    _batch_source,
    _chunks,
    _count,
    _py,
    analyse,
)
from keras_imbalance.weights import _strategies

NORMALIZE = ("mean", "max", "none")


class _Default(str):
    """The default ``class_weight`` of :func:`class_weights` (tells it from an explicit one)."""


_DEFAULT_STRATEGY = _Default("balanced")
_SPARSE_IDS = 64  # a lookup table longer than this many entries per class is not built
ABSENT = ("error", "zero", "one", "max")


@dataclass(frozen=True)
class _Resolved:
    """Weights aligned with a target's classes.

    ``weights`` has shape (n_classes,) for one label per element, or (n_labels, 2) = (negative,
    positive) weight per label for multi-label targets.
    """

    classes: np.ndarray
    class_ids: np.ndarray
    weights: np.ndarray
    multilabel: bool

    def as_dict(self) -> dict[int, float]:
        if self.multilabel:
            neg, pos = self.weights[:, 0], self.weights[:, 1]
            ratio = np.divide(pos, neg, out=np.zeros_like(pos), where=neg > 0)
            return {int(i): float(w) for i, w in zip(self.class_ids, ratio, strict=True)}
        return {int(i): float(w) for i, w in zip(self.class_ids, self.weights, strict=True)}


# --------------------------------------------------------------------------- counts -> weights


def _counts_from_mapping(counts: Mapping, classes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = list(counts)
    if not keys:
        raise invalid("y_or_counts", "a non-empty {class: count} mapping", counts)
    if all(isinstance(k, str) for k in keys):
        labels = np.array(sorted(keys)) if classes is None else np.asarray(list(classes))
        ids = np.arange(len(labels))
    elif all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys):
        labels = (
            np.array(sorted(int(k) for k in keys)) if classes is None else np.asarray(list(classes))
        )
        ids = labels.astype(np.int64)
    else:
        raise invalid(
            "y_or_counts",
            "a mapping keyed by all-int or all-str class labels",
            keys,
            kind=TypeError,
        )
    unknown = [k for k in keys if _py(k) not in set(labels.tolist())]
    if unknown:
        raise invalid(
            "classes", f"every key of the counts mapping (missing {unknown[:10]})", labels.tolist()
        )
    values = check_weights_array("y_or_counts", [counts.get(_py(c), 0) for c in labels])
    if np.any(values != np.round(values)):
        raise invalid("y_or_counts", "whole-number counts", counts)
    return labels, ids, values.astype(np.int64)


def _analysis_from_counts(counts: Mapping, classes) -> _Analysis:
    """An analysis holding only class counts (no per-element labels)."""
    labels, ids, values = _counts_from_mapping(counts, classes)
    n = int(values.sum())
    info = TargetInfo("sparse", "index", labels, ids, values, n, n, (n,), (n,))
    return _Analysis(info, None, None, None)


def _absent_error(zero: np.ndarray, strategy, labels) -> ValueError:
    missing = (
        [_py(c) for c in np.asarray(labels)[zero.any(axis=0)]]
        if zero.shape[0] == 1
        else (np.flatnonzero(zero.any(axis=1)).tolist())
    )
    return ValueError(
        "Invalid value for argument `absent`. A class has no element in y, so its weight "
        f"({strategy!r}) would divide by zero: classes {missing[:10]}. Expected absent='zero', "
        "'one' or 'max' to choose their weight (or drop them from `classes`). Received: absent='error'"
    )


def _fill_absent(weights: np.ndarray, zero: np.ndarray, absent: str) -> np.ndarray:
    """Weights of the classes with no element: 0, 1 or the largest weight of the row."""
    fill = {"zero": 0.0, "one": 1.0}.get(absent)
    for r in range(weights.shape[0]):
        weights[r][zero[r]] = fill if fill is not None else weights[r][~zero[r]].max()
    return weights


def _apply_strategy(counts2d: np.ndarray, strategy, options, absent: str, labels) -> np.ndarray:
    """Weights of shape counts2d.shape; zero counts handled by ``absent``."""
    zero = counts2d == 0
    if zero.any() and absent == "error" and not callable(strategy):
        raise _absent_error(zero, strategy, labels)
    if callable(strategy):
        flat = counts2d[0] if counts2d.shape[0] == 1 else counts2d
        try:
            out = strategy(flat.copy())
        except Exception as exc:  # the user's function failed: say whose it was
            raise invalid(
                "class_weight",
                "a callable counts -> weights that runs",
                Text(f"{strategy!r} raised {exc!r}"),
            ) from exc
        out = check_weights_array("class_weight", out)
        if out.shape != flat.shape:
            raise invalid(
                "class_weight",
                f"a callable returning {flat.shape} weights",
                Text(f"shape {out.shape}"),
            )
        return out.reshape(counts2d.shape)
    if isinstance(strategy, str):
        _check_strategy_name(strategy)
    if strategy == "none":
        return np.ones(counts2d.shape)
    _strategies.check_options(strategy, options)
    opts = dict(options)
    if strategy == "reference" and opts.get("ref") is not None:
        opts["ref"] = _ref_column(opts["ref"], labels, counts2d)
    if not zero.any():
        return _strategies.WEIGHT_STRATEGIES[strategy](counts2d.astype(np.float64), **opts)
    # absent classes take no part in the formula: weigh the present ones as if alone
    weights = np.vstack(
        [_present_only(row, z, strategy, opts) for row, z in zip(counts2d, zero, strict=True)]
    )
    return _fill_absent(weights, zero, absent)


def _median_frequency(analysis: _Analysis, options: dict, absent: str) -> np.ndarray:
    """Eigen & Fergus (2015): ``median(freq) / freq_c``, ``freq_c`` = pixels of class c over
    the pixels of the images (samples) where c occurs. Returns shape (n_classes,)."""
    info = analysis.info
    if options:
        name = next(iter(options))
        raise invalid(
            name, "no option for strategy 'median_frequency'", options[name], kind=TypeError
        )
    if analysis.labels is None and analysis.binary_matrix is None:  # class counts only
        raise invalid(
            "y_or_counts",
            "the label masks for strategy 'median_frequency' (it needs the pixels of the images "
            "where each class occurs, which class counts do not hold)",
            "class counts",
        )
    if info.layout not in ("dense", "sequence"):
        raise invalid(
            "class_weight",
            "'median_frequency' for per-pixel (dense) or per-time-step (sequence) targets; with "
            "one label per sample every class occurs in all of its samples (use 'balanced')",
            f"'median_frequency' with y read as layout={info.layout!r}",
        )
    per_image = _per_image_counts(analysis)  # (N, K)
    counts = per_image.sum(axis=0)
    pixels = per_image.sum(axis=1)  # counted pixels of each image
    occurs = (per_image > 0).T @ pixels  # pixels of the images where each class occurs
    zero = counts == 0
    if zero.any() and absent == "error":
        raise _absent_error(zero[None, :], "median_frequency", info.classes)
    freq = np.divide(counts, occurs, out=np.zeros(len(counts)), where=~zero)
    weights = np.zeros(len(counts))
    weights[~zero] = np.median(freq[~zero]) / freq[~zero]
    return _fill_absent(weights[None, :], zero[None, :], absent)[0]


def _per_image_counts(analysis: _Analysis) -> np.ndarray:
    """Counted elements of each class in each sample, (N, K), in chunks of samples."""
    info = analysis.info
    n, k = info.n_samples, info.n_classes
    labels = analysis.labels.reshape(n, -1)
    valid = None if analysis.valid is None else analysis.valid.reshape(n, -1)
    coded = info.encoding == "onehot" or _is_coded(analysis)
    out = np.zeros((n, k), dtype=np.int64)
    rows = max(1, _CHUNK // max(1, labels.shape[1]))
    for lo in range(0, n, rows):
        part = labels[lo : lo + rows]
        pos = part if coded else np.searchsorted(info.class_ids, part)
        keep = (pos >= 0) & (pos < k)
        if valid is not None:
            keep &= valid[lo : lo + rows]
        image = np.broadcast_to(np.arange(part.shape[0])[:, None], part.shape)
        flat = (image * k + np.clip(pos, 0, k - 1))[keep]
        out[lo : lo + rows] = np.bincount(flat, minlength=part.shape[0] * k).reshape(-1, k)
    return out


def _check_strategy_name(name: str) -> None:
    allowed = [*_strategies.WEIGHT_STRATEGIES, "median_frequency", "none"]
    if name in allowed:
        return
    hint = " ('auto' is scikit-learn's old name: use 'balanced')" if name == "auto" else ""
    raise invalid("class_weight", f"one of {{{', '.join(repr(a) for a in allowed)}}}{hint}", name)


def _present_only(row, zero, strategy, opts):
    out = np.zeros(row.shape)
    present = row[~zero].astype(np.float64)[None, :]
    if opts.get("ref") is not None:  # the reference column among the present classes
        opts = {**opts, "ref": int(np.count_nonzero(~zero[: opts["ref"]]))}
    out[~zero] = _strategies.WEIGHT_STRATEGIES[strategy](present, **opts)[0]
    return out


def _ref_column(ref, labels, counts2d) -> int:
    if counts2d.shape[0] > 1:  # multi-label: ref picks 0 (negatives) or 1 (positives)
        column = int(check_option("ref", ref, (0, 1)))
        if (counts2d[:, column] == 0).any():
            raise invalid(
                "ref", "a side (0 = negatives, 1 = positives) present for every label", ref
            )
        return column
    hits = [i for i, c in enumerate(np.asarray(labels).tolist()) if c == ref]
    if not hits:
        raise invalid("ref", f"one of the classes {np.asarray(labels).tolist()}", ref)
    if counts2d[0, hits[0]] == 0:
        raise invalid("ref", "a class present in y", ref)
    return hits[0]


def _normalize(weights: np.ndarray, counts2d: np.ndarray, normalize) -> np.ndarray:
    if normalize is None or normalize == "none":
        return weights
    check_option("normalize", normalize, NORMALIZE)
    if normalize == "max":
        top = weights.max()
        return weights / top if top > 0 else weights
    total = (weights * counts2d).sum()
    return weights * counts2d.sum() / total if total > 0 else weights


def _clip(weights: np.ndarray, clip) -> np.ndarray:
    if clip is None:
        return weights
    if isinstance(clip, (int, float)) and not isinstance(clip, bool):
        low, high = 0.0, float(clip)
    elif isinstance(clip, (tuple, list)) and len(clip) == 2:
        low, high = (
            (float("-inf") if clip[0] is None else clip[0]),
            (float("inf") if clip[1] is None else clip[1]),
        )
    else:
        raise invalid("clip", "a maximum weight or a (min, max) pair", clip, kind=TypeError)
    if not (0 <= low <= high) or np.isnan(high):
        raise invalid("clip", "0 <= min <= max", clip)
    return np.clip(weights, low, high)


def _from_user_dict(mapping: Mapping, labels, ids, multilabel: bool) -> np.ndarray:
    """Align a user's {label or id: weight} dict to the classes; unknown or missing keys raise."""
    if not mapping:
        raise invalid(
            "class_weight",
            "a non-empty {class: weight} dict (use 'none' for no weighting)",
            mapping,
        )
    label_pos = {_py(c): i for i, c in enumerate(np.asarray(labels).tolist())}
    id_pos = {int(c): i for i, c in enumerate(np.asarray(ids).tolist())}
    out = np.full(len(labels), np.nan)
    unknown = []
    for key, value in mapping.items():
        key = _py(key)
        if isinstance(key, str):
            pos = label_pos.get(key)
        elif isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            pos = id_pos.get(int(key))
        else:
            raise invalid(
                "class_weight", "keys that are class labels (int or str)", key, kind=TypeError
            )
        if pos is None:
            unknown.append(key)
        else:
            out[pos] = check_weights_array("class_weight", value)
    if unknown:
        raise ValueError(
            f"Invalid value for argument `class_weight`. Expected keys among the classes "
            f"{np.asarray(labels).tolist()[:20]} (ids {np.asarray(ids).tolist()[:20]}). "
            f"Received: unknown keys {unknown[:10]} (pass classes=... if they are absent from y)"
        )
    missing = np.isnan(out)
    if missing.any():
        one, many = ("label", "labels") if multilabel else ("class", "classes")
        raise ValueError(
            f"Invalid value for argument `class_weight`. Expected a weight for every {one}. "
            f"Received: no weight for {many} {np.asarray(labels)[missing].tolist()[:10]}"
        )
    return out


def _resolve(
    analysis: _Analysis, class_weight, *, normalize=None, clip=None, absent="error", **options
) -> _Resolved:
    info = analysis.info
    multilabel = info.encoding == "multilabel"
    check_option("absent", absent, ABSENT)
    counts2d = (
        np.stack([info.negatives, info.counts], axis=1) if multilabel else info.counts[None, :]
    )
    if isinstance(class_weight, _Resolved):
        weights = class_weight.weights
        return _Resolved(info.classes, info.class_ids, weights, multilabel)
    if isinstance(class_weight, Mapping):
        if options:
            raise invalid(
                next(iter(options)),
                "no strategy options with a class_weight dict",
                options,
                kind=TypeError,
            )
        vec = _from_user_dict(class_weight, info.classes, info.class_ids, multilabel)
        weights = np.stack([np.ones_like(vec), vec], axis=1) if multilabel else vec
    elif isinstance(class_weight, str) and class_weight == "median_frequency":
        weights = _median_frequency(analysis, options, absent)
    elif isinstance(class_weight, str) or callable(class_weight):
        weights = _apply_strategy(counts2d, class_weight, options, absent, info.classes)
        weights = weights if multilabel else weights[0]
    elif class_weight is None:
        weights = np.ones(counts2d.shape) if multilabel else np.ones(info.n_classes)
    else:
        raise invalid(
            "class_weight",
            f"a strategy name ({', '.join(_strategies.WEIGHT_STRATEGIES)}, median_frequency), "
            "a {class: weight} dict or a callable",
            class_weight,
            kind=TypeError,
        )
    w2d = weights if multilabel else weights[None, :]
    scaled = _clip(_normalize(w2d, counts2d, normalize), clip)
    scaled = check_weights_array("class_weight", scaled)
    return _Resolved(
        info.classes, info.class_ids, scaled if multilabel else scaled.reshape(-1), multilabel
    )


# --------------------------------------------------------------------------- public API


def class_weights(
    y_or_counts: Any,
    class_weight: str | Mapping | Callable = _DEFAULT_STRATEGY,
    *,
    normalize: str | None = None,
    clip: float | tuple | None = None,
    classes: Iterable | None = None,
    layout: str | None = None,
    mask: Any = None,
    ignore_class: Any = None,
    absent: str = "error",
    target: str | None = None,
    **options: Any,
) -> dict[int, float]:
    """Per-class weights in the ``{class_id: weight}`` dict that ``model.fit`` accepts.

    Rare classes get large weights. With ``counts`` per class (n elements, k classes):

    ==================  ============================================================
    class_weight        weight of class c
    ==================  ============================================================
    'balanced'          n / (k * count_c)  (equals scikit-learn's 'balanced')
    'reference'         count_ref / count_c, ref = the majority (``ref=`` a label)
    'sqrt'              sqrt(n / (k * count_c))
    'log'               ln(1 + n / (k * count_c))
    'log_mu'            max(floor, ln(mu * n / count_c)), ``mu=0.15``, ``floor=1``
    'effective_number'  (1 - beta) / (1 - beta ** count_c), rescaled to sum to k,
                        ``beta=0.999`` (Cui et al., CVPR 2019)
    'median_frequency'  median(freq) / freq_c, freq_c = count_c / (elements of the
                        samples where c occurs); segmentation masks and sequences
                        only (Eigen & Fergus, ICCV 2015)
    'none'              1
    dict                the user's weights, keyed by label or class id (validated)
    callable            ``f(counts) -> weights`` on the count array
    ==================  ============================================================

    Parameters
    ----------
    y_or_counts : array-like, mapping, stream or directory
        Labels in any layout (see :func:`keras_imbalance.describe`), a ``{class: count}``
        mapping, or anything :func:`keras_imbalance.class_counts` can stream (batches, a
        Parquet file or directory with ``target=``, a memmap, a Dask collection).
    class_weight : str, dict or callable, default='balanced'
        A strategy of the table above (the names are :data:`WEIGHT_STRATEGIES`,
        ``'median_frequency'`` and ``'none'``), a ``{label or id: weight}`` dict, or a callable. The same argument as
        in :func:`sample_weights`, :func:`fit_kwargs` and :func:`weighted`. (Called
        ``strategy`` in 0.1; that keyword still works, with a DeprecationWarning.)
    normalize : {'mean', 'max', 'none'}, optional
        'mean': rescale so the mean weight over elements, sum_c w_c count_c / n, is 1 (keeps the
        effective learning rate: Keras divides sum(w * loss) by the number of elements, not by
        sum(w)). 'max': the largest weight is 1. Applied before ``clip``.
    clip : float or (float, float), optional
        Upper bound, or (lower, upper) bounds, on the final weights.
    classes : iterable, optional
        All classes, including ones absent from ``y`` (see ``absent``).
    layout, mask, ignore_class
        As in :func:`keras_imbalance.describe`.
    absent : {'error', 'zero', 'one', 'max'}, default='error'
        Weight of a class with no element in ``y`` (only possible with ``classes``, one-hot or
        multi-label input): raise, 0, 1, or the largest weight of a present class. Present
        classes are weighted as if the absent ones did not exist.
    target : str, optional
        The label column when ``y_or_counts`` is a Parquet source or a Dask DataFrame.
    **options
        ``ref`` (reference), ``mu`` and ``floor`` (log_mu), ``beta`` (effective_number).

    Returns
    -------
    dict of int to float
        Python ``int`` keys (Keras ignores string keys without a word). Keys are the class ids
        Keras sees: the label for integer labels, the position in sorted
        order for string labels, the column for one-hot. Multi-label targets give one
        *positive* weight per label relative to a negative weight of 1 (``pos_weight``, as in
        ``torch.nn.BCEWithLogitsLoss``).

    References
    ----------
    King & Zeng (2001) for 'balanced'; Cui et al., "Class-Balanced Loss Based on Effective
    Number of Samples", CVPR 2019; Eigen & Fergus, "Predicting Depth, Surface Normals and
    Semantic Labels with a Common Multi-Scale Convolutional Architecture", ICCV 2015, for
    'median_frequency' (as in SegNet).

    Examples
    --------
    >>> class_weights({0: 1000, 1: 500, 2: 100}, "reference")
    {0: 1.0, 1: 2.0, 2: 10.0}
    >>> class_weights([0, 0, 0, 1])
    {0: 0.6666666666666666, 1: 2.0}
    >>> masks = np.array([[[0, 0], [0, 1]], [[0, 0], [0, 0]]])   # class 1: 1 pixel, image 0
    >>> class_weights(masks, "median_frequency", layout="dense")  # freq 7/8, 1/4; median 9/16
    {0: 0.6428571428571429, 1: 2.25}
    """
    class_weight = _renamed_strategy(class_weight, options)
    name = "y_or_counts"
    if isinstance(y_or_counts, Mapping):
        analysis = _analysis_from_counts(y_or_counts, classes)
    elif (
        target is not None
        or _files.is_label_source(y_or_counts)
        or isinstance(y_or_counts, (str, bytes, os.PathLike))
        or _batch_source(y_or_counts, name)
    ):
        counted = _count(
            y_or_counts,
            name,
            layout=layout,
            ignore_class=ignore_class,
            classes=classes,
            target=target,
        )
        analysis = _analysis_from_counts(counted, classes)
    else:
        analysis = analyse(
            y_or_counts,
            layout=layout,
            mask=mask,
            ignore_class=ignore_class,
            classes=classes,
            name=name,
        )
    return _resolve(
        analysis, class_weight, normalize=normalize, clip=clip, absent=absent, **options
    ).as_dict()


def _renamed_strategy(class_weight, options: dict):
    """``class_weights(y, strategy=...)`` (0.1) still works, with a DeprecationWarning."""
    if "strategy" in options:
        strategy = options.pop("strategy")
        if class_weight is not _DEFAULT_STRATEGY:
            raise invalid(
                "strategy",
                "no `strategy` when `class_weight` is given (`strategy` is its old name)",
                strategy,
                kind=TypeError,
            )
        warnings.warn(
            "class_weights(..., strategy=...) is deprecated and will be removed in "
            "keras-imbalance 0.2: use class_weight=... (the name sample_weights, fit_kwargs "
            "and weighted use)",
            DeprecationWarning,
            stacklevel=3,
        )
        return strategy
    return "balanced" if class_weight is _DEFAULT_STRATEGY else class_weight


def sample_weights(
    y: Any,
    class_weight: str | Mapping | Callable | None,
    *,
    sample_weight: Any = None,
    layout: str | None = None,
    mask: Any = None,
    ignore_class: Any = None,
    classes: Iterable | None = None,
    **options: Any,
) -> np.ndarray:
    """One weight per loss element: per sample, time step, pixel, or label.

    ``w[i] = class_weight[class of element i] * sample_weight[sample of i]``, 0 where masked or
    ignored. Vectorised (a table lookup), no Python loop over samples.

    Parameters
    ----------
    y : array-like
        Labels in any layout (see :func:`keras_imbalance.describe`).
    class_weight : str, dict, callable or None
        A strategy of :func:`class_weights` (computed on ``y``; ``**options`` go to it), a
        ``{label or id: weight}`` dict, or None for weight 1. For multi-label ``y`` a dict gives
        positive weights per label with negatives weighted 1.
    sample_weight : array-like of shape (n_samples,) or the element shape, optional
        The user's own weights, multiplied in; (N,) is broadcast over time steps and pixels.
    layout, mask, ignore_class, classes
        As in :func:`keras_imbalance.describe`.

    Returns
    -------
    ndarray of float32
        Shape (N,) for binary, sparse and one-hot targets; (N, T) for sequences; (N, H, W) for
        segmentation; (N, K) for multi-label targets (pair it with a loss that returns one value
        per label, e.g. ``keras_imbalance.losses.WeightedBinaryCrossentropy``: Keras' own
        ``BinaryCrossentropy`` averages over labels before weighting).

    Examples
    --------
    >>> sample_weights([0, 0, 0, 1], "balanced").tolist()
    [0.6666666865348816, 0.6666666865348816, 0.6666666865348816, 2.0]
    >>> sample_weights([[0, 1], [2, 2]], {0: 1, 1: 2, 2: 3}, sample_weight=[1, 10]).tolist()
    [[1.0, 2.0], [30.0, 30.0]]
    """
    analysis = analyse(y, layout=layout, mask=mask, ignore_class=ignore_class, classes=classes)
    resolved = _resolve(analysis, class_weight, **options)
    return _lookup(analysis, resolved, sample_weight)


def _lookup(analysis: _Analysis, resolved: _Resolved, sample_weight) -> np.ndarray:
    info = analysis.info
    table = np.asarray(resolved.weights, dtype=np.float32)
    if info.encoding == "multilabel":
        out = np.where(analysis.binary_matrix, table[:, 1], table[:, 0]).astype(np.float32)
    else:
        labels = analysis.labels
        valid = analysis.valid
        if info.encoding == "index" and not _is_coded(analysis):
            out = _int_lookup(labels, info.class_ids, table, valid)
        else:  # codes 0..k-1, -1 marks skipped elements
            codes = labels if valid is None else np.where(valid, labels, -1)
            out = np.append(table, np.float32(0)).take(codes)
    if analysis.valid is not None:
        out[~analysis.valid] = 0
    if sample_weight is not None:
        out *= _user_weights(sample_weight, info.element_shape)
    return out


def _is_coded(analysis: _Analysis) -> bool:
    return analysis.info.classes.dtype.kind in "USO"


def _int_lookup(labels: np.ndarray, ids: np.ndarray, table: np.ndarray, valid) -> np.ndarray:
    """table[position of label], labels already validated against ``ids`` (by ``analyse``)."""
    if int(ids.max()) - min(int(ids.min()), 0) > _SPARSE_IDS * len(ids) + _CHUNK:
        # ids spread over a huge range (classes=[0, 10**12]): search, do not allocate the span
        order = np.argsort(ids)
        if valid is not None:
            labels = np.where(valid, labels, ids[0])
        position = order[np.searchsorted(ids[order], labels)]
        return table[position].astype(np.float32)
    offset = min(int(ids.min()), 0)
    full = np.zeros(int(ids.max()) - offset + 1, np.float32)
    full[ids - offset] = table
    if valid is not None:
        labels = np.where(valid, labels, ids[0])
    flat = labels.reshape(-1)
    out = np.empty(flat.size, np.float32)
    if flat.dtype == np.intp and offset == 0:
        np.take(full, flat, out=out, mode="clip")
    elif len(full) == 2 and offset == 0 and flat.dtype.itemsize <= 2 and _exact_step(full):
        # 0/1 masks: w0 + (w1 - w0) * label, one cast-multiply and one add per chunk; used only
        # when float32 gives w0 + (w1 - w0) == w1 exactly (not for {0: 330000, 1: 0.0345})
        step = full[1] - full[0]
        for start in range(0, flat.size, _CHUNK):
            dest = out[start : start + _CHUNK]
            np.multiply(flat[start : start + _CHUNK], step, out=dest, dtype=np.float32)
            dest += full[0]
    elif len(full) <= _FEW and flat.dtype.itemsize <= 2:
        # a few classes in small ints (masks): fill, then copy each other class's weight where
        # the label matches (every value is a table entry)
        for start in range(0, flat.size, _CHUNK):
            part, dest = flat[start : start + _CHUNK], out[start : start + _CHUNK]
            dest.fill(full[0])
            for value in range(1, len(full)):
                np.copyto(dest, full[value], where=part == value + offset)
    else:
        start = 0
        for index in _chunks(flat, offset):
            np.take(full, index, out=out[start : start + index.size], mode="clip")
            start += index.size
    return out.reshape(labels.shape)


def _exact_step(full: np.ndarray) -> bool:
    """Whether ``w0 + (w1 - w0)`` rounds back to ``w1`` in float32 (so a 0/1 label can scale)."""
    with np.errstate(over="ignore", invalid="ignore"):
        step = full[1] - full[0]
        return bool(np.isfinite(step) and full[0] + step == full[1])


def _user_weights(sample_weight, element_shape) -> np.ndarray:
    sw = check_weights_array("sample_weight", sample_weight).astype(np.float32)
    if sw.ndim == 2 and sw.shape[1] == 1 and len(element_shape) == 1:
        sw = sw[:, 0]
    if sw.shape[:1] != element_shape[:1] or sw.ndim > len(element_shape):
        per_sample = f"({element_shape[0]},)"
        expected = (
            f"shape {per_sample} (one weight per sample)"
            if len(element_shape) == 1
            else f"shape {per_sample} or {element_shape} (one weight per sample or per element)"
        )
        raise invalid("sample_weight", expected, Text(f"shape {sw.shape}"))
    sw = sw.reshape(sw.shape + (1,) * (len(element_shape) - sw.ndim))
    try:
        np.broadcast_shapes(sw.shape, element_shape)
    except ValueError:
        raise invalid(
            "sample_weight", f"a shape broadcastable to {element_shape}", Text(f"shape {sw.shape}")
        ) from None
    return sw
