"""Long-tail losses: logit adjustment, balanced softmax, LDAM, and deferred re-weighting.

All three shift the logits by a per-class amount before a log-softmax; they are written for
models that output logits (``from_logits=True``); with probabilities, ``log p`` serves as logits.
"""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np
from keras import ops

from .._validation import Text, check_number, invalid
from ._categorical import SwitchableClassWeight
from ._common import (
    ImbalanceLoss,
    as_logits,
    as_vector,
    class_vector,
    raw_vector,
    sparse_one_hot,
)
from ._core import softmax_family

_register = keras.saving.register_keras_serializable(package="keras_imbalance")


def _log_priors(class_counts, priors) -> list[float]:
    if (class_counts is None) == (priors is None):
        raise invalid(
            "class_counts",
            "exactly one of `class_counts` and `priors`",
            Text(f"class_counts={class_counts!r}, priors={priors!r}"),
        )
    if class_counts is not None:
        values = class_vector("class_counts", class_counts, positive=True)
    else:
        values = class_vector("priors", priors, positive=True)
    total = math.fsum(values)
    return [math.log(v / total) for v in values]


def _ldam_margins(class_counts, max_margin: float) -> list[float]:
    counts = np.asarray(class_vector("class_counts", class_counts, positive=True))
    m = counts**-0.25
    return (m * (max_margin / m.max())).tolist()


def _targets(y_true, y_pred, sparse: bool):
    if sparse:
        return sparse_one_hot(y_true, y_pred)[0]
    return ops.cast(y_true, y_pred.dtype)


def _shifted_ce(one_hot, logits, weight=None, **shift):
    """The softmax family without focusing: ``softmax(s (z + offsets - margins * t))``."""
    return softmax_family(one_hot, logits, weight=weight, **shift)


def logit_adjusted_crossentropy(
    y_true, y_pred, *, class_counts=None, priors=None, tau=1.0, sparse=False, from_logits=False
):
    """Logit-adjusted cross-entropy (Menon et al., ICLR 2021).

    ``loss = CE(softmax(x + tau * log pi), y)`` with ``pi`` the training class priors
    (``class_counts / sum(class_counts)``, or ``priors`` normalised to sum 1). Training with
    the adjusted logits and predicting with the raw ones targets the balanced error. Uniform
    priors (or ``tau=0``) give plain cross-entropy.

    Parameters
    ----------
    y_true : one-hot/soft array of shape like ``y_pred``, or integer labels when ``sparse=True``
    y_pred : array-like of shape (N, K), (N, T, K) or (N, H, W, K); logits when ``from_logits``
    class_counts, priors : dict {class_index: value} or sequence of K positive values
        Exactly one of the two. Zeros are rejected (``log 0``).
    tau : float >= 0, default=1.0
    sparse : bool, default=False
    from_logits : bool, default=False
        With probabilities, ``log p`` is used as the logits.

    Returns
    -------
    Tensor of shape ``y_pred.shape[:-1]``.

    References
    ----------
    Menon, Jayasumana, Rawat, Jain, Veit, Kumar. Long-tail learning via logit adjustment. ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import logit_adjusted_crossentropy
    >>> out = logit_adjusted_crossentropy(np.array([1]), np.zeros((1, 2)), class_counts=[3, 1],
    ...                                   sparse=True, from_logits=True)
    >>> round(float(np.asarray(out)[0]), 4)  # -log(1 / 4)
    1.3863
    """
    shift = [tau * v for v in _log_priors(class_counts, priors)]
    y_pred = ops.convert_to_tensor(y_pred)
    one_hot = _targets(ops.convert_to_tensor(y_true), y_pred, sparse)
    shift = raw_vector("class_counts" if class_counts is not None else "priors", shift, y_pred)
    return _shifted_ce(one_hot, as_logits(y_pred, from_logits), offsets=shift)


def balanced_softmax_crossentropy(y_true, y_pred, *, class_counts, sparse=False, from_logits=False):
    """Balanced softmax cross-entropy (Ren et al., NeurIPS 2020).

    ``p_c = n_c exp(x_c) / sum_j n_j exp(x_j)``, i.e. ``CE(softmax(x + log n), y)``: logit
    adjustment with ``tau=1``. Equal counts give plain cross-entropy.

    Parameters
    ----------
    y_true, y_pred, sparse, from_logits : as in :func:`logit_adjusted_crossentropy`
    class_counts : dict {class_index: count} or sequence of K positive counts

    Returns
    -------
    Tensor of shape ``y_pred.shape[:-1]``.

    References
    ----------
    Ren, Yu, Sheng, Ma, Zhao, Yi, Li. Balanced Meta-Softmax for Long-Tailed Visual Recognition.
    NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import balanced_softmax_crossentropy
    >>> out = balanced_softmax_crossentropy(np.array([[0.0, 1.0]]), np.zeros((1, 2)),
    ...                                     class_counts=[3, 1], from_logits=True)
    >>> round(float(np.asarray(out)[0]), 4)
    1.3863
    """
    return logit_adjusted_crossentropy(
        y_true, y_pred, class_counts=class_counts, tau=1.0, sparse=sparse, from_logits=from_logits
    )


