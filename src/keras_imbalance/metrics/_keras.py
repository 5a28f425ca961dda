"""Keras 3 metrics keeping running confusion counts (``keras.ops`` only: torch, jax, tensorflow).

Every metric holds one state variable, the (K, K) confusion counts (true classes in rows), and its
``result()`` applies the reduce function of :mod:`keras_imbalance._confusion` with ``keras.ops`` as
the array namespace; the numpy functions of the same name apply it with numpy. Scores accumulated
over batches therefore equal the scores on the concatenated data.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_imbalance._confusion import _REDUCERS, metric_options
from keras_imbalance._validation import Text, check_number, invalid

# The public names are listed once, in keras_imbalance.metrics (_KERAS_NAMES; this module is private).


def _count_dtype() -> str:
    """float64 where the backend and device hold it (exact counts up to 2**53), else float32.

    JAX keeps float64 only with ``JAX_ENABLE_X64``; Apple's MPS device has no float64.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return "float64" if jax.config.read("jax_enable_x64") else "float32"
    if backend == "torch":
        device = getattr(ops.zeros((1,)), "device", None)
        if getattr(device, "type", None) == "mps":
            return "float32"
    return "float64"


def _same_elements(y_true, y_pred) -> bool:
    """Static check: one label per score (same rank, same last axis)."""
    return len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] in (y_pred.shape[-1], None)


def _match_rank(values, rank):
    """Drop trailing size-1 axes beyond ``rank``, add trailing axes below it (for broadcasting)."""
    while len(values.shape) > rank and values.shape[-1] == 1:
        values = ops.squeeze(values, axis=-1)
    while len(values.shape) < rank:
        values = ops.expand_dims(values, axis=-1)
    return values


