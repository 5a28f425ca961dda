"""The training settings of a comparison: one validated, frozen object (no Keras).

:class:`TrainingSettings` travels unchanged from the arguments of :func:`compare` to every fold,
into the results file's fingerprinted header (:meth:`TrainingSettings.config`) and back out to
:meth:`ComparisonResult.fit_recommended` (:meth:`TrainingSettings.from_config`), so a setting
cannot be lost on the way.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from keras_imbalance._validation import check_number, check_option, invalid

#: Metrics every fold row records; any of them can rank the leaderboard.
METRICS = ("balanced_accuracy", "geometric_mean", "macro_f1", "matthews_correlation", "pr_auc")

#: Metrics of a multi-label comparison: each metric of the label's own 0/1 problem (F1 of
#: its positives; PR-AUC = the average precision of its positives), averaged over the labels.
MULTILABEL_METRICS = METRICS

#: Metrics of a segmentation comparison, over every test pixel: mean IoU over the classes,
#: the IoU of the class with the fewest pixels in the data, mean Dice over the classes.
SEGMENTATION_METRICS = ("mean_iou", "rare_iou", "mean_dice")

#: target kind -> (its metrics, its default metric)
TARGETS = {
    "multiclass": (METRICS, "balanced_accuracy"),
    "multilabel": (MULTILABEL_METRICS, "balanced_accuracy"),
    "segmentation": (SEGMENTATION_METRICS, "mean_iou"),
}

METRIC_ALIASES = {
    "g_mean": "geometric_mean",
    "gmean": "geometric_mean",
    "mcc": "matthews_correlation",
    "f1": "macro_f1",
    "average_precision": "pr_auc",
}

#: the metric of a comparison with costs: the mean cost per row (lower is better)
COST_METRICS = ("expected_cost",)

#: ranking metric -> the metric ``calibration.tune_threshold`` maximises for a tuned rule
TUNE_FOR = {
    "balanced_accuracy": "balanced_accuracy",
    "geometric_mean": "geometric_mean",
    "macro_f1": "f1",
    "matthews_correlation": "balanced_accuracy",
    "pr_auc": "balanced_accuracy",
}


@dataclass(frozen=True)
class TrainingSettings:
    """How every candidate is trained and scored (validated on creation, immutable).

    Attributes
    ----------
    metric : str
        Ranking metric, early-stopping monitor and threshold-tuning target (one of
        :data:`METRICS`; aliases such as ``"mcc"`` are normalised).
    epochs : int
        Maximum epochs.
    batch_size : int or "auto"
        ``"auto"``: about 8 optimizer steps per epoch, 16 to 256 rows per batch.
    patience : int
        Epochs without improvement of the validation metric before a copy stops.
    validation_fraction : float
        Share of each class of a training fold held out for early stopping and thresholds.
    refit : bool
        Retrain on the whole training fold for the chosen epoch count.
    standardize : bool
        Standardise 2-D numeric tables (statistics of the rows trained on).
    random_state : int
        Seed of the splits, resamplers, batch order and model initialisation.
    max_scores : int
        Test-fold scores kept per row for precision-recall curves.
    jit_compile : bool or "auto"
        Passed to ``model.compile``; ``"auto"`` is ``False`` on torch.
    packed : bool
        Train every strategy of a (model, repeat, fold) in one Keras fit (True) or each in a
        fit of its own (False: the same maths, one copy per fit; for measurements).
    costs : tuple of tuples or None
        The cost matrix ``costs[true][predicted]`` (see
        :func:`keras_imbalance.calibration.cost_matrix`): every strategy decides by least
        expected cost and ``metric`` is ``"expected_cost"`` (lower is better).
    target : {"multiclass", "multilabel", "segmentation"}
        What a row's label is: one class, a 0/1 vector of labels, or a mask of class ids
        (the metrics :data:`TARGETS` allows). Left out of :meth:`config` when
        ``"multiclass"``, so results files written before the other kinds still resume.
    ensemble : {"average", "selection", "both"}
        What the ``ensemble`` row is (:mod:`~keras_imbalance.comparison._ensemble`): the
        uniform average of the fixed members, or greedy ensemble selection over every
        copy's validation-part predictions; ``"both"`` adds the average as a second row
        (strategy ``ensemble_average``) next to the selection, to measure one against the
        other. Left out of :meth:`config` when ``"average"``. The nested benchmark
        (docs/benchmarks.md, issue 23) found the selection worse than the fixed average on
        small tables (its validation rows are few), hence the default.
        ``ComparisonResult.fit_recommended`` trains the fixed average's members for an
        ``ensemble`` winner (the selection's weights differ from fold to fold).
    """

    metric: str = "balanced_accuracy"
    epochs: int = 100
    batch_size: Any = "auto"
    patience: int = 10
    validation_fraction: float = 0.2
    refit: bool = True
    standardize: bool = True
    random_state: int = 0
    max_scores: int = 2000
    jit_compile: Any = "auto"
    packed: bool = True
    costs: Any = None
    target: str = "multiclass"
    ensemble: str = "average"

    def __post_init__(self):
        metric = self.metric
        if isinstance(metric, str):
            metric = METRIC_ALIASES.get(metric, metric)
        costs = self.costs
        if costs is not None:
            import numpy as np

            matrix = np.asarray(costs, dtype=np.float64)
            if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
                raise invalid("costs", "a square cost matrix (see cost_matrix)", costs)
            costs = tuple(tuple(float(v) for v in row) for row in matrix)
            object.__setattr__(self, "costs", costs)
        check_option("target", self.target, TARGETS)
        check_option("ensemble", self.ensemble, ("average", "selection", "both"))
        if costs is not None and self.target != "multiclass":
            raise invalid("costs", f"None for a {self.target} target", costs)
        allowed = TARGETS[self.target][0]
        check_option("metric", metric, COST_METRICS if costs is not None else allowed)
        values = {
            "metric": metric,
            "epochs": check_number("epochs", self.epochs, low=1, integer=True),
            "batch_size": (
                "auto"
                if isinstance(self.batch_size, str) and self.batch_size == "auto"
                else check_number("batch_size", self.batch_size, low=1, integer=True)
            ),
            "patience": check_number("patience", self.patience, low=1, integer=True),
            "validation_fraction": check_number(
                "validation_fraction",
                self.validation_fraction,
                low=0.0,
                high=0.5,
                low_inclusive=False,
            ),
            "random_state": check_number("random_state", self.random_state, low=0, integer=True),
            "max_scores": check_number("max_scores", self.max_scores, low=1, integer=True),
        }
        for name in ("refit", "standardize", "packed"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise invalid(name, "True or False", value, kind=TypeError)
        jit = self.jit_compile
        if not (isinstance(jit, bool) or (isinstance(jit, str) and jit == "auto")):
            raise invalid("jit_compile", "True, False or 'auto'", jit, kind=TypeError)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def config(self) -> dict:
        """Every setting, JSON-ready (the results file's ``config["settings"]``)."""
        out = asdict(self)
        if out["target"] == "multiclass":
            del out["target"]
        if out["ensemble"] == "average":
            del out["ensemble"]
        return out

    @classmethod
    def from_config(cls, config: dict) -> TrainingSettings:
        """The settings stored in a results file's config (missing keys: the defaults)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in config.items() if k in names})

    def replace(self, **changes) -> TrainingSettings:
        """A copy with ``changes`` applied (validated again)."""
        return TrainingSettings(**{**asdict(self), **changes})

    def batch_for(self, n_rows: int) -> int:
        """The batch size used for ``n_rows`` training rows."""
        if self.batch_size != "auto":
            return int(self.batch_size)
        # about 8 steps per epoch: few optimizer steps of Python overhead, still some noise
        return int(min(256, max(16, 2 ** round(math.log2(max(n_rows, 1) / 8)))))

    def jit_for(self, backend: str):
        """``jit_compile`` for ``model.compile`` on ``backend``."""
        if self.jit_compile == "auto":
            return False if backend == "torch" else "auto"
        return self.jit_compile
