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
from keras_imbalance.comparison import _data, _references
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


def plan(
    kind,
    x,
    y,
    strategies,
    model_fn,
    cv,
    repeats,
    settings,
    costs=None,
    metric=None,
    references=None,
):
    """The :class:`Plan` of comparing ``strategies`` on ``(x, y)`` read as ``kind``
    (``references``: see :func:`~._references.resolve`)."""
    if costs is not None and not kind.takes_costs:
        raise invalid("costs", f"None for a {kind.name} target (costs are per class)", costs)
    xa, spec = kind.features(x)
    planned = _references.resolve(references, kind.name, xa, spec)
    labels, names = kind.read(y, xa)
    settings = kind.with_costs(settings, costs, metric, names)
    strata, strata_names, facts = kind.strata(labels, names)
    resolved = kind.resolve(strategies)
    trained = [s for s in resolved if s.trains]
    models = kind.models(model_fn)
    _references.check_model_names(planned, models)
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
    config = make_config(
        xa,
        labels,
        spec,
        names,
        kind.counts(labels, names),
        resolved,
        skipped,
        models,
        cv_config,
        repeats,
        settings,
        **kind.config_extra(names, facts),
    )
    if planned:  # not fingerprinted: a results file resumes with or without references
        config["references"] = _references.descriptions(planned)
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
    )


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
