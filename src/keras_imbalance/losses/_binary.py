"""Binary (sigmoid) losses: one value per element, weighted, focal and batch-balanced.

All three return one loss value per element of ``y_pred`` (no mean over the last axis, unlike
``keras.losses.BinaryCrossentropy``). With the default ``"sum_over_batch_size"`` reduction the
unweighted value equals Keras' binary cross-entropy exactly (the mean over all elements), and a
per-label ``sample_weight`` of shape ``(N, K)`` (what ``keras_imbalance.sample_weights`` gives for
multi-label targets) applies element by element.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ._common import (
    ImbalanceLoss,
    as_vector,
    binary_log_probs,
    binary_same_rank,
    class_vector,
)
from ._core import binary_family

_register = keras.saving.register_keras_serializable(package="keras_imbalance")


class _BinaryLoss(ImbalanceLoss):
    family_name = "binary"

    def _check(self, name: str, value):
        """``pos_weight``, ``neg_weight`` and ``alpha`` (None: no alpha) are a number or one
        value per label; a vector is held in a non-trainable variable, a scalar stays a float."""
        if name not in ("pos_weight", "neg_weight", "alpha"):
            return super()._check(name, value)
        if value is None and name == "alpha":
            return None
        value = class_vector(name, value, scalar_ok=True, high=1.0 if name == "alpha" else None)
        if not isinstance(value, float):
            self._hold(name, value)
        return value


def _smooth(y_true, label_smoothing: float):
    if label_smoothing:
        return y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return y_true


def _unless_one(weight):
    """None for the Python number 1 (no multiplication), the weight otherwise."""
    return None if isinstance(weight, float) and weight == 1.0 else weight


def weighted_binary_crossentropy(
    y_true, y_pred, *, pos_weight=1.0, neg_weight=1.0, from_logits=False, label_smoothing=0.0
):
    """Binary cross-entropy with separate weights for positive and negative targets.

    ``loss = -(pos_weight * y * log(p) + neg_weight * (1 - y) * log(1 - p))`` element by
    element; with logits ``log(p) = log_sigmoid(x)`` and ``log(1 - p) = log_sigmoid(-x)``.
    With ``neg_weight=1`` this is ``torch.nn.BCEWithLogitsLoss(pos_weight=..., reduction="none")``.

    Parameters
    ----------
    y_true : array-like of shape (N,), (N, K), (N, T, K) or (N, H, W, K)
        Targets in ``[0, 1]`` (0/1, or soft).
    y_pred : array-like of the same shape (a trailing axis of size 1 may differ)
        Probabilities, or logits when ``from_logits=True``.
    pos_weight, neg_weight : float or per-label sequence of length K, default=1.0
        Weight of the positive / negative term; a vector (or dict ``{label: weight}``) gives one
        weight per label of a multi-label output and must match ``y_pred``'s last dimension.
    from_logits : bool, default=False
    label_smoothing : float in [0, 1], default=0.0
        Targets become ``y * (1 - label_smoothing) + 0.5 * label_smoothing``.

    Returns
    -------
    Tensor of the shape of ``y_pred``: one loss value per element (not averaged over labels).

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import weighted_binary_crossentropy
    >>> out = weighted_binary_crossentropy(np.array([1.0, 0.0]), np.array([0.0, 0.0]),
    ...                                    pos_weight=3.0, from_logits=True)
    >>> np.round(np.asarray(out), 4).tolist()  # 3 * log 2, log 2
    [2.0794, 0.6931]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true, y_pred = binary_same_rank(ops.convert_to_tensor(y_true), y_pred)
    y_true = _smooth(y_true, label_smoothing)
    pos = as_vector("pos_weight", pos_weight, y_pred, scalar_ok=True)
    neg = as_vector("neg_weight", neg_weight, y_pred, scalar_ok=True)
    log_p, log_1mp = binary_log_probs(y_pred, from_logits)
    return binary_family(y_true, log_p, log_1mp, pos=_unless_one(pos), neg=_unless_one(neg))


