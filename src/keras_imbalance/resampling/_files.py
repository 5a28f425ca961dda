"""Resampling a Parquet source into a Parquet output without loading the table (layer 1).

Only the label column is held in memory (plus, for the SMOTE family, the rows of the classes
it oversamples and their synthetic rows). Rows are streamed one row group at a time from the
input to the output. The selection of rows and the synthetic rows are those of the in-memory
:func:`keras_imbalance.resampling.resample` for the same arguments (imbalanced-learn's, with
the same ``random_state``); only the order of the rows differs for ``random_over`` /
``random_under`` (input order, each kept row with its copies next to it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keras_imbalance._files import ParquetSource, open_parquet, read_labels
from keras_imbalance._validation import Text, check_number, invalid

#: Methods :func:`resample_parquet` runs out of core (the others need every row in memory).
OUT_OF_CORE_METHODS = (
    "random_under",
    "random_over",
    "smote",
    "borderline_smote1",
    "borderline_smote2",
)
_WHY_NOT = {
    "adasyn": "its density weights need the neighbours of every row",
    "smotenc": "its categorical neighbour search needs every row",
    "tomek": "its links need the nearest neighbour of every row",
    "smote_tomek": "its Tomek step needs the nearest neighbour of every row",
}


@dataclass(frozen=True)
class ResampledFile:
    """What :func:`resample_parquet` wrote.

    Attributes
    ----------
    path : str
        The output file.
    rows_in, rows_out, synthetic : int
        Rows read, rows written, and how many of those are synthetic.
    counts_in, counts_out : dict
        ``{label: rows}`` of the input and of the output.
    """

    path: str
    rows_in: int
    rows_out: int
    synthetic: int
    counts_in: dict = field(default_factory=dict)
    counts_out: dict = field(default_factory=dict)


def _check_output(output: Any, source: Any, files: ParquetSource, overwrite: bool) -> str:
    """The output path: never an input, never inside the input directory, never an existing
    file unless ``overwrite``."""
    if not isinstance(output, (str, os.PathLike)):
        raise invalid("output", "a path for the Parquet file to write", output, kind=TypeError)
    out = os.path.realpath(os.fspath(output))
    inputs = {os.path.realpath(f) for f in files.files}
    if out in inputs:
        raise invalid("output", "a path that is not one of the input files", Text(repr(output)))
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        folder = os.path.realpath(os.fspath(source))
        if out == folder or out.startswith(folder + os.sep):
            raise invalid(
                "output",
                "a path outside the input directory (a file written there would join the input)",
                Text(repr(output)),
            )
    if os.path.isdir(out):
        raise invalid("output", "a file path, not a directory", Text(repr(output)))
    if os.path.exists(out) and not overwrite:
        raise invalid(
            "output", "a path that does not exist yet (or overwrite=True)", Text(repr(output))
        )
    if not os.path.isdir(os.path.dirname(out)):
        raise invalid("output", "a path in an existing directory", Text(repr(output)))
    return out


def _counts(labels: np.ndarray) -> dict:
    values, counts = np.unique(labels, return_counts=True)
    return {
        v.item() if isinstance(v, np.generic) else v: int(n)
        for v, n in zip(values, counts, strict=True)
    }


def resample_parquet(
    source: Any,
    output: Any,
    *,
    target: str,
    method: str = "random_under",
    sampling_strategy: Any = "auto",
    random_state: Any = None,
    overwrite: bool = False,
    memory_limit: int = 2**30,
    **params: Any,
) -> ResampledFile:
    """Resample a Parquet file or directory into one Parquet file, a row group at a time.

    The label column ``target`` is read first (it is held in memory); the rows to keep are
    then chosen exactly as :func:`keras_imbalance.resampling.resample` chooses them for the
    same labels, ``sampling_strategy`` and ``random_state`` (imbalanced-learn's samplers),
    and the input is streamed to ``output`` row group by row group:

    - ``random_under`` / ``random_over``: the kept rows (and their copies), in input order;
    - ``smote``, ``borderline_smote1`` / ``borderline_smote2``: every input row, then the
      synthetic rows, identical to the in-memory result. Only the rows of the oversampled
      classes and the synthetic rows are held in memory (refused beyond ``memory_limit``).
      Every column but ``target`` must be numeric (they are the features). Borderline-SMOTE's
      danger test needs each minority row's ``m_neighbors`` nearest rows of any class: they
      are found by streaming the other rows past the minority rows, a row group at a time,
      and imbalanced-learn then runs on the minority rows plus those neighbours.

    Other methods need every row in memory and are refused with one line. The output is
    written to a temporary file beside it and renamed when complete.

    Parameters
    ----------
    source : str, path or pyarrow.dataset.FileSystemDataset
        A Parquet file or a directory of Parquet files (every file with the same columns).
    output : str or path
        The file to write: never an input file nor a path inside an input directory; an
        existing file only with ``overwrite=True``.
    target : str
        The label column (integers, strings or bools).
    method : str, default='random_under'
        One of :data:`OUT_OF_CORE_METHODS`.
    sampling_strategy, random_state, **params
        As in :func:`~keras_imbalance.resampling.resample` (``k_neighbors``,
        ``m_neighbors``...).
    overwrite : bool, default=False
    memory_limit : int, default=1 GiB
        Most bytes the SMOTE family may hold (oversampled rows + synthetic rows).

    Returns
    -------
    ResampledFile

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    >>> folder = tempfile.mkdtemp()
    >>> y = (np.arange(1000) < 100).astype(int)
    >>> pq.write_table(pa.table({"a": np.arange(1000.0), "label": y}),
    ...                os.path.join(folder, "in.parquet"), row_group_size=300)
    >>> done = resample_parquet(os.path.join(folder, "in.parquet"),
    ...                         os.path.join(folder, "out.parquet"), target="label",
    ...                         method="random_under", random_state=0)
    >>> done.counts_in, done.counts_out
    ({0: 900, 1: 100}, {0: 100, 1: 100})
    """
    if not isinstance(method, str) or method not in OUT_OF_CORE_METHODS:
        why = _WHY_NOT.get(method, "it is not one of them") if isinstance(method, str) else ""
        raise invalid(
            "method",
            f"one of {OUT_OF_CORE_METHODS} for a Parquet source (out of core; "
            f"{method!r} cannot: {why})",
            method,
        )
    if not isinstance(target, str):
        raise invalid("target", "the name of the label column (str)", target, kind=TypeError)
    if not isinstance(overwrite, bool):
        raise invalid("overwrite", "True or False", overwrite, kind=TypeError)
    memory_limit = check_number("memory_limit", memory_limit, low=1, integer=True)
    names = open_parquet(source, [target], "source").schema_names
    files = open_parquet(source, names, "source")  # every file: every column, one type
    out = _check_output(output, source, files, overwrite)
    labels = read_labels(files, target, "source")
    n = labels.shape[0]
    if method.startswith("random"):
        from keras_imbalance.resampling._core import resample

        proxy = np.zeros((n, 1), dtype=np.uint8)  # the selection does not look at x
        picked = resample(
            proxy,
            labels,
            method,
            sampling_strategy=sampling_strategy,
            random_state=random_state,
            **params,
        ).sample_indices
        picked = np.sort(picked)
        synthetic = None
    else:
        picked = None
        synthetic = _synthetic(
            files,
            names,
            target,
            labels,
            method,
            sampling_strategy,
            random_state,
            memory_limit,
            params,
        )
    tmp = out + ".partial"
    rows_out = 0
    import pyarrow.parquet as pq

    try:
        with pq.ParquetWriter(tmp, files.arrow_schema) as writer:
            for g in range(len(files.groups)):
                table = files.read_group(g, names)
                if picked is not None:
                    lo, hi = files.offsets[g], files.offsets[g + 1]
                    a, b = np.searchsorted(picked, [lo, hi])
                    if a == b:
                        continue
                    table = table.take(picked[a:b] - lo)
                writer.write_table(table)
                rows_out += table.num_rows
            if synthetic is not None and synthetic.num_rows:
                writer.write_table(synthetic)
                rows_out += synthetic.num_rows
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    counts_out = _counts(labels[picked]) if picked is not None else _counts(labels)
    n_synthetic = 0 if synthetic is None else synthetic.num_rows
    if synthetic is not None:
        for label, count in _counts(synthetic.column(target).to_numpy()).items():
            counts_out[label] = counts_out.get(label, 0) + count
    return ResampledFile(
        path=out,
        rows_in=n,
        rows_out=rows_out,
        synthetic=n_synthetic,
        counts_in=_counts(labels),
        counts_out=dict(sorted(counts_out.items())),
    )


def _feature_columns(files, names, target) -> list[str]:
    import pyarrow as pa

    features = [c for c in names if c != target]
    bad = [
        c
        for c in features
        if not (pa.types.is_floating(files.schema[c]) or pa.types.is_integer(files.schema[c]))
    ]
    if bad or not features:
        raise invalid(
            "source",
            "numeric columns besides the label for the SMOTE family (they are interpolated)",
            Text(f"non-numeric columns {bad[:5]}" if bad else "no feature column"),
            kind=TypeError,
        )
    return features


def _read_rows(files, features, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` (sorted) of ``features`` as a float64 array, a row group at a time."""
    out = np.empty((rows.shape[0], len(features)), dtype=np.float64)
    bounds = np.searchsorted(rows, files.offsets)
    for g in range(len(files.groups)):
        a, b = bounds[g], bounds[g + 1]
        if a == b:
            continue
        table = files.read_group(g, features).take(rows[a:b] - files.offsets[g])
        for j in range(len(features)):
            out[a:b, j] = table.column(j).to_numpy()
    return out


def _streamed_neighbors(files, features, query: np.ndarray, k: int) -> np.ndarray:
    """Global rows of the ``k`` nearest rows of every query row, over all rows of the source.

    Each row group's distances to the queries are merged into the running best ``k``
    (ties broken by row number, as a search over the whole table would).
    """
    from sklearn.metrics import pairwise_distances

    best_d = np.full((query.shape[0], 0), np.inf)
    best_i = np.zeros((query.shape[0], 0), dtype=np.int64)
    for g in range(len(files.groups)):
        table = files.read_group(g, features)
        block = np.column_stack([table.column(j).to_numpy() for j in range(len(features))])
        block = block.astype(np.float64, copy=False)
        for lo in range(0, query.shape[0], 2048):  # distance tiles of 2048 x group rows
            d = pairwise_distances(query[lo : lo + 2048], block)
            index = np.broadcast_to(files.offsets[g] + np.arange(block.shape[0]), d.shape)
            dist = np.concatenate([best_d[lo : lo + 2048], d], axis=1)
            rows = np.concatenate([best_i[lo : lo + 2048], index], axis=1)
            order = (
                np.lexsort((rows, dist), axis=1)[:, :k]
                if dist.shape[1] > k
                else np.lexsort((rows, dist), axis=1)
            )
            if lo == 0:
                new_d = np.empty((query.shape[0], order.shape[1]))
                new_i = np.empty((query.shape[0], order.shape[1]), dtype=np.int64)
            new_d[lo : lo + 2048] = np.take_along_axis(dist, order, axis=1)
            new_i[lo : lo + 2048] = np.take_along_axis(rows, order, axis=1)
        best_d, best_i = new_d, new_i
    return best_i


def _synthetic(
    files, names, target, labels, method, sampling_strategy, random_state, limit, params
):
    """The synthetic rows (a pyarrow Table of the input's schema) of the SMOTE family."""
    import pyarrow as pa
    from imblearn.utils import check_sampling_strategy

    from keras_imbalance.resampling._core import resample

    features = _feature_columns(files, names, target)
    to_add = check_sampling_strategy(sampling_strategy, labels, "over-sampling")
    to_add = {c: int(v) for c, v in to_add.items() if v > 0}
    counts = _counts(labels)
    minority = np.flatnonzero(np.isin(labels, list(to_add)))
    need = (minority.size + sum(to_add.values())) * len(features) * 8
    if need > limit:
        raise invalid(
            "memory_limit",
            f"room for the {minority.size:,} rows of the oversampled classes and their "
            f"{sum(to_add.values()):,} synthetic rows ({need:,} bytes) for {method} out of core",
            limit,
        )
    if not to_add:
        return None
    rows = minority
    if method.startswith("borderline"):
        m = int(params.get("m_neighbors", 10))
        k = int(params.get("k_neighbors", 5))
        if method.endswith("2") and k > m:
            raise invalid(
                "k_neighbors",
                f"at most m_neighbors ({m}) for borderline_smote2 out of core (its neighbours "
                "must be among the streamed ones)",
                k,
            )
        query = _read_rows(files, features, minority)
        near = _streamed_neighbors(files, features, query, m + 1)
        rows = np.union1d(minority, near.ravel())
    else:  # SMOTE looks only within each class: the minority plus one other row for y
        others = np.flatnonzero(~np.isin(labels, list(to_add)))
        rows = np.union1d(minority, others[:1])
    x = _read_rows(files, features, rows)
    strategy = {c: counts[c] + add for c, add in to_add.items()}
    done = resample(
        x, labels[rows], method, sampling_strategy=strategy, random_state=random_state, **params
    )
    fake = np.flatnonzero(np.asarray(done.sample_indices) < 0)
    new_x, new_y = np.asarray(done.x)[fake], np.asarray(done.y)[fake]
    schema = files.arrow_schema
    columns = {}
    for name in names:
        kind = schema.field(name).type
        if name == target:
            columns[name] = pa.array(new_y, type=kind)
        else:
            values = new_x[:, features.index(name)]
            if pa.types.is_integer(kind):
                values = np.round(values)
            columns[name] = pa.array(values).cast(kind)
    return pa.table(columns, schema=schema)
