"""``y`` read once per row for resampling, and the checks of a sampler's arguments against it
(layer 1: numpy, pandas and imbalanced-learn; never imports Keras). Shared by
:mod:`._core` (arrays and frames) and :mod:`._tables` (raw tables with gaps)."""

from __future__ import annotations

import inspect
import numbers
from dataclasses import astuple
from typing import Any

import numpy as np
import pandas as pd

from keras_imbalance._validation import check_option, invalid
from keras_imbalance.resampling._methods import MULTILABEL_METHODS, TABLE, neighbor_params
from keras_imbalance.resampling._samplers import _sampler_class
from keras_imbalance.targets import _as_array, _py, analyse


class _Target:
    """``y`` decoded to one label per row, and written back in its own layout."""

    def __init__(self, y: Any, layout: str | None, n: int, *, powerset: bool = True):
        if layout is not None:
            check_option("layout", layout, ("binary", "sparse", "onehot", "multilabel"))
        self.y = y
        self.series = isinstance(y, pd.Series)
        self.frame = isinstance(y, pd.DataFrame)
        arr = _as_array(y)
        if arr.shape[0] != n:
            raise ValueError(
                f"Invalid value for argument `y`. Expected one label per row of x ({n} rows). "
                f"Received: y with {arr.shape[0]} rows"
            )
        analysis = analyse(arr, layout=layout)
        info = analysis.info
        self.info = info
        self.arr = arr
        if info.layout in ("sequence", "dense"):
            raise ValueError(
                f"Invalid value for argument `y`. Expected one class per sample ((N,), (N, 1) "
                f"labels, (N, K) one-hot or multi-label rows). Received: y of shape {arr.shape} "
                f"read as layout={info.layout!r} (a label per time step or pixel): resampling "
                "rows cannot balance elements inside a row; use class weights or a per-sample "
                "label instead"
            )
        self.encoding = info.encoding
        if self.encoding == "index":
            self.labels = arr.reshape(n)
            self.keys = [_py(c) for c, k in zip(info.classes, info.counts, strict=True) if k > 0]
        elif self.encoding == "onehot":
            self.labels = analysis.labels.astype(np.int64)
            self.keys = [int(c) for c in np.flatnonzero(info.counts)]
        else:  # multi-label: label powerset
            self.matrix = analysis.binary_matrix
            if not powerset:
                return
            matrix = analysis.binary_matrix.astype(np.int8)
            self.combos, inverse = np.unique(matrix, axis=0, return_inverse=True)
            self.labels = inverse.reshape(n).astype(np.int64)
            self.keys = [tuple(int(v) for v in row) for row in self.combos]

    def strategy(self, sampling_strategy: Any) -> Any:
        if isinstance(sampling_strategy, (dict, list)):
            keys = list(sampling_strategy)
            mapped = [self._key(key, sampling_strategy) for key in keys]
            if isinstance(sampling_strategy, list):
                return mapped
            return dict(zip(mapped, sampling_strategy.values(), strict=True))
        if isinstance(sampling_strategy, bool) or not (
            callable(sampling_strategy) or isinstance(sampling_strategy, (str, numbers.Real))
        ):
            raise invalid(
                "sampling_strategy",
                "a str, float, dict, list of classes or callable",
                sampling_strategy,
                kind=TypeError,
            )
        return sampling_strategy

    def _key(self, key: Any, sampling_strategy: Any) -> Any:
        """A class of ``sampling_strategy`` as imbalanced-learn sees it (raise if not in y)."""
        k = (
            tuple(int(v) for v in key)
            if self.encoding == "multilabel" and isinstance(key, (tuple, list, np.ndarray))
            else _py(key)
        )
        if k not in self.keys:
            what = {
                "index": "labels found in y",
                "onehot": "column indices of the classes found in one-hot y",
                "multilabel": "0/1 tuples of label combinations found in y",
            }[self.encoding]
            raise ValueError(
                f"Invalid value for argument `sampling_strategy`. Expected classes among the "
                f"{what}: {self.keys[:20]}. Received: sampling_strategy="
                f"{sampling_strategy!r}, whose class {key!r} is not in y"
            )
        return self.keys.index(k) if self.encoding == "multilabel" else key

    def counts(self) -> dict:
        values, counts = np.unique(self.labels, return_counts=True)
        return {_py(v): int(c) for v, c in zip(values, counts, strict=True)}

    def describe_label(self, label: Any) -> str:
        if self.encoding == "multilabel":
            return f"label combination {self.keys[int(label)]}"
        return f"class {_py(label)!r}"

    def rebuild(self, labels: np.ndarray, source: np.ndarray | None):
        n_out = labels.shape[0]
        if self.encoding == "index":
            out = labels.astype(self.arr.dtype, copy=False).reshape((n_out,) + self.arr.shape[1:])
        else:
            if self.encoding == "onehot":
                k = self.arr.shape[1]
                out = np.zeros((n_out, k), dtype=self.arr.dtype)
                out[np.arange(n_out), labels.astype(np.int64)] = 1
            else:
                out = self.combos[labels.astype(np.int64)].astype(self.arr.dtype)
            if source is not None:
                orig = source >= 0
                out[orig] = self.arr[source[orig]]
        return self._wrap(out)

    def rebuild_matrix(self, matrix: np.ndarray, source: np.ndarray):
        """Multi-label rows (bool (n_out, K)) in y's container; original rows copied from y."""
        out = matrix.astype(self.arr.dtype)
        orig = source >= 0
        out[orig] = self.arr[source[orig]]
        return self._wrap(out)

    def _wrap(self, out: np.ndarray):
        if self.series:
            try:
                return pd.Series(out, name=self.y.name, dtype=self.y.dtype)
            except (TypeError, ValueError):
                return pd.Series(out, name=self.y.name)
        if self.frame:
            return pd.DataFrame(out, columns=self.y.columns).astype(self.y.dtypes.to_dict())
        return out


