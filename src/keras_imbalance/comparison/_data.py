"""What ``compare`` and ``fit_strategy`` are given, checked once (numpy, scikit-learn; no Keras):
features of any rank, labels, model builders, folds, the validation split and the per-fold
feature scaling."""

from __future__ import annotations

import hashlib
import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_imbalance._files import RowReader
from keras_imbalance._validation import Text, check_number, invalid
from keras_imbalance.targets import analyse


def features(x) -> tuple[Any, Any]:
    """``(rows, spec)``: a numeric table ``(n, f)`` (float64) or an array of any rank
    ``(n, ...)`` such as images ``(n, h, w, c)`` or sequences ``(n, t, f)`` (float32), with
    ``spec`` None; or a raw table (a DataFrame with categorical columns or missing values, or
    a 2-D numeric array with missing values) as a DataFrame with its
    :class:`~keras_imbalance.tables.TableSpec` (every problem of the table in one error;
    ids and free text dropped with a warning)."""
    import pandas as pd

    if is_lazy(x):
        if len(x.shape) < 3 or x.shape[0] < 2 or min(x.shape[1:]) < 1:
            raise invalid("x", "image files of shape (n_samples, height, width, channels)", x)
        return x, None  # 8-bit pixels / 255: finite; rows decoded fold by fold
    if isinstance(x, pd.DataFrame):
        numeric = all(
            pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c])
            for c in x.columns
        )
        if not numeric or bool(x.isna().to_numpy().any()):
            return _raw(x)
        arr = x.to_numpy(dtype=np.float64)
    else:
        try:
            arr = np.asarray(x)
            arr = arr.astype(np.float64 if arr.ndim == 2 else np.float32, copy=False)
        except (TypeError, ValueError):
            raise invalid(
                "x", "a numeric array of shape (n_samples, ...) or a DataFrame", x, kind=TypeError
            ) from None
    if arr.ndim < 2 or arr.shape[0] < 2 or min(arr.shape[1:]) < 1:
        raise invalid(
            "x", "an array of shape (n_samples, n_features) or (n_samples, ...) of any rank", arr
        )
    if arr.ndim == 2 and np.isnan(arr).any() and not np.isinf(arr).any():
        return _raw(pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])]))
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(arr.shape[0] - finite.reshape(arr.shape[0], -1).all(axis=1).sum())
        raise invalid(
            "x", "finite values (NaN only in a 2-D table)", Text(f"{bad} rows with NaN or inf")
        )
    return arr, None


def _raw(frame):
    from keras_imbalance.tables import check_table

    spec = check_table(frame, argument="x")
    if frame.shape[0] < 2:
        raise invalid("x", "a table of at least 2 rows", frame)
    return frame.reset_index(drop=True), spec


#: Input bytes per forward pass when predicting: a CNN's activations are many times its input
#: (a 28 x 28 image: ~9 KB in, ~50 KB after its first convolution), so a pass of 8,192 images
#: would hold gigabytes; a table row is small and keeps 8,192 rows per pass.
PREDICT_BYTES = 2 << 20