class _ConfusionMetric(keras.metrics.Metric):
    """Base class: confusion-count state and layout handling; subclasses only name the reducer."""

    _reducer: str = ""

    def __init__(
        self,
        num_classes=None,
        *,
        threshold=0.5,
        from_logits=False,
        ignore_class=None,
        name=None,
        dtype=None,
    ):
        super().__init__(name=name or self._reducer, dtype=dtype)
        self._dtype_arg = dtype
        # the counts: the dtype asked for, else float64 where the backend has it (float32
        # cancels and stops counting past 2**24 per cell: rare events lose their MCC)
        self._counts_dtype = self.dtype if dtype is not None else _count_dtype()
        if num_classes is not None:
            num_classes = check_number("num_classes", num_classes, low=2, integer=True)
        self.num_classes = num_classes
        self.threshold = check_number("threshold", threshold, low=0.0, high=1.0)
        if not isinstance(from_logits, bool):
            raise invalid("from_logits", "a bool", from_logits, kind=TypeError)
        self.from_logits = from_logits
        if ignore_class is not None:
            ignore_class = check_number("ignore_class", ignore_class, integer=True)
        self.ignore_class = ignore_class
        self._k = 2 if num_classes is None else num_classes
        self._options = {}
        self.confusion = self.add_variable(
            shape=(self._k, self._k),
            initializer="zeros",
            dtype=self._counts_dtype,
            name="confusion",
        )

    # -- layout ----------------------------------------------------------------------------
    def _labels(self, y_true, y_pred):
        """Return (true labels, predicted labels, raw true values for ignore_class), same shape."""
        k = self._k
        rank_p, rank_t = len(y_pred.shape), len(y_true.shape)
        if rank_p >= 2 and y_pred.shape[-1] == k:
            # scores with a class axis: (..., K) -> argmax; y_true sparse (...) / (..., 1) or one-hot
            pred = ops.argmax(y_pred, axis=-1)
            if rank_t == rank_p and y_true.shape[-1] == k:
                true = ops.argmax(y_true, axis=-1)
            elif rank_t == rank_p and y_true.shape[-1] == 1:
                true = ops.squeeze(y_true, axis=-1)
            elif rank_t == rank_p - 1:
                true = y_true
            else:
                raise invalid(
                    "y_true",
                    f"class indices of shape {tuple(y_pred.shape[:-1])} (or with a trailing 1) or "
                    f"one-hot rows of shape {tuple(y_pred.shape)} matching y_pred",
                    Text(f"tensor of shape {tuple(y_true.shape)}"),
                )
            true = ops.cast(true, "int32")
            return true, ops.cast(pred, "int32"), true
        if k != 2:
            raise invalid(
                "y_pred",
                f"scores with a last axis of num_classes={k}",
                Text(f"tensor of shape {tuple(y_pred.shape)}"),
            )
        # binary: one score per element, (...) or (..., 1)
        if rank_p >= 1 and y_pred.shape[-1] == 1:
            y_pred = ops.squeeze(y_pred, axis=-1)
        elif rank_p >= 2 and y_pred.shape[-1] is not None and not _same_elements(y_true, y_pred):
            # (N, K) class scores against (N,) or (N, 1) labels: the class count is missing
            if self.num_classes is None:
                raise invalid(
                    "num_classes",
                    f"the number of classes ({y_pred.shape[-1]}, the last axis of y_pred) for "
                    "class scores; None means binary, one score per element",
                    None,
                )
            raise invalid(
                "y_true",
                f"one 0/1 label per score of y_pred, shape {tuple(y_pred.shape)}",
                Text(f"tensor of shape {tuple(y_true.shape)}"),
            )
        y_true = _match_rank(y_true, len(y_pred.shape))
        if self.from_logits:
            # sigmoid(x) > t  <=>  x > log(t / (1 - t)); compare logits directly (no saturation)
            t = self.threshold
            cut = math.inf if t >= 1 else -math.inf if t <= 0 else math.log(t / (1.0 - t))
            pred = ops.greater(y_pred, cut)
        else:
            pred = ops.greater(y_pred, self.threshold)
        true = ops.cast(ops.greater(ops.cast(y_true, "float32"), 0.5), "int32")
        return true, ops.cast(pred, "int32"), y_true

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.convert_to_tensor(y_true)
        true, pred, raw = self._labels(y_true, y_pred)
        rank = len(true.shape)
        k = self._k

        # this batch's counts in float32 (keras.ops computes float64 products in float32
        # anyway), exact for whole weights below 2**24 per cell; added to float64 totals
        dtype = "float32" if self._counts_dtype == "float64" else self._counts_dtype
        weight = ops.ones_like(true, dtype=dtype)
        for extra in (sample_weight, mask):
            if extra is not None:
                extra = _match_rank(ops.cast(ops.convert_to_tensor(extra), dtype), rank)
                weight = weight * extra
        # out-of-range labels (and ignore_class) cannot raise inside a compiled step: weight 0
        valid = ops.logical_and(ops.greater_equal(true, 0), ops.less(true, k))
        if self.ignore_class is not None:
            keep = ops.not_equal(ops.cast(raw, "int32"), self.ignore_class)
            valid = ops.logical_and(valid, keep)
        weight = ops.where(valid, weight, 0.0)
        true = ops.where(valid, true, 0)

        true = ops.reshape(true, (-1,))
        pred = ops.reshape(pred, (-1,))
        weight = ops.reshape(weight, (-1, 1))
        # C += onehot(true)^T @ (w * onehot(pred)): (K, N) @ (N, K)
        rows = ops.one_hot(true, k, dtype=dtype)
        cols = ops.one_hot(pred, k, dtype=dtype) * ops.cast(weight, dtype)
        increment = ops.matmul(ops.transpose(rows), cols)
        self.confusion.assign_add(ops.cast(increment, self._counts_dtype))

    def result(self):
        counts = ops.convert_to_tensor(self.confusion)
        return ops.cast(_REDUCERS[self._reducer](counts, ops, **self._options), self.dtype)

    def reset_state(self):
        self.confusion.assign(ops.zeros((self._k, self._k), dtype=self._counts_dtype))

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "threshold": self.threshold,
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "name": self.name,
            "dtype": self._dtype_arg,
            **self._options,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _PerClassMetric(_ConfusionMetric):
    """A vector of length K, or one class's entry with ``class_id``."""

    def __init__(self, num_classes=None, *, class_id=None, **kwargs):
        super().__init__(num_classes, **kwargs)
        if class_id is not None:
            class_id = check_number("class_id", class_id, low=0, high=self._k - 1, integer=True)
        self.class_id = class_id

    def result(self):
        values = super().result()
        return values if self.class_id is None else values[self.class_id]

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


