"""``rebalance``: asked class shares from a stream, by replaying rare rows (numpy only).

Every row read is yielded once (none is dropped, except rows of a class whose asked share is
0); the shares are met by yielding, besides, rows replayed from a bounded per-class reservoir.
Which class comes next is decided by smooth weighted round robin over the classes seen so far
(each step adds every class's share to its credit, the class of largest credit is yielded
and loses the total share), so after ``t`` rows a class is off its asked count by less than
one row: over any window of ``W`` rows the share is within ``2 / W`` of the asked one.
"""

from __future__ import annotations

import itertools
import numbers
import random
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from keras_imbalance._validation import Text, check_batch, check_number, invalid


def _row_class(y: Any):
    """The class of one label: the value, or the argmax of a one-hot / soft row."""
    arr = np.asarray(y)
    if arr.ndim == 0:
        value = arr.item()
        return int(value) if isinstance(value, (bool, np.bool_)) else value
    if arr.ndim == 1 and arr.size > 1:
        return int(np.argmax(arr))
    if arr.size == 1:
        return arr.reshape(()).item()
    raise invalid("stream", "labels y of one class per row", Text(f"y of shape {arr.shape}"))


def _split(x: Any, n: int) -> list:
    """Rows of a batch ``x`` (an array, a dict or a tuple/list of arrays)."""
    if isinstance(x, Mapping):
        parts = {k: np.asarray(v) for k, v in x.items()}
        return [{k: v[i] for k, v in parts.items()} for i in range(n)]
    if isinstance(x, (tuple, list)):
        parts = [np.asarray(v) for v in x]
        return [type(x)(v[i] for v in parts) for i in range(n)]
    arr = np.asarray(x)
    return [arr[i] for i in range(n)]


