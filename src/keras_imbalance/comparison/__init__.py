"""Compare imbalance strategies on your data by stratified cross-validation (layer 3).

:func:`compare` runs each strategy of :data:`STRATEGIES` (plain training, a tuned threshold,
class weights, imbalance losses, resampling, balanced batches) through stratified (repeated)
cross-validation with early stopping on a balanced metric, appends every fold to a resumable
JSON-lines file, and returns a :class:`ComparisonResult` with a leaderboard (mean, std and a
95 % corrected resampled t interval), a recommendation and an HTML report
(:meth:`ComparisonResult.to_html`); :func:`fit_strategy` (or
:meth:`ComparisonResult.fit_recommended`) trains the chosen strategy on all the data.

:func:`compare` also takes a multi-label target (an ``(N, K)`` 0/1 matrix; strategies
:data:`MULTILABEL_STRATEGIES`, metrics macro over the labels) and segmentation masks
(``(N, H, W)`` class ids with the user's per-pixel model; :data:`SEGMENTATION_STRATEGIES`,
scored by mean IoU and the IoU of the rarest class).
"""

from keras_imbalance.comparison._compare import compare, load_results
from keras_imbalance.comparison._comparison import ComparisonResult
from keras_imbalance.comparison._data import validation_split
from keras_imbalance.comparison._fit import TablePipeline, fit_strategy
from keras_imbalance.comparison._models import (
    DEFAULT_MODELS,
    cnn_model,
    easy_ensemble_model,
    linear_model,
    mlp_model,
    with_options,
)
from keras_imbalance.comparison._multilabel import (
    MULTILABEL_DEFAULT_STRATEGIES,
    MULTILABEL_ENSEMBLE_MEMBERS,
    MULTILABEL_STRATEGIES,
)
from keras_imbalance.comparison._segmentation import SEGMENTATION_STRATEGIES
from keras_imbalance.comparison._settings import (
    METRICS,
    MULTILABEL_METRICS,
    SEGMENTATION_METRICS,
    TrainingSettings,
)
from keras_imbalance.comparison._stats import corrected_interval
from keras_imbalance.comparison._strategies import (
    ALIASES,
    DEFAULT_STRATEGIES,
    ENSEMBLE_MEMBERS,
    STRATEGIES,
    LossSpec,
    Strategy,
    TrainingRows,
)

__all__ = [
    "ALIASES",
    "DEFAULT_MODELS",
    "DEFAULT_STRATEGIES",
    "ENSEMBLE_MEMBERS",
    "METRICS",
    "MULTILABEL_DEFAULT_STRATEGIES",
    "MULTILABEL_ENSEMBLE_MEMBERS",
    "MULTILABEL_METRICS",
    "MULTILABEL_STRATEGIES",
    "SEGMENTATION_METRICS",
    "SEGMENTATION_STRATEGIES",
    "STRATEGIES",
    "ComparisonResult",
    "LossSpec",
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
]
