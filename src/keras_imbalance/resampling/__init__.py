"""Resampling (layer 1): imbalanced-learn's samplers for any ``x`` and ``y`` a Keras model takes.

``resample`` flattens N-D inputs and restores them, keeps the layout of ``y`` (labels,
strings, one-hot, multi-label), carries ``sample_weight`` and keeps pandas in / pandas out.
For multi-label ``y`` it also runs MLSMOTE, ML-ROS and ML-RUS (``MULTILABEL_METHODS``), and
``multilabel_stats`` reports the label imbalance they act on (IRLbl, MeanIR, SCUMBLE).
``ExactNeighbors`` (numpy) and ``TorchNeighbors`` (torch, GPU when available) are exact
neighbour searches that imbalanced-learn's samplers accept; torch is imported only when
``TorchNeighbors`` is fitted.
Never imports Keras.
"""

from keras_imbalance.resampling._core import METHODS, NEIGHBORS, resample
from keras_imbalance.resampling._multilabel import (
    MULTILABEL_METHODS,
    multilabel_stats,
    resampled_label_stats,
)
from keras_imbalance.resampling._neighbors import ApproximateNeighbors, ExactNeighbors
from keras_imbalance.resampling._torch_neighbors import TorchNeighbors

__all__ = [
    "METHODS",
    "MULTILABEL_METHODS",
    "NEIGHBORS",
    "ApproximateNeighbors",
    "ExactNeighbors",
    "TorchNeighbors",
    "multilabel_stats",
    "resample",
    "resampled_label_stats",
]
