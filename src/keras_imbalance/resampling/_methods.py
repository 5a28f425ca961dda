"""The one table of resampling methods (no import beyond the standard library).

Per method name: the imbalanced-learn class that runs it, its neighbour parameters (name,
imbalanced-learn's default and the scope the search runs over), and whether it interpolates
new rows or only draws existing ones. :mod:`keras_imbalance.resampling` and
:mod:`keras_imbalance.comparison` both read it; kept apart from ``_core`` so that the command
line can list the names without importing imbalanced-learn or scikit-learn.

Scope of a neighbour search: ``"class"`` = the estimator is fitted on the rows of the class
being over-sampled (``k`` neighbours need ``k + 1`` of its rows); ``"all"`` = fitted on every
row. ``BorderlineSMOTE(kind="borderline-2")`` fits its ``k_neighbors`` on every row (it may
interpolate towards other classes), ``kind="borderline-1"`` on the class only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Neighbors:
    """One neighbour-count parameter of a sampler."""

    name: str
    default: int
    scope: str  # "class" or "all"


@dataclass(frozen=True)
class Method:
    """One resampling method: who runs it and how it treats rows."""

    name: str
    sampler: str  # "module.Class" of imbalanced-learn, or "" for our own multi-label methods
    neighbors: tuple = ()
    interpolates: bool = False  # makes new rows between a row and its neighbours
    draws_rows: bool = False  # only copies / drops rows (any x passes through)
    sampling_type: str = "over-sampling"
    multilabel: bool = False

    @property
    def neighbor_defaults(self) -> dict:
        return {p.name: p.default for p in self.neighbors}


_OVER = "imblearn.over_sampling."
_UNDER = "imblearn.under_sampling."
_K = Neighbors("k_neighbors", 5, "class")

TABLE = {
    m.name: m
    for m in (
        Method("random_over", _OVER + "RandomOverSampler", draws_rows=True),
        Method(
            "random_under",
            _UNDER + "RandomUnderSampler",
            draws_rows=True,
            sampling_type="under-sampling",
        ),
        Method("smote", _OVER + "SMOTE", (_K,), interpolates=True),
        Method(
            "borderline_smote1",
            _OVER + "BorderlineSMOTE",
            (_K, Neighbors("m_neighbors", 10, "all")),
            interpolates=True,
        ),
        Method(
            "borderline_smote2",
            _OVER + "BorderlineSMOTE",
            (Neighbors("k_neighbors", 5, "all"), Neighbors("m_neighbors", 10, "all")),
            interpolates=True,
        ),
        Method("adasyn", _OVER + "ADASYN", (Neighbors("n_neighbors", 5, "class"),), True),
        Method("smotenc", _OVER + "SMOTENC", (_K,), interpolates=True),
        Method("tomek", _UNDER + "TomekLinks", sampling_type="clean-sampling"),
        Method("smote_tomek", _OVER + "SMOTE", (_K,), interpolates=True),  # then TomekLinks
        Method("mlsmote", "", (_K,), interpolates=True, multilabel=True),
        Method("ml_ros", "", draws_rows=True, multilabel=True),
        Method("ml_rus", "", draws_rows=True, multilabel=True),
    )
}

METHODS = tuple(name for name, m in TABLE.items() if not m.multilabel)
MULTILABEL_METHODS = tuple(name for name, m in TABLE.items() if m.multilabel)  # Charte 2015
NEIGHBORS = ("sklearn", "exact", "approximate", "torch")


def neighbor_params(method: str) -> tuple:
    """The neighbour parameters of ``method`` (empty for a name outside the table)."""
    entry = TABLE.get(method)
    return entry.neighbors if entry is not None else ()
