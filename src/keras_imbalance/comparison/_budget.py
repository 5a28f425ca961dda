"""Real-size data in :func:`~keras_imbalance.compare`: the search's sample of the majority
classes (``subsample``) and the time budget (``time_budget``). Numpy only, no Keras.

**The sample.** The strategy search needs every row of the rare classes but not a million
rows of the common one. ``subsample="auto"`` caps each class at
``max(AUTO_RATIO * smallest class, AUTO_FLOOR)`` rows (50 x the smallest class, and never
fewer than 20,000): a table whose classes all fit keeps every row (the README's yeast4, a
10,000-row table), a 1,000,000-row table at 1:1000 searches on its 1,000 positives and 50,000
of its negatives. An int caps each class at that many rows; ``None`` never samples. The rows
are drawn per class without replacement, seeded by ``random_state``, and fingerprinted.

What the sample changes, and what not:

- training: each candidate trains on the sampled rows as they are (a majority undersampled
  by the same rows for every candidate, at most 1:50 by default), so the search compares the
  strategies on one common, milder imbalance;
- scores: each test row of a sampled class stands for ``count / kept`` rows (its class's
  factor; Keras and reference rows alike, rescored where the runner receives them): the confusion matrix's row of that class is multiplied by it, so balanced
  accuracy, G-mean and per-class recall are unchanged and MCC, macro F1, PR-AUC and the
  expected cost are those of the whole class (PR-AUC as a weighted average precision;
  an ensemble row's from its stored test scores, a random subset beyond ``max_scores``);
- folds: with ``cv=None`` a sampled search uses :data:`FEW_FOLDS` (3) folds instead of 5 when
  each test fold still holds :data:`MIN_TEST_ROWS` (100) rows of every class;
- the final model (``fit_recommended``, the CLI's ``--save-model``) trains on every row.

**The budget.** :func:`fit_budget` fits a plan into ``time_budget`` seconds on a calibrated
:class:`CostModel` (seconds per copy x training row x epoch, per kind of model, plus fixed
costs). It cuts, in this order and each only as far as needed: repeats (to 1), folds (to 3),
the sample of the largest classes (down to :data:`MIN_CAP` rows or twice the smallest class),
then the epochs (down to ``patience + 5``); the plan it returns is estimated within the
budget, and a budget even the smallest plan cannot meet is refused with its estimate. The
cuts are said in the leaderboard's ``attrs``, the recommendation and the report.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

from keras_imbalance._validation import Text, check_number, invalid

AUTO_RATIO = 50  #: "auto": a class keeps at most this many times the smallest class's rows...
AUTO_FLOOR = 20_000  #: ... and never fewer than this many (smaller tables are never sampled)
DEFAULT_CV = 5  #: folds of ``cv=None``
FEW_FOLDS = 3  #: folds of ``cv=None`` on a sampled search whose test folds stay large
MIN_TEST_ROWS = 100  #: rows of every class in each test fold for :data:`FEW_FOLDS`
MIN_CAP = 1_000  #: the budget never samples a class below this many rows (or 2 x the smallest)


# --------------------------------------------------------------------------------------------
# the sample
# --------------------------------------------------------------------------------------------


def check_subsample(value):
    """``"auto"``, ``None`` or an int >= 2 (a class's most rows in the search)."""
    if value is None or (isinstance(value, str) and value == "auto"):
        return value
    if isinstance(value, str):
        raise invalid("subsample", "'auto', None or an int >= 2", value)
    return check_number("subsample", value, low=2, integer=True)


@dataclass(frozen=True)
class Sample:
    """The rows of the strategy search: ``index`` (sorted positions in the data), per class
    the rows ``kept`` and the rows ``counts`` in the data, and the ``rule`` that chose them."""

    index: np.ndarray = field(repr=False)
    kept: tuple
    counts: tuple
    rule: object
    cap: int

    @property
    def factors(self) -> np.ndarray:
        """Per class, how many rows of the data a kept row stands for (``counts / kept``)."""
        kept = np.maximum(np.asarray(self.kept, dtype=np.float64), 1)
        return np.asarray(self.counts, dtype=np.float64) / kept

    def config(self) -> dict:
        """The results file's (fingerprinted) record of the sample."""
        digest = hashlib.sha256(np.ascontiguousarray(self.index, dtype=np.int64).tobytes())
        return {
            "rule": self.rule,
            "cap": self.cap,
            "kept": list(self.kept),
            "of": list(self.counts),
            "rows_hash": digest.hexdigest(),
        }


def draw_sample(codes: np.ndarray, n_classes: int, rule, random_state: int, cap=None):
    """The :class:`Sample` of ``rule`` (``"auto"``, an int, None) on class codes ``codes``,
    or None when every class fits (every row is searched). ``cap`` overrides the rule's cap
    (the budget's)."""
    counts = np.bincount(codes, minlength=n_classes)
    if cap is None:
        cap = cap_of(rule, counts)
    if cap is None or counts.max() <= cap:
        return None
    rng = np.random.default_rng([int(random_state), 21])
    parts = []
    for c in range(n_classes):
        rows = np.flatnonzero(codes == c)
        if rows.size > cap:
            rows = rng.choice(rows, size=int(cap), replace=False)
        parts.append(rows)
    index = np.sort(np.concatenate(parts))
    kept = tuple(int(min(n, cap)) for n in counts)
    return Sample(index, kept, tuple(int(n) for n in counts), rule, int(cap))


def cap_of(rule, counts) -> int | None:
    """A class's most rows under ``rule`` for class ``counts`` (None: no cap)."""
    if rule is None:
        return None
    if rule == "auto":
        smallest = int(np.min(counts[counts > 0]))
        return max(AUTO_RATIO * smallest, AUTO_FLOOR)
    return int(rule)


def folds_of(cv, kept) -> int:
    """``cv`` as an int: ``None`` is :data:`DEFAULT_CV`, or :data:`FEW_FOLDS` for a sampled
    search (``kept``: rows per class in it, None when not sampled) whose every class keeps
    :data:`MIN_TEST_ROWS` rows in each test fold."""
    if cv is not None:
        return cv
    if kept is not None and min(kept) >= FEW_FOLDS * MIN_TEST_ROWS:
        return FEW_FOLDS
    return DEFAULT_CV


def describe_sample(config: dict, classes) -> str:
    """One sentence: what the search ran on (empty without a sample)."""
    sample = config.get("subsample")
    if not sample:
        return ""
    kept, of = sample["kept"], sample["of"]
    parts = [
        f"{name}: {'all ' + format(n, ',') if k == n else f'{k:,} of {n:,}'}"
        for name, k, n in zip(classes, kept, of, strict=True)
    ]
    return (
        f"The search ran on a sample of {sum(kept):,} of {sum(of):,} rows ({'; '.join(parts)}; "
        f"at most {sample['cap']:,} per class, subsample={sample['rule']!r}); its scores weigh "
        "each test row of a sampled class by the rows it stands for; the final model "
        "(fit_recommended, --save-model) trains on every row."
    )


# --------------------------------------------------------------------------------------------
# the time budget
# --------------------------------------------------------------------------------------------

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(hours?|h|minutes?|min|m|seconds?|sec|s)", re.I)
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}
BUDGET_FORMS = "seconds > 0 or a duration such as '90s', '10m', '1h30m'"


