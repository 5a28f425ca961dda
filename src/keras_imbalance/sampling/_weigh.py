"""One batch with its sample weights, in the batch's own framework (shared by the adapters of
:func:`~keras_imbalance.sampling._weighted.weighted`)."""

from __future__ import annotations

from keras_imbalance.weights._fit import _weigh_batch as _weigh_numpy


def _weigh_batch(batch, weighter):
    """One batch with its sample weights; torch batches get a torch weight tensor."""
    x, y, weights = _weigh_numpy(batch, weighter)
    if hasattr(y, "detach"):  # keep torch batches torch
        import torch

        weights = torch.from_numpy(weights)
    return x, y, weights