_COMMON_DOC = """
    Parameters
    ----------
    num_classes : int, default=None
        Number of classes K (at least 2). Required for multiclass data; ``None`` means binary
        (K = 2).
    threshold : float, default=0.5
        Binary only: an element is predicted positive when ``y_pred > threshold`` (with
        ``from_logits=True``, when ``sigmoid(y_pred) > threshold``). Ignored when ``y_pred`` has
        a class axis (argmax).
    from_logits : bool, default=False
        Binary only: whether ``y_pred`` holds logits rather than probabilities.
    ignore_class : int, default=None
        True label to leave out (e.g. a "void" label in segmentation). True labels outside
        0..K-1 are always left out: a compiled step cannot raise on values.
    name : str, default=None
        Metric name (default: the snake_case score name).
    dtype : str, default=None
        Dtype of the confusion counts and of the result. By default the counts are float64
        where the backend holds it (exact up to 2**53 per cell, as scikit-learn's; jax needs
        ``JAX_ENABLE_X64``, else float32, exact up to 2**24) and the result is
        ``keras.config.floatx()``.

    Notes
    -----
    Layouts, read statically from the shapes: ``y_pred`` with a last axis of size K (K >= 2,
    including a 2-unit softmax) holds class scores (argmax); ``y_true`` is then sparse, of shape
    ``y_pred.shape[:-1]`` or with a trailing 1, or one-hot / soft of the same shape as ``y_pred``.
    Otherwise the problem is binary: one score per element, shape (...) or (..., 1), and
    ``y_true > 0.5`` is the positive class; ``y_true`` then has the shape of ``y_pred`` (class
    scores with one label per sample and no ``num_classes`` raise, naming ``num_classes``).
    With no update yet, the result is 0. Any leading shape works (samples, time steps,
    pixels): every element counts once. ``sample_weight`` broadcasts over the elements, e.g.
    (N,) over (N, T). A Keras mask on ``y_pred`` (``Masking``, ``mask_zero``) is applied on torch
    and tensorflow; on jax Keras keeps masks in a private registry this metric cannot read, so
    pass the mask as ``sample_weight`` there. A binary sequence with exactly K = 2 time steps must
    keep its trailing axis of 1 to be read as binary.

    The state is the (K, K) confusion matrix, so the score accumulated over batches equals the
    score on all the data (unlike averaging per-batch scores).
"""


def _doc(summary: str, numpy_name: str, example: str, extra_params: str = "") -> str:
    common = _COMMON_DOC.replace("\n    Notes\n", extra_params + "\n    Notes\n")
    return (
        f"{summary}\n\n    Stateful version of :func:`keras_imbalance.metrics.{numpy_name}` "
        f"(same definition, same reduce code).\n{common}\n    Examples\n    --------\n{example}"
    )


#: ``y_true, y_pred`` of the docstring examples (source text): a binary problem with scores,
#: three classes with one-hot scores, one 2x2 mask of three classes with one-hot scores
_EXAMPLE_DATA = {
    "binary": "np.array([0, 0, 0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.8, 0.9, 0.4])",
    "classes": "np.array([0, 1, 2, 2]), np.eye(3)[[0, 2, 2, 1]]",
    "mask": "np.array([[[0, 0], [1, 1]]]), np.eye(3)[[[[0, 1], [1, 1]]]]",
}


def _example(
    data: str,
    printed: str,
    *,
    arguments: str = "",
    read: str = "round(float(m.result()), 4)",
    more: str = "",
) -> str:
    """The doctest of a metric's docstring: a fresh ``{name}(arguments)`` updated on
    ``_EXAMPLE_DATA[data]``, ``read`` printing ``printed``, then the doctest lines ``more``."""
    return (
        "    >>> import numpy as np\n"
        "    >>> from keras_imbalance.metrics import {name}\n"
        f"    >>> m = {{name}}({arguments})\n"
        f"    >>> m.update_state({_EXAMPLE_DATA[data]})\n"
        f"    >>> {read}\n"
        f"    {printed}\n{more}"
    )


def _metric(summary: str, example: str, options: str = ""):
    """Class decorator of a confusion metric: registers it for Keras serialisation and writes
    its docstring (``summary``, the parameters every metric shares and its own ``options``, the
    notes, and the ``example`` of :func:`_example` for this class)."""

    def finish(cls):
        doctest = example.replace("{name}", cls.__name__)
        cls.__doc__ = _doc(summary, cls._reducer, doctest, options)
        return keras.saving.register_keras_serializable(package="keras_imbalance")(cls)

    return finish