def binary_focal_crossentropy(
    y_true, y_pred, *, alpha=None, gamma=2.0, from_logits=False, label_smoothing=0.0
):
    """Binary focal cross-entropy (Lin et al., 2017) with an optional per-label alpha.

    ``loss = -alpha_t * (1 - p_t) ** gamma * (y * log p + (1 - y) * log(1 - p))`` with
    ``p_t = y * p + (1 - y) * (1 - p)`` and ``alpha_t = y * alpha + (1 - y) * (1 - alpha)``
    (``alpha_t = 1`` when ``alpha`` is None). Unlike ``keras.losses.BinaryFocalCrossentropy``,
    ``alpha`` is applied whenever it is given, and may hold one value per label. From logits,
    ``log p = log_sigmoid(x)``, ``1 - p_t = y * sigmoid(-x) + (1 - y) * sigmoid(x)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,), (N, K), (N, T, K) or (N, H, W, K)
        As in :func:`weighted_binary_crossentropy`.
    alpha : float in [0, 1], per-label sequence of length K, or None, default=None
        Weight of positives (negatives get ``1 - alpha``).
    gamma : float >= 0, default=2.0
        Focusing parameter; ``gamma=0`` gives (alpha-weighted) binary cross-entropy.
    from_logits : bool, default=False
    label_smoothing : float in [0, 1], default=0.0

    Returns
    -------
    Tensor of the shape of ``y_pred``: one loss value per element.

    References
    ----------
    Lin, Goyal, Girshick, He, Dollár. Focal Loss for Dense Object Detection. ICCV 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import binary_focal_crossentropy
    >>> out = binary_focal_crossentropy(np.array([1.0]), np.array([0.0]), alpha=0.25,
    ...                                 gamma=2.0, from_logits=True)
    >>> round(float(np.asarray(out)[0]), 4)  # 0.25 * 0.5 ** 2 * log 2
    0.0433
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true, y_pred = binary_same_rank(ops.convert_to_tensor(y_true), y_pred)
    y_true = _smooth(y_true, label_smoothing)
    log_p, log_1mp = binary_log_probs(y_pred, from_logits)
    alpha_t = None
    if alpha is not None:
        a = as_vector("alpha", alpha, y_pred, scalar_ok=True, high=1.0)
        alpha_t = y_true * a + (1.0 - y_true) * (1.0 - a)
    return binary_family(y_true, log_p, log_1mp, gamma=gamma, weight=alpha_t)


def batch_balanced_binary_crossentropy(y_true, y_pred, *, from_logits=False):
    """Binary cross-entropy re-weighted from each batch's own positive/negative counts.

    Per label (the last axis; the whole batch for 1-D targets), with ``n`` elements in the
    batch, ``n_pos = sum(y)``, ``n_neg = n - n_pos`` and ``k`` the number of the two classes
    present in the batch (1 or 2): ``w_pos = n / (k * n_pos)``, ``w_neg = n / (k * n_neg)``
    (scikit-learn's "balanced" weights, computed per batch). The weights average to 1 over the
    batch, a balanced batch gets weights 1 (plain BCE), and a batch without positives (or without
    negatives) gets weight 1 for the class present and no division by zero. Weights are
    constants for the gradient. Masked elements still count in ``n_pos`` / ``n_neg``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,), (N, K), (N, T, K) or (N, H, W, K)
    from_logits : bool, default=False

    Returns
    -------
    Tensor of the shape of ``y_pred``: one loss value per element.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import batch_balanced_binary_crossentropy
    >>> y = np.array([1.0, 0.0, 0.0, 0.0])  # w_pos = 4 / (2 * 1) = 2, w_neg = 4 / (2 * 3)
    >>> out = batch_balanced_binary_crossentropy(y, np.zeros(4), from_logits=True)
    >>> np.round(np.asarray(out) / np.log(2), 4).tolist()
    [2.0, 0.6667, 0.6667, 0.6667]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true, y_pred = binary_same_rank(ops.convert_to_tensor(y_true), y_pred)
    y = ops.stop_gradient(y_true)
    axes = tuple(range(len(y.shape) - 1)) if len(y.shape) > 1 else None
    n_pos = ops.sum(y, axis=axes, keepdims=True)
    n_neg = ops.sum(1.0 - y, axis=axes, keepdims=True)
    n = n_pos + n_neg
    present = ops.cast(n_pos > 0, y.dtype) + ops.cast(n_neg > 0, y.dtype)
    w_pos = ops.divide_no_nan(n, present * n_pos)
    w_neg = ops.divide_no_nan(n, present * n_neg)
    log_p, log_1mp = binary_log_probs(y_pred, from_logits)
    return -(w_pos * y_true * log_p + w_neg * (1.0 - y_true) * log_1mp)


