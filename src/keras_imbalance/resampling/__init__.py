"""Resampling (layer 1): imbalanced-learn's samplers for any ``x`` and ``y`` a Keras model takes.

``resample`` flattens N-D inputs and restores them, keeps the layout of ``y`` (labels,
strings, one-hot, multi-label), carries ``sample_weight`` and keeps pandas in / pandas out;
it returns a :class:`Resampled` result. For multi-label ``y`` it also runs MLSMOTE, ML-ROS and
ML-RUS (``MULTILABEL_METHODS``), and ``multilabel_stats`` reports the label imbalance they act
on (IRLbl, MeanIR, SCUMBLE). ``ExactNeighbors`` (numpy) and ``TorchNeighbors`` (torch, GPU when
available) are exact neighbour searches that imbalanced-learn's samplers accept; torch is
imported only when ``TorchNeighbors`` is fitted. ``resample_parquet`` resamples a Parquet file
or directory into a Parquet file a row group at a time (``OUT_OF_CORE_METHODS``).
Never imports Keras. ``METHODS``, ``MULTILABEL_METHODS`` and ``NEIGHBORS`` load without
imbalanced-learn; the other names import it (and scikit-learn) on first access.
"""

from __future__ import annotations

from keras_imbalance._lazy import lazy_names
from keras_imbalance.resampling._methods import METHODS, MULTILABEL_METHODS, NEIGHBORS

_LAZY = {
    "resample": "keras_imbalance.resampling._core",
    "Resampled": "keras_imbalance.resampling._core",
    "ApproximateNeighbors": "keras_imbalance.resampling._neighbors",
    "ExactNeighbors": "keras_imbalance.resampling._neighbors",
    "TorchNeighbors": "keras_imbalance.resampling._torch_neighbors",
    "multilabel_stats": "keras_imbalance.resampling._multilabel",
    "OUT_OF_CORE_METHODS": "keras_imbalance.resampling._files",
    "ResampledFile": "keras_imbalance.resampling._files",
    "resample_parquet": "keras_imbalance.resampling._files",
    "resampled_label_stats": "keras_imbalance.resampling._label_stats",
}

__all__ = [
    "METHODS",
    "MULTILABEL_METHODS",
    "NEIGHBORS",
    "OUT_OF_CORE_METHODS",
    "ApproximateNeighbors",
    "ExactNeighbors",
    "Resampled",
    "ResampledFile",
    "TorchNeighbors",
    "multilabel_stats",
    "resample",
    "resample_parquet",
    "resampled_label_stats",
]


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
