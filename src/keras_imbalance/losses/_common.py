"""Shared plumbing of the losses: argument validation, log-probabilities, the base class.

Nothing here is public. Every loss module uses :func:`class_vector` to turn a class-weight
style argument (dict ``{class_index: weight}``, list, tuple, 1-D array, or a scalar where
allowed) into a validated list of floats, and :class:`ImbalanceLoss` as its base class.
"""

from __future__ import annotations

import functools
import inspect
import numbers

import keras
import numpy as np
from keras import ops

from .._validation import Text, check_number, check_weights_array, float_array, invalid

_VECTOR = "a dict {class_index: value} with keys 0..K-1, a list, a tuple or a 1-D array"


def _fmt(keys) -> str:
    return "[" + ", ".join(str(k) for k in sorted(keys)) + "]"


def class_vector(
    name: str,
    value,
    *,
    scalar_ok: bool = False,
    positive: bool = False,
    high: float | None = None,
) -> float | list[float]:
    """Validate a per-class argument and return a float (scalar) or a list of floats.

    Accepts a dict ``{class_index: value}`` whose keys are exactly ``0..K-1``, a list, a tuple
    or a 1-D numpy array (and a real scalar when ``scalar_ok``). Values must be finite and
    non-negative (strictly positive when ``positive``; at most ``high`` when given).
    """
    if isinstance(value, bool):
        raise invalid(name, _VECTOR + (" or a number" if scalar_ok else ""), value, kind=TypeError)
    if isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.ndim == 0):
        if not scalar_ok:
            raise invalid(name, _VECTOR + " (one value per class)", value, kind=TypeError)
        low_inclusive = not positive
        return check_number(name, float(value), low=0.0, low_inclusive=low_inclusive, high=high)
    if isinstance(value, dict):
        keys = list(value)
        if not all(isinstance(k, numbers.Integral) and not isinstance(k, bool) for k in keys):
            raise invalid(
                name, "a dict with integer class indices 0..K-1 as keys", value, kind=TypeError
            )
        expected = set(range(len(keys)))
        got = {int(k) for k in keys}
        if got != expected:
            missing, extra = sorted(expected - got), sorted(got - expected)
            detail = []
            if missing:
                detail.append(f"missing keys {_fmt(missing)}")
            if extra:
                detail.append(f"extra keys {_fmt(extra)}")
            raise invalid(
                name,
                f"a dict with keys exactly 0..{len(keys) - 1} (one per class; {', '.join(detail)})",
                value,
            )
        value = [value[k] for k in sorted(value, key=int)]
    elif isinstance(value, (list, tuple, np.ndarray)):
        pass
    else:
        raise invalid(name, _VECTOR + (" or a number" if scalar_ok else ""), value, kind=TypeError)
    arr = float_array(name, value, "numeric values")
    if arr.ndim != 1 or arr.size == 0:
        raise invalid(name, "a non-empty 1-D sequence with one value per class", value)
    arr = check_weights_array(name, arr)
    if positive and np.any(arr <= 0):
        zeros = np.flatnonzero(arr <= 0).tolist()
        raise invalid(name, f"strictly positive values (zero at class indices {zeros})", value)
    if high is not None and np.any(arr > high):
        raise invalid(name, f"values <= {high}", value)
    return [float(v) for v in arr]


def check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise invalid(name, "a bool", value, kind=TypeError)
    return bool(value)


def check_ignore_class(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid("ignore_class", "None or an integer class index", value, kind=TypeError)
    return int(value)


def check_last_dim(name: str, n: int, y_pred) -> None:
    """Static check: a per-class vector of ``n`` values against ``y_pred``'s last axis."""
    shape = tuple(y_pred.shape)
    last = shape[-1] if shape else None
    if n > 1 and last is not None and last != n:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one value per class of the model "
            f"output: y_pred has shape {shape}, so {last} values. "
            f"Received: {name} of shape ({n},)"
        )


