"""Overlap losses for segmentation: soft Dice, Tversky and focal Tversky, and their sum with CE.

Each function returns one value per image, shape ``(N,)``: the loss of that image
(``per_image=True``) or the loss of the whole batch repeated N times (``per_image=False``,
so Keras' mean over the batch is the batch loss). Sample weights are per image.

Common notation, for class ``c`` with predicted probabilities ``p`` and targets ``g`` over the
pixels of one image (or of the whole batch)::

    TP_c = sum p g        FP_c = sum p (1 - g)        FN_c = sum (1 - p) g

Masks may be sparse (class indices, ``y_pred.shape[:-1]`` or with a trailing 1) or one-hot (the
shape of ``y_pred``); a one-channel ``y_pred`` is a sigmoid output (binary segmentation: the
loss is the foreground's). Pixels labelled ``ignore_class`` leave every sum; when
``ignore_class`` is one of the K classes its own term also leaves the class mean.
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

from .._validation import check_number, invalid
from ._common import (
    ImbalanceLoss,
    as_vector,
    sparse_one_hot,
)
from ._core import overlap_family, overlap_sums

_register = keras.saving.register_keras_serializable(package="keras_imbalance")


# --------------------------------------------------------------------------- shared terms


def _probabilities(y_pred, from_logits: bool):
    if not from_logits:
        return y_pred
    if y_pred.shape[-1] == 1:
        return ops.sigmoid(y_pred)
    # softmax as exp(x - logsumexp(x)): the same values, and on torch's CPU kernels for a short
    # class axis about 2.5x faster forward + backward than ops.softmax
    return ops.exp(y_pred - ops.logsumexp(y_pred, axis=-1, keepdims=True))


def _compatible(a, b) -> bool:
    """Static shapes equal where both are known."""
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def _targets(y_true, y_pred, ignore_class):
    """(targets of y_pred's shape, valid-pixel mask of shape y_pred.shape[:-1] or None)."""
    rank_t, rank_p = len(y_true.shape), len(y_pred.shape)
    k = y_pred.shape[-1]
    if rank_p < 3:
        raise invalid(
            "y_pred",
            "segmentation scores of shape (N, ..., K) with at least one spatial axis",
            f"tensor of shape {tuple(y_pred.shape)}",
        )
    sparse = rank_t == rank_p - 1 or (rank_t == rank_p and y_true.shape[-1] == 1)
    spatial_t = tuple(y_true.shape[1 : rank_p - 1])
    if not (
        _compatible(tuple(y_true.shape[1:]), tuple(y_pred.shape[1:]))
        or (sparse and _compatible(spatial_t, tuple(y_pred.shape[1:-1])))
    ):
        raise invalid(
            "y_true",
            f"a sparse mask of shape {tuple(y_pred.shape[:-1])} (or with a trailing 1) or a "
            f"one-hot mask of shape {tuple(y_pred.shape)}",
            f"tensor of shape {tuple(y_true.shape)}",
        )
    if k == 1:  # 0/1 masks against one sigmoid channel
        if rank_t == rank_p - 1:
            y_true = ops.expand_dims(y_true, -1)
        y_true = ops.cast(y_true, y_pred.dtype)
        if ignore_class is None:
            return y_true, None
        valid = ops.not_equal(y_true[..., 0], ignore_class)
        return ops.where(ops.expand_dims(valid, -1), y_true, 0.0), valid
    if sparse:
        return sparse_one_hot(y_true, y_pred, ignore_class)
    y_true = ops.cast(y_true, y_pred.dtype)
    if ignore_class is None:
        return y_true, None
    if 0 <= ignore_class < k:
        valid = ops.not_equal(ops.argmax(y_true, axis=-1), ignore_class)
    else:  # a void value outside the classes: one-hot void pixels are all-zero rows
        valid = ops.greater(ops.sum(y_true, axis=-1), 0.0)
    return y_true * ops.expand_dims(ops.cast(valid, y_pred.dtype), -1), valid


def _class_mask(k: int, ignore_class, dtype):
    """1 for the classes in the class mean, 0 for an ignored class that is one of the K."""
    if ignore_class is None or k == 1 or not 0 <= ignore_class < k:
        return None
    return ops.convert_to_tensor([0.0 if c == ignore_class else 1.0 for c in range(k)], dtype)


def _overlap(y_true, y_pred, from_logits, ignore_class, squared=False):
    """Per-image, per-class ``(TP, sum of p, sum of g)``, each of shape (N, K)
    (:func:`~._core.overlap_sums`; ``squared=True``: Milletari's sums of squares)."""
    y_pred = ops.convert_to_tensor(y_pred)
    g, valid = _targets(ops.convert_to_tensor(y_true), y_pred, ignore_class)
    p = _probabilities(y_pred, from_logits)
    if valid is not None:
        p = p * ops.expand_dims(ops.cast(valid, p.dtype), -1)
    return overlap_sums(g, p, tuple(range(1, len(p.shape) - 1)), squared=squared)


def _class_mean(per_class, class_weight, ignore_class, images):
    """``(1 / |C|) sum_{c in C} w_c L_c`` per row, broadcast to one value per image."""
    k = per_class.shape[-1]
    if class_weight is not None:
        per_class = per_class * as_vector("class_weight", class_weight, per_class)
    mask = _class_mask(k, ignore_class, per_class.dtype)
    if mask is None:
        value = ops.mean(per_class, axis=-1)
    else:
        value = ops.sum(per_class * mask, axis=-1) / ops.sum(mask)
    # per batch: (1,) -> (N,), the same value for every image
    return value + ops.zeros_like(images[:, 0])


def _overlap_loss(y_true, y_pred, family, class_weight, from_logits, ignore_class, per_image):
    """The class mean of the overlap family (``family``: its ``alpha``, ``beta``, ``gamma``,
    ``smooth`` and ``squared``) over the pixels of each image or of the whole batch."""
    family = dict(family)
    images = _overlap(y_true, y_pred, from_logits, ignore_class, family.pop("squared", False))
    tp, sum_p, sum_g = images
    if not per_image:  # one value over the pixels of the whole batch, shape (1, K)
        tp, sum_p, sum_g = (ops.sum(t, axis=0, keepdims=True) for t in images)
    per_class = overlap_family(tp, sum_p, sum_g, **family)
    return _class_mean(per_class, class_weight, ignore_class, images[0])


def _dice(squared, smooth) -> dict:
    """Dice as a member of the overlap family: ``alpha = beta = 1/2`` and ``s / 2``."""
    return {"alpha": 0.5, "beta": 0.5, "gamma": 1.0, "smooth": smooth / 2, "squared": squared}


def _tversky(alpha, beta, gamma, smooth) -> dict:
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "smooth": smooth, "squared": False}


