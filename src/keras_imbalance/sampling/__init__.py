"""Class-balanced batches without a resampled copy of the data (layer 2).

Public: :class:`BalancedBatches` (a ``keras.utils.PyDataset``), :class:`BalancedSampler` (a
``torch.utils.data.Sampler``), :func:`balanced_tf_dataset` (a ``tf.data.Dataset``), and
``BATCH_STRATEGIES`` (``STRATEGIES`` is its deprecated 0.1 name); ``mode='labels'`` balances the
labels of a multi-label ``y``. All three share one index-drawing core (numpy only). Each is
imported on first access, so ``keras_imbalance.sampling`` imports neither torch nor tensorflow by
itself.
"""

from __future__ import annotations

import importlib
import warnings

from keras_imbalance.sampling._inputs import BATCH_STRATEGIES

_LAZY = {
    "BalancedBatches": "keras_imbalance.sampling._keras",
    "BalancedSampler": "keras_imbalance.sampling._torch",
    "balanced_tf_dataset": "keras_imbalance.sampling._tf",
}

__all__ = ["BATCH_STRATEGIES", "BalancedBatches", "BalancedSampler", "balanced_tf_dataset"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name == "STRATEGIES":
        warnings.warn(
            "keras_imbalance.sampling.STRATEGIES is deprecated and will be removed in "
            "keras-imbalance 0.2: use keras_imbalance.sampling.BATCH_STRATEGIES",
            DeprecationWarning,
            stacklevel=2,
        )
        return BATCH_STRATEGIES
    raise AttributeError(f"module 'keras_imbalance.sampling' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
