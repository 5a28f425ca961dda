"""One :class:`Source` read once from a table, a bundled dataset or a folder of images.

Every command takes a Source: adding an input kind is one reader here, not an edit in every
command. A table is checked as files from other tools need (``tables.split_target``): a
repeated column name in the header is an error, id columns are dropped with a warning,
labels written several ways are an error; the label column is read as text so that ``'01'``
and ``'1'`` never merge.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from keras_imbalance._cli._common import UsageError, plain

EXAMPLES_PER_CLASS = 8  # example images per class in inspect's --plot and compare's report
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet")
SAY_MEMORY_FROM = 100e6  # bytes: reading images that take more says how much first


@dataclass
class Source:
    """What a command reads: features, labels and where they came from.

    ``x``: the feature columns (a DataFrame) or the images (float32 array; None when only
    the labels were read); ``y``: the labels (a pandas Series named after the target);
    ``kind``: ``"table"``, ``"bundled"`` or ``"images"``; ``examples``: a few images per
    class (images only); ``inputs``: the files no output may overwrite; ``ids``: the id
    columns dropped from a table (``resample`` writes them back, never duplicated).
    """

    x: object
    y: object
    name: str
    kind: str
    examples: dict | None = None
    inputs: list = field(default_factory=list)
    ids: object = None
    columns: list = field(default_factory=list)
    id_reasons: dict = field(default_factory=dict)

    @property
    def labels(self):
        """The labels as a numpy array (text labels as str)."""
        values = self.y.to_numpy()
        return values.astype(str) if values.dtype == object else values

    @property
    def is_folder(self) -> bool:
        return self.kind == "images"


def is_folder(data: str | None) -> bool:
    return data is not None and Path(data).is_dir()


def read_source(data: str, args, *, images: str = "all") -> Source:
    """The Source of DATA. ``images``: for a folder, ``"all"`` reads every image,
    ``"examples"`` a few per class (the labels are counted from the file names), ``"labels"``
    none (and a table's id columns are not looked for: only its labels are used)."""
    if is_folder(data):
        flags_for(args, folder=True, data=data)
        return read_folder(data, args, images)
    flags_for(args, folder=False)
    return read_table_source(data, args, features=images != "labels")


def flags_for(args, *, folder: bool, data: str | None = None) -> None:
    """``--target`` names a column of a table; ``--image-size`` resizes an image folder; a
    directory of Parquet files is read out of core, by ``_cli._parquet`` only."""
    if folder and data is not None:
        from keras_imbalance._files import is_parquet_path

        if is_parquet_path(data):
            raise UsageError(
                f"DATA {data!r} is a directory of Parquet files: `{args.command}` needs the "
                "table in memory (give one file); inspect, weights and resample read it out "
                "of core"
            )
    if folder and getattr(args, "target", None) is not None:
        raise UsageError(
            "--target is for tables: the classes of an image folder are its sub-folders"
        )
    if not folder and getattr(args, "image_size", None) is not None:
        raise UsageError("--image-size is for a folder of images; DATA is a table")


# --------------------------------------------------------------------------- tables


def target_columns(text: str | None) -> list[str]:
    """The names of ``--target`` (``a,b,c``: several 0/1 columns); a repeated one is an error."""
    if text is None:
        return []
    columns = [c.strip() for c in text.split(",")]
    if any(not c for c in columns):
        raise UsageError(f"--target {text!r}: an empty column name (expected NAME or A,B,C)")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise UsageError(
            f"--target {text!r} names the column {', '.join(map(repr, repeated))} more than "
            "once: give each label column once"
        )
    return columns


def read_frame(data: str, target: str | None):
    """(DataFrame, target, source name, input files) of a file or a bundled dataset; the label
    column is read as text (numbers come back in ``split_target`` when they are plain)."""
    path = Path(data)
    if not path.exists():
        from keras_imbalance import datasets

        if data in datasets.list_datasets():
            return datasets.load_dataset(data, as_frame=True), target or "target", data, []
        raise UsageError(
            f"DATA {data!r} is neither a file nor a bundled dataset "
            f"({', '.join(datasets.list_datasets())})"
        )
    if path.is_dir():
        raise UsageError(f"DATA {data!r} is a folder: expected a .csv, .tsv or .parquet file")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise UsageError(f"DATA {data!r}: expected a .csv, .tsv or .parquet file")
    import pandas as pd

    names = _header(path, suffix)
    repeated = sorted({str(n) for n in names if names.count(n) > 1})
    if repeated:
        mangled = (
            f" (pandas would read the copy as {repeated[0] + '.1'!r} and use it as a feature)"
            if suffix != ".parquet"
            else ""
        )
        raise UsageError(
            f"DATA {data!r} repeats the column name(s) {', '.join(map(repr, repeated))} in its "
            f"header{mangled}: give every column its own name"
        )
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            text_target = {target: str} if target is not None and target in names else None
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=text_target)
    except ImportError as exc:
        raise UsageError(f"DATA {data!r}: reading Parquet needs pyarrow ({exc})") from None
    except Exception as exc:  # pandas raises many kinds on malformed files
        raise UsageError(f"DATA {data!r} could not be read: {type(exc).__name__}: {exc}") from None
    return frame, target, path.name, [str(path)]