def parse_budget(value) -> float | None:
    """Seconds of ``time_budget``: None, a number of seconds > 0, or a string of parts
    ``<number><unit>`` (units h, m or min, s; a bare number is seconds): ``"10m"`` is 600,
    ``"1h30m"`` 5400, ``"90"`` 90.

    >>> parse_budget("1h30m")
    5400.0
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        seconds = None
        try:
            seconds = float(text)
        except ValueError:
            if text and _PART.sub("", text).strip() == "":
                seconds = sum(float(n) * _UNIT[u[0].lower()] for n, u in _PART.findall(text))
        if seconds is None or not (math.isfinite(seconds) and seconds > 0):
            raise invalid("time_budget", BUDGET_FORMS, value)
        return seconds
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise invalid("time_budget", BUDGET_FORMS, value, kind=TypeError)
    if not (math.isfinite(value) and value > 0):
        raise invalid("time_budget", BUDGET_FORMS, value)
    return float(value)


def clock(seconds: float) -> str:
    """``"8m40s"``, ``"45s"``, ``"1h02m"``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


@dataclass(frozen=True)
class CostModel:
    """Estimated seconds of a comparison (calibrated on this project's 2-core machine with the
    compiled JAX fold; docs/benchmarks.md, "Real-size data").

    ``startup`` (imports, the first compilations) + per (model, repeat, fold) ``per_task``
    + ``copies x training rows x epochs x per_row`` of each model, where ``per_row`` is
    ``dense * (1 + inputs / 32)`` for a model on a flat row and ``conv * inputs / 784`` for a
    convolutional one (inputs: numbers per row); ``workers`` tasks run at once.

    ``dense`` is fitted to the default models' measured runs (yeast4, a 10,000 x 10 table, a
    sampled 1,000,000 x 30 table); ``conv`` to the default CNN's default job on 745 images of
    28 x 28 x 3 (1,045 CPU seconds for 5 folds of 34 copies, the steps of a convolutional
    model called apart, :func:`._compiled._steps_apart`, its max pooling traced as a
    reshape, :mod:`._pooling`), which holds the rows the oversampling strategies add on a
    long tail.
    """

    startup: float = 12.0
    per_task: float = 1.5
    dense: float = 2.0e-7
    conv: float = 1.1e-4

    def per_row(self, model: ModelCost) -> float:
        if model.conv:
            return self.conv * model.inputs / 784
        return self.dense * (1 + model.inputs / 32)


