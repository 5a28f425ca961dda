"""Keras 3 losses for class-imbalanced data (``keras.ops`` only; every backend; serialisable).

Each loss is a function returning the per-element loss plus a ``keras.losses.Loss`` subclass.
Binary losses return one value per element (no mean over labels); softmax losses return one
value per sample / time step / pixel; the segmentation overlap losses (Dice, Tversky, focal
Tversky) return one value per image. Per-class arguments accept the dict returned by
``keras_imbalance.class_weights`` (keys ``0..K-1``), a list, a tuple or a 1-D array.

Importing this module imports Keras; every loss, metric and layer class of the package is
then registered with Keras' serialisation (:mod:`keras_imbalance._registry`), so
``keras.models.load_model`` finds them.
"""

import keras_imbalance.metrics._keras  # noqa: F401  (registers the metric classes too)

from ._binary import (
    BatchBalancedBinaryCrossentropy,
    BinaryFocalCrossentropy,
    WeightedBinaryCrossentropy,
    batch_balanced_binary_crossentropy,
    binary_focal_crossentropy,
    weighted_binary_crossentropy,
)
from ._categorical import (
    CategoricalFocalCrossentropy,
    SparseCategoricalFocalCrossentropy,
    WeightedCategoricalCrossentropy,
    WeightedSparseCategoricalCrossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_focal_crossentropy,
    weighted_categorical_crossentropy,
    weighted_sparse_categorical_crossentropy,
)
from ._longtail import (
    BalancedSoftmaxCrossentropy,
    DeferredReweighting,
    LDAMCrossentropy,
    LogitAdjustedCrossentropy,
    balanced_softmax_crossentropy,
    ldam_crossentropy,
    logit_adjusted_crossentropy,
)
from ._segmentation import (
    CombinedLoss,
    DiceLoss,
    FocalTverskyLoss,
    TverskyLoss,
    dice_loss,
    focal_tversky_loss,
    tversky_loss,
)

__all__ = [
    "BalancedSoftmaxCrossentropy",
    "BatchBalancedBinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CombinedLoss",
    "DeferredReweighting",
    "DiceLoss",
    "FocalTverskyLoss",
    "LDAMCrossentropy",
    "LogitAdjustedCrossentropy",
    "SparseCategoricalFocalCrossentropy",
    "TverskyLoss",
    "WeightedBinaryCrossentropy",
    "WeightedCategoricalCrossentropy",
    "WeightedSparseCategoricalCrossentropy",
    "balanced_softmax_crossentropy",
    "batch_balanced_binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "dice_loss",
    "focal_tversky_loss",
    "ldam_crossentropy",
    "logit_adjusted_crossentropy",
    "sparse_categorical_focal_crossentropy",
    "tversky_loss",
    "weighted_binary_crossentropy",
    "weighted_categorical_crossentropy",
    "weighted_sparse_categorical_crossentropy",
]
