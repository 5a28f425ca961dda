"""What a target array is: its layout, its classes and how many elements each class has.

Layer 0 of the package: numpy and pandas only, never Keras. Every other module asks this one
what ``y`` is instead of guessing.

Layouts (``layout=`` overrides the guess when a shape is ambiguous):

============  ==================================  =========================================
layout        example shape                       class of an element
============  ==================================  =========================================
binary        (N,) or (N, 1) of 0/1 or bool       the value
sparse        (N,) or (N, 1) of ints or strings   the value (strings mapped to indices)
onehot        (N, K), rows summing to 1           argmax (soft labels allowed)
multilabel    (N, K) of 0/1                       each label is its own binary problem
sequence      (N, T) ints or (N, T, K) one-hot    per time step
dense         (N, H, W), (N, H, W, 1), (N,H,W,K)  per pixel (any number of spatial axes)
============  ==================================  =========================================

A dense target of 4 or more axes has a class axis last only when it is one-hot or soft along
it (rows in [0, 1] summing to 1); otherwise every element is a label, as in (N, D, H, W) label
volumes.

An (N, K) 0/1 matrix with exactly one 1 per row is both one-hot and multi-label: it is read as
one-hot unless ``layout="multilabel"``. A 2-D integer matrix with values above 1 is read as a
sparse sequence (N, T).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keras_imbalance import _files
from keras_imbalance._validation import Text, check_option, invalid

LAYOUTS = ("binary", "sparse", "onehot", "multilabel", "sequence", "dense")
# Same suffixes and order as keras.utils.image_dataset_from_directory.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_ROW_SUM_TOL = 1e-3
_CHUNK = 1 << 20
_MAX_SPAN = 50_000_000  # largest max - min of integer labels counted with a table
_FEW = 4  # class-count bound for the compare-based paths on small integer labels


@dataclass(frozen=True)
class TargetInfo:
    """Description of a target array, produced by :func:`describe`.

    Attributes
    ----------
    layout : str
        One of ``binary, sparse, onehot, multilabel, sequence, dense``.
    encoding : str
        ``"index"`` (one label value per element), ``"onehot"`` (class axis last) or
        ``"multilabel"``.
    classes : ndarray of shape (n_classes,)
        The labels as the user wrote them (ints or strings); position = class index.
    class_ids : ndarray of shape (n_classes,)
        The integer id Keras sees for each class: the label itself for integer labels, the
        position in sorted order for strings, the column for one-hot and multi-label targets.
    counts : ndarray of shape (n_classes,)
        Elements per class (masked and ignored elements excluded). For multi-label targets:
        positives per label.
    n_samples : int
        Length of the first axis.
    n_elements : int
        Elements counted (per sample, time step or pixel; multi-label: valid samples).
    shape : tuple
        Shape of ``y``.
    element_shape : tuple
        Shape of one weight per loss element: ``shape`` without the class axis
        (multi-label keeps it: one weight per label).
    """

    layout: str
    encoding: str
    classes: np.ndarray
    class_ids: np.ndarray
    counts: np.ndarray
    n_samples: int
    n_elements: int
    shape: tuple
    element_shape: tuple
    negatives: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_classes(self) -> int:
        """Number of classes (or labels, for multi-label targets)."""
        return len(self.classes)

    @property
    def imbalance_ratio(self) -> float:
        """Largest over smallest non-zero class count (multi-label: negatives over positives)."""
        if self.encoding == "multilabel":
            pos = self.counts[self.counts > 0]
            neg = self.negatives[self.counts > 0]
            return float(np.max(np.maximum(neg, pos) / np.minimum(neg, pos).clip(1)))
        present = self.counts[self.counts > 0]
        return float(present.max() / present.min())

    def counts_dict(self) -> dict:
        """``{label: count}`` in class-index order."""
        return {_py(c): int(n) for c, n in zip(self.classes, self.counts, strict=True)}


def _py(value):
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------- conversion helpers


def _as_array(y: Any, name: str = "y") -> np.ndarray:
    if hasattr(y, "detach") and hasattr(y, "cpu"):  # torch tensor
        y = y.detach().cpu().numpy()
    elif hasattr(y, "to_numpy"):  # pandas
        y = y.to_numpy()
    elif hasattr(y, "numpy") and not isinstance(y, np.ndarray):  # tf / jax tensors
        y = y.numpy()
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError):
        raise invalid(name, "an array-like of labels", y, kind=TypeError) from None
    if arr.dtype == object:
        arr = _from_object(arr, name)
    if arr.ndim == 0:
        raise invalid(name, "an array of labels with at least one axis", y)
    if arr.size == 0 or arr.shape[0] == 0:
        raise invalid(name, "a non-empty array of labels", y)
    if arr.dtype.kind not in "biufUSO":
        raise invalid(name, "numeric, boolean or string labels", arr, kind=TypeError)
    return arr


def _from_object(arr: np.ndarray, name: str) -> np.ndarray:
    import pandas as pd

    kind = pd.api.types.infer_dtype(arr.reshape(-1), skipna=False)
    if kind == "string":
        return arr
    if kind in ("mixed", "mixed-integer"):
        raise invalid(name, "labels that are all numbers or all strings", arr, kind=TypeError)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        raise invalid(name, "numeric, boolean or string labels", arr, kind=TypeError) from None


def _check_integer_valued(arr: np.ndarray, name: str) -> np.ndarray:
    """Return an integer array; float labels must hold whole numbers."""
    if arr.dtype.kind in "iu":
        return arr
    if arr.dtype.kind == "b":
        return arr.view(np.uint8)
    if not np.all(np.isfinite(arr)):
        raise invalid(name, "finite labels (no NaN or inf)", arr)
    as_int = arr.astype(np.int64)
    if not np.array_equal(as_int, arr):
        bad = arr[as_int != arr].ravel()[:3]
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected integer class labels (float labels "
            f"must be whole numbers; for one-hot or soft labels pass an (N, K) array). "
            f"Received: non-integer values such as {bad.tolist()}"
        )
    return as_int


def _element_mask(mask: Any, element_shape: tuple, name: str = "mask") -> np.ndarray | None:
    if mask is None:
        return None
    m = _as_array(mask, name) if not isinstance(mask, np.ndarray) else mask
    if m.dtype.kind == "b":
        pass
    elif m.dtype.kind in "iuf" and np.all((m == 0) | (m == 1)):
        m = m.astype(bool)
    else:
        raise invalid(name, "a boolean array (True = element counts)", mask, kind=TypeError)
    while m.ndim < len(element_shape):
        m = m[..., None]
    try:
        return np.broadcast_to(m, element_shape)
    except ValueError:
        raise invalid(
            name, f"an array broadcastable to the element shape {element_shape}", m
        ) from None


# --------------------------------------------------------------------------- layout inference


def _is_onehot_last_axis(arr: np.ndarray, valid: np.ndarray | None) -> bool:
    if arr.dtype.kind not in "biuf" or arr.shape[-1] < 2:
        return False
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        return False
    if arr.min() < 0 or arr.max() > 1:
        return False
    sums = arr.sum(axis=-1)
    ok = np.abs(sums - 1) <= _ROW_SUM_TOL
    if valid is not None:
        ok = ok | ~valid
    return bool(np.all(ok))


def _is_binary_matrix(arr: np.ndarray) -> bool:
    if arr.dtype.kind == "b":
        return True
    if arr.dtype.kind in "iu":
        return bool(arr.min() >= 0 and arr.max() <= 1)
    if arr.dtype.kind != "f":
        return False
    return bool(np.all((arr == 0) | (arr == 1)))


def _guess_layout(arr: np.ndarray, name: str = "y") -> str:
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        return "sparse"  # refined to binary once the classes are known
    if arr.ndim == 2:
        if arr.dtype.kind in "USO":
            return "sequence"
        if _is_binary_matrix(arr):
            return "onehot" if np.all(arr.sum(axis=1) == 1) else "multilabel"
        if _is_onehot_last_axis(arr, None):
            return "onehot"
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise invalid(name, "finite labels (no NaN or inf)", arr)
        if arr.dtype.kind in "iu" or np.all(np.mod(arr, 1) == 0):
            return "sequence"
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected (N, K) one-hot or soft labels whose rows "
            "sum to 1, (N, K) multi-label 0/1 values or (N, T) integer sequences. Received: an "
            f"array of shape {arr.shape} with non-integer values whose rows do not sum to 1 "
            "(pass layout=... to say what it is)"
        )
    if (
        arr.ndim == 3
        and arr.shape[-1] > 1
        and arr.dtype.kind in "biuf"
        and _looks_onehot_prefix(arr)
    ):
        if _is_onehot_last_axis(arr, None):
            return "sequence"
        if _is_binary_matrix(arr) and arr.sum(axis=-1).max() <= 1:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected an unambiguous 3-D target. Received: an "
                f"array of shape {arr.shape} of 0/1 values whose last-axis rows sum to 0 or 1: it "
                "reads as padded one-hot sequences (pass layout='sequence' and mask=...) or as "
                "(N, H, W) binary masks (pass layout='dense')"
            )
    return "dense"


def _looks_onehot_prefix(arr: np.ndarray, rows: int = 256) -> bool:
    """Cheap rejection: the first rows of the last axis are 0/1-valued and sum to 0 or 1."""
    head = arr.reshape(-1, arr.shape[-1])[:rows]
    if head.min() < 0 or head.max() > 1:
        return False
    sums = head.sum(axis=-1)
    return bool(np.all((np.abs(sums - 1) <= _ROW_SUM_TOL) | (sums == 0)))


def _contradiction(layout: str, arr: np.ndarray, expected: str, where=None) -> ValueError:
    where = where or _Where()
    if where.classes_from is not None:  # the layout came from other targets, not from the user
        return invalid(
            where.name,
            f"{expected}, the layout of {where.classes_from} ({layout})",
            Text(f"{where.label} of shape {arr.shape} and dtype {arr.dtype}"),
        )
    return ValueError(
        f"Invalid value for argument `layout`. layout={layout!r} expects {expected}. "
        f"Received: {where.label} of shape {arr.shape} and dtype {arr.dtype}"
    )


# --------------------------------------------------------------------------- describe


@dataclass
class Analysis:
    """What :func:`analyse` found in a target: the :class:`TargetInfo` plus the per-element
    arrays that the other layers work on (internal; not part of the public API)."""

    info: TargetInfo
    labels: np.ndarray | None  # element_shape: integer labels, or class positions (-1 = skipped)
    valid: np.ndarray | None  # bool of element_shape, None = everything counts
    binary_matrix: np.ndarray | None  # multi-label 0/1 matrix


_Analysis = Analysis


def describe(
    y: Any,
    *,
    layout: str | None = None,
    mask: Any = None,
    ignore_class: Any = None,
    classes: Iterable | None = None,
) -> TargetInfo:
    """Describe a target array: layout, classes and per-class counts.

    Parameters
    ----------
    y : array-like
        Labels in any layout of the module table: shape (N,), (N, 1), (N, K), (N, T),
        (N, T, K), (N, H, W), (N, H, W, 1) or (N, H, W, K). Strings, ints, bools, whole-number
        floats, one-hot or soft rows. pandas and torch/tf/jax tensors are accepted.
    layout : {'binary', 'sparse', 'onehot', 'multilabel', 'sequence', 'dense'}, optional
        Overrides the guess. Needed to read a one-per-row 0/1 matrix as multi-label.
    mask : array-like of bool, optional
        True where an element counts; broadcast to the element shape (N,), (N, T) or (N, H, W)
        (multi-label: (N,) or (N, K)). Masked elements are neither counted nor validated.
    ignore_class : label, optional
        A label value (or one-hot column) that marks elements to skip, e.g. 255 in
        segmentation masks or -1 for padding, like Keras' ``ignore_class``.
    classes : iterable, optional
        Every class the model knows, including classes absent from ``y`` (count 0). Labels in
        ``y`` outside ``classes`` raise.

    Returns
    -------
    TargetInfo

    Examples
    --------
    >>> info = describe([0, 0, 0, 1, 2, 2])
    >>> info.layout, info.counts.tolist()
    ('sparse', [3, 1, 2])
    >>> describe([[1, 0], [0, 1], [1, 1]]).layout
    'multilabel'
    """
    return analyse(y, layout=layout, mask=mask, ignore_class=ignore_class, classes=classes).info


def analyse(
    y,
    *,
    layout=None,
    mask=None,
    ignore_class=None,
    classes=None,
    name="y",
    classes_from=None,
    label=None,
) -> Analysis:
    """Read ``y`` once: its :class:`TargetInfo` and per-element labels (internal).

    The one reader of targets for the rest of the package (``weights``, ``resampling``,
    ``sampling``, ``comparison``): the same validation and messages as :func:`describe`, plus
    the arrays the callers work on. Internal: not re-exported, its fields may change.

    Parameters
    ----------
    y, layout, mask, ignore_class, classes
        As in :func:`describe`.
    name : str, default="y"
        The argument named in error messages.
    classes_from : str, optional
        Where ``classes`` and ``layout`` came from when the user did not pass them (e.g. "the
        training targets"): a mismatch is then an error of ``name``.
    label : str, optional
        The part of ``name`` that ``y`` is (e.g. "a y batch"), for messages.

    Returns
    -------
    Analysis
        ``info`` (:class:`TargetInfo`); ``labels``: integer labels per element, or class
        positions for string / one-hot layouts (-1 = masked or ignored); ``valid``: bool per
        element (None: all count); ``binary_matrix``: the 0/1 matrix of a multi-label ``y``.

    Examples
    --------
    >>> analyse(np.array(["b", "a", "b"])).labels.tolist()
    [1, 0, 1]
    """
    where = _Where(name, classes_from, label)
    if layout is not None:
        check_option("layout", layout, LAYOUTS)
    arr = _as_array(y, name)
    guessed = layout or _guess_layout(arr, name)

    if guessed in ("binary", "sparse"):
        if not (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1)):
            raise _contradiction(guessed, arr, "shape (N,) or (N, 1)", where)
        return _analyse_index(
            arr.reshape(arr.shape[0]), guessed, arr.shape, mask, ignore_class, classes, where
        )
    if guessed in ("onehot", "multilabel"):
        if arr.ndim != 2 or arr.shape[1] < 2:
            raise _contradiction(guessed, arr, "shape (N, K) with K >= 2", where)
        if guessed == "onehot":
            return _analyse_onehot(arr, "onehot", mask, ignore_class, classes, where)
        return _analyse_multilabel(arr, mask, classes, where)
    # sequence / dense
    min_ndim = 2 if guessed == "sequence" else 3
    if arr.ndim < min_ndim:
        want = "shape (N, T) or (N, T, K)" if guessed == "sequence" else "shape (N, H, W[, K])"
        raise _contradiction(guessed, arr, want, where)
    if guessed == "sequence" and arr.ndim > 3:
        raise _contradiction(guessed, arr, "shape (N, T) or (N, T, K)", where)
    last_is_class = arr.ndim > min_ndim
    if last_is_class and arr.shape[-1] == 1:
        arr = arr[..., 0]
        last_is_class = False
    if last_is_class and guessed == "dense" and not _dense_class_axis(arr, mask):
        last_is_class = False  # (N, D, H, W) label volumes: one label per voxel
    if last_is_class:
        return _analyse_onehot(arr, guessed, mask, ignore_class, classes, where)
    return _analyse_index(arr, guessed, arr.shape, mask, ignore_class, classes, where)


@dataclass(frozen=True)
class _Where:
    """Names for error messages: the target argument, and the origin of ``classes``."""

    name: str = "y"
    classes_from: str | None = None
    part: str | None = None  # e.g. "y_val" inside validation_data

    @property
    def label(self) -> str:
        return self.part or self.name

    def outside(self, labels: list, wanted: list) -> ValueError:
        if self.classes_from is None:
            return ValueError(
                f"Invalid value for argument `classes`. Expected every label found in "
                f"{self.label}. Received: classes={wanted[:20]} which lacks {labels[:10]}"
            )
        return invalid(
            self.name,
            f"labels among the classes of {self.classes_from} {wanted[:20]}",
            Text(f"{self.label} with labels {labels[:10]}"),
        )

    def width(self, k: int, wanted: list, what: str) -> ValueError:
        if self.classes_from is None:
            return invalid("classes", f"{k} {what} (one per column of {self.label})", wanted)
        return invalid(
            self.name,
            f"{len(wanted)} columns, one per class of {self.classes_from}",
            Text(f"{self.label} with {k} columns"),
        )


def _dense_class_axis(arr: np.ndarray, mask: Any) -> bool:
    """Whether the last axis of a 4-D or deeper dense target is a one-hot / soft class axis.

    It is when the array is one-hot or soft along it (rows in [0, 1] summing to 1, except where
    ``mask`` is False); otherwise every element is a label, as in (N, D, H, W) label volumes.
    A mask of the full shape of ``arr`` means one label per element.
    """
    if arr.dtype.kind not in "biuf":
        return False
    if mask is not None and np.shape(mask) == arr.shape:
        return False
    valid = None
    if mask is not None:
        try:
            valid = _element_mask(mask, arr.shape[:-1])
        except ValueError:
            return False
    if _is_onehot_last_axis(arr, valid):
        return True
    # soft rows that fail the sum check stay a class axis (and get the one-hot error);
    # whole-number values are labels, one per element
    return arr.dtype.kind == "f" and not bool(np.all(np.mod(arr, 1) == 0))


def _class_list(classes: Iterable | None) -> np.ndarray | None:
    if classes is None:
        return None
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Iterable):
        raise invalid("classes", "an iterable of class labels", classes, kind=TypeError)
    arr = np.asarray(list(classes))
    if arr.dtype == object:
        arr = _from_object(arr, "classes")
    if arr.ndim != 1 or arr.size == 0:
        raise invalid("classes", "a non-empty 1-D list of class labels", classes)
    if len(np.unique(arr)) != len(arr):
        raise invalid("classes", "distinct class labels", classes)
    if arr.dtype.kind == "f":
        arr = _check_integer_valued(arr, "classes")
    return arr


_analyse = analyse  # the name before 0.2 (other modules may still import it)


def _analyse_index(arr, layout, shape, mask, ignore_class, classes, where) -> Analysis:
    name = where.name
    element_shape = arr.shape
    valid = _element_mask(mask, element_shape)
    if ignore_class is not None:
        keep = arr != ignore_class
        valid = keep if valid is None else (valid & keep)
    wanted = _class_list(classes)
    n = int(arr.size if valid is None else np.count_nonzero(valid))
    if n == 0:
        raise invalid(name, "at least one labelled element (all are masked or ignored)", arr)

    if arr.dtype.kind in "US" or arr.dtype == object:
        codes, uniques = _factorize(arr)
        counted = codes if valid is None else codes[valid.reshape(-1)]
        counts = np.bincount(counted, minlength=len(uniques)).astype(np.int64)
        present = counts > 0
        if wanted is not None:
            counts, info_classes = _align_to_classes(
                uniques[present], counts[present], wanted, where
            )
            remap = np.full(len(uniques), -1, np.intp)
            position = {c: i for i, c in enumerate(np.asarray(wanted).tolist())}
            for i, c in enumerate(uniques.tolist()):
                remap[i] = position.get(c, -1)
        elif not present.all():  # a label seen only in masked elements
            info_classes, counts = uniques[present], counts[present]
            remap = np.cumsum(present) - 1
        else:
            info_classes, remap = uniques, None
        if remap is not None:
            codes = remap[codes]
        class_ids = np.arange(len(info_classes))
        codes = codes.reshape(arr.shape)
        if valid is not None:
            codes = np.where(valid, codes, -1)
        analysis = Analysis(None, codes, valid, None)
    else:
        ints = _check_integer_valued(arr, name)
        counts_full, offset = _int_bincount(ints if valid is None else ints[valid], name)
        present = np.flatnonzero(counts_full)
        labels_present = present + offset
        counts = counts_full[present]
        if wanted is not None:
            if wanted.dtype.kind not in "iu":
                raise invalid("classes", "integer labels (y holds integers)", wanted.tolist())
            counts, info_classes = _align_to_classes(labels_present, counts, wanted, where)
        else:
            info_classes = labels_present
        class_ids = info_classes.astype(np.int64)
        analysis = Analysis(None, ints, valid, None)

    is_01 = arr.dtype.kind not in "USO" and set(class_ids.tolist()) <= {0, 1}
    if layout == "binary" and not is_01:
        raise _contradiction("binary", arr, "labels 0/1 or bool", where)
    if layout == "sparse" and is_01:
        layout = "binary"
    info = TargetInfo(
        layout=layout,
        encoding="index",
        classes=np.asarray(info_classes),
        class_ids=np.asarray(class_ids, dtype=np.int64),
        counts=np.asarray(counts, dtype=np.int64),
        n_samples=int(shape[0]),
        n_elements=n,
        shape=tuple(shape),
        element_shape=tuple(element_shape),
    )
    analysis.info = info
    return analysis


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and sorted uniques of string labels (hash based: O(n), not a sort of n strings)."""
    import pandas as pd

    codes, uniques = pd.factorize(values.reshape(-1), sort=True)
    return codes, np.asarray(uniques, dtype=object)


def _int_bincount(ints: np.ndarray, name: str = "y") -> tuple[np.ndarray, int]:
    """Counts over [offset, max] and the offset (the minimum label when it is negative)."""
    flat = ints.reshape(-1)
    if flat.size == 0:
        return np.zeros(0, np.int64), 0
    if flat.dtype == np.intp and int(flat.max()) <= _MAX_SPAN:
        try:
            return np.bincount(flat), 0
        except ValueError:  # negative labels: offset below
            pass
    lo, hi = int(flat.min()), int(flat.max())
    offset = min(lo, 0)
    if hi - offset > _MAX_SPAN:  # checked before allocating the table (1e12 would not fit)
        raise invalid(
            name,
            f"integer class labels spanning at most {_MAX_SPAN:,} values (re-index them, e.g. "
            "with np.unique(y, return_inverse=True))",
            Text(f"labels from {lo} to {hi}"),
        )
    counts = np.zeros(hi - offset + 1, np.int64)
    if len(counts) <= _FEW and flat.dtype.itemsize <= 2:
        # a few classes in small ints (segmentation masks): compare-and-count beats bincount's cast
        for start in range(0, flat.size, _CHUNK):
            part = flat[start : start + _CHUNK]
            for value in range(lo, hi + 1):
                counts[value - offset] += np.count_nonzero(part == value)
        return counts, offset
    for index in _chunks(flat, offset):
        counts += np.bincount(index, minlength=len(counts))
    return counts, offset


def _chunks(flat: np.ndarray, offset: int):
    """Yield ``flat - offset`` as intp, a cache-sized chunk at a time (no full-size cast)."""
    buf = np.empty(min(_CHUNK, flat.size), np.intp)
    for start in range(0, flat.size, _CHUNK):
        part = flat[start : start + _CHUNK]
        out = buf[: part.size]
        np.subtract(part, offset, out=out, casting="unsafe")
        yield out


def _align_to_classes(labels_present, counts, wanted, where):
    """Counts re-ordered to ``wanted`` (absent classes get 0); labels outside ``wanted`` raise."""
    position = {(_py(c)): i for i, c in enumerate(wanted)}
    unknown = [_py(c) for c in labels_present if _py(c) not in position]
    if unknown:
        raise where.outside(unknown, [_py(c) for c in wanted])
    out = np.zeros(len(wanted), np.int64)
    for label, count in zip(labels_present, counts, strict=True):
        out[position[_py(label)]] = count
    return out, wanted


def _analyse_onehot(arr, layout, mask, ignore_class, classes, where) -> Analysis:
    name = where.name
    element_shape = arr.shape[:-1]
    k = arr.shape[-1]
    valid = _element_mask(mask, element_shape)
    if arr.dtype.kind not in "biuf":
        raise _contradiction(layout, arr, "numeric one-hot rows", where)
    if not _is_onehot_last_axis(arr, valid):
        sums = arr.sum(axis=-1)
        bad = np.abs(sums - 1) > _ROW_SUM_TOL
        if valid is not None:
            bad &= valid
        where = np.argwhere(bad)[:3].tolist() if bad.any() else "values outside [0, 1]"
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one-hot or soft label rows in [0, 1] "
            f"summing to 1 along the last axis (K={k}). Received: shape {arr.shape}; offending "
            f"element(s) at {where} (pass mask=... for padding rows, or layout='multilabel')"
        )
    labels = np.argmax(arr, axis=-1)
    if ignore_class is not None:
        ig = int(ignore_class)
        if not 0 <= ig < k:
            raise invalid("ignore_class", f"a column index in [0, {k - 1}]", ignore_class)
        keep = labels != ig
        valid = keep if valid is None else (valid & keep)
    wanted = _class_list(classes)
    if wanted is not None and len(wanted) != k:
        raise where.width(k, wanted.tolist(), "class labels")
    counted = labels if valid is None else labels[valid]
    if counted.size == 0:
        raise invalid(name, "at least one labelled element (all are masked or ignored)", arr)
    counts = np.bincount(counted.ravel(), minlength=k).astype(np.int64)
    info = TargetInfo(
        layout=layout,
        encoding="onehot",
        classes=np.arange(k) if wanted is None else wanted,
        class_ids=np.arange(k, dtype=np.int64),
        counts=counts,
        n_samples=int(arr.shape[0]),
        n_elements=int(counted.size),
        shape=tuple(arr.shape),
        element_shape=tuple(element_shape),
    )
    return Analysis(info, labels, valid, None)