# --------------------------------------------------------------------------- checks

_OVER, _UNDER, _CLEAN = "over-sampling", "under-sampling", "clean-sampling"
# strings imbalanced-learn accepts for each kind of sampler
_STRATEGY_WORDS = {
    _OVER: ("auto", "minority", "not minority", "not majority", "all"),
    _UNDER: ("auto", "majority", "not minority", "not majority", "all"),
    _CLEAN: ("auto", "majority", "not minority", "not majority", "all"),
}
# parameters resample sets itself (the method name chooses BorderlineSMOTE's kind)
_RESERVED = ("sampling_strategy", "random_state", "kind")


def _sampling_type(method: str) -> str:
    return TABLE[method].sampling_type


def _check_sampler_args(method: str, strategy: Any, labels: np.ndarray, params: dict) -> None:
    """Our one-line errors for what imbalanced-learn would reject with its own wording."""
    cls = _sampler_class("smote" if method == "smote_tomek" else method)
    signature = inspect.signature(cls.__init__).parameters
    allowed = sorted(set(signature) - {"self", *_RESERVED})
    for name in params:
        if name == "kind" and method.startswith("borderline"):
            raise invalid(
                "kind",
                "no `kind`: method='borderline_smote1' or 'borderline_smote2' chooses it",
                params[name],
                kind=TypeError,
            )
        if name not in allowed:
            raise invalid(
                name,
                f"a parameter of imbalanced-learn's {cls.__name__} for method={method!r} "
                f"(one of {', '.join(allowed)})",
                params[name],
                kind=TypeError,
            )
    kind = _sampling_type(method)
    words = _STRATEGY_WORDS[kind]
    if isinstance(strategy, str):
        check_option("sampling_strategy", strategy, words)
        return
    if callable(strategy):
        return
    if isinstance(strategy, dict) and kind == _CLEAN:
        raise invalid(
            "sampling_strategy",
            f"one of {{{', '.join(repr(w) for w in words)}}} or a list of classes to clean "
            f"for method={method!r}",
            strategy,
            kind=TypeError,
        )
    from imblearn.utils import check_sampling_strategy

    try:
        check_sampling_strategy(strategy, labels, kind)
    except ValueError as err:
        text = str(err).removeprefix("Invalid value for argument `sampling_strategy`. ")
        raise invalid(
            "sampling_strategy",
            f"a value imbalanced-learn accepts for method={method!r} ({text.rstrip('.')})",
            strategy,
        ) from None


def _check_neighbor_counts(method, params, target, strategy, n) -> None:
    """Raise our own error where imbalanced-learn would fail inside the neighbour search."""
    if method in MULTILABEL_METHODS or not neighbor_params(method):
        return
    from imblearn.utils import check_sampling_strategy

    try:
        wanted = check_sampling_strategy(strategy, target.labels, "over-sampling")
    except ValueError as err:
        raise ValueError(f"Invalid value for argument `sampling_strategy`. {err}") from None
    counts = target.counts()
    for name, default, scope in (astuple(p) for p in neighbor_params(method)):
        value = params.get(name, default)
        if hasattr(value, "kneighbors"):
            k = getattr(value, "n_neighbors", None)
            if not isinstance(k, numbers.Integral):
                continue
            k = int(k) - 1  # imbalanced-learn uses the object as is: n_neighbors includes self
        else:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise invalid(
                    name, "a positive integer or a neighbours estimator", value, kind=TypeError
                )
            if value < 1:
                raise invalid(name, "a positive integer", value)
            k = int(value)
        for label, n_new in wanted.items():
            if n_new == 0:
                continue
            size = counts[_py(label)] if scope == "class" else n
            if size < 2:
                raise ValueError(
                    f"Invalid value for argument `y`. Expected at least 2 samples in each class "
                    f"that method={method!r} over-samples (it interpolates between a sample and "
                    f"its neighbours). Received: {target.describe_label(label)} has 1 sample "
                    "(use method='random_over', or leave it out of sampling_strategy)"
                )
            if k + 1 > size:
                where = f"the {size} samples of {target.describe_label(label)}"
                if scope == "all":
                    where = f"the {size} rows of x"
                raise ValueError(
                    f"Invalid value for argument `{name}`. Expected {name} < the number of "
                    f"samples it searches: {where} (each sample is its own first neighbour). "
                    f"Received: {name}={k}; lower it to {name}={size - 1} or below"
                )


# --------------------------------------------------------------------------- running