# --------------------------------------------------------------------------- functions


def dice_loss(
    y_true,
    y_pred,
    *,
    class_weight=None,
    from_logits=False,
    ignore_class=None,
    per_image=False,
    squared=False,
    smooth=1e-5,
):
    """Soft Dice loss per image: ``mean_c w_c (1 - D_c)``.

    ``D_c = (2 TP_c + s) / (sum p_c + sum g_c + s)``, sums over the pixels of an image
    (``per_image=True``) or of the whole batch (``per_image=False``). ``squared=True`` uses
    ``sum p_c**2 + sum g_c**2`` in the denominator, Milletari et al.'s original form; the
    default (linear) form is the one for which Tversky with ``alpha = beta = 0.5`` equals Dice.
    The mean runs over the K classes (or over the one foreground channel of a sigmoid output),
    without ``ignore_class`` when it is one of them. Equals MONAI's
    ``DiceLoss(softmax=True, to_onehot_y=True, batch=not per_image, weight=class_weight,
    squared_pred=squared, smooth_nr=smooth, smooth_dr=smooth, reduction="none")`` averaged over
    the classes.

    Parameters
    ----------
    y_true : array-like of shape (N, ...), (N, ..., 1) or (N, ..., K)
        Class indices (sparse) or one-hot / soft masks; for a one-channel ``y_pred``, 0/1 masks.
    y_pred : array-like of shape (N, ..., K)
        Probabilities (softmax, or sigmoid when K = 1), or logits with ``from_logits=True``.
    class_weight : dict {class_index: weight}, sequence of K weights, or None, default=None
        ``w_c``; e.g. ``keras_imbalance.class_weights(masks, "median_frequency")``.
    from_logits : bool, default=False
    ignore_class : int or None, default=None
        Pixels with this label (a class index, or a value such as 255) leave every sum.
    per_image : bool, default=False
        Dice per image, then averaged over images by Keras (``True``); or one Dice over the
        pixels of the whole batch (``False``: a class absent from one image does not make that
        image's loss 1, which steadies rare classes).
    squared : bool, default=False
    smooth : float >= 0, default=1e-5
        ``s``: a class absent from both mask and prediction has ``D_c = 1``.

    Returns
    -------
    Tensor of shape (N,)
        One value per image (per batch: the batch value, repeated).

    References
    ----------
    Milletari, Navab, Ahmadi. V-Net: Fully Convolutional Neural Networks for Volumetric Medical
    Image Segmentation. 3DV 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import dice_loss
    >>> mask = np.array([[[1, 1], [0, 0]]])                     # (1, 2, 2): class 1 on top
    >>> proba = np.eye(2, dtype="float32")[[[[1, 0], [0, 0]]]]  # predicts one of its 2 pixels
    >>> # class 0: 2 * 2 / (3 + 2) = 0.8; class 1: 2 * 1 / (1 + 2) = 2/3
    >>> round(float(np.asarray(dice_loss(mask, proba, smooth=0.0))[0]), 4)
    0.2667
    """
    family = _dice(squared, smooth)
    return _overlap_loss(y_true, y_pred, family, class_weight, from_logits, ignore_class, per_image)