@_metric(
    "Balanced accuracy (mean recall over the classes present in y_true) as a Keras metric.",
    _example(
        "binary",
        "0.625",
        more="    >>> # model.compile(..., metrics=[BalancedAccuracy(num_classes=5)])\n",
    ),
    """    adjusted : bool, default=False
        Rescale to ``(BA - 1/|P|) / (1 - 1/|P|)``: chance 0, perfect 1 (scikit-learn's
        ``adjusted=True``).
""",
)
class BalancedAccuracy(_ConfusionMetric):
    _reducer = "balanced_accuracy"

    def __init__(self, num_classes=None, *, adjusted=False, **kwargs):
        super().__init__(num_classes, **kwargs)
        self._options = metric_options(self._reducer, {"adjusted": adjusted}, self._k)


@_metric(
    "G-mean (geometric mean of the per-class recalls, imbalanced-learn's default) as a Keras "
    "metric.",
    _example("binary", "0.6124", read="round(float(m.result()), 4)  # sqrt(0.75 * 0.5)"),
    """    average : {"multiclass", "binary", "micro", "macro", "weighted"} or None, default="multiclass"
        As in :func:`keras_imbalance.metrics.geometric_mean` (None: a vector of length K).
    correction : float in [0, 1], default=0.0
        "multiclass" only: the recall that stands in for a class with zero recall.
""",
)
class GeometricMean(_ConfusionMetric):
    _reducer = "geometric_mean"

    def __init__(self, num_classes=None, *, average="multiclass", correction=0.0, **kwargs):
        super().__init__(num_classes, **kwargs)
        self._options = metric_options(
            self._reducer, {"average": average, "correction": correction}, self._k
        )


@_metric(
    "Matthews correlation coefficient (multiclass R_K, scikit-learn's definition) as a Keras "
    "metric.",
    _example("binary", "0.25"),
)
class MatthewsCorrelation(_ConfusionMetric):
    _reducer = "matthews_correlation"


@_metric(
    "Macro-averaged F1 (scikit-learn's f1_score(average='macro')) as a Keras metric; accepts "
    "sparse labels.",
    _example(
        "classes",
        "0.5",
        arguments="num_classes=3",
        read="round(float(m.result()), 4)  # F1 = (1, 0, 0.5)",
    ),
)
class MacroF1(_ConfusionMetric):
    _reducer = "macro_f1"


@_metric(
    "Recall of every class (a vector of length K), or of one class with ``class_id``.",
    _example(
        "classes",
        "[1.0, 0.0, 0.5]",
        arguments="num_classes=3",
        read="np.round(np.asarray(m.result()), 4).tolist()",
        more="""    >>> float(PerClassRecall(num_classes=3, class_id=2, name="recall_2").result())
    0.0
""",
    ),
    """    class_id : int, default=None
        Report only this class's recall (a scalar, e.g. for ``EarlyStopping(monitor=...)``).
        Without it the result is a vector of length K. A class without true samples has
        recall 0.
""",
)
class PerClassRecall(_PerClassMetric):
    _reducer = "per_class_recall"


@_metric(
    "Intersection over union of every class over all pixels seen (a vector of length K), "
    "or of one class with ``class_id``; NaN for a class absent from both masks and "
    "predictions.",
    _example(
        "mask",
        "[0.5, 0.6667, nan]",
        arguments="num_classes=3",
        read='np.round(np.asarray(m.result(), dtype="float64"), 4).tolist()',
        more="    >>> # model.compile(..., metrics=[PerClassIoU(num_classes=3, class_id=2, "
        'name="iou_rare")])\n',
    ),
    """    class_id : int, default=None
        Report only this class's IoU (a scalar, e.g. for ``EarlyStopping(monitor=...)``).
""",
)
class PerClassIoU(_PerClassMetric):
    _reducer = "per_class_iou"


@_metric(
    "Mean Dice (2 TP / (2 TP + FP + FN)) over the classes present in the masks or the "
    "predictions, from the confusion counts of all pixels seen.",
    _example(
        "mask",
        "0.7333",
        arguments="num_classes=3",
        read="round(float(m.result()), 4)  # class 2 appears nowhere: skipped",
    ),
)
class MeanDice(_ConfusionMetric):
    _reducer = "mean_dice"
