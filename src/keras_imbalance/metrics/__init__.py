"""Imbalance metrics: numpy functions and Keras 3 metrics sharing one definition.

The numpy functions (``balanced_accuracy``, ``geometric_mean``, ``matthews_correlation``,
``macro_f1``, ``per_class_recall``, ``confusion_matrix``, ``from_confusion``, and for
segmentation masks ``per_class_iou``, ``mean_iou``, ``mean_dice``) never import Keras.
The Keras metric classes (``BalancedAccuracy``, ``GeometricMean``, ``MatthewsCorrelation``,
``MacroF1``, ``PerClassRecall``, ``PerClassIoU``, ``MeanDice``) are imported on first access, so
``from keras_imbalance.metrics import balanced_accuracy`` works without a Keras backend.

``import keras_imbalance.metrics`` is enough for ``keras.models.load_model`` to find the metric
classes, whatever the import order: when Keras is already imported they are registered at
once; otherwise they are registered right after Keras finishes importing (a one-shot import
hook), so this module itself never imports Keras.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

from keras_imbalance._confusion import (
    balanced_accuracy,
    confusion_matrix,
    from_confusion,
    geometric_mean,
    macro_f1,
    matthews_correlation,
    mean_dice,
    mean_iou,
    per_class_iou,
    per_class_recall,
)

_KERAS_NAMES = (
    "BalancedAccuracy",
    "GeometricMean",
    "MatthewsCorrelation",
    "MacroF1",
    "PerClassRecall",
    "PerClassIoU",
    "MeanDice",
)

__all__ = [
    "balanced_accuracy",
    "geometric_mean",
    "matthews_correlation",
    "macro_f1",
    "per_class_recall",
    "per_class_iou",
    "mean_iou",
    "mean_dice",
    "confusion_matrix",
    "from_confusion",
    *_KERAS_NAMES,
]


def __getattr__(name: str):
    if name in _KERAS_NAMES:
        value = getattr(importlib.import_module("keras_imbalance.metrics._keras"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_imbalance.metrics' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def _register() -> None:
    """Import the Keras metric classes, which registers them with Keras' serialisation."""
    importlib.import_module("keras_imbalance.metrics._keras")


class _RegisterAfterKeras(importlib.abc.MetaPathFinder):
    """One-shot import hook: once ``keras`` has finished importing, register the classes.

    It finds ``keras`` with the other finders (it takes itself out of ``sys.meta_path`` first)
    and wraps the loader it returns; every other name is left to the other finders.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        _remove_hook()
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _LoaderThenRegister(spec.loader)
        return spec


class _LoaderThenRegister(importlib.abc.Loader):
    """Runs the real loader of ``keras``, then :func:`_register`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        try:
            self._loader.exec_module(module)
        except BaseException:
            _install_hook()  # keras failed to import: try again on the next import
            raise
        _register()

    def __getattr__(self, name):  # get_code, get_resource_reader...: the real loader's
        return getattr(self._loader, name)


_HOOK = _RegisterAfterKeras()


def _install_hook() -> None:
    if _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)


def _remove_hook() -> None:
    while _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


if "keras" in sys.modules:
    _register()
else:
    _install_hook()