def _analyse_multilabel(arr, mask, classes, where) -> Analysis:
    if not _is_binary_matrix(arr):
        raise _contradiction("multilabel", arr, "an (N, K) matrix of 0/1 values", where)
    matrix = arr.astype(bool)
    valid = _element_mask(mask, arr.shape)
    pos = matrix.sum(axis=0) if valid is None else (matrix & valid).sum(axis=0)
    total = np.full(arr.shape[1], arr.shape[0]) if valid is None else valid.sum(axis=0)
    wanted = _class_list(classes)
    if wanted is not None and len(wanted) != arr.shape[1]:
        raise where.width(arr.shape[1], wanted.tolist(), "label names")
    info = TargetInfo(
        layout="multilabel",
        encoding="multilabel",
        classes=np.arange(arr.shape[1]) if wanted is None else wanted,
        class_ids=np.arange(arr.shape[1], dtype=np.int64),
        counts=pos.astype(np.int64),
        n_samples=int(arr.shape[0]),
        n_elements=int(arr.shape[0] if valid is None else np.count_nonzero(valid.any(axis=1))),
        shape=tuple(arr.shape),
        element_shape=tuple(arr.shape),
        negatives=(total - pos).astype(np.int64),
    )
    return Analysis(info, None, valid, matrix)


