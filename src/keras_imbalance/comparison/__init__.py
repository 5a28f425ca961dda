"""Compare imbalance strategies on your data by stratified cross-validation (layer 3).

:func:`compare` runs each strategy of :data:`STRATEGIES` (plain training, a tuned threshold,
class weights, imbalance losses, resampling, balanced batches) through stratified (repeated)
cross-validation with early stopping on a balanced metric, appends every fold to a resumable
JSON-lines file, and returns a :class:`ComparisonResult` with a leaderboard (mean, std and a
95 % corrected resampled t interval), a recommendation and an HTML report
(:meth:`ComparisonResult.to_html`); :func:`fit_strategy` (or
:meth:`ComparisonResult.fit_recommended`) trains the chosen strategy on all the data.
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
from keras_imbalance.comparison._settings import METRICS, TrainingSettings
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
