"""keras-imbalance: make Keras 3 classifiers work on class-imbalanced data.

The numpy layer (targets, weights, resampling, calibration, datasets) never imports Keras;
the Keras-facing subpackages (``losses``, ``metrics``, ``sampling``, ``models``) are imported
on first use, so ``import keras_imbalance`` stays cheap and works before a Keras backend is
chosen. Whatever is imported first, every Keras class of the package (losses, metrics,
layers) is registered with Keras' serialisation as soon as Keras is imported, so
``keras.models.load_model`` finds them (:mod:`keras_imbalance._registry`).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily on first attribute access)
_EXPORTS = {
    "TargetInfo": "keras_imbalance.targets",
    "describe": "keras_imbalance.targets",
    "class_counts": "keras_imbalance.targets",
    "class_weights": "keras_imbalance.weights",
    "sample_weights": "keras_imbalance.weights",
    "fit_kwargs": "keras_imbalance.weights",
    "weighted": "keras_imbalance.sampling._weighted",  # the adapters live in sampling (layer 2)
    "load_class_weight": "keras_imbalance.weights",
    "resample": "keras_imbalance.resampling",
    "multilabel_stats": "keras_imbalance.resampling",
    "compare": "keras_imbalance.comparison",
}
_SUBPACKAGES = (
    "targets",
    "tables",
    "weights",
    "losses",
    "metrics",
    "sampling",
    "models",
    "resampling",
    "calibration",
    "datasets",
    "comparison",
    "report",
)

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"keras_imbalance.{name}")
    raise AttributeError(f"module 'keras_imbalance' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))


from keras_imbalance import _registry  # noqa: E402  (last: it may import the subpackages)

_registry.install()