def tversky_loss(
    y_true,
    y_pred,
    *,
    alpha=0.3,
    beta=0.7,
    class_weight=None,
    from_logits=False,
    ignore_class=None,
    per_image=False,
    smooth=1e-5,
):
    """Tversky loss per image: ``mean_c w_c (1 - T_c)``.

    ``T_c = (TP_c + s) / (TP_c + alpha FP_c + beta FN_c + s)`` (Salehi et al.: ``alpha``
    weighs false positives, ``beta`` false negatives; ``beta > alpha`` favours recall of small
    structures). ``alpha = beta = 0.5`` gives :func:`dice_loss`; ``alpha = beta = 1`` the
    Jaccard (IoU) loss. Equals MONAI's ``TverskyLoss`` with the same settings, averaged over
    the classes (MONAI has no class weights). Arguments and shapes as in :func:`dice_loss`.

    Parameters
    ----------
    y_true, y_pred : array-like
        As in :func:`dice_loss`.
    alpha, beta : float >= 0, default=0.3, 0.7
    class_weight, from_logits, ignore_class, per_image, smooth
        As in :func:`dice_loss`.

    Returns
    -------
    Tensor of shape (N,)

    References
    ----------
    Salehi, Erdogmus, Gholipour. Tversky loss function for image segmentation using 3D fully
    convolutional deep networks. MLMI 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import tversky_loss
    >>> mask = np.array([[[1, 1], [0, 0]]])
    >>> proba = np.eye(2, dtype="float32")[[[[1, 0], [0, 0]]]]
    >>> # class 0: TP 2, FP 1, FN 0 -> 2 / 2.3; class 1: TP 1, FP 0, FN 1 -> 1 / 1.7
    >>> round(float(np.asarray(tversky_loss(mask, proba, smooth=0.0))[0]), 4)
    0.2711
    """
    family = _tversky(alpha, beta, 1.0, smooth)
    return _overlap_loss(y_true, y_pred, family, class_weight, from_logits, ignore_class, per_image)


def focal_tversky_loss(
    y_true,
    y_pred,
    *,
    alpha=0.3,
    beta=0.7,
    gamma=4.0 / 3.0,
    class_weight=None,
    from_logits=False,
    ignore_class=None,
    per_image=False,
    smooth=1e-5,
):
    """Focal Tversky loss per image: ``mean_c w_c (1 - T_c) ** (1 / gamma)``.

    ``T_c`` is the Tversky index of :func:`tversky_loss`. With ``gamma > 1`` the exponent is
    below 1, so classes already segmented well (``T_c`` near 1) still get a large gradient
    share, which Abraham & Khan found helps small lesions (their best: ``gamma = 4/3``,
    false negatives weighted 0.7). ``gamma = 1`` gives :func:`tversky_loss`. The base is
    floored at 1e-30 so the gradient stays finite when ``T_c = 1``. (Abraham & Khan sum over
    classes; this averages, like the other two losses.)

    Parameters
    ----------
    y_true, y_pred : array-like
        As in :func:`dice_loss`.
    alpha, beta : float >= 0, default=0.3, 0.7
        False-positive and false-negative weights (:func:`tversky_loss`).
    gamma : float > 0, default=4/3
    class_weight, from_logits, ignore_class, per_image, smooth
        As in :func:`dice_loss`.

    Returns
    -------
    Tensor of shape (N,)

    References
    ----------
    Abraham, Khan. A Novel Focal Tversky Loss Function with Improved Attention U-Net for
    Lesion Segmentation. ISBI 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import focal_tversky_loss
    >>> mask = np.array([[[1, 1], [0, 0]]])
    >>> proba = np.eye(2, dtype="float32")[[[[1, 0], [0, 0]]]]
    >>> # ((0.3 / 2.3) ** 0.5 + (0.7 / 1.7) ** 0.5) / 2 with gamma = 2
    >>> round(float(np.asarray(focal_tversky_loss(mask, proba, gamma=2.0, smooth=0.0))[0]), 4)
    0.5014
    """
    family = _tversky(alpha, beta, gamma, smooth)
    return _overlap_loss(y_true, y_pred, family, class_weight, from_logits, ignore_class, per_image)