def predict_rows(x, most: int = 8192) -> int:
    """Rows of ``x`` per forward pass: at most ``most`` and at most :data:`PREDICT_BYTES` of
    float32 input (a row of ``x`` is ``x.shape[1:]``, every copy of a packed model)."""
    row = 4 * int(np.prod(x.shape[1:], dtype=np.int64))
    return int(max(1, min(most, PREDICT_BYTES // max(1, row))))


def is_lazy(x) -> bool:
    """Rows read when asked for (``load_image_folder(..., lazy=True).x``): the whole array is
    never built; :func:`take` decodes a fold's rows, :func:`data_hash` reads in chunks."""
    return isinstance(x, RowReader) and len(x.shape) > 2


def take(x, index):
    """Rows ``index`` of an array, a DataFrame or a lazy array (a :class:`LazyRows` view:
    nothing decoded until the rows are made an array or indexed)."""
    if hasattr(x, "iloc"):
        return x.iloc[index]
    if is_lazy(x):
        return LazyRows(x, index)
    return x[index]


def _rows_from(key, n: int) -> np.ndarray:
    """Row numbers of ``key`` (an int, a slice, an int array, a boolean mask) of ``n`` rows."""
    if isinstance(key, slice):
        return np.arange(n)[key]
    key = np.asarray(key)
    return np.flatnonzero(key) if key.dtype == bool else key.astype(np.int64)


class LazyRows(RowReader):
    """Rows ``ids`` of a lazy source (image files), decoded only when indexed or made an array.

    A fold of ``compare DIR`` is such a view: the training rows, the validation rows, the test
    rows and the packed fit's store (:class:`LazyStack`) hold row numbers, and a batch or a
    prediction pass decodes its own rows (the source's LRU cache keeps recently read pixels),
    so memory does not grow with the folder. Values are the source's, bit for bit.
    """

    def __init__(self, source, ids):
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if isinstance(source, LazyRows):  # a view of a view: one level of row numbers
            source, ids = source.source, source.ids[ids]
        self.source, self.ids = source, ids
        self.shape = (int(ids.size), *source.shape[1:])
        self.dtype = np.dtype(source.dtype)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * self.dtype.itemsize

    def take(self, rows, axis: int = 0) -> np.ndarray:
        """Rows ``rows`` (an int array of any shape) decoded, shape ``rows.shape + row``."""
        rows = np.asarray(rows, dtype=np.int64)
        return self.source.take(self.ids[rows])

    @property
    def eight_bit(self) -> bool:
        """Whether the rows are 8-bit values / 255 (:meth:`codes` gives the 8-bit values)."""
        return callable(getattr(self.source, "pixels", None))

    def codes(self, rows, out=None) -> np.ndarray:
        """The 8-bit values of rows ``rows`` (uint8; ``take`` is them / 255 in float32),
        written into ``out`` when given (the source's ``pixels(ids, out)``)."""
        rows = np.asarray(rows, dtype=np.int64)
        return self.source.pixels(self.ids[rows], out=out)

    def __getitem__(self, key):
        if isinstance(key, int | np.integer):
            return self.take(np.asarray([key]))[0]
        return self.take(_rows_from(key, len(self)))

    def __array__(self, dtype=None, copy=None):
        out = self.take(np.arange(len(self)))
        return out if dtype is None else out.astype(dtype, copy=False)


class LazyStack:
    """Row blocks (:class:`LazyRows` or arrays) one after the other, indexed by row numbers:
    a packed fit's store whose rows are decoded per batch (``store[index]``, ``index`` an int
    array of any shape, e.g. ``(B, C)``). Only the arrays (synthetic rows) are held."""

    def __init__(self, blocks: list):
        self.blocks = list(blocks)
        sizes = [len(b) for b in self.blocks]
        self.ends = np.cumsum(sizes)
        self.starts = self.ends - np.asarray(sizes, dtype=np.int64)
        first = self.blocks[0]
        self.shape = (int(self.ends[-1]), *first.shape[1:])
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, int | np.integer):
            return self[np.asarray([key])][0]
        return self._gather(_rows_from(key, len(self)), self.dtype, "take")

    @property
    def eight_bit(self) -> bool:
        """Whether every row is an 8-bit image / 255 (no synthetic rows): :meth:`codes`
        gives the rows as uint8, a quarter of their float32 bytes."""
        return all(isinstance(b, LazyRows) and b.eight_bit for b in self.blocks)

    def codes(self, index, out=None) -> np.ndarray:
        """The 8-bit values of rows ``index`` (an int array of any shape; only where
        :attr:`eight_bit`): ``store[index]`` is them / 255 in float32. Written into ``out``
        (a C-contiguous uint8 array of as many rows) when given: blocks of one source are
        read in one call that writes there, no array of the rows in between."""
        rows = np.asarray(index, dtype=np.int64)
        sources = {id(b.source) for b in self.blocks}
        if len(sources) == 1:  # the source's row of each store row; one read into ``out``
            flat = rows.reshape(-1)
            ids = np.empty(flat.size, dtype=np.int64)
            which = np.searchsorted(self.ends, flat, side="right")
            for b in np.unique(which).tolist():
                at = np.flatnonzero(which == b)
                ids[at] = self.blocks[b].ids[flat[at] - self.starts[b]]
            got = self.blocks[0].source.pixels(ids, out=out)
            return got.reshape(rows.shape + self.shape[1:])
        got = self._gather(rows, np.uint8, "codes")
        if out is None:
            return got
        out.reshape(got.shape)[...] = got
        return out.reshape(got.shape)

    def _gather(self, rows: np.ndarray, dtype, read: str) -> np.ndarray:
        flat = rows.reshape(-1)
        out = np.empty((flat.size, *self.shape[1:]), dtype=dtype)
        which = np.searchsorted(self.ends, flat, side="right")
        for b in np.unique(which).tolist():
            at = np.flatnonzero(which == b)
            block, local = self.blocks[b], flat[at] - self.starts[b]
            out[at] = getattr(block, read)(local) if isinstance(block, LazyRows) else block[local]
        return out.reshape(rows.shape + self.shape[1:])


def repeat_rows(x, copies: int):
    """``x`` with a copy axis, ``(n, copies, ...)``: a broadcast view of an array, or a lazy
    one whose slices are decoded once and broadcast (what every copy's monitor reads)."""
    if isinstance(x, LazyRows):
        return _Repeated(x, copies)
    return np.broadcast_to(x[:, None], (len(x), copies, *x.shape[1:]))


class _Repeated:
    def __init__(self, rows: LazyRows, copies: int):
        self.rows, self.copies = rows, copies
        self.shape = (len(rows), copies, *rows.shape[1:])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        part = self.rows[key]
        return np.broadcast_to(part[:, None], (len(part), *self.shape[1:]))


def labels(y, n: int) -> tuple[np.ndarray, list[str]]:
    """``(codes, class names)``: codes ``0..K-1`` in the sorted order of the labels, read by
    :func:`keras_imbalance.targets.analyse` (the package's one reader of targets); a name is
    ``str`` of the label as written (``"1.0"`` for a float label, ``"True"`` for a bool)."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2:  # one-hot rows
        if not np.issubdtype(arr.dtype, np.number) or np.any(arr.sum(axis=1) != 1):
            raise invalid("y", "class labels of shape (n_samples,) or one-hot rows", arr)
        arr = np.argmax(arr, axis=1)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise invalid("y", f"class labels of shape ({n},) matching x", arr)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise invalid("y", "class labels without NaN", arr)
    analysis = analyse(arr, layout="sparse")
    # integer labels come back as they are, strings as positions: class_ids maps both
    codes = np.searchsorted(analysis.info.class_ids, analysis.labels).astype(np.int64)
    k = analysis.info.n_classes
    first = np.full(k, n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n))  # each class's first row: its label as written
    written = arr[first].tolist()
    if k < 2:
        raise invalid("y", "at least 2 classes", f"only class {written}")
    return codes, [str(c) for c in written]


def data_hash(x, codes: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str(x.shape).encode())
    if hasattr(x, "columns"):  # a raw table: its column names, dtypes and every value
        import pandas as pd

        h.update(repr(list(zip(map(str, x.columns), map(str, x.dtypes), strict=True))).encode())
        h.update(pd.util.hash_pandas_object(x, index=False).to_numpy().tobytes())
    elif is_lazy(x):  # the same bytes as the array's, a chunk of rows at a time
        step = max(1, (8 << 20) // max(1, int(np.prod(x.shape[1:])) * 4))
        for lo in range(0, x.shape[0], step):
            # the array's own buffer (``tobytes()`` would copy every chunk once more)
            h.update(np.ascontiguousarray(x.take(np.arange(lo, min(lo + step, x.shape[0])))))
    else:
        h.update(np.ascontiguousarray(x))
    h.update(np.ascontiguousarray(codes))
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# model builders
# --------------------------------------------------------------------------------------------


def builders(model_fn, defaults: dict) -> dict[str, Any]:
    """``{name: builder}`` of ``model_fn`` (None: ``defaults``), each checked for its
    ``fixed_epochs`` attribute before any fit."""
    if model_fn is None:
        return dict(defaults)
    if isinstance(model_fn, dict):
        if not model_fn or not all(isinstance(k, str) and callable(v) for k, v in model_fn.items()):
            raise invalid(
                "model_fn",
                "a callable or a non-empty dict {name: callable}",
                model_fn,
                kind=TypeError,
            )
        models = dict(model_fn)
    elif not callable(model_fn):
        raise invalid(
            "model_fn", "a callable model_fn(input_shape, n_classes)", model_fn, kind=TypeError
        )
    else:
        name = getattr(model_fn, "__name__", "model")
        models = {"model" if name == "<lambda>" else name: model_fn}
    for fn in models.values():
        fixed_epochs(fn, 1)  # a bad `fixed_epochs` attribute is reported before any fit
    return models


def fixed_epochs(model_fn, epochs: int) -> int | None:
    """Epochs of a builder trained without early stopping: ``min(model_fn.fixed_epochs,
    epochs)``; None (early stopping) when the builder has no ``fixed_epochs`` attribute."""
    value = getattr(model_fn, "fixed_epochs", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise invalid("model_fn", "a builder whose `fixed_epochs` is an int >= 1 or None", value)
    return min(int(value), int(epochs))


def _legacy(fn) -> bool:
    """Whether ``fn`` still takes ``(n_features, n_classes)`` (its first parameter's name)."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] == "n_features"


def call_builder(fn, input_shape: tuple, n_classes: int):
    """``fn(input_shape, n_classes)``; a builder whose first parameter is named ``n_features``
    (the contract before N-D inputs) gets the number of columns of a 2-D table, with a
    DeprecationWarning."""
    if _legacy(fn):
        if len(input_shape) != 1:
            raise invalid(
                "model_fn",
                "a builder model_fn(input_shape, n_classes) for inputs of shape "
                f"{input_shape} (its first parameter is named `n_features`)",
                fn,
                kind=TypeError,
            )
        warnings.warn(
            "model_fn(n_features, n_classes) is deprecated: take input_shape (a tuple, "
            "(n_features,) for a table) as the first argument",
            DeprecationWarning,
            stacklevel=3,
        )
        return fn(int(input_shape[0]), n_classes)
    return fn(tuple(input_shape), n_classes)


def describe_builder(fn) -> str:
    """Stable text identifying a model builder (name + source hash) for the fingerprint."""
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(type(fn)))}"
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = ""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    fixed = getattr(fn, "fixed_epochs", None)
    return f"{name}:{digest}" + ("" if fixed is None else f":fixed_epochs={fixed}")


# --------------------------------------------------------------------------------------------
# folds
# --------------------------------------------------------------------------------------------


def fold_seed(random_state: int, repeat: int, fold: int) -> int:
    return int(np.random.SeedSequence([random_state, repeat, fold]).generate_state(1)[0] % 2**31)


def validation_split(y_train: np.ndarray, fraction: float, seed: int):
    """Stratified, shuffled split of training-fold positions into (fit, validation).

    Each class with ``n_c >= 2`` rows sends ``max(1, round(fraction * n_c))`` of them (at most
    ``n_c - 1``) to validation, drawn at random; a class with one row stays in the fit part.
    Returns two sorted arrays of positions into ``y_train``.
    """
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(y_train):
        members = np.flatnonzero(y_train == c)
        n_c = members.size
        if n_c < 2:
            continue
        k = min(n_c - 1, max(1, int(round(fraction * n_c))))
        val.append(rng.choice(members, size=k, replace=False))
    val_pos = np.sort(np.concatenate(val)) if val else np.zeros(0, dtype=np.int64)
    fit_pos = np.setdiff1d(np.arange(y_train.size), val_pos)
    return fit_pos, val_pos


def _stratified(cv, repeats, random_state, codes, classes) -> list:
    """``RepeatedStratifiedKFold`` folds; a class with a single row is never tested: its row is
    in every training fold (a model cannot learn a class it never saw), and the other rows are
    split as usual. A class with fewer rows than ``cv`` is tested in only some folds. Both
    are named in a warning."""
    import warnings

    from sklearn.model_selection import RepeatedStratifiedKFold

    counts = np.bincount(codes, minlength=len(classes))
    if np.count_nonzero(counts >= 2) < 2:
        raise invalid(
            "y",
            "at least 2 classes with 2 rows or more (a class is tested only if it also has a "
            "row to train on)",
            {classes[c]: int(n) for c, n in enumerate(counts)},
        )
    single = np.flatnonzero(np.isin(codes, np.flatnonzero(counts == 1)))
    rest = np.setdiff1d(np.arange(codes.size), single)
    few = {classes[c]: int(n) for c, n in enumerate(counts) if n < cv}
    if few:
        untested = [classes[c] for c in np.flatnonzero(counts == 1)]
        warnings.warn(
            f"classes with fewer rows than cv={cv}: {few}; "
            + (
                f"{untested} (1 row) are never tested, their row stays in every training fold; "
                if untested
                else ""
            )
            + "the others are tested in only some folds, so their recall rests on few rows "
            "(marked 'thin' in the leaderboard)",
            UserWarning,
            stacklevel=4,
        )
    splitter = RepeatedStratifiedKFold(n_splits=cv, n_repeats=repeats, random_state=random_state)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        pairs = list(splitter.split(np.zeros(rest.size), codes[rest]))
    return [
        (*divmod(i, cv), np.sort(np.r_[rest[train], single]), rest[test])
        for i, (train, test) in enumerate(pairs)
    ]


def splits(cv, repeats, random_state, x, codes, classes):
    """The folds as ``[(repeat, fold, train_idx, test_idx)]`` and the ``cv`` entry of the config:
    the int, or a description of the given splits (a hash of every index and the mean test/train
    size ratio that the corrected interval needs)."""
    k = len(classes)
    if isinstance(cv, int | np.integer) and not isinstance(cv, bool):
        cv = check_number("cv", cv, low=2, integer=True)
        return _stratified(cv, repeats, random_state, codes, classes), int(cv)
    expected = (
        "an int >= 2 (stratified folds), a scikit-learn splitter with split(x, y) or an "
        "iterable of (train_indices, test_indices)"
    )
    if repeats != 1:
        raise invalid("repeats", "1 when cv is a splitter or a list of splits", repeats)
    if isinstance(cv, str | bytes | bool):
        raise invalid("cv", expected, cv, kind=TypeError)
    if hasattr(cv, "split"):
        try:
            if is_lazy(x):  # a splitter sees the row count, not the pixels (never decoded)
                rows = np.zeros((x.shape[0], 1))
            else:
                rows = x if hasattr(x, "columns") else x.reshape(x.shape[0], -1)
            pairs = list(cv.split(rows, codes))
        except (TypeError, ValueError) as exc:  # e.g. a group splitter called without groups
            raise invalid(
                "cv",
                "a splitter whose split(x, y) needs only x and the labels (pass a list of "
                f"(train, test) pairs otherwise); its split(x, y) raised: {exc}",
                cv,
            ) from None
    else:
        try:
            pairs = list(cv)
        except TypeError:
            raise invalid("cv", expected, cv, kind=TypeError) from None
    if not pairs:
        raise invalid("cv", expected, "no splits")
    n = codes.size
    digest = hashlib.sha256()
    out = []
    for i, pair in enumerate(pairs):
        try:
            train, test = (np.asarray(part) for part in pair)
        except (TypeError, ValueError):
            raise invalid("cv", expected, f"split {i}: {pair!r:.80}", kind=TypeError) from None
        for name, part in (("train", train), ("test", test)):
            if part.ndim != 1 or part.size == 0 or part.dtype.kind not in "iu":
                raise invalid("cv", expected, f"split {i}: {name} indices {part!r:.80}")
            if part.min() < 0 or part.max() >= n:
                raise invalid("cv", f"indices in [0, {n})", f"split {i}: {name} {part!r:.80}")
        if np.intersect1d(train, test).size:
            raise invalid("cv", "disjoint train and test indices", f"split {i} shares rows")
        missing = [classes[c] for c in range(k) if not np.any(codes[train] == c)]
        if missing:
            raise invalid(
                "cv", "every class in every training fold", f"split {i} lacks classes {missing}"
            )
        train, test = train.astype(np.int64), test.astype(np.int64)
        digest.update(train.tobytes() + b"|" + test.tobytes() + b";")
        out.append((0, i, train, test))
    config = {
        "splitter": type(cv).__name__,
        "n_splits": len(out),
        "hash": digest.hexdigest(),
        "test_train_ratio": float(np.mean([t.size / tr.size for _, _, tr, t in out])),
    }
    return out, config


# --------------------------------------------------------------------------------------------
# feature scaling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scaler:
    """The model input of the rows a model trains on, fitted on those rows only.

    - 2-D numeric table, ``standardize=True``: per-column standardisation (``mean``,
      ``scale``);
    - raw table (``spec`` given): a :class:`~keras_imbalance.tables.TableEncoder` (median
      imputation with missing indicators, standardisation, infrequent categories grouped,
      one-hot), fitted on the rows;
    - arrays of higher rank (images, sequences) and ``standardize=False`` pass through
      unchanged as float32.

    Resamplers work on :meth:`mixed` rows (numbers as the model sees them, categories as
    integer codes in the columns :attr:`categorical`, for SMOTE-NC); :meth:`to_model` turns
    them into model input (one-hot), :meth:`from_model` back.
    """

    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    encoder: Any = None

    @classmethod
    def fit(cls, rows, standardize: bool, spec=None) -> Scaler:
        if spec is not None:
            from keras_imbalance.tables import TableEncoder

            return cls(encoder=TableEncoder(spec, standardize=standardize).fit(rows))
        if not standardize or rows.ndim != 2:
            return cls()
        mean = rows.mean(axis=0)
        scale = rows.std(axis=0)
        return cls(mean, np.where(scale > 0, scale, 1.0))

    @property
    def categorical(self) -> list:
        """Columns of :meth:`mixed` rows that hold category codes."""
        return [] if self.encoder is None else list(self.encoder.categorical_indices)

    def mixed(self, rows) -> np.ndarray:
        """Rows as resamplers see them (float32 model input without categories)."""
        if self.encoder is not None:
            return self.encoder.to_mixed(rows)
        return self.transform(rows)

    def to_model(self, mixed: np.ndarray) -> np.ndarray:
        if self.encoder is not None:
            return self.encoder.to_model(mixed)
        return np.asarray(mixed, dtype=np.float32)

    def from_model(self, rows: np.ndarray) -> np.ndarray:
        if self.encoder is not None:
            return self.encoder.from_model(rows)
        return rows

    def transform(self, rows) -> np.ndarray:
        """Model input of raw rows."""
        if self.encoder is not None:
            return self.encoder.transform(rows)
        if self.mean is None:
            if isinstance(rows, LazyRows) and rows.dtype == np.float32:
                return rows  # decoded when a batch or a prediction pass needs the rows
            return np.asarray(rows, dtype=np.float32)
        return ((rows - self.mean) / self.scale).astype(np.float32)