@dataclass(frozen=True)
class ModelCost:
    """What the cost of one model depends on: ``fixed`` epochs (None: early-stopped),
    ``inputs`` (numbers per row), ``conv`` (a convolutional network)."""

    fixed: int | None
    inputs: int
    conv: bool = False


@dataclass(frozen=True)
class Shape:
    """The size of a comparison's plan: rows per class in the search (``kept``), rows per
    class in the data (``counts``), folds, repeats, epochs, patience, trained strategies,
    models, and ``workers`` (tasks at once). ``cv`` None: user-given splits (not cut);
    ``sampled``: whether the budget may sample the classes (one class per row, stratified
    folds)."""

    kept: tuple
    counts: tuple
    cv: int | None
    n_splits: int
    repeats: int
    epochs: int
    patience: int
    strategies: int
    models: tuple
    workers: int = 1
    sampled: bool = True

    def with_cap(self, cap: int) -> Shape:
        return replace(self, kept=tuple(min(n, cap) for n in self.counts))


def estimate(shape: Shape, cost: CostModel = CostModel()) -> float:
    """Estimated seconds of ``shape`` under ``cost`` (see :class:`CostModel`): an early-stopped
    model trains ``min(epochs, 3 * patience)`` epochs on average, two copies per strategy
    (early-stopped and refitted); a fixed-epoch model ``min(fixed, epochs)`` epochs, one copy
    per strategy and one more."""
    rows = sum(shape.kept) * (shape.n_splits - 1) / shape.n_splits
    tasks = shape.repeats * shape.n_splits
    seconds = 0.0
    for model in shape.models:
        if model.fixed is None:
            epochs, copies = min(shape.epochs, 3 * shape.patience), 2 * shape.strategies
        else:
            epochs, copies = min(shape.epochs, model.fixed), shape.strategies + 1
        seconds += tasks * (cost.per_task + copies * rows * epochs * cost.per_row(model))
    return cost.startup + seconds / max(1, shape.workers)


