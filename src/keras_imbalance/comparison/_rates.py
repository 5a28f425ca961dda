"""Per-copy learning rate and weight decay: hyperparameter variants trained in one pack.

One optimizer steps every copy of a packed fit; :func:`copy_rates` gives each copy the
factors that turn that shared step into the step of its own optimizer, and
:func:`rescale_step` applies them. Used by the packed Keras fit
(:class:`~._packing.CopyRates`) and the compiled JAX fold (:mod:`._compiled`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_imbalance._validation import invalid


def copy_rates(optimizer, variants) -> np.ndarray:
    """Per-copy ``(f, d)`` that turn one optimizer's step into each copy's own optimizer's.

    ``variants``: per copy, a dict of absolute ``learning_rate`` / ``weight_decay`` values (an
    empty dict: the optimizer's own). For Adam-family and SGD optimizers without momentum
    tricks on the rate, the update with decoupled weight decay (Keras: ``theta -= lr * wd *
    theta``, then the optimizer's step) is ``theta' = theta - lr * wd * theta + lr * u``,
    ``u`` independent of ``lr`` (Adam's moments see only gradients). A copy with its own
    ``lr_c``, ``wd_c`` therefore takes, from the shared optimizer's ``theta_base``::

        theta_c' = theta + f_c (theta_base - theta) + d_c theta,
        f_c = lr_c / lr,   d_c = lr_c (wd - wd_c)

    (``wd = 0`` where the optimizer has no weight decay). Needs a constant learning rate.
    """
    lr = getattr(optimizer, "_learning_rate", None)
    if isinstance(lr, keras.optimizers.schedules.LearningRateSchedule) or callable(lr):
        raise invalid(
            "variants",
            "a builder whose optimizer has a constant learning rate (no schedule)",
            type(lr).__name__,
        )
    base_lr = float(ops.convert_to_numpy(optimizer.learning_rate))
    base_wd = float(optimizer.weight_decay or 0.0)
    out = np.zeros((len(variants), 2), dtype=np.float32)
    for c, v in enumerate(variants):
        lr_c = float(v.get("learning_rate", base_lr))
        wd_c = float(v.get("weight_decay", base_wd))
        out[c] = lr_c / base_lr, lr_c * (base_wd - wd_c)
    return out


def rescale_step(old, base, f, d):
    """``old + f (base - old) + d old`` (:func:`copy_rates`), ``f``/``d`` broadcast on the
    leading copy axis of the variables."""
    shape = (-1,) + (1,) * (len(old.shape) - 1)
    f, d = ops.reshape(f, shape), ops.reshape(d, shape)
    return old + f * (base - old) + d * old


__all__ = ["copy_rates", "rescale_step"]
