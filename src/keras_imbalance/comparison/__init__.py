"""Compare imbalance strategies on your data by stratified cross-validation (layer 3).

:func:`compare` runs each strategy of ``KINDS["multiclass"].strategies`` (plain training, a tuned threshold,
class weights, imbalance losses, resampling, balanced batches) through stratified (repeated)
cross-validation with early stopping on a balanced metric, appends every fold to a resumable
JSON-lines file, and returns a :class:`ComparisonResult` with a leaderboard (mean, std and a
95 % corrected resampled t interval), a recommendation and an HTML report
(:meth:`ComparisonResult.to_html`); :func:`fit_strategy` (or
:meth:`ComparisonResult.fit_recommended`) trains the chosen strategy on all the data.

:func:`compare` also takes a multi-label target (an ``(N, K)`` 0/1 matrix;
``KINDS["multilabel"]``, metrics macro over the labels) and segmentation masks (``(N, H, W)``
class ids with the user's per-pixel model; ``KINDS["segmentation"]``, scored by mean IoU and
the IoU of the rarest class). :data:`KINDS` maps each target kind to its
:class:`Kind`: its ``strategies``, ``default_strategies``, ``aliases``, ``ensemble_members``,
``metrics`` and ``default_metric``. The 0.1 constants (``STRATEGIES``, ``METRICS``,
``MULTILABEL_STRATEGIES``, ...) still work, with a DeprecationWarning.
"""

import sys
import warnings

from keras_imbalance.comparison._compare import compare, load_results
from keras_imbalance.comparison._comparison import ComparisonResult
from keras_imbalance.comparison._data import validation_split
from keras_imbalance.comparison._fit import TablePipeline, fit_strategy
from keras_imbalance.comparison._kind import Kind
from keras_imbalance.comparison._models import (
    DEFAULT_MODELS,
    DEFAULT_VARIANTS,
    cnn_model,
    easy_ensemble_model,
    linear_model,
    mlp_model,
    with_options,
    with_variants,
)
from keras_imbalance.comparison._references import DEFAULT_REFERENCES, REFERENCES
from keras_imbalance.comparison._settings import TrainingSettings
from keras_imbalance.comparison._stats import corrected_interval
from keras_imbalance.comparison._strategies import LossSpec, Strategy, TrainingRows
from keras_imbalance.comparison.kinds import KINDS

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_REFERENCES",
    "DEFAULT_VARIANTS",
    "KINDS",
    "ComparisonResult",
    "Kind",
    "LossSpec",
    "REFERENCES",
    "Strategy",
    "TrainingRows",
    "TablePipeline",
    "TrainingSettings",
    "cnn_model",
    "compare",
    "corrected_interval",
    "easy_ensemble_model",
    "fit_strategy",
    "linear_model",
    "load_results",
    "mlp_model",
    "validation_split",
    "with_options",
    "with_variants",
]

#: the per-kind constants of 0.1 -> (kind, attribute of KINDS[kind])
_DEPRECATED = {
    "STRATEGIES": ("multiclass", "strategies"),
    "DEFAULT_STRATEGIES": ("multiclass", "default_strategies"),
    "ALIASES": ("multiclass", "aliases"),
    "ENSEMBLE_MEMBERS": ("multiclass", "ensemble_members"),
    "METRICS": ("multiclass", "metrics"),
    "MULTILABEL_STRATEGIES": ("multilabel", "strategies"),
    "MULTILABEL_DEFAULT_STRATEGIES": ("multilabel", "default_strategies"),
    "MULTILABEL_ENSEMBLE_MEMBERS": ("multilabel", "ensemble_members"),
    "MULTILABEL_METRICS": ("multilabel", "metrics"),
    "SEGMENTATION_STRATEGIES": ("segmentation", "strategies"),
    "SEGMENTATION_METRICS": ("segmentation", "metrics"),
}


def _caller() -> str:
    """The module that asked for a name (frames of the import machinery skipped)."""
    frame = sys._getframe(2)
    while frame is not None and "importlib" in frame.f_code.co_filename:
        frame = frame.f_back
    return "" if frame is None else str(frame.f_globals.get("__name__", ""))


def __getattr__(name: str):
    if name in _DEPRECATED:
        kind, attribute = _DEPRECATED[name]
        if _caller().startswith("keras_imbalance."):  # the package's own modules: no warning
            return getattr(KINDS[kind], attribute)
        warnings.warn(
            f"keras_imbalance.comparison.{name} is deprecated and will be removed in "
            f"keras-imbalance 0.2: use keras_imbalance.comparison.KINDS[{kind!r}].{attribute}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(KINDS[kind], attribute)
    raise AttributeError(f"module 'keras_imbalance.comparison' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_DEPRECATED))
