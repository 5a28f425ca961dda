"""Resampling (layer 1): imbalanced-learn's samplers for any ``x`` and ``y`` a Keras model takes.

``resample`` flattens N-D inputs and restores them, keeps the layout of ``y`` (labels,
strings, one-hot, multi-label), carries ``sample_weight`` and keeps pandas in / pandas out.
``ExactNeighbors`` (numpy) and ``TorchNeighbors`` (torch, GPU when available) are exact
neighbour searches that imbalanced-learn's samplers accept; torch is imported only when
``TorchNeighbors`` is fitted.
Never imports Keras.
"""

from keras_imbalance.resampling._core import METHODS, NEIGHBORS, resample
from keras_imbalance.resampling._neighbors import ApproximateNeighbors, ExactNeighbors
from keras_imbalance.resampling._torch_neighbors import TorchNeighbors

__all__ = [
    "METHODS",
    "NEIGHBORS",
    "ApproximateNeighbors",
    "ExactNeighbors",
    "TorchNeighbors",
    "resample",
]
