"""One class per row: binary and multiclass labels (ints, strings, bools, one-hot rows).

The strategies are :data:`~keras_imbalance.comparison.STRATEGIES` (plain training, a tuned
threshold, class weights, imbalance losses, resamplers, balanced batches, the ensemble); the
folds are stratified on the class; a copy's loss is the softmax family of
:class:`~keras_imbalance.comparison._packing.PackedCrossentropy`; scores are the confusion
metrics of :data:`~keras_imbalance.comparison.METRICS` (and the expected cost with
``costs``).
"""

from __future__ import annotations

import numpy as np

from keras_imbalance._validation import invalid
from keras_imbalance.comparison import _data
from keras_imbalance.comparison._ensemble import Collector
from keras_imbalance.comparison._kind import Kind
from keras_imbalance.comparison._scoring import (
    decide,
    every_score,
    fold_scores,
    rule_score,
    softmax,
    stored_scores,
    tune,
)
from keras_imbalance.comparison._settings import METRICS
from keras_imbalance.comparison._strategies import (
    ALIASES,
    DEFAULT_STRATEGIES,
    ENSEMBLE_MEMBERS,
    STRATEGIES,
)


def interpolation_problems(trained, splits, codes, classes, fraction, fit_part, seeds) -> dict:
    """``{strategy: reason}`` for each SMOTE-like strategy that would meet a class with one row.

    SMOTE, SMOTE-NC, SMOTE-Tomek, Borderline-SMOTE and ADASYN interpolate between rows of the
    class they over-sample, so every non-majority class needs 2 rows in the rows they resample:
    the early-stopping fit part of each training fold (``fit_part``), else the training fold.
    The reason names the first (repeat, fold) where it happens.
    """
    names = [s.name for s in trained if s.interpolates]
    if not names:
        return {}
    part = "early-stopping fit part" if fit_part else "training fold"
    for repeat, fold, train_idx, test_idx in splits:
        y_train = codes[train_idx]
        rows = y_train
        if fit_part:
            fit_pos, _ = _data.validation_split(y_train, fraction, seeds[(repeat, fold)])
            rows = y_train[fit_pos]
        n = np.bincount(rows, minlength=len(classes))
        thin = [c for c in range(len(classes)) if n[c] == 1 and n[c] < n.max()]
        if thin:
            c = thin[0]
            where = f"repeat {repeat}, fold {fold}" if len(test_idx) else "all rows"
            reason = (
                f"class {classes[c]!r} has 1 row in the {part} of {where} "
                f"({int(np.sum(y_train == c))} in {'its training fold' if len(test_idx) else 'all'}"
                "); interpolating within a class needs 2"
            )
            return dict.fromkeys(names, reason)
    return {}


class MulticlassTarget:
    """The fold side of one class per row (see :class:`~keras_imbalance.comparison._kind.
    FoldTarget`): softmax logits, a threshold or per-class offsets, costs."""

    kind = "multiclass"

    def __init__(self, k: int, strata: np.ndarray, costs=None):
        self.k = int(k)
        self.strata = strata
        self.costs = None if costs is None else np.asarray(costs, dtype=np.float64)

    def check_model(self, model, k, sample) -> None:
        from keras_imbalance.comparison._packing import check_model

        check_model(model, k, sample)

    def packed_loss(self, specs, k):
        from keras_imbalance.comparison._packing import PackedCrossentropy

        return PackedCrossentropy(specs, k)

    def tune(self, y, logits, metric, rule="tuned"):
        return tune(y, softmax(logits), metric, self.costs if rule == "cost" else None)

    def rule_score(self, metric, y, logits, rule, prior=None) -> float:
        return rule_score(metric, y, logits, rule, self.k, self.costs, prior)

    def scores(self, y, logits, threshold, max_scores, seed, prior=None, costs=None) -> dict:
        proba = softmax(logits)
        pred = decide(proba, logits, threshold, prior, costs)
        return {
            **fold_scores(y, pred, proba, self.k, self.costs),
            "scores": stored_scores(y, proba, max_scores, seed),
            "_all_scores": every_score(y, proba),
        }


class MulticlassKind(Kind):
    """One class per row (the default kind)."""

    name = "multiclass"
    strategies = STRATEGIES
    default_strategies = DEFAULT_STRATEGIES
    aliases = ALIASES
    ensemble_members = ENSEMBLE_MEMBERS
    metrics = METRICS
    default_metric = "balanced_accuracy"
    takes_costs = True
    runs_resamplers = True

    def read(self, y, xa):
        return _data.labels(y, xa.shape[0])

    def with_costs(self, settings, costs, metric, names):
        if costs is None:
            return settings
        if metric not in (None, "expected_cost"):
            raise invalid("metric", "None or 'expected_cost' when costs are given", metric)
        from keras_imbalance import calibration

        matrix = calibration.cost_matrix(costs, names)
        return settings.replace(costs=matrix.tolist(), metric="expected_cost")

    def strata(self, labels, names):
        return labels, names, {}

    def counts(self, labels, names):
        return np.bincount(labels, minlength=len(names))

    def problems(self, trained, splits, labels, strata, names, fraction, fit_part, seeds):
        return interpolation_problems(trained, splits, labels, names, fraction, fit_part, seeds)

    def target(self, labels, names, strata, facts, settings):
        return MulticlassTarget(len(names), strata, settings.costs)

    def collector(self, members, label, target, settings, seeds):
        return Collector(members, label, target.k, settings.max_scores, seeds, settings.costs)


KIND = MulticlassKind()
