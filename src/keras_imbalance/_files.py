"""Labels and rows read from Parquet files, memmaps and Dask collections, a piece at a time.

Layer 0 beside :mod:`keras_imbalance.targets` (numpy; pyarrow and dask imported only when such
a source is given; never Keras). Only the columns asked for are read, one Parquet row group
(or one chunk of a memmap) at a time, so counting needs memory for the classes and one row group.

A Parquet source is a file, a directory of Parquet files (walked recursively in sorted path
order, skipping names that start with ``.`` or ``_`` as ``pyarrow.dataset`` does) or a
``pyarrow.dataset.FileSystemDataset`` of Parquet files. Its rows are numbered file by file,
row group by row group, as ``pyarrow.parquet.read_table`` would concatenate them.
"""

from __future__ import annotations

import abc
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from keras_imbalance._validation import Text, invalid

_MEMMAP_CHUNK = 1 << 22  # labels per chunk of a memmap
_DECODE_BYTES = 1 << 20  # decoded feature bytes per Parquet read of ParquetRows
_IGNORED = (".", "_")  # prefixes pyarrow.dataset skips


def _one_line(error: BaseException, limit: int = 120) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_parquet_path(data: Any) -> bool:
    """A path to a ``.parquet`` / ``.pq`` file, or a directory holding one at its top level
    (nested layouts are read as Parquet when ``target=`` is given)."""
    if not isinstance(data, (str, bytes, os.PathLike)):
        return False
    path = os.fsdecode(data)
    if os.path.isfile(path):
        return path.lower().endswith((".parquet", ".pq", ".parq"))
    if os.path.isdir(path):  # top level only: an image tree is not walked twice
        with os.scandir(path) as entries:
            return any(
                e.is_file() and e.name.lower().endswith((".parquet", ".pq", ".parq"))
                for e in entries
            )
    return False


def is_arrow_dataset(data: Any) -> bool:
    return type(data).__module__.startswith("pyarrow") and hasattr(data, "to_batches")


def is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(data, "compute")


def _walk(path: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(_IGNORED)]
        found += [os.path.join(root, f) for f in files if not f.startswith(_IGNORED)]
    return sorted(found)


class ParquetSource:
    """The files of a Parquet source and their row groups (only the footers are read).

    Attributes
    ----------
    files : list of str
    groups : int array of shape (n_groups, 2)
        ``(file position, row group)`` of each row group, in row order.
    offsets : int array of shape (n_groups + 1,)
        First row of each row group; ``offsets[-1]`` is the number of rows.
    schema : pyarrow.Schema
        The schema of the first file.
    """

    def __init__(self, files: list[str], filesystem=None):
        self.files = list(files)
        self.filesystem = filesystem
        self._handles: dict = {}
        self._lock = threading.Lock()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_handles"], state["_lock"] = {}, None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def handle(self, position: int):
        """An open ``pyarrow.parquet.ParquetFile`` of file ``position`` (opened once)."""
        import pyarrow.parquet as pq

        found = self._handles.get(position)
        if found is None:
            path = self.files[position]
            source = self.filesystem.open_input_file(path) if self.filesystem else path
            found = self._handles[position] = pq.ParquetFile(source)
        return found

    def read_group(self, group: int, columns: list[str]):
        """Row group ``group`` (a global position), only ``columns`` (a ``pyarrow.Table``)."""
        position, row_group = (int(v) for v in self.groups[group])
        with self._lock:  # a ParquetFile is not safe to share between threads
            return self.handle(position).read_row_group(
                row_group, columns=columns, use_threads=False
            )

    @property
    def n_rows(self) -> int:
        return int(self.offsets[-1])

    def where(self, group: int) -> str:
        position, row_group = (int(v) for v in self.groups[group])
        return f"{self.files[position]} (row group {row_group})"


