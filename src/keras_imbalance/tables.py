"""Raw tables as users have them: column roles, one check for every problem, and an encoder.

Layer 1: pandas and scikit-learn (imported when an encoder is fitted), never Keras.

- :func:`check_table` reads a DataFrame once: which columns are numeric, which categorical,
  which are dropped (ids, free text, dates), and every problem that would stop a model
  (nested cells, a column entirely missing, a categorical column with a single value, inf,
  mixed or unhashable values), all reported in one error. pandas only: no scikit-learn import.
- :class:`TableEncoder` turns the columns of a :class:`TableSpec` into numbers, fitted on
  training rows only: imputed (and standardised) numeric columns with missing indicators,
  categorical columns as integer codes (:meth:`TableEncoder.to_mixed`, what SMOTE-NC
  interpolates) or one-hot (:meth:`TableEncoder.to_model`, what a Keras model takes), and back
  (:meth:`TableEncoder.from_mixed`, for synthetic rows).

Roles
-----
=============  ================================================================================
numeric        int, unsigned, float and nullable ``Int64`` / ``Float64`` columns; object columns
               whose values are all numbers
categorical    ``bool`` / ``boolean``, strings (``object``, ``str``, ``string``), ``category``
dropped        a non-numeric column with more than :data:`HIGH_CARDINALITY_MIN` distinct values
               that are more than :data:`HIGH_CARDINALITY_SHARE` of its non-missing values (an
               id, a free-text field); date and time columns. Named in a UserWarning.
=============  ================================================================================
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keras_imbalance._validation import Text, check_number, invalid

__all__ = [
    "HIGH_CARDINALITY_MIN",
    "HIGH_CARDINALITY_SHARE",
    "ID_MIN_ROWS",
    "MIN_FREQUENCY",
    "TableEncoder",
    "TableSpec",
    "check_table",
    "id_columns",
    "split_target",
]

#: A non-numeric column is dropped as an id or free text when it has more than this many
#: distinct values ...
HIGH_CARDINALITY_MIN = 50
#: ... and more than this share of its non-missing values are distinct.
HIGH_CARDINALITY_SHARE = 0.5
#: Default ``min_frequency`` of :class:`TableEncoder`: a category seen in fewer training rows
#: is grouped with the other infrequent ones into one code.
MIN_FREQUENCY = 5
#: An integer column whose values are all distinct reads as an id from this many rows on (in
#: a smaller table distinct values are no evidence).
ID_MIN_ROWS = 20

_NESTED = (list, tuple, dict, set, frozenset, np.ndarray)
_ARROW_NESTED = ("list", "large_list", "fixed_size_list", "struct", "map", "dictionary")
_NUMBER_KINDS = ("integer", "floating", "mixed-integer-float", "decimal")
_TEXT_KINDS = ("string", "bytes", "boolean")
_TIME_KINDS = ("datetime64", "datetime", "date", "time", "timedelta64", "timedelta", "period")
# problems that are about the type of the values (TypeError when they are the only ones)
_TYPE_PROBLEMS = ("nested", "unhashable", "mixed", "dtype")
_SHOWN = 6  # column names shown per kind of problem
_ID_NAMES = ("id", "rownames", "index")  # besides ``Unnamed: N`` and ``*_id``


@dataclass(frozen=True)
class TableSpec:
    """The roles of a table's columns, as :func:`check_table` found them.

    Attributes
    ----------
    numeric : tuple
        Numeric columns, in table order.
    categorical : tuple
        Categorical columns (strings, ``category``, booleans), in table order.
    dropped : dict
        ``{column: reason}`` of the columns a model does not use (ids, free text, dates).
    columns : tuple
        Every column of the table, in order (the three groups above together).
    """

    numeric: tuple
    categorical: tuple
    dropped: dict = field(default_factory=dict)
    columns: tuple = ()

    def __hash__(self) -> int:  # the dict of dropped columns, hashed by its items
        return hash((self.numeric, self.categorical, tuple(self.dropped.items()), self.columns))

    @property
    def features(self) -> tuple:
        """The columns a model uses: numeric, then categorical, each in table order."""
        return self.numeric + self.categorical


# --------------------------------------------------------------------------- check_table


def check_table(frame, *, argument: str = "x") -> TableSpec:
    """Check a raw table and find the role of each column; report every problem at once.

    Parameters
    ----------
    frame : pandas.DataFrame
        Feature columns only (no target). Missing values (``NaN``, ``None``, ``pd.NA``) are
        allowed anywhere except in a column that is entirely missing.
    argument : str, default="x"
        The argument name used in messages.

    Returns
    -------
    TableSpec
        Numeric, categorical and dropped columns. Dropped columns (a non-numeric column with
        more than :data:`HIGH_CARDINALITY_MIN` distinct values making up more than
        :data:`HIGH_CARDINALITY_SHARE` of its non-missing values, such as an id or a free-text
        field; date and time columns) are named in a UserWarning.

    Raises
    ------
    TypeError
        ``frame`` is not a DataFrame, or every problem found is about value types (cells
        holding lists, dicts or arrays, as Parquet list / struct columns do; unhashable or
        mixed-type values in an object column; an unsupported dtype).
    ValueError
        Any other problem: no rows or no columns, duplicate column names, a column entirely
        missing, a categorical column whose rows all hold one value (missing counts as a value
        of its own), inf in a numeric column, no column left to use. One message lists every
        problem of every column.

    Notes
    -----
    pandas only, vectorised per column (``infer_dtype`` and ``nunique``): about 0.1 s for
    100,000 rows and 20 columns (docs/benchmarks.md). The roles depend on the column types and
    on the number of distinct values only.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [31, None, 52], "city": ["Lyon", "Oslo", None]})
    >>> check_table(frame)
    TableSpec(numeric=('age',), categorical=('city',), dropped={}, columns=('age', 'city'))
    """
    import pandas as pd

    if not isinstance(argument, str):
        raise invalid("argument", "a str", argument, kind=TypeError)
    if not isinstance(frame, pd.DataFrame):
        raise invalid(argument, "a pandas DataFrame of feature columns", frame, kind=TypeError)
    problems: dict[str, list] = {}
    n = len(frame)
    if n == 0:
        problems.setdefault("rows", []).append("no rows")
    if frame.shape[1] == 0:
        problems.setdefault("rows", []).append("no columns")
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        problems.setdefault("duplicate", []).extend(repr(c) for c in duplicated)
    numeric, categorical, dropped = [], [], {}
    for i, column in enumerate(frame.columns):
        if n == 0:
            break
        role, detail = _role(frame.iloc[:, i], n)
        if role in ("numeric", "categorical"):
            (numeric if role == "numeric" else categorical).append(column)
        elif role == "dropped":
            dropped[column] = detail
        else:
            problems.setdefault(role, []).append(f"{column!r}{detail}")
    if n and frame.shape[1] and not (numeric or categorical) and not problems:
        problems.setdefault("rows", []).append(
            f"no column left to use (every column dropped: {list(dropped)[:_SHOWN]})"
        )
    if problems:
        kind = TypeError if set(problems) <= set(_TYPE_PROBLEMS) else ValueError
        raise invalid(
            argument,
            "a table of numeric and categorical columns (no lists or dicts in cells, no "
            "column entirely missing, no categorical column with a single value, no inf)",
            Text(_describe_problems(problems, frame.shape)),
            kind=kind,
        )
    if dropped:
        reasons = _listing([f"{c!r}: {r}" for c, r in dropped.items()], sep="; ")
        warnings.warn(
            f"`{argument}`: dropped {len(dropped)} column(s) a model cannot use: {reasons} "
            f"(a non-numeric column with more than {HIGH_CARDINALITY_MIN} distinct values, "
            f"more than {HIGH_CARDINALITY_SHARE:.0%} of its non-missing values, reads as an id "
            "or free text; encode it yourself to keep it)",
            UserWarning,
            stacklevel=2,
        )
    return TableSpec(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        dropped=dropped,
        columns=tuple(frame.columns),
    )


_PROBLEM_WORDS = {
    "rows": "",
    "duplicate": "duplicate column names",
    "nested": "lists, dicts or arrays in cells (nested Parquet types; flatten them)",
    "unhashable": "unhashable values",
    "mixed": "mixed value types (make them one type)",
    "dtype": "unsupported types",
    "missing": "entirely missing",
    "single": "a single value in every row (nothing to learn)",
    "inf": "inf values",
}


def _describe_problems(problems: dict, shape) -> str:
    parts = []
    for kind, words in _PROBLEM_WORDS.items():
        items = problems.get(kind)
        if not items:
            continue
        shown = _listing(items)
        parts.append(shown if not words else f"{words}: {shown}")
    return f"a table of shape {tuple(shape)} with " + "; ".join(parts)


def _listing(items, *, sep: str = ", ", limit: int = _SHOWN) -> str:
    """The first ``limit`` items joined by ``sep``, then how many more there are."""
    items = [str(item) for item in items]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return sep.join(items[:limit]) + more


def _role(s, n: int) -> tuple[str, str]:
    """(role, detail) of one column: numeric, categorical, dropped, or a problem kind."""
    import pandas as pd
    from pandas.api import types

    dtype = s.dtype
    if isinstance(dtype, pd.ArrowDtype) and str(dtype.pyarrow_dtype).startswith(_ARROW_NESTED):
        return "nested", ""
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return "dropped", "dates or times (convert them to numbers to use them)"
    if isinstance(dtype, pd.PeriodDtype):
        return "dropped", "dates or times (convert them to numbers to use them)"
    missing = int(s.isna().sum())
    if missing == n:
        return "missing", ""
    if types.is_bool_dtype(dtype):
        return _categorical(s, n, missing)
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical(s, n, missing)
    if types.is_complex_dtype(dtype):
        return "dtype", f" ({dtype})"
    if types.is_numeric_dtype(dtype):
        return _numeric(s)
    is_object = types.is_object_dtype(dtype)
    if types.is_string_dtype(dtype) and not is_object:  # pandas' str / string dtypes
        return _categorical(s, n, missing)
    if not is_object:
        return "dtype", f" ({dtype})"
    kind = types.infer_dtype(s, skipna=True)
    if kind in _TEXT_KINDS:
        return _categorical(s, n, missing)
    if kind in _NUMBER_KINDS:
        try:
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError, ArithmeticError):
            return "mixed", ""
        return _numeric(values)
    if kind in _TIME_KINDS:
        return "dropped", "dates or times (convert them to numbers to use them)"
    return _object_problem(s)


def _numeric(values) -> tuple[str, str]:
    """A numeric Series (or float64 array): numeric, or the count of its inf values."""
    if values.dtype.kind == "f":
        arr = (
            values
            if isinstance(values, np.ndarray)
            else values.to_numpy(dtype=np.float64, na_value=np.nan)
        )
        inf = int(np.isinf(arr).sum())
        if inf:
            return "inf", f" ({inf})"
    return "numeric", ""


def _categorical(s, n: int, missing: int) -> tuple[str, str]:
    try:
        distinct = int(s.nunique(dropna=True))
    except TypeError:
        return "unhashable", ""
    present = n - missing
    if distinct > HIGH_CARDINALITY_MIN and distinct > HIGH_CARDINALITY_SHARE * present:
        return "dropped", f"{distinct} distinct values in {present} rows"
    if distinct + (missing > 0) < 2:
        value = s.dropna().iloc[0]
        return "single", f" ({_plain(value)!r})"
    return "categorical", ""


def _object_problem(s) -> tuple[str, str]:
    """Why an object column of mixed kinds cannot be used (a Python pass over its values)."""
    values = s.dropna()
    nested = values.map(lambda v: isinstance(v, _NESTED) or hasattr(v, "__array__"))
    if nested.any():
        return "nested", ""
    kinds = values.map(lambda v: type(v).__name__)
    try:
        values.map(hash)
    except TypeError:
        bad = values[values.map(lambda v: not _hashable(v))]
        return "unhashable", f" ({type(bad.iloc[0]).__name__})"
    names = sorted(kinds.unique().tolist())
    return "mixed", f" ({' and '.join(names[:3])})"


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------- split_target


def id_columns(frame) -> dict:
    """The columns of ``frame`` that read as row ids: ``{column: reason}``, in table order.

    A column is an id when its name is ``id``, ``rownames`` (R's ``write.csv``), ``index``
    (``reset_index``), ``Unnamed: N`` (what ``DataFrame.to_csv`` writes for the index) or ends
    in ``_id`` (any case), or when, in a table of at least :data:`ID_MIN_ROWS` rows, it holds
    integers that are all distinct and either consecutive (a row number, in any order) or
    increasing row by row (numbers handed out in turn). Distinct integers that are neither
    (a population, an income) are measurements and stay. Used as a feature, an id lets a model
    learn the row order (and ``resample`` would copy it into duplicate ids).

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    dict
        ``{column: reason}``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"Unnamed: 0": [0, 1, 2], "age": [31, 40, 31]})
    >>> id_columns(frame)
    {'Unnamed: 0': 'the name of an id column'}
    """
    import re

    import pandas as pd
    from pandas.api import types

    if not isinstance(frame, pd.DataFrame):
        raise invalid("frame", "a pandas DataFrame", frame, kind=TypeError)
    out = {}
    for i, column in enumerate(frame.columns):
        name = str(column).strip()
        low = name.lower()
        if low in _ID_NAMES or low.endswith("_id") or re.fullmatch(r"Unnamed: \d+", name):
            out[column] = "the name of an id column"
            continue
        values = frame.iloc[:, i]
        if (
            len(values) >= ID_MIN_ROWS
            and types.is_integer_dtype(values.dtype)
            and not types.is_bool_dtype(values.dtype)
            and not values.isna().any()
            and values.is_unique
        ):
            n = len(values)
            if int(values.max()) - int(values.min()) == n - 1:
                out[column] = f"the {n} consecutive integers {values.min()}..{values.max()}"
            elif values.is_monotonic_increasing:
                out[column] = f"{n} distinct integers, increasing row by row"
    return out


def split_target(
    frame,
    target,
    *,
    keep_id_columns: bool = False,
    normalize_labels: bool = False,
    argument: str = "frame",
):
    """The feature columns and the label column of a raw table, checked as a file needs.

    What a table read from a file can hide, and what this does about it:

    - **Duplicate column names** (``a,target,target``): an error naming them. ``pandas.read_csv``
      renames the second one ``target.1``, so check the file's header as well (the command
      line does).
    - **Id columns** (:func:`id_columns`: ``Unnamed: 0``, ``rownames``, ``*_id``, a column of
      distinct integers): dropped with a UserWarning naming them, unless ``keep_id_columns``.
    - **Labels written several ways**: labels that differ only by surrounding whitespace, by
      case, or in the writing of one number (``'ok'`` / ``'ok '``, ``'Yes'`` / ``'yes'``,
      ``'01'`` / ``'1'``) are an error listing every group, unless ``normalize_labels``, which
      gives each group its most frequent spelling. Read the label column as text
      (``pd.read_csv(path, dtype={target: str})``) so that ``'01'`` and ``'1'`` reach this
      check: text labels that are all plain numbers become numbers afterwards.
    - Missing labels, and a single class, are errors.

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole table, label column included.
    target : str
        The name of the label column.
    keep_id_columns : bool, default=False
        Keep the id columns as features.
    normalize_labels : bool, default=False
        Merge the labels that differ only by whitespace, case or the writing of a number.
    argument : str, default="frame"
        The argument name used in messages.

    Returns
    -------
    (x, y) : (pandas.DataFrame, pandas.Series)
        The feature columns (id columns dropped) and the labels (named ``target``).

    Raises
    ------
    TypeError
        ``frame`` is not a DataFrame.
    ValueError
        Duplicate column names, ``target`` not a column or not one column, missing labels, a
        single class, or labels written several ways (without ``normalize_labels``).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0], "label": ["01", "2", "2"]})
    >>> x, y = split_target(frame, "label")
    >>> list(x.columns), y.tolist()
    (['size'], [1, 2, 2])
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise invalid(argument, "a pandas DataFrame", frame, kind=TypeError)
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        raise invalid(
            argument,
            "a table whose column names are all different",
            Text(f"a table repeating the column(s) {_listing(repr(c) for c in duplicated)}"),
        )
    if isinstance(target, str) and target not in frame.columns:
        raise invalid(
            "target",
            f"a column of the table ({_listing(repr(c) for c in frame.columns)})",
            target,
        )
    if not isinstance(target, str):
        raise invalid("target", "the name of one column (a str)", target, kind=TypeError)
    y = frame[target]
    if y.isna().any():
        raise invalid(
            "target",
            "a label in every row",
            Text(f"{int(y.isna().sum())} missing labels in column {target!r}"),
        )
    y = _checked_labels(y, target, normalize_labels)
    if y.nunique() < 2:
        raise invalid(
            "target",
            "a column with at least 2 classes (nothing to balance)",
            Text(f"a single class ({_plain(y.iloc[0])!r}) in column {target!r}"),
        )
    x = frame.drop(columns=[target])
    if not keep_id_columns:
        ids = id_columns(x)
        if ids:
            reasons = _listing([f"{c!r} ({r})" for c, r in ids.items()], sep="; ")
            warnings.warn(
                f"`{argument}`: dropped {len(ids)} id column(s): {reasons}; an id is no "
                "feature (keep_id_columns=True, or --keep-id-columns, keeps them)",
                UserWarning,
                stacklevel=2,
            )
            x = x.drop(columns=list(ids))
    return x, y