def _header(path: Path, suffix: str) -> list:
    """The column names as the file writes them (pandas renames a repeated one)."""
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            rows = csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ",")
            row = next((r for r in rows if any(cell.strip() for cell in r)), [])  # as pandas
    except Exception:  # unreadable, not Parquet, no pyarrow: pandas says what is wrong
        return []
    return list(row)


def read_table_source(data: str, args, *, features: bool = True) -> Source:
    """A table's Source: the checks of ``tables.split_target``, id columns kept aside (and
    named in a warning line, unless only the labels are used: ``features=False``)."""
    columns = target_columns(getattr(args, "target", None))
    if len(columns) > 1:
        raise UsageError(
            f"--target {args.target!r}: several label columns (a multi-label target) are for "
            "`inspect`; give one label column"
        )
    frame, target, name, inputs = read_frame(data, columns[0] if columns else None)
    if frame.empty:
        raise UsageError(f"DATA {data!r} has no rows")
    x, y = split(frame, target, data, args)
    ids, found = None, {}
    if features and not getattr(args, "keep_id_columns", False):
        from keras_imbalance.tables import id_columns

        found = id_columns(x)
        if found:
            listed = "; ".join(f"{c} ({why})" for c, why in found.items())
            print(
                f"keras-imbalance {args.command}: warning: dropped {len(found)} id column(s), "
                f"not features: {listed} (--keep-id-columns keeps them)",
                file=sys.stderr,
            )
            ids, x = x[list(found)], x.drop(columns=list(found))
    kind = "table" if inputs else "bundled"
    return Source(
        x, y, name, kind, inputs=inputs, ids=ids, columns=list(frame.columns), id_reasons=found
    )


def split(frame, target, data, args):
    """``tables.split_target`` with the command line's words for its errors."""
    from keras_imbalance.tables import split_target

    if target is None:
        raise UsageError("--target is required for a data file (the label column)")
    if target not in frame.columns:
        raise UsageError(
            f"--target {target!r} is not a column of {data!r}; columns: {list(frame.columns)[:20]}"
        )
    if nested([target], frame):
        raise UsageError(
            f"--target column {target!r} holds lists or dicts (a nested Parquet type): "
            "expected one label per row"
        )
    y = frame[target]
    if y.isna().any():
        raise UsageError(f"--target column {target!r} has {int(y.isna().sum())} missing labels")
    if y.nunique() < 2:
        raise UsageError(
            f"--target column {target!r} has a single class ({plain(y.iloc[0])!r}): nothing "
            "to balance"
        )
    try:
        return split_target(
            frame,
            target,
            keep_id_columns=True,  # the caller drops them (resample writes them back)
            normalize_labels=getattr(args, "normalize_labels", False),
            argument="DATA",
        )
    except ValueError as exc:
        text = str(exc).replace("argument `target`", "--target")
        raise UsageError(text.replace("Received: target=", "Received: ")) from None