def open_parquet(source: Any, columns: list[str], name: str = "data") -> ParquetSource:
    """Check every file of ``source`` once (footers only) and index its row groups.

    Every unreadable file, file missing one of ``columns`` or file whose column types differ
    from the first good file's is named in one error line.
    """
    import pyarrow.parquet as pq

    filesystem = None
    if is_arrow_dataset(source):
        files = list(getattr(source, "files", None) or [])
        fmt = type(getattr(source, "format", None)).__name__
        if not files or fmt != "ParquetFileFormat":
            raise invalid(
                name,
                "a pyarrow FileSystemDataset of Parquet files (other datasets are streamed "
                "by class_counts only)",
                Text(f"a {type(source).__name__} in format {fmt}"),
                kind=TypeError,
            )
        filesystem = source.filesystem
        where = "the dataset"
    else:
        path = os.fsdecode(source)
        if not os.path.exists(path):
            raise invalid(
                name,
                "a Parquet file or a directory of Parquet files",
                Text(f"no such file or directory: {path!r}"),
            )
        files = _walk(path) if os.path.isdir(path) else [path]
        where = repr(path)
        if not files:
            raise invalid(name, "a directory holding Parquet files", Text(f"empty: {path!r}"))
    problems, types, groups, sizes = [], None, [], []
    base = os.fsdecode(source) if not is_arrow_dataset(source) else None
    short = (lambda f: os.path.relpath(f, base)) if base and os.path.isdir(base) else str
    for position, file in enumerate(files):
        try:
            handle = (
                pq.ParquetFile(filesystem.open_input_file(file))
                if filesystem
                else pq.ParquetFile(file)
            )
            schema = handle.schema_arrow
        except Exception as error:  # pyarrow raises several types for a bad file
            problems.append(f"{short(file)} (not a readable Parquet file: {_one_line(error, 40)})")
            continue
        missing = [c for c in columns if c not in schema.names]
        if missing:
            problems.append(
                f"{short(file)} (no column {', '.join(map(repr, missing))}; it has "
                f"{schema.names[:4]}{'...' if len(schema.names) > 4 else ''})"
            )
            continue
        found = {c: schema.field(c).type for c in columns}
        if types is None:
            types, first_schema = found, schema
        elif found != types:
            diff = [f"{c!r} is {found[c]}, not {types[c]}" for c in columns if found[c] != types[c]]
            problems.append(f"{short(file)} ({'; '.join(diff)} as in the first file)")
            continue
        meta = handle.metadata
        for g in range(meta.num_row_groups):
            rows = meta.row_group(g).num_rows
            if rows:
                groups.append((position, g))
                sizes.append(rows)
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise invalid(
            name,
            f"Parquet files that all have the column(s) {columns} with one type",
            Text(f"{len(problems)} bad file(s) in {where}: {shown}"),
        )
    out = ParquetSource(files, filesystem)
    out.schema = types
    out.arrow_schema = first_schema
    out.schema_names = list(first_schema.names)
    out.groups = np.asarray(groups, dtype=np.int64).reshape(-1, 2)
    out.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    return out


def _arrow_labels(array, where: str, column: str, name: str):
    """A label array of a column chunk: 1-D numpy, or 2-D for list columns (one-hot rows)."""
    import pyarrow as pa

    if array.null_count:
        raise invalid(
            name,
            f"a label in every row of column {column!r}",
            Text(f"{array.null_count} missing label(s) in {where}"),
        )
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    kind = array.type
    if pa.types.is_fixed_size_list(kind):
        return array.flatten().to_numpy(zero_copy_only=False).reshape(len(array), kind.list_size)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        lengths = np.unique(array.value_lengths().to_numpy(zero_copy_only=False))
        if lengths.size > 1:
            raise invalid(
                name,
                f"rows of one length in list column {column!r}",
                Text(f"lengths {lengths[:5].tolist()} in {where}"),
            )
        width = int(lengths[0]) if lengths.size else 0
        return array.flatten().to_numpy(zero_copy_only=False).reshape(len(array), width)
    return None