# --------------------------------------------------------------------------- classes


class _OverlapLoss(ImbalanceLoss):
    """Settings shared by the overlap losses; sample weights are one per image."""

    _uses_keras_mask = False  # one value per image: pixels are left out with ignore_class
    family_name = "overlap"

    def _check(self, name: str, value):
        """``alpha`` and ``beta`` are numbers >= 0 here, the focal ``gamma`` is > 0."""
        if name in ("alpha", "beta"):
            return check_number(name, value, low=0.0)
        if name == "gamma":
            return check_number(name, value, low=0.0, low_inclusive=False)
        return super()._check(name, value)

    def family(self) -> dict:
        """The overlap-family parameters (:mod:`._core`): ``alpha``, ``beta``, ``gamma``,
        ``smooth`` and ``squared`` (class weights, ``per_image`` and the rest aside)."""
        return _tversky(self.alpha, self.beta, getattr(self, "gamma", 1.0), self.smooth)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            shape = tuple(getattr(sample_weight, "shape", None) or ops.shape(sample_weight))
            while len(shape) > 1 and shape[-1] == 1:
                shape = shape[:-1]
            if len(shape) > 1:
                raise invalid(
                    "sample_weight",
                    "one weight per image, shape (N,) (an overlap loss is not a sum over pixels: "
                    "leave pixels out with ignore_class, or weight classes with class_weight)",
                    f"shape {shape}",
                )
        return super().__call__(y_true, y_pred, sample_weight)


@_register
class DiceLoss(_OverlapLoss):
    """Soft Dice loss (Milletari et al. 2016) with class weights, for segmentation.

    Computes :func:`dice_loss`: one value per image (``per_image=True``) or the batch's Dice
    loss for every image (``per_image=False``, the default), so Keras' mean is the loss.

    Parameters
    ----------
    class_weight : dict {class_index: weight}, sequence of K weights, or None, default=None
    from_logits : bool, default=False
    ignore_class : int or None, default=None
    per_image : bool, default=False
    squared : bool, default=False
        Denominator ``sum p**2 + sum g**2`` (Milletari's form) instead of ``sum p + sum g``.
    smooth : float >= 0, default=1e-5
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import DiceLoss
    >>> mask = np.array([[[1, 1], [0, 0]]])
    >>> proba = np.eye(2, dtype="float32")[[[[1, 0], [0, 0]]]]
    >>> round(float(DiceLoss(smooth=0.0)(mask, proba)), 4)
    0.2667
    """

    _function = staticmethod(dice_loss)

    def family(self) -> dict:
        return _dice(self.squared, self.smooth)


@_register
class TverskyLoss(_OverlapLoss):
    """Tversky loss (Salehi et al. 2017): Dice with separate false-positive / negative weights.

    Computes :func:`tversky_loss`; ``alpha = beta = 0.5`` is :class:`DiceLoss`.

    Parameters
    ----------
    alpha : float >= 0, default=0.3
        Weight of false positives.
    beta : float >= 0, default=0.7
        Weight of false negatives.
    class_weight, from_logits, ignore_class, per_image, smooth
        As in :class:`DiceLoss`.
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import TverskyLoss
    >>> mask = np.array([[[1, 1], [0, 0]]])
    >>> proba = np.eye(2, dtype="float32")[[[[1, 0], [0, 0]]]]
    >>> round(float(TverskyLoss(alpha=0.5, beta=0.5, smooth=0.0)(mask, proba)), 4)  # = Dice
    0.2667
    """

    _function = staticmethod(tversky_loss)


