"""DataLoader wrapper for :func:`keras_imbalance.weighted` (imported only when given one)."""

from __future__ import annotations

import torch.utils.data

from keras_imbalance.sampling._weigh import _weigh_batch


class _WeightedBatches(torch.utils.data.IterableDataset):
    """Re-iterates the wrapped loader each epoch, adding a sample-weight tensor to each batch."""

    def __init__(self, loader, weighter):
        super().__init__()
        self.loader = loader
        self.weighter = weighter

    def __iter__(self):
        for batch in self.loader:
            yield _weigh_batch(batch, self.weighter)

    def __len__(self):
        return len(self.loader)


def weighted_loader(loader, weighter) -> torch.utils.data.DataLoader:
    """A DataLoader (``batch_size=None``: batches pass through) over the weighted batches."""
    return torch.utils.data.DataLoader(_WeightedBatches(loader, weighter), batch_size=None)