def _stack(rows: list) -> Any:
    first = rows[0]
    if isinstance(first, Mapping):
        return {k: np.stack([r[k] for r in rows]) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(np.stack([r[j] for r in rows]) for j in range(len(first)))
    return np.stack(rows)


class RebalancedStream:
    """An iterable of rows (or batches) with the asked class shares; see :func:`rebalance`.

    Attributes
    ----------
    (updated while iterating)

    read : int
        Rows read from the stream.
    yielded : dict
        ``{class: rows yielded}`` (fresh and replayed).
    replayed : dict
        ``{class: replayed rows yielded}``; ``replayed[c] / fresh[c]`` is the mean number of
        times a row of ``c`` was replayed.
    fresh : dict
        ``{class: rows yielded the first time}``.
    dropped : int
        Rows of classes with an asked share of 0.
    max_held : int
        Most rows held at once (waiting rows plus reservoirs).

    Examples
    --------
    >>> out = rebalance([(0.0, 0), (1.0, 0), (2.0, 0), (3.0, 1)], buffer_size=4)
    >>> sorted(y for _, y in out), out.replayed
    ([0, 0, 0, 1, 1], {0: 0, 1: 1})
    """

    def __init__(self, stream, shares, buffer_size, reservoir_size, seed, batched, batch_size):
        self._stream, self._shares = stream, shares
        self.buffer_size, self.reservoir_size = buffer_size, reservoir_size
        self.random_state, self._batched, self._batch_size = seed, batched, batch_size
        self._started = False
        self.read, self.dropped, self.max_held = 0, 0, 0
        self.yielded: dict = {}
        self.replayed: dict = {}
        self.fresh: dict = {}

    @property
    def replays_per_row(self) -> dict:
        """``{class: mean replays of a row}`` (replayed / fresh rows of the class)."""
        return {c: self.replayed.get(c, 0) / max(1, n) for c, n in self.fresh.items()}

    def __iter__(self) -> Iterator:
        if self._started:
            raise RuntimeError("a rebalanced stream is read once (call rebalance again)")
        self._started = True
        rows = self._rows()
        first = next(rows, None)  # reading it tells rows from batches
        if first is None:
            return
        rows = itertools.chain([first], rows)
        if not self._batch_size:
            yield from rows
            return
        while True:
            chunk = list(itertools.islice(rows, self._batch_size))
            if not chunk:
                return
            yield tuple(_stack([r[j] for r in chunk]) for j in range(len(chunk[0])))

    def _input_rows(self) -> Iterator[tuple]:
        source = self._stream
        if hasattr(source, "as_numpy_iterator"):  # tf.data.Dataset
            source = source.as_numpy_iterator()
        for item in source:
            item = check_batch(
                "stream", item, "items (x, y) or (x, y, sample_weight), rows or batches"
            )
            batched = self._batched
            if batched is None:
                batched = self._batched = np.ndim(item[1]) >= 1 and not np.isscalar(item[1])
                if batched and self._batch_size is None:
                    self._batch_size = len(item[1])
            if not batched:
                yield item
                continue
            n = len(item[1])
            parts = [_split(part, n) for part in item]
            yield from zip(*parts, strict=True)

    def _rows(self) -> Iterator[tuple]:
        rng = random.Random(self.random_state)
        shares, balanced = self._shares, self._shares is None
        pending: dict = {}  # class -> rows read, not yet yielded
        reservoir: dict = {}  # class -> a uniform sample of the rows read (Algorithm R)
        seen: dict = {}
        credit: dict = {}
        held = 0
        source = self._input_rows()
        exhausted = False
        while True:
            while not exhausted and held < self.buffer_size:  # read until the buffer is full
                row = next(source, None)
                if row is None:
                    exhausted = True
                    break
                self.read += 1
                c = _row_class(row[1])
                if not balanced and shares.get(c, 0) <= 0:
                    self.dropped += 1
                    continue
                pending.setdefault(c, []).append(row)
                held += 1
                n_seen = seen[c] = seen.get(c, 0) + 1
                pool = reservoir.setdefault(c, [])
                if len(pool) < self.reservoir_size:
                    pool.append(row)
                else:
                    j = rng.randrange(n_seen)
                    if j < self.reservoir_size:
                        pool[j] = row
                if c not in credit:
                    credit[c] = 0.0
                    self.yielded.setdefault(c, 0)
                    self.fresh.setdefault(c, 0)
                    self.replayed.setdefault(c, 0)
            self.max_held = max(self.max_held, held + sum(len(p) for p in reservoir.values()))
            if held == 0:
                return
            # smooth weighted round robin over the classes seen so far
            weights = {c: 1.0 if balanced else shares[c] for c in credit}
            total = sum(weights.values())
            for c in credit:
                credit[c] += weights[c]
            c = max(credit, key=credit.__getitem__)
            credit[c] -= total
            waiting = pending[c]
            if waiting:
                j = rng.randrange(len(waiting))
                waiting[j], waiting[-1] = waiting[-1], waiting[j]
                row = waiting.pop()
                held -= 1
                self.fresh[c] += 1
            else:
                row = reservoir[c][rng.randrange(len(reservoir[c]))]
                self.replayed[c] += 1
            self.yielded[c] += 1
            yield row


def rebalance(
    stream: Iterable,
    target: str | Mapping = "balanced",
    *,
    buffer_size: int = 1024,
    reservoir_size: int | None = None,
    random_state: int = 0,
    batched: bool | None = None,
    batch_size: int | None = None,
) -> RebalancedStream:
    """Rows of a stream with the asked class shares, replaying rare rows instead of dropping.

    ``stream`` is read once, in order, with at most ``buffer_size`` rows waiting. Every row
    read is yielded once (in an order shuffled within the buffer); to reach the asked shares
    the stream also yields rows replayed from a reservoir per class (a uniform sample of
    ``reservoir_size`` rows of the class read so far). The class of each next row follows a
    smooth weighted round robin over the classes seen so far, so from the moment every asked
    class has been seen, the share of class ``c`` in any window of ``W`` consecutive rows is
    within ``2 / W`` of the asked share (within 1 % for ``W >= 200``). The stream ends when
    the input is exhausted and every row read has been yielded.

    Unlike ``tf.data``'s ``rejection_resample``, which drops common rows and needs the
    initial distribution, nothing is estimated and nothing is dropped (except rows of a
    class asked at share 0); the price is repeated rare rows, counted in ``replayed``.

    Parameters
    ----------
    stream : iterable
        Items ``(x, y)`` or ``(x, y, sample_weight)``: rows (``y`` a scalar label) or batches
        (``y`` of shape (B,) or one-hot (B, K); batches are split into rows). A generator, a
        ``torch.utils.data.IterableDataset``, a ``tf.data.Dataset``, a Hugging Face streaming
        dataset mapped to tuples... ``x`` may be an array, a dict or a tuple of arrays.
    target : 'balanced' or dict, default='balanced'
        ``'balanced'``: equal shares for every class seen so far. ``{class: share}``: the
        asked shares (normalised to sum to 1); rows of classes not listed are dropped.
    buffer_size : int, default=1024
        Rows read ahead and held until yielded (the shuffle window).
    reservoir_size : int, optional
        Rows kept per class for replay (default ``buffer_size``). Memory: at most
        ``buffer_size + n_classes * reservoir_size`` rows.
    random_state : int, default=0
        Seeds the shuffle and the replays (the same stream gives the same output).
    batched : bool, optional
        Whether items are batches; default: batches when ``y`` is not a scalar. Pass
        ``batched=False`` for rows with a one-hot ``y``.
    batch_size : int, optional
        Yield batches of this many rows (stacked numpy arrays). Default: rows for row input,
        the first input batch's size for batch input.

    Returns
    -------
    RebalancedStream
        An iterable (read once) whose ``read``, ``yielded``, ``fresh``, ``replayed``,
        ``replays_per_row``, ``dropped`` and ``max_held`` describe what happened.

    Examples
    --------
    >>> rows = ((float(i), int(i % 50 == 0)) for i in range(1000))  # 1 row in 50 is class 1
    >>> out = rebalance(rows, buffer_size=64, random_state=0)
    >>> labels = [y for _, y in out]
    >>> out.read, len(labels), out.fresh, out.replayed
    (1000, 1960, {1: 20, 0: 980}, {1: 960, 0: 0})
    >>> sum(labels[200:400])  # any window after the first rare row: half and half
    100
    """
    buffer_size = check_number("buffer_size", buffer_size, low=1, integer=True)
    reservoir_size = check_number(
        "reservoir_size",
        buffer_size if reservoir_size is None else reservoir_size,
        low=1,
        integer=True,
    )
    if batch_size is not None:
        batch_size = check_number("batch_size", batch_size, low=1, integer=True)
    if batched is not None and not isinstance(batched, bool):
        raise invalid("batched", "True, False or None", batched, kind=TypeError)
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise invalid("random_state", "an integer", random_state, kind=TypeError)
    if isinstance(target, str):
        if target != "balanced":
            raise invalid("target", "'balanced' or a dict {class: share}", target)
        shares = None
    elif isinstance(target, Mapping):
        shares = {
            (k.item() if isinstance(k, np.generic) else k): check_number(
                f"target[{k!r}]", v, low=0.0
            )
            for k, v in target.items()
        }
        if sum(shares.values()) <= 0:
            raise invalid("target", "at least one positive share", dict(target))
        total = sum(shares.values())
        shares = {k: v / total for k, v in shares.items()}
    else:
        raise invalid("target", "'balanced' or a dict {class: share}", target, kind=TypeError)
    if not isinstance(stream, Iterable) and not hasattr(stream, "as_numpy_iterator"):
        raise invalid("stream", "an iterable of (x, y) rows or batches", stream, kind=TypeError)
    return RebalancedStream(
        stream, shares, buffer_size, reservoir_size, int(random_state), batched, batch_size
    )
