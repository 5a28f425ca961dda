"""Parquet sources read out of core: ``inspect``, ``weights`` and ``resample`` on a Parquet file
or a directory of Parquet files without loading the table.

- ``inspect`` and ``weights`` read the label column only, a row group at a time
  (:func:`keras_imbalance.class_counts` with ``target=``), with a progress bar on stderr (plain
  lines when stderr is not a terminal); ``inspect`` adds the column names and types of the
  schema (the file footers), never the values: column roles, missing values and id columns
  are not shown.
- ``resample`` streams the rows into one Parquet output
  (:func:`keras_imbalance.resampling.resample_parquet`) when the method allows it: the random
  methods always, the SMOTE family when every column but the label is numeric and none is
  named like an id nor holds a pandas index (SMOTE would interpolate it; ``random_over``
  would repeat it). A single
  file that the out-of-core path cannot take (another method, categorical columns, an id
  column) is read into memory as any table; a directory is refused with one line.

Labels are read as the files type them; ``--normalize-labels`` (which rewrites labels in
memory) is refused for a source read out of core.

The output rules are those of every command (``_outputs.check_outputs``): never an input
file nor inside the input directory, an existing file only with ``--force``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from keras_imbalance._cli._common import UsageError, check, console
from keras_imbalance._cli._progress import RowProgress
from keras_imbalance._cli._source import outside, target_columns
from keras_imbalance._outputs import Output

#: What ``inspect`` says in place of the facts about features it does not read.
NOT_READ = (
    "feature facts (column roles, missing values, id columns) are not shown: a Parquet "
    "source is read out of core (the label column and the schema only)"
)


@dataclass
class CountedSource:
    """A Parquet source as ``inspect`` and ``weights`` read it: the class counts of the label
    column, and the schema (``{column: type}``, from the footers)."""

    name: str
    target: str
    counts: dict
    schema: dict = field(default_factory=dict)
    inputs: list = field(default_factory=list)
    files: int = 1

    @property
    def distinct(self):
        """The distinct labels (an array): what gives the classes, their ids and the layout."""
        import numpy as np

        return np.asarray(list(self.counts))


def is_parquet(data: str | None) -> bool:
    """A Parquet file or a directory holding Parquet files (read out of core)."""
    from keras_imbalance._files import is_parquet_path

    return data is not None and is_parquet_path(data)


def is_parquet_folder(data: str | None) -> bool:
    return is_parquet(data) and Path(data).is_dir()


def label_column(args) -> str:
    """The one label column ``--target`` names (required for a Parquet source)."""
    columns = target_columns(getattr(args, "target", None))
    if not columns:
        raise UsageError("--target is required for a Parquet source (the label column)")
    if len(columns) > 1:
        raise UsageError(
            f"--target {args.target!r}: several label columns (a multi-label target) are read "
            "from one Parquet file in memory, not from a directory; give one label column"
        )
    if getattr(args, "image_size", None) is not None:
        raise UsageError("--image-size is for a folder of images; DATA is Parquet")
    return columns[0]


def no_relabelling(args) -> None:
    """``--normalize-labels`` rewrites labels in memory: not for a source read out of core."""
    if getattr(args, "normalize_labels", False):
        raise UsageError(
            "--normalize-labels rewrites the labels in memory: a Parquet source is read out of "
            "core (fix the spellings of the label column in the files)"
        )


def _words(error: Exception) -> str:
    """A library error in the command line's words (``--target``, ``DATA``)."""
    text = str(error).replace("argument `target`", "--target")
    return text.replace("argument `data`", "DATA").replace("argument `source`", "DATA")


def pandas_index(schema) -> list[str]:
    """The columns that hold a pandas index (``DataFrame.to_parquet`` stores a non-range
    index as ``__index_level_0__``): pandas reads them back as the index, not as features."""
    meta = (schema.pandas_metadata or {}) if schema.metadata else {}
    return [c for c in meta.get("index_columns", []) if isinstance(c, str)]