def ldam_crossentropy(
    y_true,
    y_pred,
    *,
    class_counts,
    max_margin=0.5,
    scale=30.0,
    class_weight=None,
    sparse=False,
    from_logits=False,
):
    """Label-distribution-aware margin loss (Cao et al., NeurIPS 2019).

    Margins ``m_c = C / n_c ** (1/4)`` with ``C`` such that ``max(m) = max_margin``; the true
    class's logit is lowered by its margin and all logits are multiplied by ``scale``:
    ``loss = -sum_c w_c y_c log softmax(scale * (x - y * m))_c`` (``w`` = ``class_weight``,
    ones by default). ``max_margin=0`` and ``scale=1`` give plain cross-entropy. The paper
    uses a cosine (normalised) last layer with ``scale=30``; with an ordinary dense last layer
    a smaller scale (1 to 5) is usually better.

    Parameters
    ----------
    y_true, y_pred, sparse, from_logits : as in :func:`logit_adjusted_crossentropy`
    class_counts : dict {class_index: count} or sequence of K positive counts
    max_margin : float >= 0, default=0.5
    scale : float > 0, default=30.0
    class_weight : dict, sequence of K weights, or None, default=None

    Returns
    -------
    Tensor of shape ``y_pred.shape[:-1]``.

    References
    ----------
    Cao, Wei, Gaidon, Arechiga, Ma. Learning Imbalanced Datasets with Label-Distribution-Aware
    Margin Loss. NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import ldam_crossentropy
    >>> out = ldam_crossentropy(np.array([0]), np.zeros((1, 2)), class_counts=[16, 1],
    ...                         max_margin=1.0, scale=1.0, sparse=True, from_logits=True)
    >>> round(float(np.asarray(out)[0]), 4)  # margin 0.5 on class 0: log(1 + e^0.5)
    0.9741
    """
    margins = _ldam_margins(class_counts, check_number("max_margin", max_margin, low=0.0))
    scale = check_number("scale", scale, low=0.0, low_inclusive=False)
    y_pred = ops.convert_to_tensor(y_pred)
    margins = raw_vector("class_counts", margins, y_pred)
    weight = None if class_weight is None else as_vector("class_weight", class_weight, y_pred)
    one_hot = _targets(ops.convert_to_tensor(y_true), y_pred, sparse)
    logits = as_logits(y_pred, from_logits)
    return _shifted_ce(one_hot, logits, weight, margins=margins, scale=scale)


@_register
class LogitAdjustedCrossentropy(ImbalanceLoss):
    """Logit-adjusted cross-entropy (Menon et al., ICLR 2021) as a Keras loss.

    Computes :func:`logit_adjusted_crossentropy`: ``CE(softmax(x + tau * log pi), y)``. Predict
    with the raw model output (its argmax targets the balanced error).

    Parameters
    ----------
    class_counts : dict {class_index: count} or sequence of K positive counts, default=None
    priors : dict or sequence of K positive priors, default=None
        Exactly one of ``class_counts`` and ``priors``.
    tau : float >= 0, default=1.0
    sparse : bool, default=False
        Integer labels instead of one-hot targets.
    from_logits : bool, default=False
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import LogitAdjustedCrossentropy
    >>> loss = LogitAdjustedCrossentropy(class_counts=[3, 1], sparse=True, from_logits=True)
    >>> round(float(loss(np.array([1]), np.zeros((1, 2)))), 4)
    1.3863
    """

    _function = staticmethod(logit_adjusted_crossentropy)
    family_name = "softmax"

    def _validated(self) -> None:
        _log_priors(self.class_counts, self.priors)  # exactly one of the two

    def family(self) -> dict:
        """The softmax-family parameters (:mod:`._core`): ``offsets = tau log pi``."""
        log_pi = _log_priors(self.class_counts, self.priors)
        return {"offsets": tuple(float(self.tau * v) for v in log_pi)}


@_register
class BalancedSoftmaxCrossentropy(LogitAdjustedCrossentropy):
    """Balanced softmax cross-entropy (Ren et al., NeurIPS 2020) as a Keras loss.

    Computes :func:`balanced_softmax_crossentropy`: ``CE(softmax(x + log n), y)``.

    Parameters
    ----------
    class_counts : dict {class_index: count} or sequence of K positive counts
    sparse : bool, default=False
    from_logits : bool, default=False
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import BalancedSoftmaxCrossentropy
    >>> loss = BalancedSoftmaxCrossentropy([3, 1], sparse=True, from_logits=True)
    >>> round(float(loss(np.array([1]), np.zeros((1, 2)))), 4)
    1.3863
    """

    _function = staticmethod(balanced_softmax_crossentropy)
    priors, tau = None, 1.0  # logit adjustment by the class counts, tau = 1