# --------------------------------------------------------------------------- class_counts


def class_counts(
    data: Any,
    *,
    layout: str | None = None,
    mask: Any = None,
    ignore_class: Any = None,
    classes: Iterable | None = None,
    target: str | None = None,
    progress: Any = None,
) -> dict:
    """Count elements per class, from an array or streamed from batches or files.

    Parameters
    ----------
    data : array-like, iterable of batches, PyDataset, DataLoader, tf.data.Dataset or path
        - labels in any layout of :func:`describe`;
        - an iterable of batches ``(x, y)`` or ``(x, y, sample_weight)`` (a list of such
          tuples, a Python generator, a ``torch.utils.data.DataLoader``, a
          ``tf.data.Dataset``), or a
          ``keras.utils.PyDataset`` (indexed ``0 .. len - 1``); only ``y`` is read;
        - a directory with one sub-folder per class: image files are counted, not loaded, with
          the suffixes and class order of ``keras.utils.image_dataset_from_directory``;
        - a Parquet file, a directory of Parquet files or a ``pyarrow.dataset.Dataset``
          (``target`` names the label column; only it is read, one row group at a time), a
          ``numpy.memmap`` (read in chunks), or a Dask DataFrame / Series (``value_counts``
          computed on its scheduler): memory O(classes + one row group).
    layout, mask, ignore_class, classes
        As in :func:`describe` (``mask`` only for array input).
    target : str, optional
        The label column of a Parquet source or Dask DataFrame.
    progress : callable, optional
        For a Parquet source or memmap: called as ``progress(rows_read, total_rows)`` after
        each row group / chunk (``total_rows`` None when unknown), e.g. to draw a progress bar.

    Returns
    -------
    dict
        ``{label: count}`` in class-index order. Multi-label: ``{label: positives}``.

    Examples
    --------
    >>> class_counts(["cat", "dog", "cat"])
    {'cat': 2, 'dog': 1}
    >>> class_counts(iter([(None, [0, 1]), (None, [1, 1])]))
    {0: 1, 1: 3}
    >>> import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> pq.write_table(pa.table({"x": [0.1, 0.2, 0.3], "label": ["b", "a", "b"]}), path)
    >>> class_counts(path, target="label")
    {'a': 1, 'b': 2}
    """
    return _count(
        data,
        "data",
        layout=layout,
        mask=mask,
        ignore_class=ignore_class,
        classes=classes,
        target=target,
        progress=progress,
    )


