"""``BalancedSampler``: the same draws as a ``torch.utils.data.Sampler`` of row indices."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import torch.utils.data

from keras_imbalance.sampling._inputs import _prepare, renamed_seed


class BalancedSampler(torch.utils.data.Sampler):
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
    ):
        random_state = renamed_seed(random_state, seed, "BalancedSampler")
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
        )
        self.epoch = 0

    @property
    def random_state(self) -> int:
        """The seed every batch is drawn from (the one given, or the one drawn for None)."""
        return self._plan.seed

    @property
    def seed(self) -> int:
        """Deprecated name of :attr:`random_state`."""
        warnings.warn(
            "`.seed` is deprecated and will be removed in keras-imbalance 0.2: use `.random_state`",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._plan.seed

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next ``iter()`` draws."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self._plan.epoch_size

    def __iter__(self) -> Iterator[int]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        for i in range(self._plan.num_batches):
            yield from self._plan.draws(epoch, i).index.tolist()