def as_vector(name: str, value, y_pred, *, scalar_ok: bool = False, **kw):
    """Per-call: python scalar -> float; dict/list/array -> validated tensor; tensor -> cast.

    Checks statically that a vector matches ``y_pred``'s last dimension.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and scalar_ok:
        return float(value)
    if isinstance(value, (dict, list, tuple, np.ndarray)):
        value = class_vector(name, value, scalar_ok=scalar_ok, **kw)
        if isinstance(value, float):
            return value
    n = int(np.prod(tuple(value.shape))) if hasattr(value, "shape") else len(value)
    check_last_dim(name, n, y_pred)
    return (
        ops.cast(value, y_pred.dtype)
        if hasattr(value, "shape")
        else ops.convert_to_tensor(value, y_pred.dtype)
    )


def raw_vector(name: str, values, y_pred):
    """Per-call: an already validated per-class list or variable -> tensor of y_pred's dtype."""
    n = len(values) if isinstance(values, list) else int(values.shape[0])
    check_last_dim(name, n, y_pred)
    if isinstance(values, list):
        return ops.convert_to_tensor(values, y_pred.dtype)
    return ops.cast(values, y_pred.dtype)


def binary_log_probs(y_pred, from_logits: bool):
    """Return ``(log p, log(1 - p))`` for a sigmoid output."""
    if from_logits:
        # log(1 - sigmoid(x)) = log_sigmoid(-x): no cancellation, finite at |x| = 100.
        return ops.log_sigmoid(y_pred), ops.log_sigmoid(-y_pred)
    eps = keras.config.epsilon()
    p = ops.clip(y_pred, eps, 1.0 - eps)
    return ops.log(p), ops.log(1.0 - p)


def log_softmax(y_pred, from_logits: bool):
    """Log-probabilities over the last axis (log-softmax of logits, or log of normalised probs)."""
    if from_logits:
        return ops.log_softmax(y_pred, axis=-1)
    eps = keras.config.epsilon()
    p = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
    return ops.log(ops.clip(p, eps, 1.0 - eps))


def as_logits(y_pred, from_logits: bool):
    """Logits for a softmax output: the output itself, or log of normalised probabilities."""
    return y_pred if from_logits else log_softmax(y_pred, False)


def _values_known(x) -> bool:
    """Whether ``x`` holds values now (eager code), so that a check on its values may raise.

    Inside a compiled step (a ``tf.function``, a jax trace, ``torch.compile``) values are
    unknown: the checks below are skipped there, and the documented rule applies instead.
    """
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        compiling = getattr(getattr(torch, "compiler", None), "is_compiling", None)
        return not (compiling is not None and compiling())
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.executing_eagerly()
    if backend == "jax":
        import jax

        tracer = getattr(jax.core, "Tracer", None)
        return tracer is not None and not isinstance(x, tracer)
    return True


def check_binary_targets(y_true) -> None:
    """Eager check: binary targets are 0/1 or soft values in [0, 1]."""
    if not _values_known(y_true) or int(np.prod(tuple(y_true.shape))) == 0:
        return
    low, high = float(ops.min(y_true)), float(ops.max(y_true))
    if not (0.0 <= low and high <= 1.0):  # also catches NaN
        raise invalid(
            "y_true",
            "binary targets in [0, 1] (0/1 labels, or soft targets)",
            Text(f"values from {low:g} to {high:g}"),
        )


def check_sparse_labels(labels, num_classes, ignore_class=None) -> None:
    """Eager check: integer labels in ``0..num_classes - 1`` (or ``ignore_class``)."""
    if not _values_known(labels) or int(np.prod(tuple(labels.shape))) == 0:
        return
    if ignore_class is not None:
        labels = ops.where(ops.equal(labels, ignore_class), 0, labels)
    low, high = int(ops.min(labels)), int(ops.max(labels))
    if low < 0 or (num_classes is not None and high >= num_classes):
        allowed = f"class indices in 0..{num_classes - 1}" if num_classes else "class indices >= 0"
        if ignore_class is not None:
            allowed += f" or ignore_class={ignore_class}"
        raise invalid("y_true", allowed, Text(f"labels from {low} to {high}"))


