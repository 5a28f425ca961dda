"""Read a class-weight dict written by ``keras-imbalance weights`` (standard library only)."""

from __future__ import annotations

import ast
import json
import math
import os
from typing import Any

from keras_imbalance._validation import Text, invalid

_EXPECTED = (
    "a file written by `keras-imbalance weights` (its Python dict or its --json document) or "
    "a JSON object {class_id: weight}"
)


def load_class_weight(path: str | os.PathLike) -> dict[int, float]:
    """Read the ``class_weight`` dict that ``keras-imbalance weights`` wrote, with int keys.

    ``model.fit(class_weight=...)`` needs integer class ids as keys: Keras 3 ignores string
    keys without a word, and JSON object keys are always strings. This reader accepts

    - what ``keras-imbalance weights DATA --target COL > weights.py`` prints: a Python dict
      literal ``{0: 0.52, 1: 12.5}`` after comment lines naming the label of each class id;
    - the document of ``keras-imbalance weights ... --json`` (its ``class_weight`` entry;
      the ``labels`` entry maps each class id to its label);
    - a plain JSON object whose keys are whole numbers, e.g. ``{"0": 0.52, "1": 12.5}``;

    and returns ``{class_id: weight}`` with ``int`` keys and ``float`` values.

    Parameters
    ----------
    path : str or path-like
        The file to read.

    Returns
    -------
    dict of int to float

    Raises
    ------
    ValueError
        When the file holds something else, a key that is not a whole number, or a weight
        that is negative, NaN or infinite.

    Examples
    --------
    >>> import json, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "w.json")
    >>> with open(path, "w") as f:
    ...     _ = f.write(json.dumps({"0": 0.52, "1": 12.5}))
    >>> load_class_weight(path)
    {0: 0.52, 1: 12.5}
    """
    if not isinstance(path, (str, os.PathLike)):
        raise invalid("path", "a file path (str or path-like)", path, kind=TypeError)
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise invalid("path", "a readable text file", Text(f"{path!r} ({exc})")) from None
    return _as_class_weight(_parse(text, path), path)


def _parse(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    try:
        return ast.literal_eval(body.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise invalid("path", _EXPECTED, Text(f"{path!r}, which holds neither")) from None


def _as_class_weight(obj: Any, path: str) -> dict[int, float]:
    if isinstance(obj, dict) and isinstance(obj.get("class_weight"), dict):
        obj = obj["class_weight"]
    if not isinstance(obj, dict) or not obj:
        raise invalid("path", _EXPECTED, Text(f"{path!r}, which holds {type(obj).__name__}"))
    out: dict[int, float] = {}
    for key, value in obj.items():
        class_id = _class_id(key)
        if class_id is None:
            raise invalid(
                "path", _EXPECTED + " with whole-number keys", Text(f"{path!r} with key {key!r}")
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid(
                "path", _EXPECTED + " with numeric weights", Text(f"{path!r}: {key!r}: {value!r}")
            )
        if not math.isfinite(value) or value < 0:
            raise invalid(
                "path",
                _EXPECTED + " with finite, non-negative weights",
                Text(f"{path!r}: {key!r}: {value!r}"),
            )
        out[class_id] = float(value)
    return out


def _class_id(key: Any) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str):
        try:
            return int(key.strip())
        except ValueError:
            return None
    return None
