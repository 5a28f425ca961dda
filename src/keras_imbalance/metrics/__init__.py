"""Imbalance metrics: numpy functions and Keras 3 metrics sharing one definition.

The numpy functions (``balanced_accuracy``, ``geometric_mean``, ``matthews_correlation``,
``macro_f1``, ``per_class_recall``, ``confusion_matrix``, ``from_confusion``, and for
segmentation masks ``per_class_iou``, ``mean_iou``, ``mean_dice``) never import Keras.
The Keras metric classes (``BalancedAccuracy``, ``GeometricMean``, ``MatthewsCorrelation``,
``MacroF1``, ``PerClassRecall``, ``PerClassIoU``, ``MeanDice``) are imported on first access, so
``from keras_imbalance.metrics import balanced_accuracy`` works without a Keras backend.

``import keras_imbalance.metrics`` (like any import of the package) is enough for
``keras.models.load_model`` to find every Keras class of the package, the metric classes and
the losses and layers too, whatever the import order: see :mod:`keras_imbalance._registry`.
This module itself never imports Keras.
"""

from __future__ import annotations

from keras_imbalance._confusion import (
    balanced_accuracy,
    confusion_matrix,
    from_confusion,
    geometric_mean,
    macro_f1,
    matthews_correlation,
    mean_dice,
    mean_iou,
    per_class_iou,
    per_class_recall,
)
from keras_imbalance._lazy import lazy_names

_KERAS_NAMES = (
    "BalancedAccuracy",
    "GeometricMean",
    "MatthewsCorrelation",
    "MacroF1",
    "PerClassRecall",
    "PerClassIoU",
    "MeanDice",
)

__all__ = [
    "balanced_accuracy",
    "geometric_mean",
    "matthews_correlation",
    "macro_f1",
    "per_class_recall",
    "per_class_iou",
    "mean_iou",
    "mean_dice",
    "confusion_matrix",
    "from_confusion",
    *_KERAS_NAMES,
]


__getattr__, __dir__ = lazy_names(
    __name__, dict.fromkeys(_KERAS_NAMES, "keras_imbalance.metrics._keras")
)
