"""``weighted``: a stream of ``(x, y)`` batches that yields ``(x, y, sample_weight)`` (layer 2).

The weights are :mod:`keras_imbalance.weights`' (numpy); this module adapts them to the
framework of the stream: a ``keras.utils.PyDataset``, a ``torch.utils.data.DataLoader``, a
``tf.data.Dataset`` or any (re-)iterable of batches. Keras, torch and tensorflow are imported
only when a stream of theirs is handed in (the caller has therefore already imported them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from keras_imbalance._validation import Text, invalid
from keras_imbalance.sampling._weigh import _weigh_batch
from keras_imbalance.targets import _is_pydataset
from keras_imbalance.weights._fit import _weighters_for_stream


def weighted(
    data: Any,
    class_weight: Any = "balanced",
    *,
    layout: str | None = None,
    ignore_class: Any = None,
    classes: Iterable | None = None,
    **options: Any,
):
    """Wrap a stream of ``(x, y)`` batches so that it yields ``(x, y, sample_weight)``.

    Works for a ``keras.utils.PyDataset``, a Python generator or iterator, any re-iterable of
    batches, a ``torch.utils.data.DataLoader`` and a ``tf.data.Dataset``; the result is of a
    kind ``model.fit`` accepts. Batches that already carry a sample weight have it multiplied in.

    Parameters
    ----------
    data : PyDataset, generator, DataLoader, tf.data.Dataset or iterable of batches
    class_weight : str, dict, callable or None, default='balanced'
        A strategy counts the classes with one pass over ``data`` first (not possible for a
        one-shot generator: pass a dict, e.g. ``class_weights(counts)``).
    layout, ignore_class, classes
        As in :func:`keras_imbalance.describe`.
    **options
        Strategy options, as in :func:`class_weights`.

    Returns
    -------
    PyDataset, generator, DataLoader or tf.data.Dataset
        Same kind as ``data``.

    Examples
    --------
    >>> batches = [(np.zeros((2, 3)), np.array([0, 1])), (np.zeros((2, 3)), np.array([0, 0]))]
    >>> [sw.tolist() for _, _, sw in weighted(batches, "balanced")]
    [[0.6666666865348816, 2.0], [0.6666666865348816, 0.6666666865348816]]
    """
    if (
        isinstance(data, (Mapping, np.ndarray))
        or hasattr(data, "__array__")
        or not isinstance(data, Iterable)
        and not _is_pydataset(data)
    ):
        raise invalid(
            "data",
            "a PyDataset, generator, DataLoader, tf.data.Dataset or iterable of batches (use fit_kwargs for arrays)",
            type(data).__name__,
            kind=TypeError,
        )
    weighter = _weighters_for_stream(data, class_weight, layout, ignore_class, classes, options)
    if _is_pydataset(data):
        from keras_imbalance.sampling._weighted_keras import WeightedPyDataset

        return WeightedPyDataset(data, weighter)
    if type(data).__module__.startswith("torch.utils.data"):
        from keras_imbalance.sampling._weighted_torch import weighted_loader

        return weighted_loader(data, weighter)
    if hasattr(data, "as_numpy_iterator"):
        return _weighted_tf(data, weighter)
    if isinstance(data, Iterator):
        return (_weigh_batch(b, weighter) for b in data)
    return _ReIterable(data, weighter)


class _ReIterable:
    """A re-iterable of weighted batches over a re-iterable source (list, custom iterable)."""

    def __init__(self, data, weighter):
        self._data = data
        self._weighter = weighter

    def __iter__(self):
        return (_weigh_batch(b, self._weighter) for b in self._data)

    def __len__(self):
        return len(self._data)


def _weighted_tf(dataset, weighter):
    import tensorflow as tf

    first = next(iter(dataset.take(1).as_numpy_iterator()), None)
    if first is None:
        raise invalid("data", "a dataset with at least one batch", Text("an empty tf.data.Dataset"))
    rank = _weigh_batch(first, weighter)[2].ndim

    def add_weights(*batch):
        if len(batch) == 3:
            w = tf.numpy_function(
                lambda y, sw: weighter(y, sw)[1], [batch[1], batch[2]], tf.float32
            )
        else:
            w = tf.numpy_function(lambda y: weighter(y)[1], [batch[1]], tf.float32)
        w.set_shape([None] * rank)
        return batch[0], batch[1], w

    return dataset.map(add_weights)
