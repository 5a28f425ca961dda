"""Building and running imbalanced-learn samplers, with every output row traced to its source.

Layer 1 plumbing shared by ``resample`` (:mod:`._core`), the table encoder (:mod:`._tables`)
and the multi-label methods (:mod:`._multilabel`); which class runs a method and its neighbour
parameters come from the one table in :mod:`._methods`. Never imports Keras.
"""

from __future__ import annotations

import importlib
import numbers

import numpy as np
import pandas as pd

from keras_imbalance.resampling._methods import TABLE, neighbor_params
from keras_imbalance.resampling._neighbors import ApproximateNeighbors, ExactNeighbors
from keras_imbalance.resampling._torch_neighbors import TorchNeighbors


def _neighbor_backend(neighbors, count):
    if isinstance(neighbors, str):
        if neighbors == "sklearn":
            return count
        if neighbors == "exact":
            return ExactNeighbors(n_neighbors=count + 1)
        if neighbors == "torch":
            return TorchNeighbors(n_neighbors=count + 1)
        return ApproximateNeighbors(n_neighbors=count + 1)
    from sklearn.base import clone

    est = clone(neighbors)
    est.set_params(n_neighbors=count + 1)
    return est


def _sampler_class(method: str):
    module, _, name = TABLE[method].sampler.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _sampler(method, strategy, random_state, neighbors, params):
    kw = dict(params)
    for param in neighbor_params(method):
        name, value = param.name, kw.get(param.name, param.default)
        if isinstance(value, numbers.Integral) and not (
            isinstance(neighbors, str) and neighbors == "sklearn"
        ):
            kw[name] = _neighbor_backend(neighbors, int(value))
    cls = _sampler_class("smote" if method == "smote_tomek" else method)
    kw["sampling_strategy"] = strategy
    if method != "tomek":
        kw["random_state"] = random_state
    if method.startswith("borderline"):
        kw["kind"] = "borderline-1" if method.endswith("1") else "borderline-2"
    return cls(**kw)


def _run_method(method, x_in, labels, strategy, random_state, neighbors, params):
    if method == "smote_tomek":
        # Exactly what imblearn.combine.SMOTETomek does, in two steps so rows stay traceable.
        from imblearn.under_sampling import TomekLinks

        x1, y1, src1 = _run(
            _sampler("smote", strategy, random_state, neighbors, params), x_in, labels
        )
        x2, y2, src2 = _run(TomekLinks(sampling_strategy="all"), x1, y1)
        return x2, y2, src1[src2]
    return _run(_sampler(method, strategy, random_state, neighbors, params), x_in, labels)


def _run(sampler, x_in, labels):
    """Resample and trace each output row to its source row (-1 = synthetic)."""
    from keras_imbalance.resampling._failures import fit_resample

    n = len(labels)
    x_out, y_out = fit_resample(sampler, x_in, labels)  # ADASYN's refusals in one line
    y_out = np.asarray(y_out)
    indices = getattr(sampler, "sample_indices_", None)
    if indices is not None and len(indices) == len(y_out):
        source = np.asarray(indices, dtype=np.int64)
    elif len(y_out) >= n and _same_rows(x_out, x_in, n):
        source = np.concatenate([np.arange(n), np.full(len(y_out) - n, -1)])
    else:
        source = None
    return x_out, y_out, source


def _same_rows(x_out, x_in, n) -> bool:
    head = x_out.iloc[:n] if isinstance(x_out, pd.DataFrame) else np.asarray(x_out)[:n]
    ref = x_in if not isinstance(x_in, pd.DataFrame) else x_in
    if isinstance(ref, pd.DataFrame):
        return head.reset_index(drop=True).equals(ref.reset_index(drop=True).astype(head.dtypes))
    try:
        return bool(np.array_equal(head, ref))
    except (TypeError, ValueError):
        return False
