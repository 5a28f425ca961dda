"""``balanced_tf_dataset``: the same batches as a ``tf.data.Dataset``."""

from __future__ import annotations

from typing import Any

from keras_imbalance.sampling._inputs import _prepare, _tree_map, renamed_seed


def balanced_tf_dataset(
    x: Any,
    y: Any,
    *,
    batch_size: int = 32,
    strategy: Any = "oversample",
    sample_weight: Any = None,
    epoch_size: int | None = None,
    k_neighbors: int = 5,
    stratify_by: Any = None,
    random_state: int | None = None,
    replacement: bool = False,
    mode: str = "classes",
    seed: int | None = None,
):
    """Class-balanced batches as a ``tf.data.Dataset`` (needs tensorflow).

    Same arguments (``replacement=False`` by default: per-class permutations with exact
    class counts per epoch; ``mode='labels'`` for multi-label ``y``), strategies and batches
    as :class:`BalancedBatches`: the k-th full
    iteration over the dataset (one ``model.fit`` epoch) yields the batches of epoch k,
    ``(x, y)`` or ``(x, y, sample_weight)``, with the batch axis unknown (``None``) so the last
    partial batch fits the signature. Batches are built in Python (``from_generator``) and
    prefetched. ``seed`` is the deprecated name of ``random_state`` (a DeprecationWarning).

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
    random_state = renamed_seed(random_state, seed, "balanced_tf_dataset")
    import tensorflow as tf

    source, plan = _prepare(
        x,
        y,
        sample_weight=sample_weight,
        batch_size=batch_size,
        strategy=strategy,
        epoch_size=epoch_size,
        k_neighbors=k_neighbors,
        stratify_by=stratify_by,
        random_state=random_state,
        replacement=replacement,
        mode=mode,
    )
    state = {"epoch": 0}

    def generate():
        epoch, state["epoch"] = state["epoch"], state["epoch"] + 1
        for i in range(plan.num_batches):
            yield source.batch(plan.draws(epoch, i))

    first = source.batch(plan.draws(0, 0))

    def spec(arr):
        return tf.TensorSpec(shape=(None,) + arr.shape[1:], dtype=tf.as_dtype(arr.dtype))

    signature = tuple(_tree_map(spec, part) for part in first)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.prefetch(tf.data.AUTOTUNE)
