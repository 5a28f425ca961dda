"""PyDataset wrapper for :func:`keras_imbalance.weighted` (imported only when given a PyDataset)."""

from __future__ import annotations

import keras

from keras_imbalance.sampling._weigh import _weigh_batch


class WeightedPyDataset(keras.utils.PyDataset):
    """Yields ``(x, y, sample_weight)`` for each ``(x, y[, sample_weight])`` batch of ``dataset``.

    Keeps the wrapped dataset's ``workers``, ``use_multiprocessing`` and ``max_queue_size``, its
    length and its ``on_epoch_end``.
    """

    def __init__(self, dataset, weighter):
        super().__init__(
            workers=getattr(dataset, "workers", 1),
            use_multiprocessing=getattr(dataset, "use_multiprocessing", False),
            max_queue_size=getattr(dataset, "max_queue_size", 10),
        )
        self.dataset = dataset
        self.weighter = weighter

    def __len__(self):
        return len(self.dataset)

    @property
    def num_batches(self):
        return self.dataset.num_batches

    def __getitem__(self, index):
        return _weigh_batch(self.dataset[index], self.weighter)

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()