@_register
class FocalTverskyLoss(TverskyLoss):
    """Focal Tversky loss (Abraham & Khan 2019): ``mean_c w_c (1 - T_c) ** (1 / gamma)``.

    Computes :func:`focal_tversky_loss`; ``gamma = 1`` is :class:`TverskyLoss`.

    Parameters
    ----------
    alpha : float >= 0, default=0.3
        Weight of false positives.
    beta : float >= 0, default=0.7
        Weight of false negatives.
    gamma : float > 0, default=4/3
    class_weight, from_logits, ignore_class, per_image, smooth
        As in :class:`DiceLoss`.
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import FocalTverskyLoss
    >>> mask = np.array([[[1, 1], [0, 0]]])
    >>> proba = np.eye(2, dtype="float32")[[[[1, 0], [0, 0]]]]
    >>> round(float(FocalTverskyLoss(gamma=2.0, smooth=0.0)(mask, proba)), 4)
    0.5014
    """

    _function = staticmethod(focal_tversky_loss)


@_register
class CombinedLoss(keras.losses.Loss):
    """A weighted sum of losses, e.g. cross-entropy + Dice: ``sum_j w_j L_j(y_true, y_pred)``.

    Each ``L_j`` is a ``keras.losses.Loss`` applied with its own reduction and the batch's
    ``sample_weight``, and the scalars are added, exactly as writing
    ``w_1 * ce(y, p, sw) + w_2 * dice(y, p, sw)`` by hand. All the losses see the same
    ``y_true`` / ``y_pred``, so they must agree on ``from_logits`` and on the mask layout.
    Per-image weights ``(N,)`` need losses that broadcast them over pixels: ours do, Keras'
    own ``SparseCategoricalCrossentropy`` does not (use
    :class:`WeightedSparseCategoricalCrossentropy` there).

    Parameters
    ----------
    losses : list of keras.losses.Loss
        At least one loss object (their serialised configs are accepted too).
    weights : sequence of float >= 0, optional
        One weight per loss; default 1 each.
    name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import keras, numpy as np
    >>> from keras_imbalance.losses import CombinedLoss, DiceLoss
    >>> loss = CombinedLoss([keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...                      DiceLoss(from_logits=True)], weights=[1.0, 0.5])
    >>> mask, logits = np.zeros((1, 2, 2), "int32"), np.zeros((1, 2, 2, 2), "float32")
    >>> # log 2 + 0.5 * mean(1 - 2/3, 1 - 0): class 1 is predicted at 0.5 but absent
    >>> round(float(loss(mask, logits)), 4)
    1.0265
    """

    def __init__(self, losses, weights=None, name="combined_loss", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if not isinstance(losses, (list, tuple)) or not losses:
            raise invalid(
                "losses", "a non-empty list of keras.losses.Loss objects", losses, kind=TypeError
            )
        built = []
        for j, item in enumerate(losses):
            if isinstance(item, dict):
                item = keras.saving.deserialize_keras_object(item)
            if not isinstance(item, keras.losses.Loss):
                raise invalid(
                    f"losses[{j}]",
                    "a keras.losses.Loss object (e.g. keras.losses.SparseCategoricalCrossentropy"
                    "(from_logits=True))",
                    item,
                    kind=TypeError,
                )
            built.append(item)
        self.losses = built
        if weights is None:
            weights = [1.0] * len(built)
        if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__"):
            raise invalid("weights", "a sequence of floats, one per loss", weights, kind=TypeError)
        if len(weights) != len(built):
            raise invalid("weights", f"{len(built)} weights (one per loss)", weights)
        self.weights = [
            check_number(f"weights[{j}]", w, low=0.0) if isinstance(w, numbers.Real) else w
            for j, w in enumerate(weights)
        ]
        for j, w in enumerate(self.weights):
            if not isinstance(w, float):
                raise invalid(f"weights[{j}]", "a number >= 0", w, kind=TypeError)

    def __call__(self, y_true, y_pred, sample_weight=None):
        total = None
        for loss, weight in zip(self.losses, self.weights, strict=True):
            value = weight * loss(y_true, y_pred, sample_weight=sample_weight)
            total = value if total is None else total + value
        return total

    def call(self, y_true, y_pred):
        return self(y_true, y_pred)

    def get_config(self):
        return {
            "losses": [keras.saving.serialize_keras_object(loss) for loss in self.losses],
            "weights": list(self.weights),
            "name": self.name,
            "dtype": self._dtype_policy.name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
