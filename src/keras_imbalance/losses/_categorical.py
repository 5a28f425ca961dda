"""Softmax losses with per-class weights: weighted and focal cross-entropy, one-hot and sparse.

Each returns one value per sample / time step / pixel (the class axis is reduced), like Keras.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .._validation import invalid
from ._common import (
    ImbalanceLoss,
    as_vector,
    class_vector,
    log_softmax,
    sparse_one_hot,
)
from ._core import focal_nll

_register = keras.saving.register_keras_serializable(package="keras_imbalance")


class SwitchableClassWeight:
    """Mixin: class weights held in a non-trainable variable, replaceable during training.

    :class:`~keras_imbalance.losses.DeferredReweighting` calls :meth:`set_class_weight`.
    """

    family_name = "softmax"

    def family(self) -> dict:
        """The softmax-family parameters (:mod:`._core`) besides the class weights: none."""
        return {}

    # LDAM's class weights may be left out (ones); the weighted cross-entropies need them
    _class_weight_optional = False

    def _check(self, name: str, value):
        if name == "class_weight" and not (value is None and self._class_weight_optional):
            return class_vector(name, value)
        return super()._check(name, value)

    def _validated(self) -> None:
        super()._validated()
        values = self.class_weight
        if values is None:
            values = [1.0] * len(self.class_counts)
        self._class_weight_var = self._hold("class_weight", values)

    def set_class_weight(self, class_weight) -> None:
        """Replace the class weights in place (same number of classes); ``None`` means all ones."""
        n = int(self._class_weight_var.shape[0])
        if class_weight is None:
            values = [1.0] * n
        else:
            values = class_vector("class_weight", class_weight)
            if len(values) != n:
                raise invalid(
                    "class_weight", f"{n} values (one per class of this loss)", class_weight
                )
        self._class_weight_var.assign(np.asarray(values, dtype="float32"))

    @property
    def current_class_weight(self) -> list[float]:
        """The class weights in use now (may differ from the constructor's after a switch)."""
        return [float(v) for v in ops.convert_to_numpy(self._class_weight_var)]

    def _setting(self, name: str):
        if name == "class_weight":
            return self._config_class_weight()
        return super()._setting(name)

    def _config_class_weight(self):
        """The weights ``get_config`` saves: the ones in use now, so that a model saved after
        a :class:`~keras_imbalance.losses.DeferredReweighting` switch reloads with them (the
        constructor's value when nothing was switched, None included)."""
        current = self.current_class_weight
        built = self.class_weight
        if built is None and all(v == 1.0 for v in current):
            return None
        if built is not None and np.allclose(current, built, rtol=1e-6, atol=0.0):
            return built  # float32 storage must not change the saved value
        return current


def _smooth(targets, label_smoothing, valid=None):
    """Keras' label smoothing, ``y (1 - s) + s / K``; ignored positions stay all zero."""
    if not label_smoothing:
        return targets
    k = targets.shape[-1]
    targets = targets * (1.0 - label_smoothing) + label_smoothing / k
    if valid is not None:
        targets = targets * ops.expand_dims(ops.cast(valid, targets.dtype), -1)
    return targets


def weighted_categorical_crossentropy(y_true, y_pred, *, class_weight, from_logits=False):
    """Categorical cross-entropy with one weight per class.

    ``loss = -sum_c w_c * y_c * log p_c`` over the last axis, ``log p = log_softmax(x)`` from
    logits. For one-hot targets this is ``w[y] * CE``, i.e. ``torch.nn.CrossEntropyLoss(
    weight=w, reduction="none")``; soft targets weight each class's share.

    Parameters
    ----------
    y_true : array-like of shape (N, K), (N, T, K) or (N, H, W, K)
        One-hot or soft targets.
    y_pred : array-like of the same shape
        Probabilities, or logits when ``from_logits=True``.
    class_weight : dict {class_index: weight} with keys 0..K-1, or sequence of K weights
        E.g. the dict returned by ``keras_imbalance.class_weights``.
    from_logits : bool, default=False

    Returns
    -------
    Tensor of shape ``y_pred.shape[:-1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import weighted_categorical_crossentropy
    >>> out = weighted_categorical_crossentropy(np.array([[0.0, 1.0]]), np.zeros((1, 2)),
    ...                                         class_weight={0: 1.0, 1: 4.0}, from_logits=True)
    >>> round(float(np.asarray(out)[0]), 4)  # 4 * log 2
    2.7726
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    weight = as_vector("class_weight", class_weight, y_pred)
    return focal_nll(y_true, log_softmax(y_pred, from_logits), weight=weight)


def weighted_sparse_categorical_crossentropy(
    y_true, y_pred, *, class_weight, from_logits=False, ignore_class=None
):
    """Sparse categorical cross-entropy with one weight per class: ``w[y] * -log p_y``.

    Equals ``torch.nn.CrossEntropyLoss(weight=w, ignore_index=ignore_class, reduction="none")``:
    positions whose label is ``ignore_class`` get a zero loss (the class
    :class:`WeightedSparseCategoricalCrossentropy` also leaves them out of the mean).

    Parameters
    ----------
    y_true : array-like of integer class indices, shape ``y_pred.shape[:-1]`` (or with a trailing 1)
    y_pred : array-like of shape (N, K), (N, T, K) or (N, H, W, K)
    class_weight : dict {class_index: weight} with keys 0..K-1, or sequence of K weights
    from_logits : bool, default=False
    ignore_class : int or None, default=None

    Returns
    -------
    Tensor of shape ``y_pred.shape[:-1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import weighted_sparse_categorical_crossentropy
    >>> out = weighted_sparse_categorical_crossentropy(np.array([1, 0]), np.zeros((2, 2)),
    ...                                                class_weight=[1.0, 4.0], from_logits=True)
    >>> np.round(np.asarray(out), 4).tolist()
    [2.7726, 0.6931]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    one_hot, _ = sparse_one_hot(ops.convert_to_tensor(y_true), y_pred, ignore_class)
    return weighted_categorical_crossentropy(
        one_hot, y_pred, class_weight=class_weight, from_logits=from_logits
    )


def categorical_focal_crossentropy(
    y_true, y_pred, *, alpha=None, gamma=2.0, from_logits=False, label_smoothing=0.0
):
    """Softmax focal loss with a per-class alpha.

    ``loss = -sum_c alpha_c * (1 - p_c) ** gamma * y_c * log p_c`` (``alpha_c = 1`` when None);
    ``gamma=0`` gives :func:`weighted_categorical_crossentropy` with weights ``alpha``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N, K), (N, T, K) or (N, H, W, K)
    alpha : dict {class_index: value}, sequence of K values, or None, default=None
    gamma : float >= 0, default=2.0
    from_logits : bool, default=False
    label_smoothing : float in [0, 1], default=0.0
        Targets become ``y * (1 - label_smoothing) + label_smoothing / K``, as in
        ``keras.losses.CategoricalFocalCrossentropy``.

    Returns
    -------
    Tensor of shape ``y_pred.shape[:-1]``.

    References
    ----------
    Lin, Goyal, Girshick, He, Dollár. Focal Loss for Dense Object Detection. ICCV 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import categorical_focal_crossentropy
    >>> out = categorical_focal_crossentropy(np.array([[1.0, 0.0]]), np.zeros((1, 2)),
    ...                                      alpha=[2.0, 1.0], gamma=2.0, from_logits=True)
    >>> round(float(np.asarray(out)[0]), 4)  # 2 * 0.5 ** 2 * log 2
    0.3466
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    a = None if alpha is None else as_vector("alpha", alpha, y_pred)
    targets = _smooth(y_true, label_smoothing)
    return focal_nll(targets, log_softmax(y_pred, from_logits), gamma=gamma, weight=a)


def sparse_categorical_focal_crossentropy(
    y_true,
    y_pred,
    *,
    alpha=None,
    gamma=2.0,
    from_logits=False,
    ignore_class=None,
    label_smoothing=0.0,
):
    """Focal loss for integer labels: ``-alpha[y] * (1 - p_y) ** gamma * log p_y``.

    Parameters
    ----------
    y_true : array-like of integer class indices, shape ``y_pred.shape[:-1]`` (or with a trailing 1)
    y_pred : array-like of shape (N, K), (N, T, K) or (N, H, W, K)
    alpha : dict {class_index: value}, sequence of K values, or None, default=None
    gamma : float >= 0, default=2.0
    from_logits : bool, default=False
    ignore_class : int or None, default=None
        Positions with this label get a zero loss.
    label_smoothing : float in [0, 1], default=0.0
        The one-hot targets become ``y * (1 - label_smoothing) + label_smoothing / K``.

    Returns
    -------
    Tensor of shape ``y_pred.shape[:-1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import sparse_categorical_focal_crossentropy
    >>> out = sparse_categorical_focal_crossentropy(np.array([0]), np.zeros((1, 2)),
    ...                                             gamma=1.0, from_logits=True)
    >>> round(float(np.asarray(out)[0]), 4)  # 0.5 * log 2
    0.3466
    """
    y_pred = ops.convert_to_tensor(y_pred)
    one_hot, valid = sparse_one_hot(ops.convert_to_tensor(y_true), y_pred, ignore_class)
    targets = _smooth(one_hot, label_smoothing, valid)  # ignored positions stay all zero
    return categorical_focal_crossentropy(
        targets, y_pred, alpha=alpha, gamma=gamma, from_logits=from_logits
    )


@_register
class WeightedCategoricalCrossentropy(SwitchableClassWeight, ImbalanceLoss):
    """Categorical cross-entropy with per-class weights (one-hot or soft targets).

    Computes :func:`weighted_categorical_crossentropy`; one value per sample / step / pixel.
    The weights live in a non-trainable variable, so
    :class:`~keras_imbalance.losses.DeferredReweighting` can switch them during ``fit``.

    Parameters
    ----------
    class_weight : dict {class_index: weight} with keys 0..K-1, or sequence of K weights
    from_logits : bool, default=False
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import WeightedCategoricalCrossentropy
    >>> loss = WeightedCategoricalCrossentropy({0: 1.0, 1: 3.0}, from_logits=True)
    >>> round(float(loss(np.eye(2), np.zeros((2, 2)))), 4)  # (1 + 3) log 2 / 2
    1.3863
    """

    _function = staticmethod(weighted_categorical_crossentropy)


@_register
class WeightedSparseCategoricalCrossentropy(SwitchableClassWeight, ImbalanceLoss):
    """Sparse categorical cross-entropy with per-class weights and an optional ignored label.

    Computes :func:`weighted_sparse_categorical_crossentropy`. Positions labelled
    ``ignore_class`` are masked out of the reduction (the mean runs over the other positions),
    as in ``keras.losses.SparseCategoricalCrossentropy(ignore_class=...)``.

    Parameters
    ----------
    class_weight : dict {class_index: weight} with keys 0..K-1, or sequence of K weights
    from_logits : bool, default=False
    ignore_class : int or None, default=None
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import WeightedSparseCategoricalCrossentropy
    >>> loss = WeightedSparseCategoricalCrossentropy([1.0, 3.0], from_logits=True, ignore_class=-1)
    >>> round(float(loss(np.array([0, 1, -1]), np.zeros((3, 2)))), 4)  # (1 + 3) log 2 / 2
    1.3863
    """

    _function = staticmethod(weighted_sparse_categorical_crossentropy)
    _masks_ignore_class = True


class _FocalBase(ImbalanceLoss):
    family_name = "softmax"

    def family(self) -> dict:
        """The softmax-family parameters (:mod:`._core`): ``gamma`` (alpha is a class weight)."""
        return {"gamma": float(self.gamma)}

    def _check(self, name: str, value):
        """``alpha``: None or one value per class, held in a non-trainable variable."""
        if name != "alpha":
            return super()._check(name, value)
        if value is None:
            return None
        value = class_vector(name, value)
        self._hold(name, value)
        return value


@_register
class CategoricalFocalCrossentropy(_FocalBase):
    """Softmax focal loss with per-class alpha (one-hot or soft targets).

    Computes :func:`categorical_focal_crossentropy`. With ``alpha=None`` it equals
    ``keras.losses.CategoricalFocalCrossentropy(alpha=1.0)`` (with the same
    ``label_smoothing``); ``gamma=0`` gives :class:`WeightedCategoricalCrossentropy` with
    ``class_weight=alpha``.

    Parameters
    ----------
    alpha : dict {class_index: value}, sequence of K values, or None, default=None
    gamma : float >= 0, default=2.0
    from_logits : bool, default=False
    label_smoothing : float in [0, 1], default=0.0
        Targets become ``y * (1 - label_smoothing) + label_smoothing / K``.
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import CategoricalFocalCrossentropy
    >>> loss = CategoricalFocalCrossentropy(alpha=[2.0, 1.0], gamma=2.0, from_logits=True)
    >>> round(float(loss(np.array([[1.0, 0.0]]), np.zeros((1, 2)))), 4)
    0.3466
    """

    _function = staticmethod(categorical_focal_crossentropy)


@_register
class SparseCategoricalFocalCrossentropy(_FocalBase):
    """Focal loss for integer labels with per-class alpha and an optional ignored label.

    Computes :func:`sparse_categorical_focal_crossentropy`; positions labelled
    ``ignore_class`` are masked out of the reduction.

    Parameters
    ----------
    alpha : dict {class_index: value}, sequence of K values, or None, default=None
    gamma : float >= 0, default=2.0
    from_logits : bool, default=False
    ignore_class : int or None, default=None
    label_smoothing : float in [0, 1], default=0.0
        The one-hot targets become ``y * (1 - label_smoothing) + label_smoothing / K``
        (ignored positions stay out of the loss).
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import SparseCategoricalFocalCrossentropy
    >>> loss = SparseCategoricalFocalCrossentropy(gamma=1.0, from_logits=True)
    >>> round(float(loss(np.array([0]), np.zeros((1, 2)))), 4)
    0.3466
    """

    _function = staticmethod(sparse_categorical_focal_crossentropy)
    _masks_ignore_class = True
