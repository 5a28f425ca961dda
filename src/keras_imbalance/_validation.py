"""One small validation helper shared by every module.

Every bad parameter gets the same message shape (the Keras 3 wording):
``Invalid value for argument `name`. Expected <what>. Received: name=<value>``.
TypeError for a wrong type, ValueError for a wrong value.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


class Text(str):
    """A description of a received value, shown as is (no quotes) by :func:`invalid`.

    ``invalid("x", "...", Text("shape (3,)"))`` reads ``Received: x=shape (3,)``.
    """

    def __repr__(self) -> str:
        return str(self)


def _short(value: Any, limit: int = 80) -> str:
    if isinstance(value, np.generic):  # np.int64(0) -> 0
        value = value.item()
    text = repr(value)
    if isinstance(value, np.ndarray):
        text = f"array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, Text):  # our own description: may name a long path
        limit = 5 * limit
    return text if len(text) <= limit else text[: limit - 3] + "..."


def invalid(
    name: str, expected: str, received: Any, *, kind: type[Exception] = ValueError
) -> Exception:
    """Build the standard error for argument ``name`` (raise the result)."""
    return kind(
        f"Invalid value for argument `{name}`. Expected {expected}. "
        f"Received: {name}={_short(received)}"
    )


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise ValueError naming them."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise invalid(name, f"one of {{{', '.join(repr(a) for a in allowed)}}}", value)
    return value


def check_keywords(given: dict, allowed: Iterable[str], what: str) -> None:
    """Every key of ``given`` is one of ``allowed``; else a TypeError naming the first other
    key: "Expected ``what`` (the allowed names)"."""
    allowed = tuple(allowed)
    for name, value in given.items():
        if name not in allowed:
            listed = ", ".join(allowed) or "it takes none"
            raise invalid(name, f"{what} ({listed})", value, kind=TypeError)


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
) -> float | int:
    """Check a finite real (or integer) scalar within optional bounds and return it."""
    wanted = "an integer" if integer else "a finite number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise invalid(name, wanted, value, kind=TypeError)
    if integer and not isinstance(value, numbers.Integral):
        raise invalid(name, wanted, value, kind=TypeError)
    if not np.isfinite(value):
        raise invalid(name, wanted, value)
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_inclusive else '>'} {low}")
    if high is not None:
        parts.append(f"{'<=' if high_inclusive else '<'} {high}")
    bad_low = low is not None and (value < low or (not low_inclusive and value == low))
    bad_high = high is not None and (value > high or (not high_inclusive and value == high))
    if bad_low or bad_high:
        raise invalid(name, f"{wanted} {' and '.join(parts)}", value)
    return int(value) if integer else float(value)


def float_array(name: str, value: Any, allowed: str) -> np.ndarray:
    """``value`` as a float64 array, or a TypeError naming ``name`` and what was ``allowed``."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise invalid(name, allowed, value, kind=TypeError) from None


def check_weights_array(name: str, values: Any) -> np.ndarray:
    """Return ``values`` as a float64 array; raise if non-numeric, NaN, inf or negative."""
    arr = float_array(name, values, "numeric weights")
    if not np.all(np.isfinite(arr)):
        raise invalid(name, "finite weights (no NaN or inf)", values)
    if np.any(arr < 0):
        raise invalid(name, "non-negative weights", values)
    return arr


def check_shape(name: str, value: Any) -> tuple:
    """``value`` as a tuple of positive ints (an int ``n`` is ``(n,)``: a table's columns)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        shape = tuple(int(d) for d in value)
    except (TypeError, ValueError):
        raise invalid(name, "a tuple of positive ints (or an int)", value, kind=TypeError) from None
    if not shape or min(shape) < 1:
        raise invalid(name, "a tuple of positive ints (or an int)", value)
    return shape


def check_batch(name: str, item: Any, allowed: str) -> tuple:
    """An item of a stream of ``(x, y)`` or ``(x, y, sample_weight)`` tuples, checked: a
    TypeError naming ``name`` (``allowed`` says what its items may be) for anything else."""
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise invalid(name, allowed, type(item).__name__, kind=TypeError)
    return tuple(item)
