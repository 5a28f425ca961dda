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

from keras_imbalance.losses._common import sparse_one_hot
from keras_imbalance.losses._core import binary_family, focal_nll, overlap_family, overlap_sums

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


def _overlap_table(overlap, copies: int) -> tuple[dict, list, bool]:
    """Per-copy overlap parameters as arrays of shape (copies, 1): ``on`` (1 for a copy with
    an overlap term), ``alpha``, ``beta``, ``gamma``, ``smooth``, and whether any copy sums
    squares. An entry is None, the family's parameters (``family()`` of a public overlap
    loss), or the name of a public overlap loss at its defaults (``"dice"``,
    ``"focal_tversky"``: the configs of 0.1)."""
    from keras_imbalance import losses

    defaults = {"dice": losses.DiceLoss, "focal_tversky": losses.FocalTverskyLoss}
    entries = list(overlap)
    if len(entries) != copies or any(
        not (e is None or isinstance(e, dict) or e in defaults) for e in entries
    ):
        raise ValueError(
            f"`overlap` must be {copies} entries, each None, {sorted(defaults)} or a dict of "
            "overlap-family parameters"
        )
    entries = [defaults[e]().family() if isinstance(e, str) else e for e in entries]
    table = {"on": np.array([[0.0 if e is None else 1.0] for e in entries], np.float32)}
    # a copy without an overlap term gets smooth 1 (no 0 / 0 where its batch is all padding)
    for name, default in (("alpha", 0.5), ("beta", 0.5), ("gamma", 1.0), ("smooth", 1.0)):
        table[name] = np.array(
            [[default if e is None else float(e.get(name, default))] for e in entries],
            np.float32,
        )
    squared = {bool(e.get("squared", False)) for e in entries if e is not None}
    if len(squared) > 1:
        raise ValueError("`overlap` entries must agree on `squared`")
    return table, entries, squared == {True}


@_register
class PackedSegmentationLoss(keras.losses.Loss):
    """Copy ``c``'s segmentation loss of an image: ``ce_c * CE + overlap_c``, every copy at once.

    ``CE`` is the mean over the image's pixels of the cross-entropy weighted by the class of
    the pixel (``class_weight[c]``; ones: ``keras.losses.SparseCategoricalCrossentropy``);
    ``overlap_c`` the class mean of the losses' overlap family (:mod:`keras_imbalance.losses.
    _core`: Dice, Tversky, focal Tversky) with copy ``c``'s parameters, over the pixels of the
    copy's batch (the public losses' default ``per_image=False``). A padding row's pixels are
    given the void label ``K`` so that they leave the batch's sums.

    Parameters
    ----------
    ce : array-like of shape (copies,)
        Weight of the cross-entropy term (0: none).
    class_weight : array-like of shape (copies, K)
    overlap : list, one entry per copy
        None (no overlap term) or the overlap-family parameters of a public overlap loss
        (``DiceLoss(...).family()``: ``alpha``, ``beta``, ``gamma``, ``smooth``, ``squared``).
    """

    def __init__(self, ce, class_weight, overlap, name="packed_segmentation", **kwargs):
        super().__init__(name=name, **kwargs)
        self._ce = np.asarray(ce, dtype=np.float32).reshape(-1)
        copies = self._ce.size
        k = np.asarray(class_weight).shape[-1]
        self._class_weight = _table(class_weight, (copies, k), "class_weight")
        self._table, self._overlap, self._squared = _overlap_table(overlap, copies)

    def call(self, y_true, y_pred):
        k = self._class_weight.shape[1]
        masks = y_true[..., 0]  # (B, C, H, W)
        spatial = tuple(range(2, len(masks.shape)))
        # the row's weight, repeated over its pixels -> (B, C)
        weight = ops.max(y_true[..., 1], axis=spatial)
        real = ops.greater(weight, 0.0)
        for _ in spatial:
            real = ops.expand_dims(real, -1)
        labels = ops.where(real, masks, float(k))  # padding rows: void pixels
        one_hot, valid = sparse_one_hot(labels, y_pred, ignore_class=k)  # (B, C, H, W, K)
        log_p = ops.log_softmax(y_pred, axis=-1)
        loss = 0.0
        if np.any(self._ce):
            cw = ops.convert_to_tensor(self._class_weight, dtype=y_pred.dtype)
            cw = ops.reshape(cw, (1, -1) + (1,) * len(spatial) + (k,))
            per_pixel = focal_nll(one_hot, log_p, weight=cw)  # the losses' one maths
            ce = ops.convert_to_tensor(self._ce, dtype=y_pred.dtype)
            loss = loss + ce * ops.mean(per_pixel, axis=spatial)
        if np.any(self._table["on"]):
            p = ops.exp(log_p) * ops.expand_dims(ops.cast(valid, y_pred.dtype), -1)
            # sums over the copy's batch and pixels -> (C, K)
            sums = overlap_sums(one_hot, p, (0, *spatial), squared=self._squared)
            t = {n: ops.convert_to_tensor(v, dtype=y_pred.dtype) for n, v in self._table.items()}
            per_class = overlap_family(
                *sums, alpha=t["alpha"], beta=t["beta"], gamma=t["gamma"], smooth=t["smooth"]
            )
            loss = loss + t["on"][:, 0] * ops.mean(per_class, axis=-1)
        return ops.sum(weight * loss, axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "ce": self._ce.tolist(),
            "class_weight": self._class_weight.tolist(),
            "overlap": [None if e is None else dict(e) for e in self._overlap],
        }
