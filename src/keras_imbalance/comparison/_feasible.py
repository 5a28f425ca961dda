"""Resamplers that cannot run on a training fold, found before any fit (layer 3).

ADASYN decides only while it runs whether it can over-sample a class: it weighs each row by
the share of its nearest rows from other classes, and refuses when that share is 0 for every
row of the class (well-separated classes). :func:`infeasible_resamplers` runs each
ADASYN strategy on the rows it would resample in each fold, as the fold will (same scaler,
same validation split, same seed), and answers as
:func:`~keras_imbalance.comparison._plan.skip_or_refuse` does for a class too small to
interpolate in: an error naming the strategy when the user asked for it, else skipped with a
warning and the reason recorded among the comparison's ``skipped`` strategies.
"""

from __future__ import annotations

from keras_imbalance._validation import invalid
from keras_imbalance.comparison._data import take


def infeasible_resamplers(
    trained, splits, x, codes, classes, spec, settings, seeds, fit_part, models
):
    """``{strategy: reason}`` for each ADASYN strategy that refuses the rows of some fold
    (the first (repeat, fold) where it does); ``classes`` the class names of the codes,
    ``models`` the builders."""
    from keras_imbalance.comparison._fold import _Fold
    from keras_imbalance.resampling._failures import ResamplingInfeasible

    adasyn = [s for s in trained if getattr(s, "method", None) == "adasyn"]
    problems: dict = {}
    if not adasyn:
        return problems
    for repeat, fold, train_idx, test_idx in splits:
        if len(problems) == len(adasyn):
            break
        seed = seeds[(repeat, fold)]
        rows = _Fold(
            next(iter(models.values())), x, codes, train_idx, settings, seed, len(classes), spec
        )
        parts = ([False] if fit_part else []) + ([True] if settings.refit else [])
        for full in parts:
            pos, scaler = rows.part(full)
            mixed = scaler.mixed(take(rows.raw, pos))
            for s in adasyn:
                if s.name in problems:
                    continue
                try:
                    s.rows(mixed, rows.y[pos], len(classes), seed, space=scaler)
                except ResamplingInfeasible as err:
                    where = f"repeat {repeat}, fold {fold}" if len(test_idx) else "all rows"
                    part = "training fold" if full else "early-stopping fit part"
                    name = None if err.label is None else classes[int(err.label)]
                    problems[s.name] = f"in the {part} of {where}, {err.reason(name)}"
    return problems


def refuse_infeasible(problems: dict, trained) -> None:
    """The error for strategies the user named that cannot resample some fold (the planner
    skips them with :func:`~keras_imbalance.comparison._plan.skip_or_refuse`'s warning when
    they come from the defaults)."""
    if not problems:
        return
    name, reason = next(iter(problems.items()))
    raise invalid(
        "strategies",
        f"strategies that can resample every training fold, but {name!r} cannot: {reason}; "
        "leave it out (smote and random_over run on any rows)",
        [s.name for s in trained],
    )