@_register
class LDAMCrossentropy(SwitchableClassWeight, ImbalanceLoss):
    """LDAM loss (Cao et al., NeurIPS 2019) with switchable class weights for LDAM-DRW.

    Computes :func:`ldam_crossentropy`. The class weights (ones unless ``class_weight`` is
    given) live in a non-trainable variable; pair with :class:`DeferredReweighting` to turn
    re-weighting on late in training (the "DRW" schedule of the paper).

    Parameters
    ----------
    class_counts : dict {class_index: count} or sequence of K positive counts
    max_margin : float >= 0, default=0.5
    scale : float > 0, default=30.0
    class_weight : dict, sequence of K weights, or None, default=None
    sparse : bool, default=False
    from_logits : bool, default=False
    reduction, name, dtype : as in ``keras.losses.Loss``

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.losses import LDAMCrossentropy
    >>> loss = LDAMCrossentropy([16, 1], max_margin=1.0, scale=1.0, sparse=True, from_logits=True)
    >>> round(float(loss(np.array([0]), np.zeros((1, 2)))), 4)
    0.9741
    """

    _function = staticmethod(ldam_crossentropy)
    _class_weight_optional = True

    def _check(self, name: str, value):
        if name == "class_counts":  # required (LDAM's margins)
            return class_vector(name, value, positive=True)
        return super()._check(name, value)

    def _validated(self) -> None:
        n = len(self.class_counts)
        if self.class_weight is not None and len(self.class_weight) != n:
            raise invalid(
                "class_weight", f"{n} values (one per entry of `class_counts`)", self.class_weight
            )
        super()._validated()

    def family(self) -> dict:
        """The softmax-family parameters (:mod:`._core`): per-class ``margins`` and ``scale``
        (the class weights are weights)."""
        margins = _ldam_margins(self.class_counts, self.max_margin)
        return {"margins": tuple(float(m) for m in margins), "scale": float(self.scale)}


class DeferredReweighting(keras.callbacks.Callback):
    """Switch a loss's class weights on at a given epoch (deferred re-weighting, "DRW").

    Before ``start_epoch`` (0-based, as Keras counts epochs) the loss uses the class weights it
    was built with (ones for :class:`LDAMCrossentropy` without ``class_weight``); from
    ``start_epoch`` on it uses ``class_weight``. The weights live in a non-trainable variable
    of the loss; at the switch the callback also rebuilds the model's compiled train and test
    functions, so the new weights are used on every backend (a JAX-compiled step would
    otherwise keep the values it was traced with).

    Parameters
    ----------
    loss : WeightedCategoricalCrossentropy, WeightedSparseCategoricalCrossentropy or LDAMCrossentropy
        The loss instance passed to ``model.compile``.
    class_weight : dict {class_index: weight} with keys 0..K-1, or sequence of K weights
        E.g. ``keras_imbalance.class_weights(y, "effective_number", beta=0.9999)`` as
        in Cao et al. (2019).
    start_epoch : int >= 0
        First epoch trained with ``class_weight``.

    References
    ----------
    Cao, Wei, Gaidon, Arechiga, Ma. Learning Imbalanced Datasets with Label-Distribution-Aware
    Margin Loss. NeurIPS 2019.

    Examples
    --------
    >>> from keras_imbalance.losses import LDAMCrossentropy, DeferredReweighting
    >>> loss = LDAMCrossentropy([100, 10, 1], scale=5.0, sparse=True, from_logits=True)
    >>> drw = DeferredReweighting(loss, {0: 0.1, 1: 1.0, 2: 10.0}, start_epoch=30)
    >>> # model.compile(loss=loss, ...); model.fit(..., epochs=40, callbacks=[drw])
    """

    def __init__(self, loss, class_weight, start_epoch):
        super().__init__()
        if not isinstance(loss, SwitchableClassWeight):
            raise invalid(
                "loss",
                "a loss with switchable class weights (WeightedCategoricalCrossentropy, "
                "WeightedSparseCategoricalCrossentropy or LDAMCrossentropy)",
                loss,
                kind=TypeError,
            )
        self.loss = loss
        self.class_weight = class_vector("class_weight", class_weight)
        n = int(loss._class_weight_var.shape[0])
        if len(self.class_weight) != n:
            raise invalid("class_weight", f"{n} values (one per class of `loss`)", class_weight)
        if isinstance(start_epoch, bool) or not isinstance(start_epoch, numbers.Integral):
            raise invalid("start_epoch", "an integer >= 0", start_epoch, kind=TypeError)
        self.start_epoch = check_number("start_epoch", start_epoch, low=0, integer=True)
        self._before = getattr(loss, "class_weight", None)
        self._active = None

    def on_epoch_begin(self, epoch, logs=None):
        active = epoch >= self.start_epoch
        if active == self._active:
            return
        self.loss.set_class_weight(self.class_weight if active else self._before)
        if self._active is not None or active:
            # Compiled steps (JAX) may hold the old weights as constants: rebuild them.
            self.model.make_train_function(force=True)
            self.model.make_test_function(force=True)
        self._active = active