def binary_same_rank(y_true, y_pred):
    """Cast ``y_true`` and align ranks differing by a trailing axis of size 1 (like Keras).

    Targets outside [0, 1] raise when the loss runs eagerly (see :func:`_values_known`).
    """
    y_true = ops.cast(y_true, y_pred.dtype)
    check_binary_targets(y_true)
    rt, rp = len(y_true.shape), len(y_pred.shape)
    if rt == rp + 1 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    elif rp == rt + 1 and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, axis=-1)
    return y_true, y_pred


def sparse_labels(y_true, y_pred):
    """Integer labels of shape ``y_pred.shape[:-1]`` (a trailing axis of size 1 dropped)."""
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    return ops.cast(y_true, "int32")


def valid_positions(y_true, y_pred, ignore_class):
    """Where the label is not ``ignore_class`` (the mask of the sparse losses' reduction)."""
    return ops.not_equal(sparse_labels(y_true, y_pred), ignore_class)


def sparse_one_hot(y_true, y_pred, ignore_class=None):
    """Integer labels of shape ``y_pred.shape[:-1]`` (or with a trailing 1) -> one-hot, valid mask.

    Ignored positions (``y_true == ignore_class``) get an all-zero row, hence a zero loss.
    Labels outside ``0..K-1`` raise when the loss runs eagerly; inside a compiled step they
    cannot, and get an all-zero row (a zero loss) as well.
    """
    labels = sparse_labels(y_true, y_pred)
    num_classes = y_pred.shape[-1]
    check_sparse_labels(labels, num_classes, ignore_class)
    valid = None
    if ignore_class is not None:
        valid = ops.not_equal(labels, ignore_class)
        labels = ops.where(valid, labels, -1)  # matches no class: an all-zero row
    # labels == arange(K) rather than ops.one_hot: the same 0/1 rows (out-of-range labels give
    # all-zero rows in both), in 2 elementwise ops; on torch's CPU kernels 2.5x faster
    classes = ops.arange(num_classes, dtype="int32")
    one_hot = ops.cast(ops.equal(ops.expand_dims(labels, -1), classes), y_pred.dtype)
    return one_hot, valid


def _match_rank(x, rank: int):
    """Append trailing axes (or drop a trailing 1) so that ``x`` broadcasts against the loss."""
    if len(x.shape) == rank + 1 and x.shape[-1] == 1:
        x = ops.squeeze(x, axis=-1)
    while len(x.shape) < rank:
        x = ops.expand_dims(x, axis=-1)
    return x


def _scale_for_distribution(loss):
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        ctx = tf.distribute.get_replica_context()
        n = ctx.num_replicas_in_sync if ctx is not None else 1
        if n > 1:
            loss = loss / n
    return loss


def weight_variable(values, name: str):
    """A non-trainable float32 variable holding a per-class vector (switchable mid-training)."""
    return keras.Variable(
        np.asarray(values, dtype="float32"), trainable=False, dtype="float32", name=name
    )


@functools.cache
def _keyword_names(function) -> tuple[str, ...]:
    parameters = inspect.signature(function).parameters.values()
    return tuple(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)


def _optional(check):
    return lambda name, value: None if value is None else check(name, value)


def _at_least(low: float, inclusive: bool = True):
    return lambda name, value: check_number(name, value, low=low, low_inclusive=inclusive)


