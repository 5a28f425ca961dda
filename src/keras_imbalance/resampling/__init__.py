"""Resampling (layer 1): imbalanced-learn's samplers for any ``x`` and ``y`` a Keras model takes.

``resample`` flattens N-D inputs and restores them, keeps the layout of ``y`` (labels,
strings, one-hot, multi-label), carries ``sample_weight`` and keeps pandas in / pandas out;
it returns a :class:`Resampled` result. ``ExactNeighbors`` (numpy) and ``TorchNeighbors``
(torch, GPU when available) are exact neighbour searches that imbalanced-learn's samplers
accept; torch is imported only when ``TorchNeighbors`` is fitted.
Never imports Keras. ``METHODS`` and ``NEIGHBORS`` load without imbalanced-learn; the other
names import it (and scikit-learn) on first access.
"""

from __future__ import annotations

import importlib

from keras_imbalance.resampling._methods import METHODS, NEIGHBORS

_LAZY = {
    "resample": "keras_imbalance.resampling._core",
    "Resampled": "keras_imbalance.resampling._core",
    "ApproximateNeighbors": "keras_imbalance.resampling._neighbors",
    "ExactNeighbors": "keras_imbalance.resampling._neighbors",
    "TorchNeighbors": "keras_imbalance.resampling._torch_neighbors",
}

__all__ = [
    "METHODS",
    "NEIGHBORS",
    "ApproximateNeighbors",
    "ExactNeighbors",
    "Resampled",
    "TorchNeighbors",
    "resample",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_imbalance.resampling' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
