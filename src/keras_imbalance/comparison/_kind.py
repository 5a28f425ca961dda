"""What a target kind is to the comparison engine: one object per kind of label.

``compare`` reads ``y`` as one of :data:`~keras_imbalance.comparison.KINDS` (one class per row,
a multi-label row, a segmentation mask). A :class:`Kind` says everything that differs between
them, so that one planner (:mod:`._plan`) and one runner (:mod:`._run`, :mod:`._fold`) serve
every kind:

- its vocabulary: ``strategies`` (the registry, by canonical name), ``default_strategies``,
  ``aliases``, ``ensemble_members``, ``baseline`` and the names always run (``first``),
  ``metrics`` and ``default_metric``;
- reading ``y`` (:meth:`Kind.read`) and the strata its folds and validation splits are
  stratified on (:meth:`Kind.strata`);
- its feasibility checks (:meth:`Kind.problems`: strategies the data cannot run;
  ``runs_resamplers``: whether the planner first runs the resamplers that decide only while
  they run, such as ADASYN, on every fold's rows);
- the fold-side :class:`FoldTarget` (:meth:`Kind.target`): model check, packed loss, threshold
  tuning, validation score and test-fold scores;
- its ensemble collector and what it adds to the results file's config.

A kind never imports the front door (:mod:`._compare`). Adding a kind (say ordinal classes) is
one module in :mod:`keras_imbalance.comparison.kinds` defining a :class:`Kind` subclass and a
:class:`FoldTarget`, plus its entry in ``KINDS``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol

import numpy as np

from keras_imbalance.comparison import _data


class FoldTarget(Protocol):
    """What the fold engine (:mod:`._fold`) and the runner need to know about the labels."""

    k: int  # number of classes (or labels)
    strata: np.ndarray  # an int code per row of the data: what validation splits stratify

    def check_model(self, model, k: int, sample: np.ndarray) -> None:
        """Refuse (one line naming ``model_fn``) a builder whose output does not fit."""

    def packed_loss(self, specs: list, k: int):
        """The Keras loss of a packed fit, one copy per loss spec."""

    def tune(self, y, logits, metric: str, rule: str):
        """The threshold (or offsets) of ``rule`` tuned on validation rows; None: argmax."""

    def rule_score(self, metric: str, y, logits, rule: str, prior=None) -> float:
        """The validation score of a copy under a decision rule (higher is better)."""

    def scores(self, y, logits, threshold, max_scores, seed, prior=None, costs=None) -> dict:
        """A fold row's scores on its test rows (``metrics`` and the kind's own columns,
        ``scores`` and ``_all_scores`` for the ensemble and the curves)."""


class Kind(ABC):
    """One kind of target (see the module docstring); subclasses fill in the vocabulary and
    override the methods whose default does not fit."""

    name: str = ""
    strategies: dict = {}
    default_strategies: tuple = ()
    aliases: dict = {}
    deprecated: dict = {}  # old names still accepted, with a DeprecationWarning: old -> new
    ensemble_members: frozenset = frozenset()
    metrics: tuple = ()
    default_metric: str = ""
    baseline: str = "none"
    first: tuple = ("none", "none+threshold")  # names every comparison runs
    unit: str = "class"  # what its strata and problems speak of
    instead: str = "random_over"  # the strategy suggested when an interpolating one cannot run
    default_models: dict | None = None  # None: the package's DEFAULT_MODELS
    takes_costs: bool = False  # a cost matrix per class (``compare(costs=...)``)
    runs_resamplers: bool = False  # the planner runs ADASYN-like resamplers on each fold first

    def __repr__(self) -> str:
        return f"<target kind {self.name!r}: {len(self.strategies)} strategies>"

    # ----------------------------------------------------------------- reading the data

    def features(self, x) -> tuple[Any, Any]:
        """``(x as an array or checked table, its table spec or None)``."""
        return _data.features(x)

    @abstractmethod
    def read(self, y, xa) -> tuple[np.ndarray, list[str]]:
        """``(labels, names)``: ``y`` checked against ``xa`` as this kind's labels."""

    @abstractmethod
    def strata(self, labels, names) -> tuple[np.ndarray, list[str], dict]:
        """``(an int stratum per row, the strata's names, extra facts)``."""

    @abstractmethod
    def counts(self, labels, names) -> np.ndarray:
        """What the config stores as ``class_counts``."""

    def models(self, model_fn) -> dict:
        """``{name: builder}`` (checked)."""
        from keras_imbalance.comparison._models import DEFAULT_MODELS

        defaults = DEFAULT_MODELS if self.default_models is None else self.default_models
        return _data.builders(model_fn, defaults)

    def with_costs(self, settings, costs, metric, names):
        """The settings after ``costs`` (only kinds with ``takes_costs`` get any)."""
        return settings

    def ignoring(self, ignore_class) -> Kind:
        """This kind with labels ``ignore_class`` left out (segmentation's void pixels)."""
        from keras_imbalance._validation import invalid

        raise invalid(
            "ignore_class", f"None for a {self.name} target (segmentation masks only)", ignore_class
        )

    # ----------------------------------------------------------------- what runs

    def resolve(self, strategies) -> list:
        """The strategies of the names given (None: the defaults), baseline first."""
        from keras_imbalance.comparison._strategies import resolve_strategies

        return resolve_strategies(
            strategies,
            self.strategies,
            self.default_strategies,
            self.aliases,
            first=self.first,
            deprecated=self.deprecated,
        )

    def problems(self, trained, splits, labels, strata, names, fraction, fit_part, seeds):
        """``{strategy: reason}`` for strategies the data cannot run (none by default)."""
        return {}

    @abstractmethod
    def target(self, labels, names, strata, facts, settings) -> FoldTarget:
        """The fold-side :class:`FoldTarget` of these labels."""

    @abstractmethod
    def collector(self, members, label, target, settings, seeds):
        """The ensemble's collector of ``members``."""

    def config_extra(self, names, facts) -> dict:
        """What the kind adds to the results file's config (nothing by default)."""
        return {}