#: How a loss setting is checked and stored, by its name: one meaning per name across the
#: losses (a class with another meaning overrides :meth:`ImbalanceLoss._check`).
SETTINGS = {
    "from_logits": check_bool,
    "sparse": check_bool,
    "per_image": check_bool,
    "squared": check_bool,
    "ignore_class": lambda name, value: check_ignore_class(value),
    "label_smoothing": lambda name, value: check_number(name, value, low=0.0, high=1.0),
    "smooth": _at_least(0.0),
    "gamma": _at_least(0.0),
    "tau": _at_least(0.0),
    "max_margin": _at_least(0.0),
    "scale": _at_least(0.0, inclusive=False),
    "class_weight": _optional(class_vector),
    "class_counts": _optional(lambda name, value: class_vector(name, value, positive=True)),
    "priors": _optional(lambda name, value: class_vector(name, value, positive=True)),
}


def _constructor(cls):
    """The ``__init__`` of a loss class: the keyword-only settings of its loss function (same
    order and defaults, positional or keyword), then ``reduction``, ``name`` (the function's
    name) and ``dtype``; each setting checked by :meth:`ImbalanceLoss._check`."""
    P = inspect.Parameter
    settings = [
        P(p.name, P.POSITIONAL_OR_KEYWORD, default=p.default)
        for p in inspect.signature(cls._function).parameters.values()
        if p.kind is p.KEYWORD_ONLY
    ]
    signature = inspect.Signature(
        [
            P("self", P.POSITIONAL_OR_KEYWORD),
            *settings,
            P("reduction", P.POSITIONAL_OR_KEYWORD, default="sum_over_batch_size"),
            P("name", P.POSITIONAL_OR_KEYWORD, default=cls._function.__name__),
            P("dtype", P.POSITIONAL_OR_KEYWORD, default=None),
        ]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        del values["self"]
        base = {n: values.pop(n) for n in ("name", "reduction", "dtype")}
        keras.losses.Loss.__init__(self, **base)
        for name, value in values.items():
            setattr(self, name, self._check(name, value))
        self._validated()

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


class _MaskProbe(keras.losses.Loss):
    """Reads the Keras mask of ``y_pred`` through Keras' public ``Loss.__call__``.

    On JAX a mask cannot be an attribute of the array; Keras keeps it in a side table that
    only ``Loss.__call__`` consults. With ``reduction="none"`` it returns ``ones * mask``.
    """

    def __init__(self):
        super().__init__(name="mask_probe", reduction="none")

    def call(self, y_true, y_pred):
        return ops.ones(ops.shape(y_pred)[:-1], dtype=y_pred.dtype)


_PROBE = None


def keras_mask(y_pred):
    """The mask Keras attached to ``y_pred`` (None when none is visible)."""
    global _PROBE
    mask = getattr(y_pred, "_keras_mask", None)
    if mask is None and keras.backend.backend() == "jax" and len(getattr(y_pred, "shape", ())) >= 2:
        _PROBE = _PROBE or _MaskProbe()
        mask = _PROBE(0.0, y_pred)
    return mask


class ImbalanceLoss(keras.losses.Loss):
    """Base class, as Keras' ``LossFunctionWrapper``: a subclass names its loss function
    (``_function``); its constructor (the function's keyword-only settings, then
    ``reduction``, ``name``, ``dtype``), the check of each setting (:data:`SETTINGS` by name,
    or the class's :meth:`_check`), ``call`` (the function with the settings), ``get_config``
    (the constructor's arguments) and ``from_config`` are derived.

    ``__call__`` is Keras' ``Loss.__call__`` with masks and sample weights broadcast by rank.

    Keras aligns ``sample_weight`` and masks with the loss only when their ranks differ by a
    trailing axis of size 1. Our binary losses return one value per element, so a per-sample
    weight ``(N,)`` must broadcast against ``(N, K)``, a per-step mask ``(N, T)`` against
    ``(N, T, K)``, a per-image weight ``(N,)`` against ``(N, H, W)``: trailing axes are appended.
    The reduction is Keras' (``sum_over_batch_size`` divides by the number of unmasked elements).
    """

    # False for losses with one value per sample from per-element inputs (a per-step or
    # per-pixel Keras mask cannot apply to them; on jax the probe returns ones of that shape)
    _uses_keras_mask = True
    # True for the sparse softmax losses: positions labelled ``ignore_class`` leave the mean
    _masks_ignore_class = False
    # The loss function the class computes (as Keras' ``LossFunctionWrapper``): ``call``
    # passes it ``y_true``, ``y_pred`` and each of its keyword-only arguments, read by
    # :meth:`_argument` from the setting of the same name.
    _function = None
    # The functional-core family the loss belongs to (:mod:`._core`): "softmax", "binary",
    # "overlap", or None; ``family()`` gives its parameters.
    family_name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_function" in cls.__dict__ and "__init__" not in cls.__dict__:
            cls.__init__ = _constructor(cls)

    def _check(self, name: str, value):
        """The checked value of setting ``name`` (:data:`SETTINGS`), stored under its name."""
        return SETTINGS[name](name, value)

    def _validated(self) -> None:
        """Checks across settings, once each is checked (none by default)."""

    def call(self, y_true, y_pred):
        arguments = {n: self._argument(n) for n in _keyword_names(self._function)}
        return self._function(y_true, y_pred, **arguments)

    def _argument(self, name: str):
        """The value ``call`` passes for the function's argument ``name``: the variable held
        by :meth:`_hold` under that name, else the setting itself."""
        held = self.__dict__.get("_held", {})
        return held[name] if name in held else getattr(self, name)

    def _hold(self, name: str, values, variable_name: str | None = None):
        """Keep validated per-class ``values`` in a non-trainable variable that ``call``
        passes for argument ``name`` (switchable mid-training); return the variable."""
        variable = weight_variable(values, variable_name or name)
        self.__dict__.setdefault("_held", {})[name] = variable
        return variable

    def _losses_and_mask(self, y_true, y_pred):
        mask = None
        if self._masks_ignore_class and self.ignore_class is not None:
            mask = valid_positions(y_true, y_pred, self.ignore_class)
        return self.call(y_true, y_pred), mask

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = keras_mask(y_pred) if self._uses_keras_mask else None
        with keras.name_scope(self.name):
            y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
            y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
            values, out_mask = self._losses_and_mask(y_true, y_pred)
            values = ops.convert_to_tensor(values, dtype=self.dtype)
            rank = len(values.shape)
            mask = None
            for m in (in_mask, out_mask):
                if m is not None:
                    m = _match_rank(ops.cast(m, values.dtype), rank)
                    mask = m if mask is None else mask * m
            weight = None
            if sample_weight is not None:
                weight = _match_rank(ops.convert_to_tensor(sample_weight, dtype=values.dtype), rank)
            if weight is not None:
                values = values * weight
            if mask is not None:
                values = values * mask
            if self.reduction is None or self.reduction == "none" or rank == 0:
                return values
            total = ops.sum(values)
            if self.reduction == "sum":
                return _scale_for_distribution(total)
            ones = ops.ones_like(values)
            if self.reduction == "mean_with_sample_weight" and weight is not None:
                divisor = ops.sum(ones * weight * (mask if mask is not None else 1.0))
            elif mask is not None:
                divisor = ops.sum(ones * mask)
            else:
                divisor = ops.cast(ops.size(values), values.dtype)
            return _scale_for_distribution(ops.divide_no_nan(total, divisor))

    def get_config(self):
        """Exactly the constructor's arguments (read from its signature: a setting is stored
        under its argument's name), then ``name``, ``reduction`` and ``dtype``."""
        names = [
            n
            for n, p in inspect.signature(type(self).__init__).parameters.items()
            if n not in ("self", "name", "reduction", "dtype") and p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        return {**{n: self._setting(n) for n in names}, **self._base_config()}

    def _setting(self, name: str):
        """The value ``get_config`` saves for constructor argument ``name``."""
        return getattr(self, name)

    def _base_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, "dtype": self._dtype_policy.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
