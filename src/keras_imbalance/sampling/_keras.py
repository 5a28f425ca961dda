"""``BalancedBatches``: a ``keras.utils.PyDataset`` of class-balanced batches."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_imbalance._files import SpilledRows
from keras_imbalance._validation import check_number, invalid
from keras_imbalance.sampling._inputs import PlanSeed, _prepare, renamed_seed
from keras_imbalance.sampling._plan import _shard


class BalancedBatches(PlanSeed, keras.utils.PyDataset):
    """Class-balanced batches drawn from per-class index pools, redrawn every epoch.

    An epoch is ``epoch_size`` draws ``E``; class ``c`` gets ``E_c = round(E p_c)`` of them
    (``p_c = 1 / K`` for ``'oversample'``, ``'undersample'`` and ``'smote'``, the given
    proportion for a dict). By default (``replacement=False``) each class's rows are
    reshuffled every epoch, as with imbalanced-learn's samplers: a class with ``E_c >= n_c``
    rows shows every row ``floor(E_c / n_c)`` or ``ceil(E_c / n_c)`` times (exactly once when
    ``E_c = n_c``: every minority row in an ``'undersample'`` epoch, every majority row in an
    ``'oversample'`` epoch), and a class with ``E_c < n_c`` shows ``E_c`` distinct rows, a fresh
    random subset every epoch. The draws of all classes are spread over the epoch in a random
    order, so a batch holds about ``batch_size * p_c`` rows of class ``c`` (hypergeometric).
    With ``replacement=True`` each draw instead picks class ``c`` with probability ``p_c``, then
    a row of that class uniformly (like ``torch.utils.data.WeightedRandomSampler``).

    Only int32 index pools are kept (no copy of ``x``: a ``np.memmap`` stays on disk; the
    per-epoch permutations are keyed Feistel networks evaluated on the fly, nothing of the
    epoch's size is stored), and batch ``i`` of epoch ``e`` is a pure function of
    ``(seed, e, i)`` -- every random number comes from a counter-based hash of those three
    numbers -- so results are identical with any ``workers`` / ``use_multiprocessing``
    setting, in any order and in pickled copies. :meth:`on_epoch_end` (called by
    ``model.fit``) moves to the next epoch.

    Parameters
    ----------
    x : array-like of shape (n_samples, ...), or a list / dict of them
        Inputs (any trailing shape: tabular rows, (28, 28, 1) images, (T, F) sequences).
        Must be finite (NaN or inf raise).
    y : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, K), or a list / dict
        Labels: binary, sparse (ints or strings) or one-hot (the class is the argmax). For a
        multi-output ``y`` (a dict or a list of arrays) the classes come from the output named
        by ``stratify_by``; every output is gathered with the same rows.
    batch_size : int, default=32
        Rows per batch. The last batch of an epoch keeps the remainder
        (``epoch_size - (len - 1) * batch_size`` rows) rather than dropping it.
    strategy : {'oversample', 'undersample', 'smote'} or dict, default='oversample'
        - ``'oversample'``: every class equally likely; epoch = ``K * n_max`` draws (as many
          draws per class as the largest class has rows).
        - ``'undersample'``: every class equally likely; epoch = ``K * n_min`` draws, so each
          epoch sees a fresh random subset of the larger classes.
        - ``'smote'``: as ``'oversample'``, but of the ``n_max`` draws of a class with fewer
          rows, ``n_c`` are its real rows (each once) and the other ``n_max - n_c`` are
          synthetic (with ``replacement=True``: each draw is synthetic with probability
          ``1 - n_c / n_max``): ``a + u (b - a)``, ``u ~ U(0, 1)``, ``a`` a row of the class and ``b`` one of its
          ``k_neighbors`` nearest neighbours in the class (scikit-learn ``NearestNeighbors`` on
          the flattened rows, computed once here). Its label is ``y[a]`` (every output of a
          multi-output ``y``); its sample weight is interpolated like ``x``:
          ``w_a + u (w_b - w_a)``. Needs a single floating-point ``x``.
        - ``{class: proportion}``: draw probabilities (normalised to sum to 1; classes not
          listed are never drawn); epoch = ``n_samples`` draws.
    sample_weight : array-like of shape (n_samples,) or (n_samples, ...), or a list / dict, optional
        Per-sample weights, gathered with the rows and yielded as the third batch element.
    epoch_size : int, optional
        Draws per epoch, overriding the strategy's default.
    k_neighbors : int, default=5
        Neighbours per row for ``'smote'``; must be below the smallest oversampled class size.
    stratify_by : str or int, optional
        The output of a multi-output ``y`` whose classes are balanced.
    random_state : int, optional
        Seeds every batch. ``None`` draws one (kept in ``random_state``).
    seed : int, optional
        Deprecated name of ``random_state`` (a DeprecationWarning; removed in 0.2).
    replacement : bool, default=False
        ``False``: per-class permutations, exact class counts per epoch (see above).
        ``True``: independent draws with replacement (an ``'oversample'`` epoch then shows
        about 63 % (``1 - 1/e``) of the majority rows, the rest being repeats).
    mode : {'classes', 'labels'}, default='classes'
        ``'labels'``: ``y`` is a multi-label 0/1 matrix (N, K) and rows are drawn so that every
        label's positive share moves toward balance: a row is drawn with probability
        proportional to ``1 / n_l`` of its rarest positive label ``l`` (``n_l`` = rows having
        ``l``; rows without a positive label count as one more label, "none"). Rows are
        grouped by that rarest label (``classes`` = label index, -1 for "none"), group ``g`` is
        drawn with probability ``p_g = (m_g / n_g) / Z`` (``m_g`` its rows, ``Z`` the sum over
        groups), then rows within a group as in class mode (exact group counts per epoch
        without replacement). A label that is the rarest of every row holding it gets the
        positive share ``1 / Z`` exactly, the same for all such labels (with no co-occurring
        labels this is class balance over the K labels and "none"); labels that also ride on
        rows of rarer labels get more. Epoch: ``n_samples`` draws unless ``epoch_size``;
        ``strategy`` must stay ``'oversample'``.
    shard : (int, int), optional
        ``(index, count)``: this replica's share of one plan, for data parallelism (one
        process per device or host, e.g. Keras / JAX). The plan draws global batches of
        ``batch_size * count`` draws; this replica's batch ``i`` is draws ``index, index +
        count, ...`` of global batch ``i``. Every replica has the same number of batches, the
        shares are disjoint, and their union is exactly the epoch of the unsharded
        ``BalancedBatches(..., batch_size=batch_size * count)`` (same rows, same class
        counts). Every replica must be built with the same arguments and ``random_state``.
    **kwargs
        ``workers``, ``use_multiprocessing``, ``max_queue_size``, passed to
        ``keras.utils.PyDataset``.

    Attributes
    ----------
    epoch : int
        The epoch whose batches ``__getitem__`` returns (starts at 0; settable).
    random_state : int
        The seed in use (``seed`` is its deprecated name).
    epoch_size : int
    classes : ndarray
        Class labels, in class-position order (``mode='labels'``: the rarest-label groups,
        label indices and -1 for rows without a positive label).
    class_probabilities : ndarray of shape (n_classes,)
        Probability that a draw is of each class.
    replacement : bool

    Notes
    -----
    Compared with ``imblearn.keras.BalancedBatchGenerator``: the subset is redrawn every epoch
    (not once), the last partial batch is kept, any sampling proportion and in-batch SMOTE work
    without a resampled copy of ``x``, and ``PyDataset.__init__`` is called (workers work).
    ``E_c = round(E p_c)`` uses largest remainders, so the ``E_c`` sum to ``E``. The epoch's
    order is a keyed pseudo-random permutation of its ``E`` draw slots (a 4-round Feistel
    network with cycle walking), not a uniformly random one; the tests check its class counts
    and that row order and epoch position are uncorrelated.

    References
    ----------
    Chawla et al., "SMOTE: Synthetic Minority Over-sampling Technique", JAIR 16 (2002).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(1000, 4)).astype("float32")
    >>> y = (np.arange(1000) < 50).astype(int)
    >>> batches = BalancedBatches(x, y, batch_size=100, random_state=0)
    >>> len(batches), batches.epoch_size
    (19, 1900)
    >>> xb, yb = batches[0]
    >>> xb.shape
    (100, 4)
    >>> minority_share = np.concatenate([batches[i][1] for i in range(len(batches))]).mean()
    >>> float(minority_share)  # exactly 950 draws of each class
    0.5
    >>> rows = np.concatenate([batches[i][0] for i in range(len(batches))])
    >>> len(np.unique(rows[:, 0]))  # all 950 majority rows once + the 50 minority rows
    1000
    >>> tags = (np.random.default_rng(1).random((1000, 3)) < [0.5, 0.1, 0.02]).astype(int)
    >>> by_label = BalancedBatches(x, tags, batch_size=100, random_state=0, mode="labels")
    >>> drawn = np.concatenate([by_label[i][1] for i in range(len(by_label))])
    >>> tags.mean(axis=0).round(2).tolist(), drawn.mean(axis=0).round(2).tolist()
    ([0.51, 0.11, 0.02], [0.52, 0.28, 0.26])
    """

    def __init__(
        self,
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
        shard: tuple[int, int] | None = None,
        **kwargs: Any,
    ):
        random_state = renamed_seed(random_state, seed, "BalancedBatches")
        super().__init__(**kwargs)
        self._source, self._plan = _prepare(
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
            shard=shard,
        )
        self.mode = mode
        self.shard = self._plan.shard
        self.batch_size = batch_size
        self.strategy = strategy
        self.replacement = self._plan.replacement
        self.epoch = 0

    @property
    def epoch_size(self) -> int:
        return self._plan.epoch_size

    @property
    def classes(self):
        return self._plan.classes

    @property
    def class_probabilities(self):
        return self._plan.probs.copy()

    def __len__(self) -> int:
        return self._plan.num_batches

    def __getitem__(self, index: int):
        n = self._plan.num_batches
        if not isinstance(index, (int,)) and not hasattr(index, "__index__"):
            raise invalid("index", "an integer batch index", index, kind=TypeError)
        index = int(index)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"batch index {index} out of range for {n} batches")
        source = self._source
        if isinstance(source.x, SpilledRows) and source._plain and self.strategy != "smote":
            return self._from_window(index)
        return self._source.batch(self._draws(index))

    def _draws(self, index: int):
        draws = self._plan.draws(self.epoch, index)
        if self.shard[1] > 1:
            draws = _shard(draws, *self.shard)
        return draws

    def _from_window(self, index: int):
        """Batch ``index`` of features spilled to a file: the rows of this and the next
        batches are read in one pass over the file
        (:meth:`~keras_imbalance._files.SpilledRows.read`, about ``_WINDOW_BYTES`` of them)
        and served from that window; rows of the classes an epoch revisits come from
        :meth:`_revisited`. The batch is the one :meth:`_Source.batch` gathers."""
        import threading

        lock = self.__dict__.setdefault("_window_lock", threading.Lock())
        with lock:
            window = self.__dict__.get("_window")
            if window is None or window[0] != self.epoch or not window[1] <= index < window[2]:
                self._window = None  # the old rows go before the new ones are read
                window = self._window = self._read_window(index)
        _, start, _, bounds, rows, kept, read, read_bounds = window
        j = index - start
        at, hit = (part[bounds[j] : bounds[j + 1]] for part in kept)
        x_b = np.empty((rows[j].size, *self._source.x.shape[1:]), self._source.x.dtype)
        x_b[~hit] = read[read_bounds[j] : read_bounds[j + 1]]
        x_b[hit] = self._revisited()[1][at[hit]]
        return x_b, self._source.y.take(rows[j], axis=0)

    def _read_window(self, index: int) -> tuple:
        x = self._source.x
        ids, _, share = self._revisited()
        row = x.nbytes // max(1, x.shape[0]) + 24  # the features and the window's bookkeeping
        per = max(1, int(_WINDOW_BYTES / (row * max(1, self.batch_size) * max(share, 0.01))))
        stop = min(len(self), index + per)
        rows = [self._draws(i).index for i in range(index, stop)]
        bounds = np.cumsum([0] + [r.size for r in rows])
        flat = np.concatenate(rows)
        at = np.minimum(np.searchsorted(ids, flat), max(0, ids.size - 1))
        mask = ids[at] == flat if ids.size else np.zeros(flat.size, dtype=bool)
        # per draw: whether its row is kept, and where; the other rows read in one pass
        missed = np.concatenate([[0], np.cumsum(~mask)])[bounds]
        need = int(missed[-1])
        kept = self.__dict__.get("_buffer")
        if kept is None or len(kept) < need:  # one buffer for every window: faulted in once
            self._buffer = kept = np.empty((need, *x.shape[1:]), x.dtype)
        read = x.read(flat[~mask], out=kept)
        return (self.epoch, index, stop, bounds, rows, (at, mask), read, missed)

    def _revisited(self) -> tuple:
        """``(rows, features, share)``: the rows of the classes an epoch draws more often
        than they have rows (the smallest first, within ``_REVISIT_BYTES``), read once and
        kept, and the share of draws that are not theirs."""
        if "_kept" not in self.__dict__:
            plan, x = self._plan, self._source.x
            row = x.nbytes // max(1, x.shape[0])
            chosen, room, share = [], _REVISIT_BYTES, 1.0
            for c in np.argsort(plan.counts, kind="stable").tolist():
                n_c = int(plan.counts[c])
                if plan.epoch_size * plan.probs[c] <= n_c or n_c * row > room:
                    continue
                chosen.append(plan.pools.members(c))
                room -= n_c * row
                share -= float(plan.probs[c])
            ids = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
            self._kept = (ids, x.read(ids), share)
        return self._kept

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_window_lock", None)
        state.pop("_window", None)
        state.pop("_kept", None)
        state.pop("_buffer", None)
        return state

    @classmethod
    def from_parquet(
        cls,
        path: Any,
        *,
        target: str,
        features: list[str] | None = None,
        sample_weight: str | None = None,
        batch_size: int = 256,
        random_state: int | None = 0,
        cache_bytes: int = 64 * 2**20,
        spill: Any = None,
        **kwargs: Any,
    ) -> BalancedBatches:
        """Balanced batches read from Parquet files; only the label column is held in memory.

        The labels (and ``sample_weight``) columns are read once, a row group at a time, and
        the plan is built from them as for arrays, so the batches are exactly those of
        ``BalancedBatches(x, y, ...)`` on the same rows loaded in memory (same arguments and
        ``random_state``). Features are read when a batch needs them: the rows of a batch are
        grouped by row group and each row group is decoded once into a numpy block kept in a
        least-recently-used cache of ``cache_bytes`` (each worker process keeps its own;
        a batch whose row groups are all cached is one ``take``). When the features fit in
        ``cache_bytes`` the file is decoded once. A balanced epoch draws its rows in random
        order, so a batch touches most row groups: when the features do not fit, they are
        decoded once into a temporary ``.npy`` file (in :func:`tempfile.gettempdir`, never
        next to the input; deleted as soon as it is opened, so nothing is left behind),
        written through one row group's buffer. Batches are then read from that file a window
        at a time: the rows of the next batches (about 64 MiB of features) in one sorted pass
        of ``pread`` calls, never mapped into the process, so the operating system's page
        cache holds the file (shared, and given back under memory pressure) and the process
        holds one window; the rows of the classes an epoch draws more often than they have
        rows (the minority, up to 16 MiB) are read once and kept. When the temporary folder
        lacks room or is held in memory (tmpfs), a warning says so and the cache is used.
        ``spill=`` a path decodes into that file instead (kept); ``spill=False`` never
        spills. Non-finite features raise when their row group is decoded.

        Parameters
        ----------
        path : str, path or pyarrow.dataset.FileSystemDataset
            A Parquet file, a directory of Parquet files (sorted path order, names starting
            with ``.`` or ``_`` skipped) or a pyarrow dataset of Parquet files. Every file
            must hold the columns used, with the same types (bad files are named in one line).
        target : str
            The label column (binary, integer, string or bool; a fixed-size list column for
            one-hot rows).
        features : list of str, optional
            Numeric feature columns (stacked into one ``(batch, n_features)`` array), or one
            fixed-size list column (``list<float>[d]``, read as ``(batch, d)``). Default: every
            column but ``target`` and ``sample_weight``.
        sample_weight : str, optional
            A column of per-row weights, yielded as the third batch element.
        batch_size : int, default=256
        random_state : int, default=0
        cache_bytes : int, default=64 MiB
            Decoded row groups kept per process (at least one). Features larger than this
            are read from a temporary file a window at a time (see above), so the memory
            held stays bounded whatever the file's size; raise it to keep a file that fits
            decoded in memory (faster).
        spill : str, path or False, optional
            A new ``.npy`` file to decode the features into once (never an existing file or
            a path inside the input); batches are then read from it as above. Default: a
            temporary file when the features exceed ``cache_bytes`` (see above); False:
            never, the row-group cache only.
        **kwargs
            Any other argument of :class:`BalancedBatches` (``strategy``, ``epoch_size``,
            ``replacement``, ``shard``, ``workers``...).

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np, pyarrow as pa, pyarrow.parquet as pq
        >>> path = os.path.join(tempfile.mkdtemp(), "rows.parquet")
        >>> y = (np.arange(1000) < 50).astype(int)
        >>> pq.write_table(pa.table({"a": np.arange(1000.0), "b": np.ones(1000), "label": y}),
        ...                path, row_group_size=250)
        >>> batches = BalancedBatches.from_parquet(path, target="label", batch_size=100)
        >>> xb, yb = batches[0]
        >>> xb.shape, len(batches)
        ((100, 2), 19)
        >>> float(np.concatenate([batches[i][1] for i in range(len(batches))]).mean())
        0.5
        """
        from keras_imbalance._files import ParquetRows, open_parquet, read_labels

        if not isinstance(target, str):
            raise invalid("target", "the name of the label column (str)", target, kind=TypeError)
        if sample_weight is not None and not isinstance(sample_weight, str):
            raise invalid(
                "sample_weight", "a column name (str) or None", sample_weight, kind=TypeError
            )
        if features is not None and (
            isinstance(features, str) or not all(isinstance(f, str) for f in features)
        ):
            raise invalid("features", "a list of column names", features, kind=TypeError)
        extra = [c for c in (sample_weight,) if c]
        if features is None:  # every column of the first file (checked in every file below)
            names = open_parquet(path, [target, *extra], "path").schema_names
            features = [c for c in names if c not in (target, *extra)]
        if not features:
            raise invalid("features", "at least one feature column", features)
        files = open_parquet(path, [target, *extra, *features], "path")
        y = read_labels(files, target, "path")
        weights = read_labels(files, sample_weight, "path") if sample_weight else None
        x = ParquetRows(
            files, features, check_number("cache_bytes", cache_bytes, low=1, integer=True)
        )
        if spill is None and x.nbytes > x.cache_bytes:
            x = _spill_to_temp(x)
        elif spill is not None and spill is not False:
            x = x.spill(_spill_path(spill, path, files))
        return cls(
            x,
            y,
            batch_size=batch_size,
            sample_weight=weights,
            random_state=random_state,
            **kwargs,
        )

    @classmethod
    def from_image_folder(
        cls,
        path: Any,
        *,
        image_size: Any = (256, 256),
        color_mode: str = "rgb",
        classes: list | None = None,
        interpolation: str = "bilinear",
        strategy: Any = "oversample",
        batch_size: int = 32,
        random_state: int | None = 0,
        **kwargs: Any,
    ) -> BalancedBatches:
        """Batches of a class-per-folder image directory, each image read when a batch needs it.

        The folder is indexed as ``keras.utils.image_dataset_from_directory`` indexes it
        (sorted class folders, recursive, the same suffixes; files are listed, not opened);
        a batch opens only its own files, so memory does not grow with the folder. Images
        are float32 in [0, 1] of shape ``(*image_size, channels)``; labels are class ids
        (``batches.class_names[y]`` is the folder). An unreadable file raises, naming it,
        in the batch that needs it.

        Parameters
        ----------
        path : str or path-like
        image_size : (int, int) or int, default=(256, 256)
        color_mode : {'rgb', 'grayscale', 'rgba'}, default='rgb'
        classes : list of str, optional
            The class folders, in this order (default: all, sorted).
        interpolation : str, default='bilinear'
            Pillow's resampling filter.
        strategy : str, dict or None, default='oversample'
            As in :class:`BalancedBatches`; None: every image once per epoch, shuffled (the
            classes' own proportions).
        batch_size : int, default=32
        random_state : int, default=0
        **kwargs
            Any other argument of :class:`BalancedBatches` (``epoch_size``, ``shard``,
            ``workers``...).

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from PIL import Image
        >>> root = tempfile.mkdtemp()
        >>> for name, n in (("cat", 6), ("dog", 2)):
        ...     os.makedirs(os.path.join(root, name))
        ...     for i in range(n):
        ...         Image.new("RGB", (8, 8)).save(os.path.join(root, name, f"{i}.png"))
        >>> batches = BalancedBatches.from_image_folder(root, image_size=(4, 4), batch_size=4)
        >>> batches.class_names, len(batches), batches[0][0].shape
        (['cat', 'dog'], 3, (4, 4, 4, 3))
        """
        from keras_imbalance.sampling._images import image_rows

        x, y, names = image_rows(path, classes, image_size, color_mode, interpolation)
        if strategy is None:
            counts = np.bincount(y, minlength=len(names))
            strategy = {i: int(n) for i, n in enumerate(counts) if n}
            kwargs.setdefault("epoch_size", len(y))
        batches = cls(
            x, y, batch_size=batch_size, strategy=strategy, random_state=random_state, **kwargs
        )
        batches.class_names = names
        return batches

    def on_epoch_end(self) -> None:
        """Move to the next epoch (a fresh draw of every batch).

        The epoch advances here rather than in ``on_epoch_begin`` because Keras stops its
        worker threads / processes before calling ``on_epoch_end`` but starts them before
        ``on_epoch_begin``. Keras 3's ``fit`` also calls it once before the first epoch, so
        ``fit``'s first epoch draws epoch 1; the sequence is fixed by the seed either way.
        """
        self.epoch += 1


#: Bytes of features read in one pass over a spill file (several batches' rows; see
#: ``BalancedBatches._from_window``): the resident set holds this much of the features.
_WINDOW_BYTES = 64 << 20
#: Bytes of features kept of the classes a balanced epoch revisits (the minority rows).
_REVISIT_BYTES = 16 << 20

#: The temporary folder must keep this share of the features free beyond them to spill there.
_SPILL_HEADROOM = 0.1


def _spill_to_temp(x):
    """``x`` (a ``ParquetRows``) decoded once into a temporary ``.npy`` memmap whose file is
    deleted as soon as it is opened (POSIX keeps the file until it is closed; elsewhere the
    file goes with the process); ``x`` itself when the temporary folder is in memory or too
    small, with a warning."""
    import atexit
    import os
    import shutil
    import tempfile
    import warnings

    folder = tempfile.gettempdir()
    free = shutil.disk_usage(folder).free
    kind = _filesystem(folder)
    if kind in ("tmpfs", "ramfs") or free < x.nbytes * (1 + _SPILL_HEADROOM):
        why = f"is a {kind} (memory)" if kind in ("tmpfs", "ramfs") else f"has {free} bytes free"
        warnings.warn(
            f"BalancedBatches.from_parquet: the features ({x.nbytes} bytes) exceed "
            f"cache_bytes={x.cache_bytes} and the temporary folder {folder!r} {why}: row "
            "groups are decoded again as batches need them (slow); pass spill='a new .npy "
            "path' on a disk with room, or a larger cache_bytes",
            UserWarning,
            stacklevel=3,
        )
        return x
    handle, path = tempfile.mkstemp(suffix=".npy", prefix="keras-imbalance-spill-")
    os.close(handle)
    os.remove(path)  # x.spill writes a new file
    try:
        out = x.spill(path)
    except BaseException:
        if os.path.exists(path):
            os.remove(path)
        raise
    try:
        os.remove(path)  # the open file stays readable; the disk space goes with it
    except OSError:  # Windows: an open file cannot be removed
        atexit.register(lambda: os.path.exists(path) and os.remove(path))
    return out


def _filesystem(folder: str) -> str | None:
    """The type of the file system holding ``folder`` (Linux ``/proc/mounts``), or None."""
    import os

    try:
        with open("/proc/mounts", encoding="utf-8") as handle:
            mounts = [line.split()[1:3] for line in handle if len(line.split()) >= 3]
    except OSError:
        return None
    where = os.path.realpath(folder)
    best = max(
        (m for m in mounts if where == m[0] or where.startswith(m[0].rstrip("/") + "/")),
        key=lambda m: len(m[0]),
        default=None,
    )
    return None if best is None else best[1]


def _spill_path(spill: Any, source: Any, files) -> str:
    """A new file outside the input for :meth:`BalancedBatches.from_parquet`'s ``spill``."""
    import os

    if not isinstance(spill, (str, os.PathLike)):
        raise invalid("spill", "a path for a new .npy file", spill, kind=TypeError)
    out = os.path.realpath(os.fspath(spill))
    inputs = [os.path.realpath(f) for f in files.files]
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        inputs.append(os.path.realpath(os.fspath(source)) + os.sep)
    if os.path.exists(out) or any(out == f or out.startswith(f) for f in inputs):
        raise invalid(
            "spill",
            "a new file outside the input (an existing file is never overwritten)",
            os.fspath(spill),
        )
    if not out.endswith(".npy"):
        raise invalid("spill", "a path ending in .npy", os.fspath(spill))
    return out