def _count(
    data: Any,
    name: str,
    *,
    layout=None,
    mask=None,
    ignore_class=None,
    classes=None,
    target=None,
    progress=None,
):
    """:func:`class_counts`, with errors naming the caller's argument ``name``."""
    if target is not None or _files.is_label_source(data):
        if mask is not None:
            raise invalid("mask", "None for labels read from files (filter the rows instead)", mask)
        return _file_counts(data, target, layout, ignore_class, classes, name, progress)
    if isinstance(data, (str, bytes, os.PathLike)):
        path = os.fsdecode(data)
        if os.path.isdir(path):
            return _directory_counts(path, classes, name)
        what = "a file" if os.path.exists(path) else "no such directory"
        raise invalid(
            name,
            "labels, batches or a directory with one sub-folder per class",
            Text(f"{what}: {path!r}"),
            kind=TypeError if os.path.exists(path) else ValueError,
        )
    if isinstance(data, Mapping):
        raise invalid(
            name,
            "labels, batches or a directory (a mapping of counts is already counts)",
            data,
            kind=TypeError,
        )
    batches = _batch_source(data, name)
    if batches is None:
        return analyse(
            data, layout=layout, mask=mask, ignore_class=ignore_class, classes=classes, name=name
        ).info.counts_dict()
    if mask is not None:
        raise invalid("mask", "None for streamed data (mask the batches instead)", mask)
    return _streamed_counts(batches, layout, ignore_class, classes, name)


