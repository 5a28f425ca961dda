"""Class and sample weights for every target layout (numpy only).

Public: :func:`class_weights`, :func:`sample_weights`, :func:`fit_kwargs`, :func:`weighted`,
``STRATEGIES``.
"""

from keras_imbalance.weights._core import class_weights, sample_weights
from keras_imbalance.weights._fit import fit_kwargs, weighted
from keras_imbalance.weights._strategies import STRATEGIES

__all__ = ["STRATEGIES", "class_weights", "fit_kwargs", "sample_weights", "weighted"]
