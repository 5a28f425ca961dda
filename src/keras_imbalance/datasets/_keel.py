"""A small reader for KEEL ``.dat`` files (and the ARFF files they are a dialect of).

KEEL format: ``@relation name``, one ``@attribute name type`` line per column (``real
[lo, hi]``, ``integer [lo, hi]``, ``numeric`` or a nominal ``{v1, v2, ...}``), optional
``@inputs a, b`` / ``@outputs c`` lines, then ``@data`` and one comma-separated row per
line. Missing values are written ``?`` or ``<null>``; ``%`` starts an ARFF comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

MISSING = frozenset({"?", "<null>", ""})
_ATTRIBUTE = re.compile(
    r"@attribute\s+('[^']*'|\"[^\"]*\"|[^\s{]+)\s*(\{.*\}|\S.*)$", re.IGNORECASE
)


@dataclass
class Column:
    """One parsed column: its name, ``values`` (declared nominal values) or ``None``."""

    name: str
    values: list[str] | None
    cells: list[str]


@dataclass
class Table:
    relation: str
    columns: list[Column]
    output: str


def _split_list(text: str) -> list[str]:
    return [part.strip().strip("'\"") for part in text.split(",") if part.strip()]


def parse_keel(text: str, *, source: str = "<string>") -> Table:
    """Parse the text of a KEEL ``.dat`` (or simple ARFF) file into raw string columns."""
    relation = ""
    header: list[tuple[str, list[str] | None]] = []
    output = None
    rows: list[list[str]] = []
    in_data = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        if in_data:
            cells = [cell.strip().strip("'\"") for cell in line.split(",")]
            if len(cells) != len(header):
                raise ValueError(
                    f"{source}, line {lineno}: expected {len(header)} comma-separated values "
                    f"(one per @attribute), found {len(cells)}."
                )
            rows.append(cells)
            continue
        keyword = line.split(None, 1)[0].lower()
        if keyword == "@relation":
            relation = line.split(None, 1)[1].strip() if " " in line else ""
        elif keyword == "@attribute":
            match = _ATTRIBUTE.match(line)
            if match is None:
                raise ValueError(f"{source}, line {lineno}: cannot read attribute {line!r}.")
            name, kind = match.group(1).strip("'\""), match.group(2).strip()
            values = _split_list(kind[1 : kind.rindex("}")]) if kind.startswith("{") else None
            header.append((name, values))
        elif keyword == "@outputs" or keyword == "@output":
            output = _split_list(line.split(None, 1)[1])[-1]
        elif keyword == "@data":
            in_data = True
    if not header or not rows:
        raise ValueError(f"{source}: no @attribute lines or no @data rows found.")
    columns_cells = list(zip(*rows, strict=True))
    columns = [
        Column(name, values, list(cells))
        for (name, values), cells in zip(header, columns_cells, strict=True)
    ]
    return Table(relation, columns, output if output is not None else header[-1][0])


def _numeric(column: Column) -> np.ndarray:
    cells = np.asarray(column.cells, dtype=object)
    missing = np.isin(cells, list(MISSING))
    out = np.full(cells.shape, np.nan)
    try:
        out[~missing] = cells[~missing].astype(np.float64)
    except ValueError:
        bad = next(c for c in cells[~missing] if not _is_float(c))
        raise ValueError(f"column {column.name!r} is declared numeric but holds {bad!r}.") from None
    if missing.any():  # impute the median of the observed values
        out[missing] = np.median(out[~missing]) if (~missing).any() else 0.0
    return out


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def encode_column(column: Column, nominal: str) -> tuple[np.ndarray, list[str]]:
    """Encode one feature column as float64 of shape (n, m) plus its m names.

    Numeric: the values (missing -> median). Nominal (declared ``{...}``, or any
    non-numeric cell): missing -> most frequent value; then ``nominal="ordinal"`` gives
    the index of the value in the declared list (sorted order when undeclared), and
    ``nominal="onehot"`` one 0/1 column per value present (a single column, 1 = the
    later value, when exactly two values are present).
    """
    values = column.values
    if values is None and not all(_is_float(c) or c in MISSING for c in column.cells):
        values = sorted({c for c in column.cells if c not in MISSING})
    if values is None:
        return _numeric(column)[:, None], [column.name]
    cells = np.asarray(column.cells, dtype=object)
    missing = np.isin(cells, list(MISSING))
    extra = sorted(set(cells[~missing]) - set(values))
    values = list(values) + extra  # tolerate undeclared values rather than fail
    lookup = {v: i for i, v in enumerate(values)}
    codes = np.array([lookup.get(c, -1) for c in cells], dtype=np.int64)
    if missing.any():
        observed = codes[~missing]
        codes[missing] = np.bincount(observed).argmax() if observed.size else 0
    if nominal == "ordinal":
        return codes.astype(np.float64)[:, None], [column.name]
    present = np.flatnonzero(np.bincount(codes, minlength=len(values)))
    if present.size <= 2:
        return (codes == present[-1]).astype(np.float64)[:, None], [
            f"{column.name}={values[present[-1]]}"
        ]
    onehot = (codes[:, None] == present[None, :]).astype(np.float64)
    return onehot, [f"{column.name}={values[i]}" for i in present]


def encode_table(
    table: Table, nominal: str = "onehot", *, positive: str | None = "positive"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (float64, (n, d)), target (int64, 1 = minority) and feature names.

    ``positive``: the target label coded 1 (KEEL's imbalanced sets use
    ``positive``/``negative``); ``None`` codes the least frequent label 1.
    """
    blocks, names = [], []
    target = None
    for column in table.columns:
        if column.name == table.output:
            target = column
            continue
        block, block_names = encode_column(column, nominal)
        blocks.append(block)
        names.extend(block_names)
    if target is None:
        raise ValueError(f"output attribute {table.output!r} not found in {table.relation!r}.")
    labels = np.asarray(target.cells, dtype=object)
    if positive is None:
        uniq, counts = np.unique(labels, return_counts=True)
        if uniq.size != 2:
            raise ValueError(f"{table.relation!r}: expected 2 classes, found {uniq.tolist()}.")
        positive = uniq[np.argmin(counts)]
    y = (labels == positive).astype(np.int64)
    return np.hstack(blocks), y, names