def _file_counts(data, target, layout, ignore_class, classes, name, progress=None) -> dict:
    """Counts of a Parquet / memmap / Dask source: per-piece tallies, classes read once."""
    pieces = _files.label_pieces(data, target, name, progress)
    first = next(pieces, None)
    if first is None:
        raise invalid(name, "at least one row", Text("no rows"))
    pieces = itertools.chain([first], pieces)
    if first[0] == "array":  # one-hot / multi-label rows: read like batches
        return _streamed_counts((p for _, p in pieces), layout, ignore_class, classes, name)
    values, counts = _files.merge_tallies(p for _, p in pieces)
    # The distinct values, analysed as labels, give the classes and their order.
    analysis = _analyse(
        values, layout=layout, ignore_class=ignore_class, classes=classes, name=name
    )
    info = analysis.info
    keep = np.ones(len(values), bool) if analysis.valid is None else analysis.valid
    if values.dtype.kind in "USO":
        position = analysis.labels  # already class positions
    else:
        index = {_py(c): i for i, c in enumerate(info.classes)}
        position = np.array([index.get(_py(v), -1) for v in analysis.labels])
    total = np.zeros(len(info.classes), np.int64)
    np.add.at(total, position[keep], counts[keep])
    return {_py(c): int(n) for c, n in zip(info.classes, total, strict=True)}