def _checked_labels(y, target, normalize: bool):
    """Labels written several ways are an error (or merged); text labels that are all plain
    numbers become numbers."""
    import pandas as pd
    from pandas.api import types

    if not (types.is_object_dtype(y.dtype) or types.is_string_dtype(y.dtype)):
        return y  # numbers, booleans, categories: one spelling each
    if isinstance(y.dtype, pd.CategoricalDtype):
        return y
    if not all(isinstance(v, str) for v in y.unique()):
        return y  # mixed Python objects: targets.describe judges them
    counts = y.value_counts(sort=False)
    as_numbers = pd.to_numeric(pd.Series(counts.index), errors="coerce")
    keys = [
        ("number", float(n)) if not pd.isna(n) else ("text", str(v).strip().casefold())
        for v, n in zip(counts.index, as_numbers, strict=True)
    ]
    groups: dict = {}
    for key, (spelling, count) in zip(keys, counts.items(), strict=True):
        groups.setdefault(key, []).append((spelling, int(count)))
    several = [g for g in groups.values() if len(g) > 1]
    if several and not normalize:
        shown = _listing([" / ".join(f"{s!r} ({c} rows)" for s, c in g) for g in several], sep="; ")
        raise invalid(
            "target",
            "each class written one way (labels that differ only by surrounding spaces, case "
            "or the writing of a number are ambiguous: fix the file, or pass "
            "normalize_labels=True / --normalize-labels to merge each group into its most "
            "frequent spelling)",
            Text(f"column {target!r} with {shown}"),
        )
    if several:
        rename = {}
        for group in several:
            best = max(group, key=lambda sc: (sc[1], -group.index(sc)))[0]
            rename.update({s: best for s, _ in group})
        y = y.map(lambda v: rename.get(v, v)).rename(y.name)
    if not as_numbers.isna().any():
        return pd.to_numeric(y).rename(y.name)
    return y