@_register
class WeightedBinaryCrossentropy(_BinaryLoss):
    """Binary cross-entropy with ``pos_weight`` / ``neg_weight`` (scalars or per label).

    Computes :func:`weighted_binary_crossentropy`: one value per element, so with the default
    ``"sum_over_batch_size"`` reduction and unit weights the result equals
    ``keras.losses.BinaryCrossentropy``; a per-label ``sample_weight`` of shape ``(N, K)``
    applies element by element, a per-sample ``(N,)`` one to every label of the sample.
    ``pos_weight=n_neg / n_pos`` with ``neg_weight=1`` is PyTorch's ``BCEWithLogitsLoss(pos_weight)``.

    Parameters
    ----------
    pos_weight, neg_weight : float or sequence/dict of K per-label weights, default=1.0
    from_logits : bool, default=False
    label_smoothing : float in [0, 1], default=0.0
    reduction : str, default="sum_over_batch_size"
    name : str, default="weighted_binary_crossentropy"
    dtype : str or None, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import WeightedBinaryCrossentropy
    >>> loss = WeightedBinaryCrossentropy(pos_weight=3.0, from_logits=True)
    >>> round(float(loss(np.array([1.0, 0.0]), np.array([0.0, 0.0]))), 4)  # (3 + 1) log 2 / 2
    1.3863
    """

    _function = staticmethod(weighted_binary_crossentropy)

    def family(self) -> dict:
        """The binary-family parameters (:mod:`._core`): ``pos_weight``, ``neg_weight``."""
        return {"pos_weight": self.pos_weight, "neg_weight": self.neg_weight, "gamma": 0.0}


@_register
class BinaryFocalCrossentropy(_BinaryLoss):
    """Binary focal loss whose ``alpha`` (scalar or per label) is always applied when given.

    Computes :func:`binary_focal_crossentropy`, one value per element (see
    :class:`WeightedBinaryCrossentropy` for how that meets the reduction and sample weights).
    With ``alpha=None`` and the same ``gamma`` it equals
    ``keras.losses.BinaryFocalCrossentropy(apply_class_balancing=False)``.

    Parameters
    ----------
    alpha : float in [0, 1], sequence/dict of K per-label values in [0, 1], or None, default=None
    gamma : float >= 0, default=2.0
    from_logits : bool, default=False
    label_smoothing : float in [0, 1], default=0.0
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import BinaryFocalCrossentropy
    >>> loss = BinaryFocalCrossentropy(alpha=0.25, gamma=0.0, from_logits=True)
    >>> round(float(loss(np.array([1.0, 0.0]), np.array([0.0, 0.0]))), 4)  # (0.25 + 0.75) log 2 / 2
    0.3466
    """

    _function = staticmethod(binary_focal_crossentropy)

    def family(self) -> dict:
        """The binary-family parameters (:mod:`._core`): ``alpha`` on positives, ``1 -
        alpha`` on negatives (None: 1), ``gamma``."""
        neg = None
        if self.alpha is not None:
            neg = 1.0 - np.asarray(self.alpha)
            neg = float(neg) if neg.ndim == 0 else neg.tolist()
        return {"pos_weight": self.alpha, "neg_weight": neg, "gamma": float(self.gamma)}


@_register
class BatchBalancedBinaryCrossentropy(_BinaryLoss):
    """Binary cross-entropy with "balanced" weights recomputed from every batch.

    Computes :func:`batch_balanced_binary_crossentropy` (one value per element): the dynamic
    scheme users hand-write as a closure, but serialisable, per label for multi-label outputs,
    and safe when a batch has no positives.

    Parameters
    ----------
    from_logits : bool, default=False
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import BatchBalancedBinaryCrossentropy
    >>> loss = BatchBalancedBinaryCrossentropy(from_logits=True)
    >>> round(float(loss(np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(4))), 4)  # log 2
    0.6931
    """

    _function = staticmethod(batch_balanced_binary_crossentropy)
    family_name = None  # weights of each batch's own counts: no fixed family parameters
