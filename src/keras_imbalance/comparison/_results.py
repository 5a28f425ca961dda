"""The append-only results file (JSON lines) and the :class:`ComparisonResult` object.

File format (``format: keras-imbalance-compare/1``), one JSON object per line:

- line 1, the header: ``{"type": "header", "format": ..., "fingerprint": <sha256>, "config":
  {...}}``. The fingerprint hashes the config (data hash, strategies, models, cv, repeats,
  random_state, metric, training settings, Keras backend); resuming with another config is
  refused.
- then one ``{"type": "fold", "key": "model|strategy|repeat|fold", ...}`` line per finished
  (model, strategy, repeat, fold), with every metric, the per-class recall, the confusion
  matrix and the test-fold scores (for precision-recall curves).

Each line is written with a single ``os.write`` on a file opened in append mode, so an
interrupted run (Ctrl-C, a killed worker) leaves only complete lines; a torn last line (power
loss, ``kill -9`` of the writer mid-write) is dropped when the file is reopened.
"""

from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np

from keras_imbalance._validation import invalid
from keras_imbalance.comparison._settings import METRICS

FORMAT = "keras-imbalance-compare/1"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def dumps(obj) -> str:
    """Compact JSON with NaN/inf written as null (valid JSON, unlike Python's default)."""
    return json.dumps(_jsonable(obj), separators=(",", ":"), allow_nan=False)


def fingerprint(config: dict) -> str:
    text = json.dumps(_jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def row_key(model: str, strategy: str, repeat: int, fold: int) -> str:
    return f"{model}|{strategy}|{repeat}|{fold}"


class ResultsFile:
    """Append-only JSON-lines results file with a fingerprinted header."""

    def __init__(self, path, config: dict):
        self.path = os.fspath(path)
        self.config = config
        self.fingerprint = fingerprint(config)
        self.rows: dict[str, dict] = {}
        self._prepare()

    def _prepare(self) -> None:
        if not os.path.exists(self.path) or os.path.getsize(self.path) == 0:
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, exist_ok=True)
            header = {
                "type": "header",
                "format": FORMAT,
                "fingerprint": self.fingerprint,
                "config": self.config,
            }
            with open(self.path, "w", encoding="utf-8") as handle:
                handle.write(dumps(header) + "\n")
            return
        with open(self.path, "rb") as handle:
            data = handle.read()
        if not data.endswith(b"\n"):  # torn last line: keep the complete ones only
            cut = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as handle:
                handle.truncate(cut)
            data = data[:cut]
        lines = data.decode("utf-8").splitlines()
        try:
            header = json.loads(lines[0]) if lines else None
        except json.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("type") != "header":
            raise invalid(
                "results_path",
                "a new file or a results file written by keras_imbalance.compare",
                self.path,
            )
        if header.get("fingerprint") != self.fingerprint:
            old = header.get("config", {})
            differ = sorted(
                k
                for k in set(old) | set(self.config)
                if json.dumps(_jsonable(old.get(k)), sort_keys=True)
                != json.dumps(_jsonable(self.config.get(k)), sort_keys=True)
            )
            raise ValueError(
                f"Invalid value for argument `results_path`. Expected a results file of the "
                f"same comparison to resume. Received: results_path={self.path!r}, written with "
                f"different settings ({', '.join(differ) or 'fingerprint'}). Use another "
                "results_path or delete the file to start over."
            )
        for number, line in enumerate(lines[1:], start=2):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise ValueError(
                    f"Results file {self.path!r} is corrupt at line {number} (not JSON); "
                    "delete the line or the file."
                ) from None
            if row.get("type") == "fold":
                self.rows[row["key"]] = row

    def append(self, row: dict) -> None:
        """Write one complete line with a single unbuffered ``os.write`` (atomic append)."""
        data = (dumps(row) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            written = os.write(fd, data)
            while written < len(data):  # regular files write everything; be safe anyway
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)
        self.rows[row["key"]] = row


def folds_frame(rows):
    """DataFrame of fold rows (metrics and bookkeeping; the raw scores stay in ``rows``)."""
    import pandas as pd

    columns = [
        "model",
        "strategy",
        "repeat",
        "fold",
        *METRICS,
        "aliases",
        "note",
        "per_class_recall",
        "confusion",
        "threshold",
        "best_epoch",
        "epochs_run",
        "refit",
        "fit_seconds",
        "n_fit",
        "n_val",
        "n_test",
    ]
    records = []
    for r in rows:
        rec = {c: r.get(c) for c in columns}
        for m in METRICS:
            value = r["metrics"].get(m)
            rec[m] = math.nan if value is None else float(value)
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.sort_values(["model", "strategy", "repeat", "fold"], kind="stable").reset_index(
        drop=True
    )