def nested(columns, frame) -> list:
    """Columns holding lists, dicts or arrays (Parquet list / struct / map types)."""
    out = []
    for column in columns:
        values = frame[column]
        if (
            values.dtype == object
            and values.map(
                lambda v: isinstance(v, (list, tuple, dict, set)) or hasattr(v, "__array__")
            ).any()
        ):
            out.append(column)
    return out


# --------------------------------------------------------------------------- image folders


def folder_name(data: str) -> str:
    return Path(data).resolve().name or "images"


def folder_labels(data: str):
    """One label per image file (counted, not opened: ``class_counts`` on the folder)."""
    import numpy as np

    from keras_imbalance import class_counts

    counts = class_counts(data)
    empty = [name for name, n in counts.items() if n == 0]
    if empty:
        raise UsageError(
            f"DATA {data!r}: expected image files in every class sub-folder; no image file "
            f"in {empty[:10]}"
        )
    if len(counts) < 2:
        raise UsageError(
            f"DATA {data!r} has a single class folder ({list(counts)[0]!r}): nothing to balance "
            "(one sub-folder of images per class)"
        )
    codes = np.repeat(np.arange(len(counts)), list(counts.values()))
    return class_series(codes, list(counts))


def class_series(codes, class_names):
    """The class folder of each image as a pandas Series of categories: one byte a row (the
    class names once), not a string object per image."""
    import pandas as pd

    return pd.Series(pd.Categorical.from_codes(codes, class_names), name="class folder")


def read_folder(data: str, args, images: str) -> Source:
    """A folder's Source: labels counted from the files; images read as ``images`` says."""

    name = folder_name(data)
    if images == "labels":
        return Source(None, folder_labels(data), name, "images")
    if images == "examples":
        y = folder_labels(data)  # every image file, counted (not opened)
        folder = load_images(data, args, max_per_class=EXAMPLES_PER_CLASS)
        return Source(folder.x, y, name, "images", examples=_examples(folder))
    folder = load_images(data, args, lazy=True)  # decoded fold by fold, when rows are needed
    y = class_series(folder.y, folder.class_names)
    return Source(folder.x, y, name, "images", examples=_examples(folder))


def _examples(folder) -> dict:
    import numpy as np

    return {
        name: folder.x[np.flatnonzero(folder.y == i)[:EXAMPLES_PER_CLASS]]
        for i, name in enumerate(folder.class_names)
    }


def load_images(data: str, args, *, lazy: bool = False, **options):
    """``load_image_folder``, after one line saying the memory it will take (and an error,
    before decoding anything, when that is more than the machine has); ``lazy``: the images
    stay in their files (``ImageFiles``), decoded when rows are needed (the compiled JAX
    fold still decodes a training fold at a time, hence the same check)."""
    from keras_imbalance.datasets import load_image_folder
    from keras_imbalance.datasets._images import available_memory, format_bytes, memory_needed

    need, shape, count = memory_needed(data, image_size=args.image_size, **options)
    free = available_memory()
    if SAY_MEMORY_FROM <= need <= (free or need):  # what does not fit: the loader's error
        images = f"{count} images as {' x '.join(map(str, shape))} (float32)"
        said = (
            f"reading {images} from their files as rows are needed (about "
            f"{format_bytes(need)} if all were decoded at once)"
            if lazy
            else f"reading {images}: about {format_bytes(need)} in memory"
        )
        print(f"keras-imbalance {args.command}: {said}", file=sys.stderr)
    try:
        return load_image_folder(data, image_size=args.image_size, lazy=lazy, **options)
    except ValueError as exc:
        raise UsageError(str(exc).replace("argument `image_size`", "--image-size")) from None


def outside(data: str, outputs, what: str = "image folder") -> None:
    """An output inside an input folder would become part of it (a PNG, one of its images; a
    Parquet file, one of its parts)."""
    root = os.path.realpath(data)
    for out in outputs:
        where = os.path.realpath(out.path)
        if os.path.commonpath([root, where]) == root:
            raise UsageError(f"{out.say()} is inside the {what} {data!r}: write it somewhere else")
