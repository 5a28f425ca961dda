"""``BalancedSampler``: the same draws as a ``torch.utils.data.Sampler`` of row indices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch.utils.data

from keras_imbalance._validation import check_number, invalid
from keras_imbalance.sampling._inputs import PlanSeed, _prepare, renamed_seed


class BalancedSampler(PlanSeed, torch.utils.data.Sampler):
    """Row indices of class-balanced batches, for a ``torch.utils.data.DataLoader``.

    Yields ``epoch_size`` row indices per pass, drawn exactly as :class:`BalancedBatches` draws
    them (same strategies, same counter-based random numbers keyed by ``(random_state, epoch,
    batch)``): with the same ``random_state`` and ``batch_size``, ``DataLoader(dataset, batch_size=batch_size,
    sampler=BalancedSampler(y, ...))`` gives the rows of ``BalancedBatches(x, y, ...)``.
    Every ``iter()`` is a new epoch (``epoch`` counts them; :meth:`set_epoch` sets it, e.g.
    to resume). SMOTE creates rows, not indices, so it is not offered here.

    Parameters
    ----------
    y : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, K), or a list / dict
        Labels (binary, sparse or one-hot); multi-output: see ``stratify_by``.
    batch_size : int, default=32
        Draws generated together (match the DataLoader's batch size to reproduce
        :class:`BalancedBatches` batch for batch).
    strategy : {'oversample', 'undersample'} or dict, default='oversample'
        As in :class:`BalancedBatches`.
    epoch_size : int, optional
    stratify_by : str or int, optional
    random_state : int, optional
    replacement : bool, default=False
        As in :class:`BalancedBatches`: ``False`` reshuffles each class's rows every epoch
        (exact class counts; with ``'oversample'`` every majority row once per epoch),
        ``True`` draws independently with replacement.
    mode : {'classes', 'labels'}, default='classes'
        ``'labels'``: multi-label ``y``, rows drawn by the frequency of their rarest positive
        label, as in :class:`BalancedBatches`.
    seed : int, optional
        Deprecated name of ``random_state`` (a DeprecationWarning; removed in 0.2).
    num_replicas, rank : int, optional
        For ``DistributedDataParallel``: the number of processes and this one's rank (both
        or neither; e.g. ``torch.distributed.get_world_size()`` and ``get_rank()``; they
        are not read from ``torch.distributed`` by themselves). The plan draws global batches of ``batch_size * num_replicas`` draws
        and rank ``r`` yields draws ``r, r + num_replicas, ...`` of each, so every rank's
        ``DataLoader(batch_size=batch_size)`` has the same number of batches, the ranks'
        shares are disjoint, and their union is exactly the epoch of the single-process
        sampler with ``batch_size * num_replicas``. Build every rank with the same
        arguments and ``random_state``, and call :meth:`set_epoch` on each.

    Examples
    --------
    >>> import numpy as np
    >>> sampler = BalancedSampler(np.r_[np.zeros(90), np.ones(10)].astype(int), random_state=0)
    >>> len(sampler), len(list(sampler))
    (180, 180)
    >>> sorted(set(sampler)) == list(range(100))  # every row; majority rows once each
    True
    """

    def __init__(
        self,
        y: Any,
        *,
        batch_size: int = 32,
        strategy: Any = "oversample",
        epoch_size: int | None = None,
        stratify_by: Any = None,
        random_state: int | None = None,
        replacement: bool = False,
        mode: str = "classes",
        seed: int | None = None,
        num_replicas: int | None = None,
        rank: int | None = None,
    ):
        random_state = renamed_seed(random_state, seed, "BalancedSampler")
        shard = _replicas(num_replicas, rank)
        _, self._plan = _prepare(
            None,
            y,
            batch_size=batch_size,
            strategy=strategy,
            epoch_size=epoch_size,
            stratify_by=stratify_by,
            random_state=random_state,
            replacement=replacement,
            need_x=False,
            mode=mode,
            shard=shard,
        )
        self.rank, self.num_replicas = self._plan.shard
        self.epoch = 0

    @classmethod
    def from_parquet(cls, path: Any, *, target: str, **kwargs: Any) -> BalancedSampler:
        """A sampler over the rows of Parquet files, reading only the label column ``target``.

        ``path`` is a Parquet file, a directory of Parquet files or a pyarrow dataset, rows
        numbered as ``pyarrow.parquet.read_table`` concatenates them; ``kwargs`` are the
        other arguments of :class:`BalancedSampler`.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np, pyarrow as pa, pyarrow.parquet as pq
        >>> path = os.path.join(tempfile.mkdtemp(), "labels.parquet")
        >>> pq.write_table(pa.table({"label": np.r_[np.zeros(90), np.ones(10)].astype(int)}), path)
        >>> len(BalancedSampler.from_parquet(path, target="label", random_state=0))
        180
        """
        from keras_imbalance._files import open_parquet, read_labels

        if not isinstance(target, str):
            raise invalid("target", "the name of the label column (str)", target, kind=TypeError)
        return cls(read_labels(open_parquet(path, [target], "path"), target, "path"), **kwargs)

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next ``iter()`` draws."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        size, rank, count = self._plan.epoch_size, self.rank, self.num_replicas
        return (size - rank + count - 1) // count

    def __iter__(self) -> Iterator[int]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        rank, count = self.rank, self.num_replicas
        for i in range(self._plan.num_batches):
            yield from self._plan.draws(epoch, i).index[rank::count].tolist()


def _replicas(num_replicas: Any, rank: Any):
    """``(rank, num_replicas)`` as a shard (None: one process)."""
    if num_replicas is None and rank is None:
        return None
    if num_replicas is None or rank is None:
        raise invalid(
            "num_replicas" if num_replicas is None else "rank",
            "given together with " + ("rank" if num_replicas is None else "num_replicas"),
            None,
            kind=TypeError,
        )
    count = check_number("num_replicas", num_replicas, low=1, integer=True)
    return check_number("rank", rank, low=0, high=count - 1, integer=True), count
