"""Class-balanced batches without a resampled copy of the data (layer 2).

Public: :class:`BalancedBatches` (a ``keras.utils.PyDataset``), :class:`BalancedSampler` (a
``torch.utils.data.Sampler``), :func:`balanced_tf_dataset` (a ``tf.data.Dataset``), and
``BATCH_STRATEGIES`` (``STRATEGIES`` is its deprecated 0.1 name); ``mode='labels'`` balances the
labels of a multi-label ``y``. All three share one index-drawing core (numpy only) and read
arrays, memmaps or Parquet files (``from_parquet``). :func:`rebalance` gives asked class shares
from a stream, replaying rare rows from a bounded reservoir (numpy only). The first three are
imported on first access, so ``keras_imbalance.sampling`` imports neither torch nor tensorflow
by itself.
"""

from __future__ import annotations

from keras_imbalance._lazy import lazy_names
from keras_imbalance.sampling._inputs import BATCH_STRATEGIES
from keras_imbalance.sampling._stream import RebalancedStream, rebalance

_LAZY = {
    "BalancedBatches": "keras_imbalance.sampling._keras",
    "BalancedSampler": "keras_imbalance.sampling._torch",
    "balanced_tf_dataset": "keras_imbalance.sampling._tf",
}

__all__ = [
    "BATCH_STRATEGIES",
    "BalancedBatches",
    "BalancedSampler",
    "RebalancedStream",
    "balanced_tf_dataset",
    "rebalance",
]


__getattr__, __dir__ = lazy_names(
    __name__,
    _LAZY,
    deprecated={
        "STRATEGIES": (
            "keras_imbalance.sampling.STRATEGIES is deprecated and will be removed in "
            "keras-imbalance 0.2: use keras_imbalance.sampling.BATCH_STRATEGIES",
            BATCH_STRATEGIES,
        )
    },
)
