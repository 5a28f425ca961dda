"""The one planner of a comparison: everything it runs, checked before any fit.

:func:`plan` reads the data through the target's :class:`~._kind.Kind` and returns a
:class:`Plan` (the rows, the labels, the builders, the strategies trained, the folds and their
seeds, the ensemble collectors and the results file's fingerprinted config) that the runner
(:mod:`._run`) executes. The same steps serve every kind.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keras_imbalance._validation import invalid
from keras_imbalance.comparison import _budget, _data, _references
from keras_imbalance.comparison._ensemble import Collector, model_label, selectors
from keras_imbalance.comparison._feasible import infeasible_resamplers, refuse_infeasible
from keras_imbalance.comparison._results import FORMAT


@dataclass
class Plan:
    """Everything a comparison runs, checked before any fit: the rows, the labels (class
    codes, label rows or masks), the fold target (:class:`~._kind.FoldTarget`), the builders,
    the strategies trained, the folds and their seeds, the ensemble collectors, the
    results-file config."""

    x: Any
    y: Any
    spec: Any
    target: Any
    models: dict
    trained: list
    splits: list
    seeds: dict
    collectors: list
    config: dict
    settings: Any
    references: dict = field(default_factory=dict)  # name -> (description, factory)
    sample: Any = None  # the search's rows (a _budget.Sample), None: every row
    budget: Any = None  # what the time budget decided (a _budget.Budget), None: no budget


def plan(
    kind,
    x,
    y,
    *,
    strategies,
    model_fn,
    cv,
    repeats,
    settings,
    costs=None,
    metric=None,
    references=None,
    subsample=None,
    time_budget=None,
    n_jobs=None,
):
    """The :class:`Plan` of comparing ``strategies`` on ``(x, y)`` read as ``kind``
    (``references``: see :func:`~._references.resolve`; ``subsample``, ``time_budget``: see
    :mod:`~._budget`; ``cv=None``: 5 folds, or 3 on a sampled search with large test
    folds)."""
    if costs is not None and not kind.takes_costs:
        raise invalid("costs", f"None for a {kind.name} target (costs are per class)", costs)
    subsample = _budget.check_subsample(subsample)
    seconds = _budget.parse_budget(time_budget)
    xa, spec = kind.features(x)
    planned = _references.resolve(references, kind.name, xa, spec)
    labels, names = kind.read(y, xa)
    settings = kind.with_costs(settings, costs, metric, names)
    resolved = kind.resolve(strategies)
    trained = [s for s in resolved if s.trains]
    models = kind.models(model_fn)
    _references.check_model_names(planned, models)
    whole_x, whole_labels = xa, labels  # the data the config describes
    sample, budget, cv, repeats, settings = _scale(
        kind, xa, labels, names, cv, repeats, settings, trained, models, subsample, seconds, n_jobs
    )
    if sample is not None:  # the search's rows; fit_recommended trains on every row
        xa, labels = _data.take(xa, sample.index), labels[sample.index]
    strata, strata_names, facts = kind.strata(labels, names)
    splits, cv_config = _data.splits(cv, repeats, settings.random_state, xa, strata, strata_names)
    seeds = {(r, f): _data.fold_seed(settings.random_state, r, f) for r, f, _, _ in splits}
    fit_part = not settings.refit or any(
        _data.fixed_epochs(fn, settings.epochs) is None for fn in models.values()
    )
    problems = kind.problems(
        trained, splits, labels, strata, names, settings.validation_fraction, fit_part, seeds
    )
    skipped = skip_or_refuse(problems, strategies is not None, trained, kind.unit, kind.instead)
    left = [s for s in trained if s.name not in skipped]  # ADASYN on separated classes
    infeasible = (
        infeasible_resamplers(
            left, splits, xa, labels, names, spec, settings, seeds, fit_part, models
        )
        if kind.runs_resamplers
        else {}
    )
    if strategies is not None:
        refuse_infeasible(infeasible, trained)
    skipped.update(skip_or_refuse(infeasible, False, trained, kind.unit, kind.instead))
    if skipped:
        resolved = [s for s in resolved if s.name not in skipped]
        trained = [s for s in trained if s.name not in skipped]
    target = kind.target(labels, names, strata, facts, settings)

    def make(members, label):
        return kind.collector(members, label, target, settings, seeds)

    collectors = collectors_of(resolved, models, kind.ensemble_members, make)
    collectors = selectors(collectors, resolved, kind, settings)  # TrainingSettings.ensemble
    if sample is not None:  # each test row of a sampled class stands for its class
        for collector in collectors:
            collector.factors = sample.factors
    extra = kind.config_extra(names, facts)
    if sample is not None:  # fingerprinted: the sample changes the results
        extra["subsample"] = sample.config()
    config = make_config(
        whole_x,
        whole_labels,
        spec,
        names,
        kind.counts(whole_labels, names),
        resolved,
        skipped,
        models,
        cv_config,
        repeats,
        settings,
        **extra,
    )
    if planned:  # not fingerprinted: a results file resumes with or without references
        config["references"] = _references.descriptions(planned)
    if budget is not None:  # not fingerprinted: what it cut is in the config already
        config["budget"] = budget.config()
    return Plan(
        xa,
        labels,
        spec,
        target,
        models,
        trained,
        splits,
        seeds,
        collectors,
        config,
        settings,
        planned,
        sample,
        budget,
    )


def _stratified(cv) -> bool:
    """``cv`` is None or a number of stratified folds (not user-given splits)."""
    return cv is None or (isinstance(cv, int | np.integer) and not isinstance(cv, bool))


def _scale(kind, xa, labels, names, cv, repeats, settings, trained, models, rule, seconds, n_jobs):
    """``(sample, budget, cv, repeats, settings)``: the search's sample of the data (None:
    every row), what the time budget decided (None: no budget) and the folds, repeats and
    settings (epochs) to run (:mod:`~._budget`). Only a one-class-per-row target on stratified
    folds is sampled."""
    stratified = _stratified(cv)
    can_sample = kind.name == "multiclass" and stratified
    if not can_sample and rule not in (None, "auto"):
        raise invalid(
            "subsample",
            "'auto' or None here (an int samples the classes of a one-class-per-row target on "
            "stratified folds, not user-given splits or other targets)",
            rule,
        )
    k = len(names)
    sample = _budget.draw_sample(labels, k, rule, settings.random_state) if can_sample else None
    folds = _budget.folds_of(cv, sample.kept if sample else None) if stratified else cv
    if seconds is None:
        return sample, None, folds, repeats, settings
    if can_sample:
        counts = tuple(int(n) for n in np.bincount(labels, minlength=k))
        kept = sample.kept if sample else counts
    else:
        counts = kept = (int(xa.shape[0]),)
    if stratified:
        n_splits = folds
    elif hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        n_splits = int(cv.get_n_splits(xa, labels))
    else:
        cv = list(cv) if not hasattr(cv, "split") else cv  # a generator is read once, here
        n_splits = len(cv) if isinstance(cv, list) else 5
    inputs = int(np.prod(xa.shape[1:])) if xa.ndim > 1 else 1
    shape = _budget.Shape(
        kept=kept,
        counts=counts,
        cv=folds if stratified else None,
        n_splits=n_splits,
        repeats=repeats,
        epochs=settings.epochs,
        patience=settings.patience,
        strategies=max(1, len(trained)),
        models=tuple(
            _budget.ModelCost(getattr(fn, "fixed_epochs", None), inputs, xa.ndim >= 3)
            for fn in models.values()
        ),
        workers=_workers(n_jobs),
        sampled=can_sample and rule is not None,
    )
    budget = _budget.fit_budget(seconds, shape, _budget.CostModel())
    new = budget.shape
    if new.kept != kept:
        sample = _budget.draw_sample(labels, k, rule, settings.random_state, cap=max(new.kept))
    if new.epochs != settings.epochs:
        settings = settings.replace(epochs=new.epochs)
    return sample, budget, new.cv if stratified else cv, new.repeats, settings


def _workers(n_jobs) -> int:
    """Tasks at once for ``n_jobs`` (joblib's meaning: None 1, -1 every CPU)."""
    import os

    if n_jobs is None:
        return 1
    cpus = os.cpu_count() or 1
    return max(1, min(cpus, n_jobs if n_jobs > 0 else cpus + 1 + n_jobs))


def collectors_of(resolved, models, member_names, make) -> list[Collector]:
    """The ensemble's collectors (``make(members, label)``): one over every model's member
    fits and, with several models, one per model that has at least 2 member fits. Empty when
    ``ensemble`` is not requested."""
    if all(s.trains for s in resolved):
        return []
    members = [(m, s.name) for m in models for s in resolved if s.name in member_names]
    if len(members) < 2:
        raise invalid(
            "strategies",
            "'ensemble' with at least 2 fits to average (models x strategies among "
            f"{sorted(member_names)}); these give {len(members)}: "
            f"{[f'{m}:{s}' for m, s in members]}",
            [s.name for s in resolved],
        )
    label = model_label(models)
    if len(models) > 1 and label in models:
        raise invalid("model_fn", f"model names other than {label!r} (the ensemble's)", label)
    out = [make(members, label)]
    if len(models) > 1:
        for model in models:
            own = [m for m in members if m[0] == model]
            if len(own) >= 2:
                out.append(make(own, model))
    return out


def skip_or_refuse(
    problems: dict, explicit: bool, trained: list, what="class", instead="random_over"
) -> dict:
    """Strategies the data cannot run: an error when the user named them, else skipped (and
    named in a warning)."""
    if not problems:
        return {}
    if explicit:
        reason = next(iter(problems.values()))
        raise invalid(
            "strategies",
            f"strategies that interpolate within a {what} ({', '.join(problems)}) only when "
            f"every {what} has at least 2 rows in the rows they resample, but {reason}; use "
            f"fewer folds (`cv`), more rows of that {what}, or {instead!r} instead",
            [s.name for s in trained],
        )
    warnings.warn(
        "default strategies skipped on this data: "
        + "; ".join(f"{name}: {reason}" for name, reason in problems.items()),
        UserWarning,
        stacklevel=4,
    )
    return dict(problems)


def make_config(
    xa, y, spec, classes, counts, resolved, skipped, models, cv_config, repeats, settings, **extra
) -> dict:
    """The results file's fingerprinted config: data summary, strategies, models, folds and
    settings (``extra``: what another target adds, e.g. its metrics)."""
    import keras

    from keras_imbalance import __version__

    return {
        "format": FORMAT,
        "version": __version__,
        "data": {
            "hash": _data.data_hash(xa, y),
            "n_samples": int(xa.shape[0]),
            "input_shape": list(xa.shape[1:]),
            "table": None
            if spec is None
            else {
                "numeric": list(spec.numeric),
                "categorical": list(spec.categorical),
                "dropped": dict(spec.dropped),
            },
            "classes": classes,
            "class_counts": np.asarray(counts).tolist(),
        },
        "strategies": [s.name for s in resolved],
        "skipped": skipped,
        "models": {name: _data.describe_builder(fn) for name, fn in models.items()},
        "cv": cv_config,
        "repeats": repeats,
        "settings": settings.config(),
        "metric": settings.metric,
        "backend": keras.backend.backend(),
        **extra,
    }
