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
loss, ``kill -9`` of the writer mid-write) is dropped when the file is reopened, after the
whole file was checked. The file is locked while a run has it open (see :class:`ResultsFile`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import weakref

import numpy as np

from keras_imbalance import _names
from keras_imbalance._validation import Text, invalid
from keras_imbalance.comparison._settings import METRICS

try:  # POSIX; elsewhere the results file is not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

FORMAT = "keras-imbalance-compare/1"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # the long lists of a row (test-fold scores, labels) hold plain floats or plain
        # ints: converted without a call per element
        kinds = set(map(type, value))
        if kinds <= _PLAIN:
            return list(value)
        if kinds == {float}:
            return [v if math.isfinite(v) else None for v in value]
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


#: element types a list keeps as they are (bool is an int; each is returned unchanged)
_PLAIN = {int, str, bool, type(None)}


def dumps(obj) -> str:
    """Compact JSON with NaN/inf written as null (valid JSON, unlike Python's default)."""
    return json.dumps(_jsonable(obj), separators=(",", ":"), allow_nan=False)


#: config keys left out of the fingerprint: the reference pipelines (their rows carry their
#: own ``pipeline`` and are refitted when it changed), so a file resumes with or without them;
#: the time budget (what it cut is in the fingerprinted folds, repeats, epochs and sample)
UNFINGERPRINTED = ("references", "budget")


def _renamed(obj: dict, names: dict) -> dict:
    """A config or a row with the strategy names of ``names`` (old -> new) replaced: the
    config's ``strategies``, ``skipped`` and ``baseline``, the row's ``key``, ``strategy``
    and ``aliases``."""
    if not names:
        return obj
    out = dict(obj)
    if "strategies" in out:
        out["strategies"] = [names.get(s, s) for s in out["strategies"]]
    if isinstance(out.get("skipped"), dict):
        out["skipped"] = {names.get(s, s): r for s, r in out["skipped"].items()}
    for field in ("baseline", "strategy"):
        if isinstance(out.get(field), str):
            out[field] = names.get(out[field], out[field])
    if out.get("aliases"):
        out["aliases"] = [names.get(s, s) for s in out["aliases"]]
    if out.get("type") == "fold" and out.get("strategy") != obj.get("strategy"):
        out["key"] = row_key(out["model"], out["strategy"], out["repeat"], out["fold"])
    return out


def stored_names(obj: dict, target) -> dict:
    """A config or a row in the names a results file keeps (strategies renamed since the
    format froze them keep their old name, :data:`keras_imbalance._names.RENAMED`)."""
    return _renamed(obj, {new: old for old, new in _names.RENAMED.get(target, {}).items()})


def current_names(obj: dict, target) -> dict:
    """A config or a row read from a results file, in the strategy names of today."""
    return _renamed(obj, _names.RENAMED.get(target, {}))


def fingerprint(config: dict) -> str:
    """The sha256 of ``config`` in the results file's names (:func:`stored_names`), the
    unfingerprinted keys left out: a file written by 0.1 keeps its fingerprint."""
    config = stored_names(config, config.get("target"))
    kept = {k: v for k, v in config.items() if k not in UNFINGERPRINTED}
    text = json.dumps(_jsonable(kept), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def row_key(model: str, strategy: str, repeat: int, fold: int) -> str:
    return f"{model}|{strategy}|{repeat}|{fold}"


class ResultsFile:
    """Append-only JSON-lines results file with a fingerprinted header, locked while open.

    Opening it (a new file gets the header; an existing one is read to resume) takes an
    exclusive lock on the file for the run's lifetime (``fcntl.flock``; no lock where
    ``fcntl`` is missing, e.g. on Windows): a second run on the same file, in another process,
    is refused at once with a one-line error. Within one process, a new ``ResultsFile`` on the
    same file takes the lock over from an older one (an interrupted run kept alive by its
    traceback, as in a notebook); the older one then refuses to append.

    An existing file is checked completely before anything is written: a file that is not a
    results file (no header line, a torn header, another comparison's header, a corrupt row)
    is refused and left exactly as it was. Only then is a torn last row (a run killed
    mid-write) cut off.

    How the engine should use it: ``with ResultsFile(path, config) as store: ...`` around
    the whole run (or ``store.close()`` in a ``finally``), so that the lock is released when
    ``compare`` returns or raises; :meth:`close` is idempotent, and the lock also goes with
    the object and with the process.
    """

    def __init__(self, path, config: dict):
        self.path = os.fspath(path)
        self.config = config
        self.fingerprint = fingerprint(config)
        self._target = config.get("target")
        self.rows: dict[str, dict] = {}
        self._fd: int | None = None
        self._taken_over = False
        if os.path.isdir(self.path):
            raise invalid("results_path", "a file path, not a directory", self.path)
        try:
            self._open_locked()
            self._prepare()
        except BaseException:
            self.close()
            raise

    # -- lifetime ---------------------------------------------------------------------------
    def _open_locked(self) -> None:
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            raise invalid(
                "results_path",
                "a file this process can read and write",
                Text(f"{self.path!r} ({exc.strerror})"),
            ) from None
        key = _file_key(self._fd)
        older = _HOLDERS.get(key)
        older = older() if older is not None else None
        if older is not None and older is not self:
            older._release(taken_over=True)  # same process: an older run on this file
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise invalid(
                    "results_path",
                    "a results file that no other run is writing",
                    Text(
                        f"{self.path!r}, locked by another compare run (wait for it to finish, "
                        "or pass another results file)"
                    ),
                ) from None
        _HOLDERS[key] = weakref.ref(self)
        self._key = key

    def close(self) -> None:
        """Release the lock and the file (idempotent)."""
        self._release(taken_over=False)

    def _release(self, *, taken_over: bool) -> None:
        fd, self._fd = self._fd, None
        self._taken_over = self._taken_over or taken_over
        if fd is None:
            return
        key = getattr(self, "_key", None)
        holder = _HOLDERS.get(key) if key is not None else None
        if holder is not None and holder() is self:
            del _HOLDERS[key]
        os.close(fd)  # closing the descriptor releases its flock

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to release
            pass

    # -- reading ----------------------------------------------------------------------------
    def _read_all(self) -> bytes:
        os.lseek(self._fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(self._fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

    def _refuse(self, what: str) -> ValueError:
        return invalid(
            "results_path",
            "a new file or a results file written by keras_imbalance.compare",
            Text(f"{self.path!r}, {what} (it was left unchanged)"),
        )

    def _prepare(self) -> None:
        data = self._read_all()
        if not data:
            header = {
                "type": "header",
                "format": FORMAT,
                "fingerprint": self.fingerprint,
                "config": stored_names(self.config, self._target),
            }
            _write_all(self._fd, (dumps(header) + "\n").encode("utf-8"))
            return
        # 1. the header line, checked before anything is written
        end = data.find(b"\n")
        if end < 0:
            if data.startswith(b'{"type":"header"'):
                raise self._refuse(
                    "which holds only a torn header line (a run killed while creating it: "
                    "delete the file to start over)"
                )
            raise self._refuse("which is not a results file (no complete first line)")
        header = _json_line(data[:end])
        if not (
            isinstance(header, dict)
            and header.get("type") == "header"
            and str(header.get("format", "")).startswith(FORMAT.split("/")[0] + "/")
        ):
            raise self._refuse("whose first line is not a results-file header")
        if header.get("fingerprint") != self.fingerprint:
            old = header.get("config", {})
            old = old if isinstance(old, dict) else {}
            new = stored_names(self.config, self._target)
            differ = sorted(
                k
                for k in set(old) | set(new)
                if k not in UNFINGERPRINTED
                and json.dumps(_jsonable(old.get(k)), sort_keys=True)
                != json.dumps(_jsonable(new.get(k)), sort_keys=True)
            )
            raise ValueError(
                f"Invalid value for argument `results_path`. Expected a results file of the "
                f"same comparison to resume. Received: results_path={self.path!r}, written with "
                f"different settings ({', '.join(differ) or 'fingerprint'}). Use another "
                "results_path or delete the file to start over."
            )
        # 2. the complete rows; a corrupt one refuses the file
        cut = data.rfind(b"\n") + 1
        rows = {}
        for number, line in enumerate(data[end + 1 : cut].split(b"\n")[:-1], start=2):
            row = _json_line(line)
            if not isinstance(row, dict):
                raise ValueError(
                    f"Results file {self.path!r} is corrupt at line {number} (not JSON); "
                    "delete the line or the file."
                )
            if row.get("type") == "fold":
                row = current_names(row, self._target)
                rows[row["key"]] = row
        # 3. only now: cut a torn last row (a run killed mid-write)
        if cut < len(data):
            os.ftruncate(self._fd, cut)
        self.rows = rows

    # -- writing ----------------------------------------------------------------------------
    def append(self, row: dict) -> None:
        """Write one complete line with a single unbuffered ``os.write`` (atomic append)."""
        if self._fd is None:
            reason = (
                "another ResultsFile of this process took the file over"
                if self._taken_over
                else "it is closed"
            )
            raise RuntimeError(f"Results file {self.path!r} cannot be appended to: {reason}.")
        line = dumps(stored_names(row, self._target))
        _write_all(self._fd, (line + "\n").encode("utf-8"))
        self.rows[row["key"]] = row


# (device, inode) of an open results file -> the ResultsFile of this process holding its lock
_HOLDERS: dict[tuple[int, int], weakref.ref] = {}


def _file_key(fd: int) -> tuple[int, int]:
    stat = os.fstat(fd)
    return (stat.st_dev, stat.st_ino)


def _json_line(line: bytes):
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    while written < len(data):  # regular files write everything; be safe anyway
        written += os.write(fd, data[written:])


def folds_frame(rows, metrics=METRICS, extra=()):
    """DataFrame of fold rows (metrics and bookkeeping; the raw scores stay in ``rows``):
    a column per metric of ``metrics`` and per name of ``extra`` (what another target's rows
    hold, e.g. per-label scores)."""
    import pandas as pd

    scored = list(metrics)
    if any("expected_cost" in r["metrics"] for r in rows):
        scored.append("expected_cost")
    columns = [
        "model",
        "strategy",
        "repeat",
        "fold",
        *scored,
        "aliases",
        "note",
        "variant",
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
        *extra,
    ]
    records = []
    for r in rows:
        rec = {c: r.get(c) for c in columns}
        for m in scored:
            value = r["metrics"].get(m)
            rec[m] = math.nan if value is None else float(value)
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.sort_values(["model", "strategy", "repeat", "fold"], kind="stable").reset_index(
        drop=True
    )