def label_pieces(
    source: Any, target: str | None, name: str = "data", progress=None
) -> Iterator[tuple[str, Any]]:
    """The labels of ``source`` a piece at a time.

    Yields ``("tally", (values, counts))`` for scalar label columns (counted by pyarrow, so
    a piece costs O(classes)) and ``("array", labels)`` for 2-D labels (one-hot / multi-label
    rows) that :func:`keras_imbalance.targets` must read itself. ``progress(done, total)`` is
    called after each piece (``total`` None when unknown).
    """
    import pyarrow.compute as pc

    def tally(array):
        counted = pc.value_counts(array)
        values = counted.field("values").to_numpy(zero_copy_only=False)
        return "tally", (values, counted.field("counts").to_numpy(zero_copy_only=False))

    if isinstance(source, np.ndarray):  # a memmap: chunks of rows, read and dropped
        import pyarrow as pa

        for lo in range(0, source.shape[0], _MEMMAP_CHUNK):
            chunk = np.asarray(source[lo : lo + _MEMMAP_CHUNK])
            if chunk.ndim == 1 or (chunk.ndim == 2 and chunk.shape[1] == 1):
                yield tally(pa.array(chunk.reshape(-1)))
            else:
                yield "array", chunk
            if progress is not None:
                progress(lo + chunk.shape[0], source.shape[0])
        return
    if is_dask(source):
        yield from _dask_pieces(source, target, name)
        return
    _check_target(target, name)
    if is_arrow_dataset(source) and not (
        getattr(source, "files", None) and type(source.format).__name__ == "ParquetFileFormat"
    ):
        if target not in source.schema.names:
            raise invalid("target", f"a column of the dataset {source.schema.names[:8]}", target)
        total = None
        pieces = (
            (f"batch {i}", batch.column(0))
            for i, batch in enumerate(
                source.to_batches(columns=[target], batch_readahead=0, fragment_readahead=0)
            )
        )
    else:
        files = open_parquet(source, [target], name)
        total = files.n_rows
        pieces = (
            (files.where(g), files.read_group(g, [target]).column(0))
            for g in range(len(files.groups))
        )
    done = 0
    for where, column in pieces:
        rows = _arrow_labels(column, where, target, name)
        yield ("array", rows) if rows is not None else tally(column)
        done += len(column)
        if progress is not None:
            progress(done, total)


def _check_target(target: Any, name: str) -> None:
    if target is None:
        raise invalid(
            "target",
            f"the name of the label column when {name} is a Parquet source",
            target,
            kind=TypeError,
        )
    if not isinstance(target, str):
        raise invalid("target", "a column name (str)", target, kind=TypeError)


def _dask_pieces(source, target, name):
    """``value_counts`` computed on the collection's own scheduler (one tally)."""
    import dask

    if type(source).__name__ == "DataFrame":  # pick the label column
        _check_target(target, name)
        if target not in list(source.columns):
            raise invalid("target", f"a column of the DataFrame {list(source.columns)[:8]}", target)
        source = source[target]
    elif target is not None and target != getattr(source, "name", target):
        raise invalid("target", f"None or the Series' name {source.name!r}", target)
    counts, missing = dask.compute(source.value_counts(dropna=True), source.isna().sum())
    if int(missing):
        raise invalid(
            name, "a label in every row", Text(f"{int(missing)} missing label(s) in the Dask data")
        )
    yield "tally", (counts.index.to_numpy(), counts.to_numpy())


def merge_tallies(pieces) -> tuple[np.ndarray, np.ndarray]:
    """Sum ``(values, counts)`` tallies into one (values in first-seen order)."""
    total: dict = {}
    for values, counts in pieces:
        for value, count in zip(values.tolist(), counts.tolist(), strict=True):
            total[value] = total.get(value, 0) + int(count)
    if not total:
        return np.zeros(0), np.zeros(0, np.int64)
    values = np.asarray(list(total))
    return values, np.fromiter(total.values(), dtype=np.int64, count=len(total))


def read_labels(files: ParquetSource, column: str, name: str = "data") -> np.ndarray:
    """The whole column ``column`` as one numpy array (labels or weights), a row group at a time."""
    out = None
    for g in range(len(files.groups)):
        piece = files.read_group(g, [column]).column(0)
        rows = _arrow_labels(piece, files.where(g), column, name)
        if rows is None:
            rows = piece.to_numpy()
            if rows.dtype == object:
                rows = rows.astype(str)
        if out is None:
            out = np.empty((files.n_rows,) + rows.shape[1:], dtype=rows.dtype)
        elif rows.dtype != out.dtype and rows.dtype.kind in "US":
            out = out.astype(np.result_type(out.dtype, rows.dtype))
        lo = int(files.offsets[g])
        out[lo : lo + rows.shape[0]] = rows
    return out