@dataclass(frozen=True)
class Budget:
    """What :func:`fit_budget` decided: the ``shape`` to run, the budget's ``seconds``, the
    ``estimate`` before and after, and the ``cuts`` it made (``"repeats 3 -> 1"``...)."""

    shape: Shape
    seconds: float
    before: float
    after: float
    cuts: tuple

    def config(self) -> dict:
        return {
            "seconds": self.seconds,
            "estimate_before": round(self.before, 1),
            "estimate": round(self.after, 1),
            "cuts": list(self.cuts),
        }


def _largest(low: int, high: int, fits) -> int | None:
    """The largest int in ``[low, high]`` with ``fits(value)`` (monotone), or None."""
    if not fits(low):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def fit_budget(seconds: float, shape: Shape, cost: CostModel = CostModel()) -> Budget:
    """Fit ``shape`` into ``seconds`` (see the module docstring): repeats, then folds, then
    the sample, then the epochs, each cut only as far as needed; the returned plan is
    estimated at most ``seconds``. A budget that even the smallest plan exceeds is refused
    (ValueError naming that plan's estimate)."""
    before = estimate(shape, cost)
    cuts: list[str] = []

    def fits(s: Shape) -> bool:
        return estimate(s, cost) <= seconds

    if not fits(shape) and shape.repeats > 1:
        best = _largest(1, shape.repeats, lambda r: fits(replace(shape, repeats=r))) or 1
        cuts.append(f"repeats {shape.repeats} -> {best}")
        shape = replace(shape, repeats=best)
    if not fits(shape) and shape.cv is not None and shape.cv > FEW_FOLDS:
        best = (
            _largest(FEW_FOLDS, shape.cv, lambda f: fits(replace(shape, cv=f, n_splits=f)))
            or FEW_FOLDS
        )
        cuts.append(f"folds {shape.cv} -> {best}")
        shape = replace(shape, cv=best, n_splits=best)
    largest = max(shape.kept)
    floor = min(largest, max(MIN_CAP, 2 * min(n for n in shape.counts if n > 0)))
    if not fits(shape) and shape.sampled and largest > floor:
        best = _largest(floor, largest, lambda c: fits(shape.with_cap(c))) or floor
        cuts.append(f"rows per class {largest:,} -> {best:,}")
        shape = shape.with_cap(best)
    least = min(shape.epochs, shape.patience + 5)
    if not fits(shape) and shape.epochs > least:
        best = _largest(least, shape.epochs, lambda e: fits(replace(shape, epochs=e))) or least
        cuts.append(f"epochs {shape.epochs} -> {best}")
        shape = replace(shape, epochs=best)
    after = estimate(shape, cost)
    if after > seconds:
        raise invalid(
            "time_budget",
            f"at least {clock(after)} for this data, these models and strategies (the "
            f"smallest plan: {shape.repeats} repeat, {shape.n_splits} folds, "
            f"{sum(shape.kept):,} rows, {shape.epochs} epochs); or fewer strategies",
            Text(f"{clock(seconds)} ({seconds:g} s)"),
        )
    return Budget(shape, float(seconds), before, after, tuple(cuts))


def describe_budget(config: dict) -> str:
    """One sentence: the budget and what it cut (empty without a budget)."""
    budget = config.get("budget")
    if not budget:
        return ""
    cuts = ", ".join(budget["cuts"]) or "nothing"
    return (
        f"Time budget {clock(budget['seconds'])}: estimated {clock(budget['estimate'])} "
        f"(the full plan {clock(budget['estimate_before'])}); cut {cuts}."
    )


__all__ = [
    "Budget",
    "CostModel",
    "ModelCost",
    "Sample",
    "Shape",
    "check_subsample",
    "describe_budget",
    "describe_sample",
    "draw_sample",
    "estimate",
    "fit_budget",
    "folds_of",
    "parse_budget",
]