def _is_batch(item: Any) -> bool:
    """An ``(x, y)`` or ``(x, y, sample_weight)`` batch rather than a row of labels."""
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        return False
    y = item[1]
    if not (hasattr(y, "shape") or isinstance(y, (list, tuple))) or np.ndim(y) == 0:
        return False  # a row of labels such as (0, 1)
    return isinstance(item, tuple) or any(hasattr(part, "shape") for part in item)


def _batch_source(data: Any, name: str = "data"):
    """An iterator of y batches when ``data`` is a stream, else None (plain array)."""
    if isinstance(data, (list, tuple)) and data and all(_is_batch(item) for item in data):
        # a list of (x, y) batches, as weighted() accepts (not a nested list of labels)
        return (_y_of(b, name) for b in data)
    if (
        isinstance(data, (np.ndarray, list, tuple))
        or hasattr(data, "__array__")
        or hasattr(data, "to_numpy")
    ):
        return None
    if hasattr(data, "as_numpy_iterator"):  # tf.data.Dataset
        return (_y_of(b, name) for b in data.as_numpy_iterator())
    if _is_pydataset(data):
        return (_y_of(data[i], name) for i in range(len(data)))
    if isinstance(data, Iterable):
        return (_y_of(b, name) for b in data)
    raise invalid(
        name,
        "labels, an iterable of (x, y) batches, a PyDataset, DataLoader, tf.data.Dataset or directory",
        data,
        kind=TypeError,
    )


