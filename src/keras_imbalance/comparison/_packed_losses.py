"""The packed losses of multi-label and segmentation comparisons (Keras 3).

As :class:`~keras_imbalance.comparison._packing.PackedCrossentropy` for one class per row,
each sums, per batch position ``i``, every copy ``c``'s own loss times the weight of copy
``c``'s row there: ``sum_c w_ic * loss_c(y_ic, z_ic)``. ``y_true`` is ``(B, C, ..., 2)``:
the labels of copy ``c``'s row (a 0/1 label row, a mask) and the row's weight repeated along
them (:class:`~keras_imbalance.comparison._packing.PackedRows`); ``y_pred`` the logits
``(B, C, K)`` or ``(B, C, H, W, K)``. The weight is ``B / m`` for the ``m`` real rows of a
copy's batch and 0 for the padding, so Keras' mean over ``B`` is each copy's mean over its own
rows, as in its lone fit.

Both are registered with Keras (package ``keras_imbalance``) and save / load with a model.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_imbalance.losses import dice_loss, focal_tversky_loss
from keras_imbalance.losses._common import sparse_one_hot
from keras_imbalance.losses._core import binary_family

_register = keras.saving.register_keras_serializable(package="keras_imbalance")


def _table(values, shape, name) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float32)
    if arr.shape != shape:
        raise ValueError(f"`{name}` must have shape {shape}, got {arr.shape}")
    return arr


@_register
class PackedBinaryCrossentropy(keras.losses.Loss):
    """Copy ``c``'s binary loss per label, averaged over the ``K`` labels of a row:

    ``l_ck = -(a_ck y log s(z') + b_ck (1 - y) log(1 - s(z'))) * (1 - p_t) ** gamma_c`` with
    ``z' = z + offset_ck`` (logit adjustment, training only), ``s`` the sigmoid and ``p_t``
    the probability of the true value. ``a = b = 1``, ``gamma = 0``, no offset is
    ``keras.losses.BinaryCrossentropy(from_logits=True)``; per-label ``a, b`` are
    :class:`~keras_imbalance.losses.WeightedBinaryCrossentropy`'s ``pos_weight`` /
    ``neg_weight``; ``gamma > 0`` with ``a = alpha, b = 1 - alpha`` is
    :class:`~keras_imbalance.losses.BinaryFocalCrossentropy`.

    Parameters
    ----------
    pos_weight, neg_weight, offsets : array-like of shape (copies, K)
    gamma : array-like of shape (copies,)
    """

    def __init__(self, pos_weight, neg_weight, gamma, offsets, name="packed_binary", **kwargs):
        super().__init__(name=name, **kwargs)
        gamma = np.asarray(gamma, dtype=np.float32).reshape(-1)
        shape = (gamma.size, np.asarray(pos_weight).shape[-1])
        self._pos = _table(pos_weight, shape, "pos_weight")
        self._neg = _table(neg_weight, shape, "neg_weight")
        self._offsets = _table(offsets, shape, "offsets")
        self._gamma = gamma[:, None]

    def call(self, y_true, y_pred):
        y = y_true[..., 0]  # (B, C, K)
        weight = y_true[..., 0, 1]  # (B, C)
        z = y_pred
        if np.any(self._offsets):
            z = z + ops.convert_to_tensor(self._offsets, dtype=z.dtype)
        # log(1 - sigmoid(z)) = log_sigmoid(-z)
        log_p, log_q = ops.log_sigmoid(z), ops.log_sigmoid(-z)
        gamma = None
        if np.any(self._gamma):
            gamma = ops.convert_to_tensor(self._gamma, dtype=z.dtype)
        loss = binary_family(  # the losses' one maths, per-copy parameters
            y,
            log_p,
            log_q,
            pos=ops.convert_to_tensor(self._pos, dtype=z.dtype),
            neg=ops.convert_to_tensor(self._neg, dtype=z.dtype),
            gamma=gamma,
        )
        return ops.sum(weight * ops.mean(loss, axis=-1), axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "pos_weight": self._pos.tolist(),
            "neg_weight": self._neg.tolist(),
            "gamma": self._gamma[:, 0].tolist(),
            "offsets": self._offsets.tolist(),
        }


#: the overlap terms of :class:`PackedSegmentationLoss` (default settings of the losses)
OVERLAPS = {"dice": dice_loss, "focal_tversky": focal_tversky_loss}


@_register
class PackedSegmentationLoss(keras.losses.Loss):
    """Copy ``c``'s segmentation loss of an image: ``ce_c * CE + overlap_c``.

    ``CE`` is the mean over the image's pixels of the cross-entropy weighted by the class of
    the pixel (``class_weight[c]``; ones: ``keras.losses.SparseCategoricalCrossentropy``);
    ``overlap_c`` is ``"dice"`` (:func:`~keras_imbalance.losses.dice_loss`), ``"focal_tversky"``
    (:func:`~keras_imbalance.losses.focal_tversky_loss`, alpha 0.3, beta 0.7, gamma 4/3) or
    None, both over the pixels of the copy's batch (their default ``per_image=False``). A
    padding row's pixels are given the void label ``K`` so that they leave the batch's sums.

    Parameters
    ----------
    ce : array-like of shape (copies,)
        Weight of the cross-entropy term (0: none).
    class_weight : array-like of shape (copies, K)
    overlap : list of str or None, one per copy
    """

    def __init__(self, ce, class_weight, overlap, name="packed_segmentation", **kwargs):
        super().__init__(name=name, **kwargs)
        self._ce = np.asarray(ce, dtype=np.float32).reshape(-1)
        copies = self._ce.size
        k = np.asarray(class_weight).shape[-1]
        self._class_weight = _table(class_weight, (copies, k), "class_weight")
        self._overlap = list(overlap)
        if len(self._overlap) != copies or any(
            o is not None and o not in OVERLAPS for o in self._overlap
        ):
            raise ValueError(f"`overlap` must be {copies} of {sorted(OVERLAPS)} or None")

    def call(self, y_true, y_pred):
        k = self._class_weight.shape[1]
        masks = y_true[..., 0]  # (B, C, H, W)
        # the row's weight, repeated over its pixels -> (B, C)
        weight = ops.max(y_true[..., 1], axis=tuple(range(2, len(masks.shape))))
        spatial = tuple(range(1, len(masks.shape) - 1))  # of one copy's (B, H, W)
        total = 0.0
        for c in range(self._ce.size):
            z = y_pred[:, c]
            real = ops.greater(weight[:, c], 0.0)
            real = ops.reshape(real, (-1,) + (1,) * len(spatial))
            labels = ops.where(real, masks[:, c], float(k))  # padding rows: void pixels
            loss = 0.0
            if self._ce[c]:
                one_hot, _ = sparse_one_hot(labels, z, ignore_class=k)
                w = ops.convert_to_tensor(self._class_weight[c], dtype=z.dtype)
                log_p = ops.log_softmax(z, axis=-1)
                per_pixel = -ops.sum(one_hot * log_p * w, axis=-1)
                loss = loss + float(self._ce[c]) * ops.mean(per_pixel, axis=spatial)
            if self._overlap[c] is not None:
                term = OVERLAPS[self._overlap[c]]
                loss = loss + term(labels, z, from_logits=True, ignore_class=k)
            total = total + weight[:, c] * loss
        return total

    def get_config(self):
        return {
            **super().get_config(),
            "ce": self._ce.tolist(),
            "class_weight": self._class_weight.tolist(),
            "overlap": list(self._overlap),
        }