class RowReader(abc.ABC):
    """Rows read on demand: ``take(rows)`` returns them as one array; nothing else is stored.

    The balanced-batch front ends gather rows of such an ``x`` with ``take`` instead of
    indexing an array (subclasses: :class:`ParquetRows`, image folders).
    """

    shape: tuple
    dtype: np.dtype

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @abc.abstractmethod
    def take(self, rows: np.ndarray, axis: int = 0) -> np.ndarray:
        """Rows ``rows`` (any order, repeats allowed), stacked along a new first axis."""


class ParquetRows(RowReader):
    """Rows of feature columns read on demand from a Parquet source (``take`` only).

    Each row group is decoded once into a slot of a slab (one 2-D numpy array of at most
    ``cache_bytes``, at least one row group; numeric columns side by side, or one fixed-size
    list column); the least recently used row group leaves when a slot is needed. A batch
    whose row groups are all resident is one ``take`` from the slab (no Python loop over row
    groups); one that needs more row groups than the slab holds is read in rounds.

    Parameters
    ----------
    files : ParquetSource
    features : list of str
        Numeric columns, or a single fixed-size list column.
    cache_bytes : int
    """

    def __init__(self, files: ParquetSource, features: list[str], cache_bytes: int):
        import pyarrow as pa

        self.files, self.features, self.cache_bytes = files, list(features), int(cache_bytes)
        types = [files.schema[c] for c in self.features]
        if len(types) == 1 and pa.types.is_fixed_size_list(types[0]):
            self._width, value = types[0].list_size, types[0].value_type
            dtypes = [value.to_pandas_dtype()]
        elif all(
            pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            for t in types
        ):
            self._width, dtypes = None, [t.to_pandas_dtype() for t in types]
        else:
            bad = {c: str(t) for c, t in zip(self.features, types, strict=True)}
            raise invalid(
                "features",
                "numeric columns, or one fixed-size list column (e.g. list<float>[64])",
                Text(f"columns of types {bad}"),
                kind=TypeError,
            )
        self.dtype = np.result_type(*dtypes)
        width = self._width if self._width is not None else len(self.features)
        self.shape = (files.n_rows, width)
        sizes = np.diff(files.offsets)
        self._slot_rows = int(sizes.max()) if sizes.size else 1
        slot_bytes = self._slot_rows * width * self.dtype.itemsize
        self._slots = int(max(1, min(len(sizes), self.cache_bytes // max(1, slot_bytes))))
        # every row group fits: the slab is the features, row for row (no slot padding, and
        # the row group of a row never moves); else equal slots of the largest row group
        self._whole = self.nbytes <= self.cache_bytes
        if self._whole:
            self._slots = len(sizes)
            self._start = np.asarray(files.offsets[:-1], dtype=np.int64)
            self._slab_rows = files.n_rows
        else:
            self._start = np.arange(self._slots, dtype=np.int64) * self._slot_rows
            self._slab_rows = self._slots * self._slot_rows
        self._reset()
        self.decoded = 0  # row groups decoded (cache misses)

    @property
    def nbytes(self) -> int:
        """Bytes of the decoded features (every row)."""
        return int(self.shape[0]) * int(self.shape[1]) * self.dtype.itemsize

    def _reset(self) -> None:
        self._slab = None  # allocated on first use; pages become resident as slots fill
        self._slot_of = np.full(len(self.files.groups), -1, dtype=np.int64)
        self._group_in = np.full(self._slots, -1, dtype=np.int64)
        self._used = np.zeros(self._slots, dtype=np.int64)
        self._tick = 0
        self._lock = threading.Lock()

    def __getstate__(self):
        state = self.__dict__.copy()
        for key in ("_slab", "_slot_of", "_group_in", "_used", "_tick", "_lock"):
            state.pop(key)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._reset()

    def decode(self, group: int, out: np.ndarray | None = None) -> np.ndarray:
        """Row group ``group`` as a 2-D array, written into ``out`` when given (finite values
        checked); pyarrow's buffers are handed back to the system right after."""
        import pyarrow as pa

        lo, hi = (int(v) for v in self.files.offsets[group : group + 2])
        n = hi - lo
        block = np.empty((n, self.shape[1]), self.dtype) if out is None else out[:n]
        if self._width is not None:
            table = self.files.read_group(group, self.features)
            column = table.column(0).combine_chunks()
            block[:] = column.flatten().to_numpy().reshape(n, self._width)
            del column, table
        else:
            # a few columns at a time: pyarrow's buffers (compressed pages, decoded columns)
            # stay a few times _DECODE_BYTES instead of the row group's size (pool peak
            # 80 -> 5 MB for a row group of 65,536 x 64 float32; 4 columns per read)
            step = max(1, _DECODE_BYTES // max(1, n * self.dtype.itemsize))
            for c in range(0, len(self.features), step):
                table = self.files.read_group(group, self.features[c : c + step])
                for j in range(table.num_columns):
                    block[:, c + j] = table.column(j).to_numpy()
                del table
        pa.default_memory_pool().release_unused()
        if block.dtype.kind == "f":
            for lo in range(0, n, 4096):  # in slices: no temporary of the block's size
                part = block[lo : lo + 4096]
                if not np.isfinite(part).all():
                    bad = lo + int(np.flatnonzero(~np.isfinite(part).all(axis=1))[0])
                    raise ValueError(
                        "Invalid value for argument `features`. Expected finite values (no NaN "
                        f"or inf). Received: a non-finite value in row {bad} of "
                        f"{self.files.where(group)}"
                    )
        return block

    def _load(self, groups: np.ndarray) -> None:
        """Make ``groups`` (distinct, at most ``_slots``) resident; call with the lock held."""
        if self._slab is None:
            self._slab = np.empty((self._slab_rows, self.shape[1]), self.dtype)
        self._tick += 1
        resident = self._slot_of[groups]
        self._used[resident[resident >= 0]] = self._tick  # pinned for this batch
        for g in groups[resident < 0].tolist():
            # whole: a row group's own place; else a free slot (0) or the least recently used
            slot = g if self._whole else int(np.argmin(self._used))
            old = self._group_in[slot]
            if old >= 0:
                self._slot_of[old] = -1
            self._group_in[slot], self._used[slot] = -1, self._tick
            lo = int(self._start[slot])
            self.decode(g, self._slab[lo : lo + self._slot_rows])
            self._slot_of[g], self._group_in[slot] = slot, g
            self.decoded += 1

    def take(self, rows: np.ndarray, axis: int = 0) -> np.ndarray:
        """Rows ``rows`` (any order, repeats allowed) as an array of shape (len(rows), width)."""
        rows = np.asarray(rows, dtype=np.int64)
        group = np.searchsorted(self.files.offsets, rows, side="right") - 1
        local = rows - self.files.offsets[group]
        with self._lock:
            slots = self._slot_of[group]
            if self._slab is not None and slots.min() >= 0:  # every row group resident
                self._tick += 1
                self._used[slots] = self._tick
                return self._slab.take(self._start[slots] + local, axis=0)
            needed = np.unique(group)
            if needed.size <= self._slots:
                self._load(needed)
                return self._slab.take(self._start[self._slot_of[group]] + local, axis=0)
            out = np.empty((rows.shape[0], self.shape[1]), dtype=self.dtype)
            for lo in range(0, needed.size, self._slots):  # more row groups than slots
                part = needed[lo : lo + self._slots]
                self._load(part)
                sel = np.flatnonzero(np.isin(group, part))
                out[sel] = self._slab.take(
                    self._start[self._slot_of[group[sel]]] + local[sel], axis=0
                )
            return out

    def spill(self, path: str) -> SpilledRows:
        """Decode every row group once into a new ``.npy`` file at ``path``; its reader.

        Written through one row group's buffer with ordinary writes, not a writable memmap
        (whose dirty pages would all count in the process's resident set while it fills)."""
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": self.shape,
        }
        buffer = np.empty((self._slot_rows, self.shape[1]), self.dtype)
        with open(path, "xb") as handle:
            np.lib.format.write_array_header_1_0(handle, header)
            for g in range(len(self.files.groups)):
                handle.write(memoryview(self.decode(g, buffer)).cast("B"))
        return SpilledRows(path)

    def __getitem__(self, rows):
        return self.take(np.arange(self.shape[0])[rows] if isinstance(rows, slice) else rows)


#: Bytes per ``pread`` of :meth:`SpilledRows.read` (the span of rows read at a time).
_READ_BYTES = 1 << 20


class SpilledRows(RowReader):
    """Features decoded once into a ``.npy`` file (:meth:`ParquetRows.spill`), read back
    without being held.

    :meth:`read` gathers any rows in one sequential pass over the file with ``pread`` (rows
    sorted, at most ``_READ_BYTES`` read at a time): the file's pages stay in the operating
    system's page cache (shared, given back under memory pressure) and are never mapped into
    the process, so its resident set holds only the rows asked for. :meth:`take` reads from a
    memmap of the file instead (fast for a few rows; the pages it touches stay mapped and
    count in the resident set). The file may be removed once opened (POSIX keeps it until the
    reader goes).

    Parameters
    ----------
    path : str
        A ``.npy`` file of a 2-D C-ordered array.
    """

    def __init__(self, path: str):
        import weakref

        self.path = os.fspath(path)
        self.memmap = np.load(self.path, mmap_mode="r")
        self.shape, self.dtype = self.memmap.shape, self.memmap.dtype
        self.offset = int(self.memmap.offset)
        self._row = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self._pid = os.getpid()
        weakref.finalize(self, os.close, self._fd)

    @property
    def nbytes(self) -> int:
        return int(self.shape[0]) * self._row

    def __getstate__(self):
        # another process opens the file by name; a removed temporary file through this
        # process's open descriptor (Linux), else its values travel (as a memmap's pickle)
        where = self.path
        if not os.path.exists(where):
            where = f"/proc/{self._pid}/fd/{self._fd}"
        if os.path.exists(where):
            return {"path": where}
        return {"array": np.asarray(self.memmap)}

    def __setstate__(self, state):
        if "path" in state:
            self.__init__(state["path"])
        else:  # no file to open: the values themselves
            self.memmap = state["array"]
            self.shape, self.dtype = self.memmap.shape, self.memmap.dtype
            self._fd = None

    def take(self, rows: np.ndarray, axis: int = 0) -> np.ndarray:
        """Rows ``rows`` from the memmap (their pages stay mapped)."""
        return np.asarray(self.memmap.take(np.asarray(rows, dtype=np.int64), axis=0))

    def read(self, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Rows ``rows`` (any order, repeats allowed) read from the file in one pass, as an
        array of shape ``(len(rows), width)`` (the first rows of ``out`` when given: a buffer
        kept between calls is not faulted in anew each time); equal to :meth:`take`."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if out is None or len(out) < rows.size:
            out = np.empty((rows.size, *self.shape[1:]), self.dtype)
        out = out[: rows.size]
        if self._fd is None or not rows.size or not hasattr(os, "preadv"):
            if rows.size:
                out[:] = self.take(rows)
            return out
        order = np.argsort(rows, kind="stable")
        ranked = rows[order]
        span = max(1, _READ_BYTES // max(1, self._row))
        buffer = np.empty((span, *self.shape[1:]), self.dtype)
        raw = memoryview(buffer).cast("B")
        # runs of sorted rows that fit in one read
        starts = [0]
        while True:
            end = int(np.searchsorted(ranked, ranked[starts[-1]] + span, side="left"))
            if end >= ranked.size:
                break
            starts.append(end)
        starts.append(ranked.size)
        for a, b in zip(starts[:-1], starts[1:], strict=False):
            first, last = int(ranked[a]), int(ranked[b - 1])
            want = (last - first + 1) * self._row
            done = 0
            while done < want:  # a short read continues where it stopped
                got = os.preadv(self._fd, [raw[done:want]], self.offset + first * self._row + done)
                if got <= 0:
                    raise OSError(f"{self.path}: {want - done} bytes missing at row {first}")
                done += got
            out[order[a:b]] = buffer[ranked[a:b] - first]
        return out


def is_label_source(data: Any) -> bool:
    """Whether :func:`keras_imbalance.class_counts` reads ``data`` through this module."""
    return (
        (isinstance(data, np.memmap) and (data.ndim == 1 or data.shape[1:] == (1,)))
        or is_arrow_dataset(data)
        or is_dask(data)
        or is_parquet_path(data)
    )
