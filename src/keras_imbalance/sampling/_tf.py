"""``balanced_tf_dataset``: the same batches as a ``tf.data.Dataset``."""

from __future__ import annotations

import inspect
from typing import Any

from keras_imbalance.sampling._inputs import _tree_map, renamed_seed
from keras_imbalance.sampling._keras import BalancedBatches
from keras_imbalance.sampling._plan import _shard


def balanced_tf_dataset(x: Any, y: Any, **options: Any):
    """Class-balanced batches as a ``tf.data.Dataset`` (needs tensorflow).

    Same arguments (``replacement=False`` by default: per-class permutations with exact
    class counts per epoch; ``mode='labels'`` for multi-label ``y``), strategies and batches
    as :class:`BalancedBatches`: the k-th full
    iteration over the dataset (one ``model.fit`` epoch) yields the batches of epoch k,
    ``(x, y)`` or ``(x, y, sample_weight)``, with the batch axis unknown (``None``) so the last
    partial batch fits the signature. Batches are built in Python (``from_generator``) and
    prefetched. ``seed`` is the deprecated name of ``random_state`` (a DeprecationWarning).

    ``balanced_tf_dataset.from_parquet(path, target=COL, ...)`` reads Parquet files as
    :meth:`BalancedBatches.from_parquet` does (only the label column in memory), and a
    ``np.memmap`` ``x`` is read in place, never copied.

    Returns
    -------
    tf.data.Dataset

    Examples
    --------
    >>> import numpy as np
    >>> ds = balanced_tf_dataset(np.eye(4, dtype="float32")[[0] * 9 + [1]],
    ...                          np.r_[np.zeros(9), 1].astype(int), batch_size=6,
    ...                          random_state=0)
    >>> [int(b[0].shape[0]) for b in ds]
    [6, 6, 6]
    """
    _SIGNATURE.bind(x, y, **options)  # a name it does not take: Python's TypeError
    seed = options.pop("seed", None)
    options["random_state"] = renamed_seed(options.get("random_state"), seed, "balanced_tf_dataset")
    batches = BalancedBatches(x, y, **options)
    return _dataset(batches._source, batches._plan)


#: ``balanced_tf_dataset``'s arguments: those of :class:`BalancedBatches` but ``shard`` and
#: the ``keras.utils.PyDataset`` keywords (one declaration of them, in ``BalancedBatches``)
_SIGNATURE = inspect.Signature(
    [
        p
        for name, p in inspect.signature(BalancedBatches.__init__).parameters.items()
        if name not in ("self", "shard", "kwargs")
    ]
)
balanced_tf_dataset.__signature__ = _SIGNATURE


def _dataset(source: Any, plan: Any, shard: tuple[int, int] = (0, 1)):
    """The ``tf.data.Dataset`` whose k-th iteration yields the batches of epoch k of ``plan``."""
    import tensorflow as tf

    state = {"epoch": 0}

    def batch(epoch, i):
        draws = plan.draws(epoch, i)
        return source.batch(_shard(draws, *shard) if shard[1] > 1 else draws)

    def generate():
        epoch, state["epoch"] = state["epoch"], state["epoch"] + 1
        for i in range(plan.num_batches):
            yield batch(epoch, i)

    def spec(arr):
        return tf.TensorSpec(shape=(None,) + arr.shape[1:], dtype=tf.as_dtype(arr.dtype))

    signature = tuple(_tree_map(spec, part) for part in batch(0, 0))
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _from_parquet(
    path: Any,
    *,
    target: str,
    batch_size: int = 256,
    random_state: int | None = 0,
    **kwargs: Any,
):
    """Balanced batches read from Parquet files as a ``tf.data.Dataset`` (needs tensorflow).

    Called as ``balanced_tf_dataset.from_parquet``. The arguments and the reads are those of
    :meth:`BalancedBatches.from_parquet` (only the label column is held in memory; features
    are decoded a row group at a time into a bounded cache, or once into ``spill=``), and the
    k-th iteration over the dataset yields exactly the batches of epoch k of
    ``BalancedBatches.from_parquet(path, target=target, ...)`` with the same arguments.

    Parameters
    ----------
    path : str, path or pyarrow.dataset.FileSystemDataset
        A Parquet file, a directory of Parquet files or a pyarrow dataset of Parquet files.
    target : str
        The label column.
    batch_size : int, default=256
    random_state : int, default=0
    **kwargs
        ``features``, ``sample_weight`` (column names), ``cache_bytes``, ``spill``,
        ``strategy``, ``epoch_size``, ``replacement``, ``shard``... as for
        :meth:`BalancedBatches.from_parquet`.

    Returns
    -------
    tf.data.Dataset

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np, pandas as pd
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "rows.parquet"
    >>> pd.DataFrame({"a": np.arange(1000.0), "label": np.arange(1000) < 50}).to_parquet(file)
    >>> ds = balanced_tf_dataset.from_parquet(file, target="label", batch_size=100)
    >>> labels = np.concatenate([b[1].numpy() for b in ds])
    >>> labels.size, float(labels.mean())
    (1900, 0.5)
    """
    batches = BalancedBatches.from_parquet(
        path, target=target, batch_size=batch_size, random_state=random_state, **kwargs
    )
    return _dataset(batches._source, batches._plan, batches.shard)


_from_parquet.__name__ = "from_parquet"
_from_parquet.__qualname__ = "balanced_tf_dataset.from_parquet"
balanced_tf_dataset.from_parquet = _from_parquet