def read_counts(data: str, args) -> CountedSource:
    """The class counts of DATA's label column, with a progress bar on stderr."""
    import pyarrow as pa

    from keras_imbalance import class_counts
    from keras_imbalance._files import open_parquet

    target = label_column(args)
    no_relabelling(args)
    try:
        files = open_parquet(data, [target], "data")  # footers only: every bad file, one line
        kind = files.schema[target]
        if pa.types.is_struct(kind) or pa.types.is_map(kind) or pa.types.is_nested(kind):
            raise UsageError(
                f"--target column {target!r} holds lists or dicts (a nested Parquet type "
                f"{kind}): expected one label per row"
            )
        err = console(stderr=True)
        with RowProgress(err, what=args.command, terminal=err.is_terminal) as progress:
            counts = class_counts(data, target=target, progress=progress)
    except (ValueError, TypeError) as exc:
        raise UsageError(_words(exc)) from None
    if len(counts) < 2:
        only = next(iter(counts), None)
        raise UsageError(
            f"--target column {target!r} has a single class ({only!r}): nothing to balance"
        )
    index = pandas_index(files.arrow_schema)
    schema = {
        name: str(files.arrow_schema.field(name).type)
        for name in files.schema_names
        if name not in index
    }
    name = Path(data).resolve().name or str(data)
    return CountedSource(name, target, counts, schema, files.files, len(files.files))


# --------------------------------------------------------------------------- resample


def out_of_core_reason(data: str, method: str, target: str, keep_ids: bool = False) -> str | None:
    """Why DATA cannot be resampled out of core with ``method`` (None: it can)."""
    import pandas as pd
    import pyarrow as pa

    from keras_imbalance._files import open_parquet
    from keras_imbalance.resampling import OUT_OF_CORE_METHODS
    from keras_imbalance.tables import id_columns

    if method not in OUT_OF_CORE_METHODS:
        return (
            f"--method {method} needs every row in memory (out of core: "
            f"{', '.join(OUT_OF_CORE_METHODS)})"
        )
    try:
        files = open_parquet(data, [target], "data")  # footers only
    except (ValueError, TypeError) as exc:
        raise UsageError(_words(exc)) from None
    schema = files.arrow_schema
    features = [n for n in schema.names if n != target]
    # ids by their names only (no value is read); --keep-id-columns makes them features
    ids = [] if keep_ids else list(id_columns(pd.DataFrame(columns=features)))
    ids += [c for c in pandas_index(schema) if c in features and c not in ids]
    if ids and method != "random_under":
        what = "copies would repeat" if method == "random_over" else f"{method} would interpolate"
        return f"{what} the id column(s) {ids[:5]} (--keep-id-columns: use them as features)"
    numeric = (pa.types.is_integer, pa.types.is_floating)
    other = [n for n in features if not any(t(schema.field(n).type) for t in numeric)]
    if other and not method.startswith("random"):
        return f"{method} interpolates every feature, and {other[:5]} are not numbers"
    return None


def input_files(data: str) -> list[str]:
    """The files no output may overwrite: the file, or every file under the directory."""
    path = Path(data)
    return sorted(str(p) for p in path.rglob("*") if p.is_file()) if path.is_dir() else [data]


def resample_source(args, seed: int) -> int | None:
    """``resample`` of a Parquet source: streamed when the method allows it (see the module's
    text); None when a single file is to be read into memory as any table."""
    keep = getattr(args, "keep_id_columns", False)
    reason = out_of_core_reason(args.data, args.method, label_column(args), keep)
    if reason is None and Path(args.output).suffix.lower() != ".parquet":
        reason = f"-o {args.output!r} is not a .parquet file (out of core writes Parquet)"
    if reason is None and getattr(args, "normalize_labels", False):
        reason = "--normalize-labels rewrites the labels in memory"
    if reason is None:
        return resample_out_of_core(args, seed)
    if Path(args.data).is_dir():
        raise UsageError(
            f"DATA {args.data!r} is a directory of Parquet files, resampled out of core only, "
            f"and {reason}"
        )
    print(f"note: reading {args.data!r} into memory: {reason}")  # as resample's other notes
    return None


def resample_out_of_core(args, seed: int) -> int:
    """``resample`` on a Parquet source, streamed: the output checks of every command, then
    :func:`~keras_imbalance.resampling.resample_parquet`; prints what it wrote."""
    from keras_imbalance.resampling import resample_parquet

    target = label_column(args)
    data = Path(args.data)
    outputs = [Output("-o", args.output, "table")]
    if data.is_dir():
        outside(args.data, outputs, "input directory")
    check(outputs, input_files(args.data), args.force)
    try:
        done = resample_parquet(
            args.data,
            args.output,
            target=target,
            method=args.method,
            random_state=seed,
            overwrite=args.force,  # check() above refused an existing file without it
        )
    except (ValueError, TypeError) as exc:
        raise UsageError(_words(exc)) from None
    print(f"note: {args.method} out of core: the label column in memory, rows streamed")
    print(
        f"{done.rows_in} -> {done.rows_out} rows ({done.synthetic} synthetic); class counts "
        f"{done.counts_in} -> {done.counts_out}; written to {args.output}"
    )
    return 0