def _is_pydataset(obj: Any) -> bool:
    return any(c.__name__ == "PyDataset" for c in type(obj).__mro__)


def _y_of(batch: Any, name: str = "data"):
    if isinstance(batch, Mapping):
        raise invalid(
            name,
            "batches shaped (x, y) or (x, y, sample_weight)",
            Text(f"a dict batch with keys {list(batch)}"),
            kind=TypeError,
        )
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise invalid(
            name,
            "batches shaped (x, y) or (x, y, sample_weight)",
            type(batch).__name__,
            kind=TypeError,
        )
    return batch[1]


def _streamed_counts(batches, layout, ignore_class, classes, name="data") -> dict:
    total: dict = {}
    seen_layout = layout
    wanted = None if classes is None else list(classes)
    any_batch = False
    first = None  # the layout of batch 0, when the layout comes from it and not from the user
    for i, y in enumerate(batches):
        try:
            info = analyse(
                y,
                layout=seen_layout,
                ignore_class=ignore_class,
                classes=wanted,
                name=f"{name} (a y batch)",
            ).info
        except ValueError:
            mixed = (
                None if first is None else _mixed_layouts(y, first, i, ignore_class, wanted, name)
            )
            if mixed is None:
                raise
            raise mixed from None
        if seen_layout is None:
            first = info.layout
            seen_layout = "sparse" if info.layout == "binary" else info.layout
        any_batch = True
        for label, count in info.counts_dict().items():
            total[label] = total.get(label, 0) + count
    if not any_batch:
        raise invalid(name, "at least one batch", Text("an empty stream"))
    if wanted is not None:
        return {_py(c): total.get(_py(c), 0) for c in wanted}
    try:
        return dict(sorted(total.items()))
    except TypeError:
        return total


