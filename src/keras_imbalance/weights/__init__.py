"""Class and sample weights for every target layout (numpy only).

Public: :func:`class_weights`, :func:`sample_weights`, :func:`fit_kwargs`, :func:`weighted`,
:func:`load_class_weight` and ``WEIGHT_STRATEGIES`` (the strategy names; ``STRATEGIES`` is its
deprecated 0.1 name). :func:`weighted` wraps Keras / torch / tf.data streams, so it lives beside
the other adapters in :mod:`keras_imbalance.sampling` (layer 2); ``keras_imbalance.weighted`` and
``keras_imbalance.weights.weighted`` load it on first access: this package itself never imports
a deep-learning framework.
"""

import warnings

from keras_imbalance.weights._core import class_weights, sample_weights
from keras_imbalance.weights._fit import fit_kwargs
from keras_imbalance.weights._load import load_class_weight
from keras_imbalance.weights._strategies import WEIGHT_STRATEGIES

__all__ = [
    "WEIGHT_STRATEGIES",
    "class_weights",
    "fit_kwargs",
    "load_class_weight",
    "sample_weights",
    "weighted",
]


def __getattr__(name: str):
    if name == "weighted":
        # re-exported by the top-level package, which loads it from the adapters' layer
        import keras_imbalance

        value = keras_imbalance.weighted
        globals()[name] = value
        return value
    if name == "STRATEGIES":
        warnings.warn(
            "keras_imbalance.weights.STRATEGIES is deprecated and will be removed in "
            "keras-imbalance 0.2: use keras_imbalance.weights.WEIGHT_STRATEGIES",
            DeprecationWarning,
            stacklevel=2,
        )
        return WEIGHT_STRATEGIES
    raise AttributeError(f"module 'keras_imbalance.weights' has no attribute {name!r}")
