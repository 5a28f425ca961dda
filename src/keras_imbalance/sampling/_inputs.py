"""Validation, class codes, SMOTE neighbour graph and batch assembly (numpy + scikit-learn).

Shared by :class:`BalancedBatches`, :class:`BalancedSampler` and :func:`balanced_tf_dataset`;
never imports Keras.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from keras_imbalance._files import RowReader
from keras_imbalance._validation import check_number, check_weights_array, invalid
from keras_imbalance.sampling._plan import _CHUNK, _BatchPlan, _Draws
from keras_imbalance.targets import analyse

#: What ``strategy`` of :class:`BalancedBatches` (and of the torch / tf versions) accepts
#: besides a ``{class: proportion}`` dict.
BATCH_STRATEGIES = ("oversample", "undersample", "smote")
#: What ``mode`` accepts: ``'classes'`` (one label per row) or ``'labels'`` (multi-label ``y``).
MODES = ("classes", "labels")


# --------------------------------------------------------------------------- nested structures


def _is_multi(value: Any) -> bool:
    """A dict, or a list/tuple of arrays (a plain list of labels is one array)."""
    if isinstance(value, Mapping):
        return True
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(hasattr(v, "shape") and hasattr(v, "dtype") for v in value)
    )


def _items(tree: Any, name: str) -> list:
    """``[(label, array)]`` of a single array, a dict or a list/tuple of arrays."""
    if isinstance(tree, Mapping):
        return [(f"{name}[{k!r}]", v) for k, v in tree.items()]
    if _is_multi(tree):
        return [(f"{name}[{i}]", v) for i, v in enumerate(tree)]
    return [(name, tree)]


def _tree_map(fn, tree: Any) -> Any:
    if isinstance(tree, Mapping):
        return {k: fn(v) for k, v in tree.items()}
    if _is_multi(tree):
        return type(tree)(fn(v) for v in tree)
    return fn(tree)


def _to_numpy(value: Any, name: str) -> np.ndarray:
    """A numpy view when possible (numpy arrays and memmaps are never copied)."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch
        value = value.detach().cpu().numpy()
    elif hasattr(value, "to_numpy"):  # pandas
        value = value.to_numpy()
    elif hasattr(value, "numpy"):  # tf / jax
        value = value.numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise invalid(name, "an array-like", value, kind=TypeError) from None
    if arr.ndim == 0:
        raise invalid(name, "an array with a first (sample) axis", value)
    if arr.dtype == object:
        raise invalid(name, "a numeric array (not dtype object)", arr, kind=TypeError)
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    """Raise on NaN or inf in a floating array; scanned in row chunks (no full-size temporary)."""
    if arr.dtype.kind not in "fc":
        return
    rows = max(1, _CHUNK * 16 // max(1, int(np.prod(arr.shape[1:]))))
    for lo in range(0, arr.shape[0], rows):
        chunk = arr[lo : lo + rows]
        if not np.isfinite(chunk).all():
            bad = lo + int(
                np.flatnonzero(~np.isfinite(chunk.reshape(chunk.shape[0], -1)).all(axis=1))[0]
            )
            raise ValueError(
                f"Invalid value for argument `{name.split('[')[0]}`. Expected finite values "
                f"(no NaN or inf). Received: {name} with a non-finite value in row {bad}"
            )


# --------------------------------------------------------------------------- arguments


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _check_seed(seed: Any) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise invalid("random_state", "an integer or None", seed, kind=TypeError)
    if seed < 0:
        raise invalid("random_state", "a non-negative integer or None", seed)
    return int(seed)


def renamed_seed(random_state: Any, seed: Any, owner: str) -> Any:
    """``seed=`` (0.1) still works, with a DeprecationWarning; ``random_state`` is its name."""
    if seed is None:
        return random_state
    if random_state is not None:
        raise invalid(
            "seed",
            "no `seed` when `random_state` is given (`seed` is its old name)",
            seed,
            kind=TypeError,
        )
    warnings.warn(
        f"{owner}(seed=...) is deprecated and will be removed in keras-imbalance 0.2: use "
        "random_state=... (the name used everywhere else)",
        DeprecationWarning,
        stacklevel=3,
    )
    return seed


class PlanSeed:
    """The seed of a batch drawer's plan (``self._plan``), as :class:`BalancedBatches` and
    :class:`BalancedSampler` expose it: ``random_state``, and ``seed`` (deprecated)."""

    @property
    def random_state(self) -> int:
        """The seed every batch is drawn from (the one given, or the one drawn for None)."""
        return self._plan.seed

    @property
    def seed(self) -> int:
        """Deprecated name of :attr:`random_state`."""
        warnings.warn(
            "`.seed` is deprecated and will be removed in keras-imbalance 0.2: use `.random_state`",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._plan.seed


def _stratify_output(y: Any, stratify_by: Any) -> tuple[Any, Any]:
    """(the output whose classes are balanced, its key or None)."""
    if not _is_multi(y):
        if stratify_by is not None:
            raise invalid("stratify_by", "None when y is a single array", stratify_by)
        return y, None
    keys = list(y) if isinstance(y, Mapping) else list(range(len(y)))
    if stratify_by is None:
        if len(keys) == 1:
            return y[keys[0]], keys[0]
        raise invalid(
            "stratify_by", f"the output whose classes are balanced, one of {keys}", stratify_by
        )
    if stratify_by not in keys:
        raise invalid("stratify_by", f"one of the outputs of y: {keys}", stratify_by)
    return y[stratify_by], stratify_by


def _class_codes(y_strat: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample class position (int8/16/32), the class labels and their counts."""
    analysis = analyse(y_strat)
    info = analysis.info
    if info.layout not in ("binary", "sparse", "onehot"):
        raise ValueError(
            "Invalid value for argument `y`. Expected one class per sample (binary, sparse or "
            f"one-hot labels; for a multi-output y name the classification output with "
            f"stratify_by=). Received: y of shape {info.shape} read as layout {info.layout!r}"
        )
    k = info.n_classes
    dtype = np.int8 if k < 128 else np.int16 if k < 32768 else np.int32
    labels = analysis.labels.reshape(-1)
    codes = np.empty(labels.shape[0], dtype=dtype)
    direct = info.encoding == "onehot" or info.classes.dtype.kind in "US"
    for lo in range(0, labels.shape[0], _CHUNK):  # chunked: no full-size int64 temporary
        chunk = labels[lo : lo + _CHUNK]
        codes[lo : lo + _CHUNK] = chunk if direct else np.searchsorted(info.class_ids, chunk)
    return codes, info.classes, info.counts


def _label_groups(y_strat: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of a multi-label ``y`` grouped by their rarest positive label.

    Returns per-row group codes (label index; ``K`` for rows without a positive label), the
    group names (``0 .. K-1`` and ``-1`` for "no label"), the rows per group and the draw
    probability of each group: ``m_g / n_g`` normalised, ``m_g`` the rows of group ``g`` and
    ``n_g`` the positives of label ``g`` (the rows without a label: ``n_g = m_g``). So a row is
    drawn with probability proportional to ``1 / n`` of its rarest label.
    """
    try:
        matrix = analyse(y_strat, layout="multilabel").binary_matrix
    except ValueError:
        raise invalid(
            "y",
            "a multi-label 0/1 matrix of shape (n_samples, n_labels) for mode='labels'",
            np.asarray(y_strat) if hasattr(y_strat, "shape") else y_strat,
        ) from None
    n, k = matrix.shape
    positives = matrix.sum(axis=0)
    codes = np.empty(n, dtype=np.int8 if k < 127 else np.int16 if k < 32767 else np.int32)
    for lo in range(0, n, _CHUNK):  # chunked: no (N, K) float temporary
        part = matrix[lo : lo + _CHUNK]
        rarity = np.where(part, positives, np.iinfo(np.int64).max)
        codes[lo : lo + _CHUNK] = np.where(part.any(axis=1), rarity.argmin(axis=1), k)
    counts = np.bincount(codes, minlength=k + 1).astype(np.int64)
    base = np.append(positives, counts[k]).astype(np.float64)
    probs = np.divide(counts, base, out=np.zeros(k + 1), where=base > 0)
    names = np.append(np.arange(k), -1)
    return codes, names, counts, probs / probs.sum()


def check_shard(shard: Any) -> tuple[int, int]:
    """``(index, count)`` of a replica's share; ``(0, 1)`` for None."""
    if shard is None:
        return 0, 1
    ok = (
        isinstance(shard, (tuple, list))
        and len(shard) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in shard)
    )
    if not ok:
        raise invalid("shard", "a pair of integers (index, count)", shard, kind=TypeError)
    index, count = int(shard[0]), int(shard[1])
    if count < 1 or not 0 <= index < count:
        raise invalid("shard", "(index, count) with count >= 1 and 0 <= index < count", shard)
    return index, count


def _strategy_probs(strategy: Any, classes: np.ndarray, counts: np.ndarray, n: int, epoch_size):
    """(class probabilities, epoch size) of a strategy."""
    present = counts > 0
    k = int(present.sum())
    if isinstance(strategy, str):
        if strategy not in BATCH_STRATEGIES:
            raise invalid(
                "strategy", f"one of {BATCH_STRATEGIES} or a dict {{class: proportion}}", strategy
            )
        probs = np.where(present, 1.0 / k, 0.0)
        if epoch_size is None:
            size = counts[present].min() if strategy == "undersample" else counts.max()
            epoch_size = int(k * size)
        return probs, epoch_size
    if not isinstance(strategy, Mapping):
        raise invalid(
            "strategy",
            f"one of {BATCH_STRATEGIES} or a dict {{class: proportion}}",
            strategy,
            kind=TypeError,
        )
    position = {_label(c): i for i, c in enumerate(classes)}
    available = {label: int(counts[i]) for label, i in position.items() if counts[i] > 0}
    probs = np.zeros(len(classes))
    for label, share in strategy.items():
        key = _label(label)
        if key not in available:
            raise ValueError(
                f"Invalid value for argument `strategy`. Expected proportions for classes "
                f"present in y {available} (class: count). Received: class {key!r}, which is "
                f"absent from y"
            )
        probs[position[key]] = check_number(f"strategy[{key!r}]", share, low=0.0)
    if probs.sum() <= 0:
        raise invalid("strategy", "at least one positive proportion", dict(strategy))
    return probs / probs.sum(), int(n if epoch_size is None else epoch_size)


def _smote_graphs(x: np.ndarray, plan_args: dict, k_neighbors: int, classes) -> dict:
    """k-nearest-neighbour graph (positions within the class) of every oversampled class."""
    from sklearn.neighbors import NearestNeighbors

    codes, counts, probs, epoch_size = (
        plan_args[k] for k in ("codes", "counts", "probs", "epoch_size")
    )
    over = np.flatnonzero(epoch_size * probs > counts)
    for c in over:
        if counts[c] < 2:
            raise ValueError(
                f"Invalid value for argument `y`. Expected at least 2 samples in every class "
                f"SMOTE oversamples (it interpolates between two). Received: class "
                f"{_label(classes[c])!r} with {counts[c]} sample (use strategy='oversample' for it)"
            )
    smallest = int(counts[over].min()) if over.size else 0
    if over.size and k_neighbors >= smallest:
        c = over[np.argmin(counts[over])]
        raise ValueError(
            f"Invalid value for argument `k_neighbors`. Expected fewer neighbours than the "
            f"smallest class SMOTE oversamples (class {_label(classes[c])!r} has {smallest} samples): "
            f"lower it to {smallest - 1} or less. Received: k_neighbors={k_neighbors}"
        )
    graphs = {}
    for c in over:
        rows = np.flatnonzero(codes == c)
        points = _take(x, rows).reshape(rows.shape[0], -1)
        nn = NearestNeighbors(n_neighbors=k_neighbors + 1).fit(points)
        nbrs = nn.kneighbors(points, return_distance=False)
        is_self = nbrs == np.arange(rows.shape[0])[:, None]
        no_self = ~is_self.any(axis=1)  # exact duplicates may push a row out of its own list
        is_self[no_self, -1] = True
        graphs[int(c)] = nbrs[~is_self].reshape(rows.shape[0], k_neighbors).astype(np.int32)
    return graphs


# --------------------------------------------------------------------------- the source


def _take(arr, rows: np.ndarray) -> np.ndarray:
    """Rows of an array, a memmap (only those rows are read) or a file reader."""
    if isinstance(arr, RowReader):
        return arr.take(rows)
    return np.asarray(np.take(arr, rows, axis=0))  # a memmap's rows: a plain array


class _Source:
    """The user's arrays (never copied) and how a batch is assembled from draws."""

    def __init__(self, x, y, sample_weight):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self._plain = (
            isinstance(x, (np.ndarray, RowReader))
            and isinstance(y, np.ndarray)
            and sample_weight is None
        )

    def batch(self, draws: _Draws) -> tuple:
        rows = draws.index
        if draws.neighbor is None and self._plain:  # the common case, without the tree walk
            x = self.x
            x_b = x.take(rows, axis=0) if type(x) is np.ndarray else _take(x, rows)
            return x_b, self.y.take(rows, axis=0)
        fake = np.flatnonzero(draws.neighbor >= 0) if draws.neighbor is not None else rows[:0]

        def gather(arr, interpolate=False):
            out = _take(arr, rows)
            if interpolate and fake.size:
                base = out[fake]
                partner = _take(arr, draws.neighbor[fake])
                gap = draws.gap[fake].astype(arr.dtype).reshape((-1,) + (1,) * (arr.ndim - 1))
                out[fake] = base + gap * (partner - base)
            return out

        x_b = _tree_map(lambda a: gather(a, interpolate=True), self.x)
        y_b = _tree_map(gather, self.y)
        if self.sample_weight is None:
            return x_b, y_b
        return x_b, y_b, _tree_map(lambda a: gather(a, interpolate=True), self.sample_weight)


def _prepare(
    x,
    y,
    *,
    sample_weight=None,
    batch_size=32,
    strategy="oversample",
    epoch_size=None,
    k_neighbors=5,
    stratify_by=None,
    random_state=None,
    replacement=False,
    need_x=True,
    mode="classes",
    shard=None,
) -> tuple[_Source | None, _BatchPlan]:
    """Validate everything and build the source and the plan.

    With ``shard=(index, count)`` the plan draws global batches of ``batch_size * count``
    draws, of which the caller keeps draws ``index::count`` (see :func:`_plan._shard`).
    """
    if not isinstance(mode, str) or mode not in MODES:
        raise invalid("mode", f"one of {MODES}", mode)
    labels_mode = mode == "labels"
    if labels_mode and not (isinstance(strategy, str) and strategy == "oversample"):
        raise invalid(
            "strategy",
            "'oversample' (the default) with mode='labels' (rows are drawn by the frequency of "
            "their rarest label)",
            strategy,
        )
    if not isinstance(replacement, (bool, np.bool_)):
        raise invalid("replacement", "a bool (True or False)", replacement, kind=TypeError)
    batch_size = check_number("batch_size", batch_size, low=1, integer=True)
    shard_index, shard_count = check_shard(shard)
    if epoch_size is not None:
        epoch_size = check_number("epoch_size", epoch_size, low=1, integer=True)
    k_neighbors = check_number("k_neighbors", k_neighbors, low=1, integer=True)
    seed = _check_seed(random_state)
    if isinstance(strategy, str) and strategy == "smote" and not need_x:
        raise invalid(
            "strategy",
            "'oversample', 'undersample' or a dict (SMOTE creates rows, not indices: use "
            "BalancedBatches or balanced_tf_dataset)",
            strategy,
        )

    y = _tree_map(lambda v: v, y) if _is_multi(y) else y
    y_strat, key = _stratify_output(y, stratify_by)
    if labels_mode:
        codes, classes, counts, label_probs = _label_groups(y_strat)
    else:
        codes, classes, counts = _class_codes(y_strat)
    n = codes.shape[0]

    def arrays(tree, name):
        converted = _tree_map(lambda v: v if isinstance(v, RowReader) else _to_numpy(v, name), tree)
        for label, arr in _items(converted, name):
            if arr.shape[0] != n:
                raise ValueError(
                    f"Invalid value for argument `{name}`. Expected arrays with the {n} rows "
                    f"of y. Received: {label} with {arr.shape[0]} rows"
                )
        return converted

    y = arrays(y, "y")
    if key is None and not _is_multi(y):
        y = _to_numpy(y, "y")
    if sample_weight is not None:
        sample_weight = arrays(sample_weight, "sample_weight")
        sample_weight = _tree_map(lambda w: check_weights_array("sample_weight", w), sample_weight)
    if need_x:
        x = arrays(x, "x")
        for label, arr in _items(x, "x"):
            if not isinstance(arr, RowReader):  # a file's rows are checked when decoded
                _check_finite(arr, label)

    if labels_mode:
        probs, epoch_size = label_probs, int(n if epoch_size is None else epoch_size)
    else:
        probs, epoch_size = _strategy_probs(strategy, classes, counts, n, epoch_size)
    plan_args = {"codes": codes, "counts": counts, "probs": probs, "epoch_size": epoch_size}
    graphs = None
    smote = isinstance(strategy, str) and strategy == "smote"
    if smote:
        if _is_multi(x) or np.dtype(x.dtype).kind != "f":
            raise invalid(
                "x",
                "a single floating-point array for strategy='smote' (it interpolates rows; "
                "convert with x.astype('float32'))",
                x if not _is_multi(x) else type(x).__name__,
                kind=TypeError,
            )
        graphs = _smote_graphs(x, plan_args, k_neighbors, classes)
    last = (
        epoch_size - (-(-epoch_size // (batch_size * shard_count)) - 1) * batch_size * shard_count
    )
    if last < shard_count:
        raise invalid(
            "shard",
            f"shares that all get rows in the last batch: the last of the {shard_count} global "
            f"batches of {batch_size} x {shard_count} draws holds only {last} draw(s) (pick an "
            f"epoch_size that leaves at least {shard_count})",
            (shard_index, shard_count),
        )
    plan = _BatchPlan(
        codes,
        counts,
        probs,
        epoch_size,
        batch_size * shard_count,
        seed,
        synthetic=smote,
        graphs=graphs,
        replacement=bool(replacement),
    )
    plan.classes = classes
    plan.shard = (shard_index, shard_count)
    source = _Source(x, y, sample_weight) if need_x else None
    return source, plan