def _mixed_layouts(y, first: str, i: int, ignore_class, classes, name: str):
    """The error for batch ``i`` when it does not take the layout ``first`` that batch 0 had
    (read from the data, not given by the user): both layouts named. Raises batch ``i``'s own
    problem when it has none; None when it has the same layout (another problem)."""
    own = analyse(
        y, ignore_class=ignore_class, classes=classes, name=f"{name} (y batch {i})"
    ).info.layout
    if {own, first} <= {"binary", "sparse"} or own == first:
        return None
    return invalid(
        name,
        "y batches of one layout (give every batch the same layout, or pass `layout=` to "
        "force one where a batch can be read either way)",
        Text(f"batches whose batch 0 has layout {first!r} and batch {i} has layout {own!r}"),
    )


def _directory_counts(path, classes, name="data") -> dict:
    return {c: len(files) for c, files in image_index(path, classes, name).items()}


def image_index(path, classes=None, name="data") -> dict:
    """``{class: [image file paths]}`` of a class-per-folder directory, as Keras indexes it.

    The layout and order of ``keras.utils.image_dataset_from_directory``: the class names are
    the sorted sub-folder names (those starting with a dot are skipped), each class folder is
    walked recursively (links to folders are not followed; folders in sorted order, files
    sorted within a folder), and a file counts when its lower-cased name ends in one of
    :data:`IMAGE_SUFFIXES`. ``classes`` picks and orders the classes (all must exist).
    Files are listed, not opened.
    """
    path = os.fspath(path)
    names = sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))
    if classes is not None:
        missing = [c for c in classes if c not in names]
        if missing:
            raise invalid("classes", f"sub-folders of {path!r}", missing)
        names = list(classes)
    if not names:
        raise invalid(name, "a directory with one sub-folder per class", path)
    index = {}
    for label in names:
        folder = os.path.join(path, label)
        files = []
        for root, _dirs, found in sorted(os.walk(folder), key=lambda entry: entry[0]):
            files += [
                os.path.join(root, f) for f in sorted(found) if f.lower().endswith(IMAGE_SUFFIXES)
            ]
        index[label] = files
    return index