# --------------------------------------------------------------------------- TableEncoder


class TableEncoder:
    """Numbers for a raw table, fitted on training rows only (scikit-learn transformers).

    Two representations of the same rows:

    - **mixed** (:meth:`to_mixed`, float64): the numeric columns imputed with their training
      median (:class:`~sklearn.impute.SimpleImputer`) and, with ``standardize``, standardised
      (:class:`~sklearn.preprocessing.StandardScaler`), then one 0/1 missing indicator per
      numeric column that had missing values in the training rows, then one column of integer
      codes per categorical column (:class:`~sklearn.preprocessing.OrdinalEncoder`). This is
      what SMOTE-NC interpolates (:attr:`categorical_indices` are the code columns).
    - **model** (:meth:`to_model`, float32): the same, with each code column one-hot encoded:
      what a Keras model takes. :meth:`transform` is ``to_model(to_mixed(frame))``.

    Codes of categorical column ``j``, with ``f_j`` frequent categories (seen in at least
    ``min_frequency`` training rows, at most ``max_categories - 1`` of them), in sorted order:

    ==============  =================================================================
    ``0 .. f_j-1``  the frequent categories
    ``f_j``         *other*: the infrequent categories of the training rows, grouped,
                    and categories never seen in the training rows
    ``f_j + 1``     *missing*
    ==============  =================================================================

    The one-hot block of column ``j`` has one column per code seen in the training rows (the
    frequent categories, *other* if infrequent ones were grouped, *missing* if values were
    missing); a code never seen in training (an unseen category when nothing was grouped, a
    missing value when none was) gets a row of zeros, like scikit-learn's
    ``OneHotEncoder(handle_unknown="ignore")``.

    Parameters
    ----------
    spec : TableSpec
        What :func:`check_table` returned for the whole table.
    standardize : bool, default=True
        Standardise the imputed numeric columns (mean 0, standard deviation 1 on the training
        rows; a constant column is only centred).
    min_frequency : int, float or None, default=MIN_FREQUENCY (5)
        Categories seen in fewer training rows (or a smaller share of them, for a float in
        (0, 1)) are grouped into *other*; None keeps every category.
    max_categories : int or None, default=None
        At most this many codes per column before *missing*, *other* included.

    Attributes
    ----------
    n_features_out : int
        Columns of :meth:`to_model`.
    feature_names_out : list of str
        Their names: numeric columns, ``"<col> missing"`` indicators, ``"<col>=<value>"``,
        ``"<col>=<other>"`` and ``"<col>=<missing>"`` one-hot columns.
    mixed_names : list of str
        The names of the columns of :meth:`to_mixed`.
    categorical_indices : list of int
        The code columns of :meth:`to_mixed`.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [20.0, None, 40.0], "city": ["Lyon", "Oslo", "Lyon"]})
    >>> enc = TableEncoder(check_table(frame), standardize=False, min_frequency=None)
    >>> enc.fit(frame).to_mixed(frame).tolist()  # age (median-imputed), age missing, city code
    [[20.0, 0.0, 0.0], [30.0, 1.0, 1.0], [40.0, 0.0, 0.0]]
    >>> enc.feature_names_out
    ['age', 'age missing', 'city=Lyon', 'city=Oslo']
    >>> enc.from_mixed(enc.to_mixed(frame)).equals(frame)
    True
    """

    def __init__(
        self,
        spec: TableSpec,
        *,
        standardize: bool = True,
        min_frequency: Any = MIN_FREQUENCY,
        max_categories: int | None = None,
    ):
        if not isinstance(spec, TableSpec):
            raise invalid("spec", "a TableSpec (from check_table)", spec, kind=TypeError)
        if not isinstance(standardize, (bool, np.bool_)):
            raise invalid("standardize", "a bool", standardize, kind=TypeError)
        if min_frequency is not None:
            if isinstance(min_frequency, numbers.Integral) and not isinstance(min_frequency, bool):
                check_number("min_frequency", min_frequency, low=1, integer=True)
            else:
                check_number("min_frequency", min_frequency, low=0, high=1, low_inclusive=False)
        if max_categories is not None:
            check_number("max_categories", max_categories, low=2, integer=True)
        self.spec = spec
        self.standardize = bool(standardize)
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    # ------------------------------------------------------------------ fit

    def fit(self, frame) -> TableEncoder:
        """Learn medians, scales and categories from ``frame`` (the training rows only).

        Parameters
        ----------
        frame : pandas.DataFrame
            Holds at least the numeric and categorical columns of the spec.

        Returns
        -------
        TableEncoder
            ``self``.
        """
        import pandas as pd
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import OrdinalEncoder, StandardScaler

        self._check_frame(frame, "frame")
        if len(frame) == 0:
            raise invalid("frame", "at least one row to fit on", Text("0 rows"))
        self._dtypes = {c: frame[c].dtype for c in self.spec.columns if c in frame.columns}
        spec = self.spec
        self._imputer = self._scaler = None
        self._indicated: list[int] = []
        if spec.numeric:
            numeric = self._numeric(frame)
            self._imputer = SimpleImputer(
                strategy="median", add_indicator=True, keep_empty_features=True
            )
            with warnings.catch_warnings():  # a column missing in every training row: fill 0
                warnings.simplefilter("ignore", UserWarning)
                imputed = self._imputer.fit_transform(numeric)
            indicator = self._imputer.indicator_
            self._indicated = [] if indicator is None else list(indicator.features_)
            if self.standardize:
                self._scaler = StandardScaler().fit(imputed[:, : len(spec.numeric)])
        self._encoder = None
        self._uniques, self._frequent, self._grouped, self._seen_missing = [], [], [], []
        if spec.categorical:
            # pandas sorts and indexes the values (hashing, fast on 1e5 strings); scikit-learn's
            # OrdinalEncoder groups the infrequent indices and places missing and unseen ones
            for column in spec.categorical:
                _codes, uniques = pd.factorize(frame[column], sort=True, use_na_sentinel=True)
                if isinstance(uniques, pd.CategoricalIndex):  # look values up, not codes
                    uniques = pd.Index(np.asarray(uniques, dtype=object), dtype=object)
                self._uniques.append(pd.Index(uniques))
            self._encoder = OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=-1,
                encoded_missing_value=-2,
                min_frequency=self.min_frequency,
                max_categories=self.max_categories,
                dtype=np.float64,
            )
            self._encoder.fit(self._indices(frame))
            infrequent = getattr(self._encoder, "infrequent_categories_", None)
            for j, categories in enumerate(self._encoder.categories_):
                rare = set() if infrequent is None or infrequent[j] is None else set(infrequent[j])
                seen = categories[~np.isnan(categories)]
                frequent = [int(c) for c in seen if c not in rare]
                self._frequent.append(self._uniques[j][frequent].tolist())
                self._grouped.append(self._uniques[j][sorted(int(c) for c in rare)].tolist())
                self._seen_missing.append(bool(np.isnan(categories).any()))
        self._build_layout()
        return self

    def _build_layout(self) -> None:
        spec = self.spec
        p = len(spec.numeric)
        self._n_numeric_out = p + len(self._indicated)
        names = [str(c) for c in spec.numeric]
        names += [f"{spec.numeric[i]} missing" for i in self._indicated]
        self.mixed_names = names + [str(c) for c in spec.categorical]
        model_names = list(names)
        # per categorical column: code -> one-hot position (-1: a code without a column)
        self._onehot = []
        width = 0
        for j, column in enumerate(spec.categorical):
            frequent = self._frequent[j]
            f = len(frequent)
            positions = np.full(f + 2, -1, dtype=np.int64)
            labels = [f"{column}={value}" for value in frequent]
            if self._grouped[j]:
                labels.append(f"{column}=<other>")
            if self._seen_missing[j]:
                labels.append(f"{column}=<missing>")
            kept = list(range(f)) + ([f] if self._grouped[j] else [])
            kept += [f + 1] if self._seen_missing[j] else []
            positions[kept] = width + np.arange(len(kept))
            width += len(kept)
            self._onehot.append(positions)
            model_names += labels
        self.feature_names_out = model_names
        self.n_features_out = self._n_numeric_out + width
        self._fitted = True

    # ------------------------------------------------------------------ transforms

    @property
    def categorical_indices(self) -> list[int]:
        """The code columns of :meth:`to_mixed` (after the numeric and indicator columns)."""
        self._check_fitted()
        start = self._n_numeric_out
        return list(range(start, start + len(self.spec.categorical)))

    def to_mixed(self, frame) -> np.ndarray:
        """The mixed representation of ``frame``: float64 of shape (n, len(mixed_names)).

        Numeric columns imputed (and standardised), their missing indicators, then one column
        of integer codes per categorical column (see the class docstring for the codes).
        """
        self._check_fitted()
        self._check_frame(frame, "frame")
        n = len(frame)
        parts = []
        if self.spec.numeric:
            numeric = self._numeric(frame)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                imputed = self._imputer.transform(numeric)
            p = len(self.spec.numeric)
            values = imputed[:, :p]
            if self._scaler is not None:
                values = self._scaler.transform(values)
            parts += [values, imputed[:, p:]]
        if self.spec.categorical:
            codes = self._encoder.transform(self._indices(frame))
            for j, frequent in enumerate(self._frequent):
                f = len(frequent)
                column = codes[:, j]
                column[column == -1] = f  # unseen category: other
                column[column == -2] = f + 1  # missing
            parts.append(codes)
        if not parts:
            return np.zeros((n, 0))
        return np.ascontiguousarray(np.hstack(parts), dtype=np.float64)

    def to_model(self, mixed) -> np.ndarray:
        """The model input: float32 of shape (n, n_features_out), codes one-hot encoded."""
        self._check_fitted()
        mixed = self._check_mixed(mixed)
        n = mixed.shape[0]
        q = self._n_numeric_out
        out = np.zeros((n, self.n_features_out), dtype=np.float32)
        out[:, :q] = mixed[:, :q]
        rows = np.arange(n)
        for j, positions in enumerate(self._onehot):
            codes = self._codes(mixed[:, q + j], j)
            where = positions[codes]
            hit = where >= 0
            out[rows[hit], q + where[hit]] = 1.0
        return out

    def transform(self, frame) -> np.ndarray:
        """``to_model(to_mixed(frame))``: the float32 model input of shape (n, n_features_out)."""
        return self.to_model(self.to_mixed(frame))

    def from_model(self, rows) -> np.ndarray:
        """Rows of the model representation back to the mixed one (float64).

        The numeric part is kept; each one-hot block becomes the code of its largest entry (a
        row interpolated between two one-hot rows takes the nearer one's category; a block of
        zeros, an unseen category, becomes *other*, or *missing* for a missing value).

        Parameters
        ----------
        rows : array-like of shape (n, n_features_out)

        Returns
        -------
        ndarray of shape (n, len(mixed_names))
        """
        self._check_fitted()
        try:
            arr = np.asarray(rows, dtype=np.float64)
        except (TypeError, ValueError):
            raise invalid("rows", "a numeric array", rows, kind=TypeError) from None
        if arr.ndim != 2 or arr.shape[1] != self.n_features_out:
            raise invalid(
                "rows", f"an array of shape (n, {self.n_features_out}) (to_model's output)", arr
            )
        q = self._n_numeric_out
        out = np.empty((arr.shape[0], len(self.mixed_names)), dtype=np.float64)
        out[:, :q] = arr[:, :q]
        for j, positions in enumerate(self._onehot):
            kept = np.flatnonzero(positions >= 0)  # codes with a one-hot column, in order
            f = len(self._frequent[j])
            if kept.size == 0:
                out[:, q + j] = f
                continue
            block = arr[:, q + positions[kept]]
            codes = kept[np.argmax(block, axis=1)]
            empty = block.max(axis=1) <= 0
            codes[empty] = f if self._grouped[j] or not self._seen_missing[j] else f + 1
            out[:, q + j] = codes
        return out

    def from_mixed(self, mixed):
        """Rows of the mixed representation back as a DataFrame of the original columns.

        Numeric values are de-standardised, rounded for integer columns and set missing where
        their missing indicator is above 0.5 (an interpolated indicator: missing in both
        parents, or in the nearer one); codes become their categories (*other* and *missing*
        become missing values). Dropped columns are missing. Every column gets its original
        dtype (``category`` columns their original categories) where its values allow it.

        Parameters
        ----------
        mixed : array-like of shape (n, len(mixed_names))

        Returns
        -------
        pandas.DataFrame
            The columns of ``spec.columns``, a fresh RangeIndex.
        """
        import pandas as pd

        self._check_fitted()
        mixed = self._check_mixed(mixed)
        n = mixed.shape[0]
        spec = self.spec
        data = {}
        p = len(spec.numeric)
        if p:
            values = mixed[:, :p].copy()
            if self._scaler is not None:
                values = self._scaler.inverse_transform(values)
            for k, i in enumerate(self._indicated):
                values[mixed[:, p + k] > 0.5, i] = np.nan
            for i, column in enumerate(spec.numeric):
                data[column] = _restore_numeric(values[:, i], self._dtypes[column])
        q = self._n_numeric_out
        for j, column in enumerate(spec.categorical):
            codes = self._codes(mixed[:, q + j], j)
            frequent = self._frequent[j]
            lookup = np.empty(len(frequent) + 2, dtype=object)
            lookup[: len(frequent)] = frequent
            lookup[len(frequent) :] = np.nan
            data[column] = _restore(pd.Series(lookup[codes]), self._dtypes[column])
        for column in spec.dropped:
            data[column] = _restore(
                pd.Series(np.full(n, np.nan, dtype=object)), self._dtypes.get(column)
            )
        return pd.DataFrame({c: data[c] for c in spec.columns if c in data}, index=range(n))

    # ------------------------------------------------------------------ helpers

    def _check_fitted(self) -> None:
        if not getattr(self, "_fitted", False):
            raise ValueError(
                "This TableEncoder is not fitted yet: call fit(frame) on the training rows first"
            )

    def _check_frame(self, frame, name: str) -> None:
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            raise invalid(name, "a pandas DataFrame", frame, kind=TypeError)
        missing = [c for c in self.spec.features if c not in frame.columns]
        if missing:
            raise invalid(
                name,
                f"a DataFrame with the columns of the spec {list(self.spec.features)[:10]}",
                Text(f"a DataFrame without {missing[:10]}"),
            )

    def _check_mixed(self, mixed) -> np.ndarray:
        try:
            arr = np.asarray(mixed, dtype=np.float64)
        except (TypeError, ValueError):
            raise invalid("mixed", "a numeric array", mixed, kind=TypeError) from None
        width = len(self.mixed_names)
        if arr.ndim != 2 or arr.shape[1] != width:
            raise invalid("mixed", f"an array of shape (n, {width}) (to_mixed's output)", arr)
        return arr

    def _codes(self, column: np.ndarray, j: int) -> np.ndarray:
        codes = np.rint(column)
        top = len(self._frequent[j]) + 1
        if not np.all((codes >= 0) & (codes <= top)):
            raise invalid(
                "mixed",
                f"codes 0..{top} in the column of {self.spec.categorical[j]!r}",
                Text(f"values {np.unique(codes[(codes < 0) | (codes > top)])[:5].tolist()}"),
            )
        return codes.astype(np.int64)

    def _numeric(self, frame) -> np.ndarray:
        out = np.empty((len(frame), len(self.spec.numeric)), dtype=np.float64)
        for i, column in enumerate(self.spec.numeric):
            try:
                out[:, i] = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                raise invalid(
                    "frame",
                    f"numbers in the numeric column {column!r}",
                    Text(f"values of dtype {frame[column].dtype}"),
                    kind=TypeError,
                ) from None
        if np.isinf(out).any():
            bad = [self.spec.numeric[i] for i in np.flatnonzero(np.isinf(out).any(axis=0))]
            raise invalid("frame", "finite numbers or missing values", Text(f"inf in {bad}"))
        return out

    def _indices(self, frame) -> np.ndarray:
        """Each categorical value as its index among the sorted training values (float64):
        NaN when missing, ``len(values)`` when never seen in the training rows."""
        out = np.empty((len(frame), len(self.spec.categorical)), dtype=np.float64)
        for j, column in enumerate(self.spec.categorical):
            values = frame[column]
            index = _lookup(self._uniques[j], values)
            out[:, j] = np.where(index < 0, len(self._uniques[j]), index)
            out[values.isna().to_numpy(), j] = np.nan
        return out

    def __repr__(self) -> str:
        state = f", n_features_out={self.n_features_out}" if getattr(self, "_fitted", 0) else ""
        return (
            f"TableEncoder(numeric={len(self.spec.numeric)}, "
            f"categorical={len(self.spec.categorical)}, standardize={self.standardize}{state})"
        )


def _lookup(index, values) -> np.ndarray:
    """Positions of ``values`` in ``index`` (-1: not there), in the values' own dtype when
    pandas can compare them (Arrow-backed strings stay Arrow: 3x faster), else as objects."""
    import pandas as pd

    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    try:
        return np.asarray(index.get_indexer(values))
    except (TypeError, ValueError):
        objects = pd.Index(index.to_numpy(dtype=object), dtype=object)
        return objects.get_indexer(values.to_numpy(dtype=object, na_value=np.nan))


def _restore_numeric(values: np.ndarray, dtype):
    import pandas as pd
    from pandas.api import types

    series = pd.Series(values)
    if types.is_integer_dtype(dtype):
        series = series.round()
    return _restore(series, dtype)


def _restore(series, dtype):
    """``series`` cast to ``dtype`` when its values allow it (else left as it is)."""
    if dtype is None:
        return series
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series
