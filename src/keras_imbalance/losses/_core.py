"""The one maths of the package's cross-entropy losses (``keras.ops`` only, every backend).

Two families cover every softmax and sigmoid loss of :mod:`keras_imbalance.losses` and the
packed losses of :mod:`keras_imbalance.comparison` (there with per-copy parameter arrays on a
copy axis: every argument broadcasts):

- **softmax**: ``l = -sum_c w_c t_c (1 - p_c) ** gamma log p_c`` with
  ``p = softmax(s (z + offsets - margins * t))`` (:func:`softmax_family`). ``gamma = 0`` and
  ``w`` per class: weighted cross-entropy; ``gamma > 0``: focal loss (``w`` = alpha);
  ``offsets = tau log pi``: logit adjustment (``tau = 1``: balanced softmax); ``margins`` and
  the scale ``s``: LDAM. For one-hot ``t`` it is ``-w_y (1 - p_y) ** gamma log p_y``.
- **binary** (one value per element): ``l = -w (pos y log p + neg (1 - y) log(1 - p))
  (1 - p_t) ** gamma`` with ``p_t = y p + (1 - y)(1 - p)`` (:func:`binary_family`), from
  ``log p`` and ``log(1 - p)`` (``log_sigmoid(x)`` and ``log_sigmoid(-x)`` from logits).

- **overlap** (segmentation, one value per class from pixel sums): ``l_c = (1 - T_c) **
  (1 / gamma)`` with the Tversky index ``T_c = (TP_c + s) / (TP_c + alpha FP_c + beta FN_c +
  s)``, ``FP = sum p - TP``, ``FN = sum g - TP`` (:func:`overlap_family`, sums by
  :func:`overlap_sums`). ``gamma = 1``: Tversky; ``alpha = beta = 1/2`` and smoothing ``s / 2``:
  soft Dice ``(2 TP + s) / (sum p + sum g + s)`` (with sums of squares: Milletari's form);
  ``gamma > 1``: focal Tversky.

:func:`family_of` reads a family's parameters from a public loss object (its ``family()``:
the softmax parameters, the binary ``pos_weight`` / ``neg_weight`` / ``gamma``, or the
overlap ``alpha`` / ``beta`` / ``gamma`` / ``smooth`` / ``squared``), so that the comparison
builds a strategy's loss from the public loss's config.
"""

from __future__ import annotations

import numbers

from keras import ops

#: floor of the base of a focal power, ``(1 - p_t) ** gamma`` or ``(1 - T) ** (1 / gamma)``,
#: so that its gradient stays finite for exponents below 1 where the base rounds to 0 (the
#: clipped region carries a loss below ``1e-30 ** exponent``)
TINY = 1e-30


def _active(gamma) -> bool:
    """Whether a focusing power is in use (None and the Python number 0 are not)."""
    if gamma is None:
        return False
    return not isinstance(gamma, numbers.Number) or gamma != 0


def shifted_logits(z, targets=None, *, offsets=None, margins=None, scale=None):
    """``s (z + offsets - margins * t)``; each part left out when None (or 1 for ``s``)."""
    if offsets is not None:
        z = z + offsets
    if margins is not None:
        z = z - targets * margins
    if scale is not None and not (isinstance(scale, numbers.Number) and scale == 1.0):
        z = scale * z
    return z


def focal_nll(targets, log_p, *, gamma=None, weight=None):
    """``-sum_c w_c t_c (1 - p_c) ** gamma log p_c`` over the last axis (``p = exp(log_p)``)."""
    terms = targets * log_p
    if _active(gamma):
        terms = terms * ops.power(ops.maximum(1.0 - ops.exp(log_p), TINY), gamma)
    if weight is not None:
        terms = terms * weight
    return -ops.sum(terms, axis=-1)


def softmax_family(targets, z, *, gamma=None, weight=None, offsets=None, margins=None, scale=None):
    """The softmax family on logits ``z`` (see the module docstring)."""
    shifted = shifted_logits(z, targets, offsets=offsets, margins=margins, scale=scale)
    return focal_nll(targets, ops.log_softmax(shifted, axis=-1), gamma=gamma, weight=weight)


def binary_family(y, log_p, log_q, *, pos=None, neg=None, gamma=None, weight=None):
    """The binary family from ``log p`` and ``log q = log(1 - p)``, one value per element."""
    pos_term = y * log_p if pos is None else pos * y * log_p
    neg_term = (1.0 - y) * log_q
    if neg is not None:
        neg_term = neg * neg_term
    loss = -(pos_term + neg_term)
    if _active(gamma):
        one_minus_pt = y * ops.exp(log_q) + (1.0 - y) * ops.exp(log_p)
        loss = ops.power(ops.maximum(one_minus_pt, TINY), gamma) * loss
    if weight is not None:
        loss = weight * loss
    return loss


def overlap_sums(targets, p, axes, *, squared=False):
    """``(TP, sum p, sum g)`` over ``axes``: ``sum p g``, and ``sum p``, ``sum g`` (of
    ``p ** 2``, ``g ** 2`` when ``squared``). For hard or soft targets ``FP = sum p (1 - g) =
    sum p - TP`` and ``FN = sum (1 - p) g = sum g - TP``."""
    tp = ops.sum(p * targets, axis=axes)
    sum_p = ops.sum(p * p if squared else p, axis=axes)
    sum_g = ops.sum(targets * targets if squared else targets, axis=axes)
    return tp, sum_p, sum_g


def overlap_family(tp, sum_p, sum_g, *, alpha=0.5, beta=0.5, gamma=None, smooth=0.0):
    """The overlap family per class (see the module docstring): ``(1 - T) ** (1 / gamma)``.

    ``gamma`` None (or the Python number 1) leaves the power out; otherwise the base is
    floored at :data:`TINY` so that the gradient stays finite where ``T = 1``."""
    index = (tp + smooth) / (tp + alpha * (sum_p - tp) + beta * (sum_g - tp) + smooth)
    if gamma is None or (isinstance(gamma, numbers.Number) and gamma == 1):
        return 1.0 - index
    return ops.power(ops.maximum(1.0 - index, TINY), 1.0 / gamma)


def family_of(loss) -> dict:
    """The family parameters of a public loss object (its ``family()``): softmax ``gamma``,
    ``offsets``, ``margins``, ``scale`` (per-class weights and alpha excluded: the comparison
    gives them as row weights); binary ``pos_weight``, ``neg_weight``, ``gamma``; overlap
    ``alpha``, ``beta``, ``gamma``, ``smooth``, ``squared``. Raises for a loss outside them."""
    family = getattr(loss, "family", None)
    if family is None:
        raise TypeError(f"{type(loss).__name__} is not a loss of the functional core")
    return family()
