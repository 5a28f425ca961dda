"""The ``ensemble`` candidate: mean class probabilities of a fold's ENSEMBLE_MEMBERS fits.

For one (repeat, fold) with member fits ``m = 1..M`` (every model x every strategy of
:data:`ENSEMBLE_MEMBERS` that the comparison runs)::

    p_ens(c | x) = (1 / M) * sum_m softmax(logits_m(x))_c,      prediction = argmax_c p_ens

With several models, ``compare`` adds one such ensemble per model (its own member fits only,
``model`` = that model's name) next to the joint one (``model`` = ``"linear+mlp"``): where one
model family is clearly worse on the data (e.g. a linear model on poker hands), the joint
average drags the better one down. The recommendation still prefers the joint ensemble unless
a model's own beats it beyond noise (picking the best ensemble row by mean was measured worse).

Every member is trained for balanced class priors, so their probabilities live on the same
scale and no threshold is tuned. Nothing is trained here: the members' test-fold
probabilities (rounded to 5 decimals, exactly as the results file stores them) are combined,
so a resumed run computes the same row as an uninterrupted one.

**Ensemble selection** (``TrainingSettings(ensemble="selection")``, :class:`Selector`): instead
of the fixed members, the pool is every argmax (or cost-rule) copy of every model of the fold,
and the weights are chosen by greedy forward selection with replacement (Caruana et al. 2004,
"Ensemble selection from libraries of models"; the scheme of auto-sklearn and AutoGluon): start
from nothing and, ``rounds`` times, add the member whose addition gives the best comparison
metric of the running average on the fold's *validation* rows (the early-stopping rows inside
the training fold; ties go to the higher mean per-class log-probability of the true class,
then to the first member), the weight of a member being how often it was added over
``rounds``::

    w_m = count_m / rounds,      p_sel(c | x) = sum_m w_m * p_m(c | x)

Validation predictions are those of each copy's early-stopped weights (for a model trained a
fixed number of epochs: a copy trained on the fit part only; a refitted member's validation
predictions would be in-sample), stored in the member's result row (``validation``: labels,
probabilities rounded to 5 decimals, at most ``max_scores`` rows, a digest of their row ids),
so the selection is resumable and deterministic. Every copy of a (repeat, fold) holds out the
same validation rows (one seeded stratified split of the training fold, shared by every model);
the digest checks it. The weighted average is then scored on the test fold.
"""

from __future__ import annotations

import zlib

import numpy as np

from keras_imbalance import calibration
from keras_imbalance._validation import invalid
from keras_imbalance.comparison._results import row_key
from keras_imbalance.comparison._scoring import (
    REFITTED,
    every_score,
    fold_scores,
    proba_matrix,
    reweigh,
    rule_of,
    score,
    softmax,
    stored_scores,
)

STRATEGY = "ensemble"
#: the strategy of the fixed average when ``TrainingSettings(ensemble="both")``
AVERAGE_STRATEGY = "ensemble_average"
#: rounds of greedy selection (members added, with replacement); AutoGluon's default is 25
SELECTION_ROUNDS = 25


def model_label(model_names) -> str:
    """The ``model`` column of ensemble rows: the model's name, or ``"a+b"`` for several."""
    names = list(model_names)
    return names[0] if len(names) == 1 else "+".join(names)


class Collector:
    """Gathers member rows per fold; returns the fold's ensemble row once all have arrived.

    Parameters
    ----------
    members : list of (model, strategy)
        The fits averaged on every fold.
    model : str
        The ``model`` label of the ensemble rows.
    n_classes, max_scores : int
        As in :func:`keras_imbalance.compare`.
    seeds : dict (repeat, fold) -> int
        Seed of the fold (for down-sampling the stored scores, like the member rows).
    """

    def __init__(
        self, members, model: str, n_classes: int, max_scores: int, seeds: dict, costs=None
    ):
        self.members = [tuple(m) for m in members]
        self.costs = None if costs is None else np.asarray(costs, dtype=np.float64)
        self.model = model
        self.k = n_classes
        self.max_scores = max_scores
        self.seeds = seeds
        self.strategy = STRATEGY
        self._pending: dict[tuple, dict] = {}
        self._done: set = set()
        #: per-class factors of a sampled search (each test row of class ``c`` stands for
        #: ``factors[c]`` rows: :func:`~._scoring.reweigh`); None: every row was scored
        self.factors = None

    def is_member(self, row: dict, strategy: str | None = None) -> bool:
        return (row["model"], strategy or row["strategy"]) in self.members

    def key(self, repeat: int, fold: int) -> str:
        return row_key(self.model, self.strategy, repeat, fold)

    def add(self, row: dict, scores: dict, strategy: str | None = None):
        """Record a member row with its complete ``scores`` as the fit of ``strategy`` (the
        row's own, or one of its aliases: a row trained once for identical strategies serves
        each of them); the ensemble row once every member has arrived, else None."""
        strategy = strategy or row["strategy"]
        if not self.is_member(row, strategy):
            return None
        fold = (row["repeat"], row["fold"])
        part = self._pending.setdefault(fold, {})
        if not part and fold in self._done:
            return None
        part[(row["model"], strategy)] = (row, scores)
        if len(part) < len(self.members):
            return None
        del self._pending[fold]
        self._done.add(fold)
        return self._row(fold, [part[m] for m in self.members], self.members)

    def _row(self, fold, parts, members) -> dict:
        rows = [r for r, _ in parts]
        scored = self._scored(fold, parts)
        repeat, number = fold
        return {
            "type": "fold",
            "key": self.key(repeat, number),
            "model": self.model,
            "strategy": self.strategy,
            "repeat": repeat,
            "fold": number,
            **{k: v for k, v in scored.items() if k not in ("scores", "n_test")},
            "threshold": None,
            "members": [f"{m}:{s}" for m, s in members],
            # the members' hyperparameter variants (with_variants), each once
            "variant": list(dict.fromkeys(r["variant"] for r in rows if r.get("variant"))),
            "best_epoch": None,
            "epochs_run": None,
            "refit": all(bool(r.get("refit")) for r in rows),
            "batch_size": None,
            # the members' training time: what the ensemble costs when run on its own
            "fit_seconds": round(float(sum(r["fit_seconds"] for r in rows)), 3),
            "n_fit": None,
            "n_val": rows[0].get("n_val"),
            "n_test": scored["n_test"],
            "scores": scored["scores"],
        }

    def _scored(self, fold, parts) -> dict:
        """The fold's scores of the averaged members (``n_test`` and the stored ``scores``
        with them); another target's collector overrides this."""
        y = np.asarray(parts[0][1]["y"], dtype=np.int64)
        same_rows(fold, parts)
        if self.costs is None:
            proba = np.mean([proba_matrix(s, self.k) for _, s in parts], axis=0)
            pred = np.argmax(proba, axis=1)
        else:  # each member's probabilities under the data's priors, then least expected cost
            proba = np.mean(
                [
                    softmax(np.log(np.maximum(proba_matrix(s, self.k), 1e-12)) + r["prior"])
                    for r, s in parts
                ],
                axis=0,
            )
            pred = calibration.bayes_decision(proba, self.costs)
        return self._summary(fold, y, pred, proba)

    def _summary(self, fold, y, pred, proba, **extra) -> dict:
        """The fold's scores of the decisions ``pred`` and probabilities ``proba`` of the
        test rows ``y`` (``extra`` added), reweighed when the search ran on a sample."""
        out = {
            **fold_scores(y, pred, proba, self.k, self.costs),
            **extra,
            "n_test": int(y.size),
            "scores": stored_scores(y, proba, self.max_scores, self.seeds[fold]),
        }
        if self.factors is not None:  # PR-AUC from every test row, not the stored ones
            every = every_score(y, proba)
            reweigh(out, every, np.asarray(self.factors, dtype=np.float64), self.costs)
        return out


def same_rows(fold, parts) -> None:
    """Refuse members whose stored scores are of different test rows."""
    y = np.asarray(parts[0][1]["y"])
    for _, scores in parts[1:]:
        if not np.array_equal(np.asarray(scores["y"]), y):
            raise RuntimeError(f"ensemble members of fold {fold} scored different rows")


def validation_record(fitted, key, max_scores: int, seed: int) -> dict:
    """The stored validation predictions of decider ``key`` of a fitted fold
    (:class:`~._fold.FoldFit`): as test scores are stored, plus ``rows``, a digest of the
    validation rows' ids (every member of a fold must have the same)."""
    out = stored_scores(
        np.asarray(fitted.y_val, dtype=np.int64),
        softmax(fitted.validation[key]),
        max_scores,
        seed,
    )
    out["rows"] = rows_digest(fitted.val_rows)
    return out


def rows_digest(rows) -> int:
    """CRC-32 of row ids (int64), to check that members were validated on the same rows."""
    return int(zlib.crc32(np.ascontiguousarray(rows, dtype=np.int64).tobytes()))


def balanced_log_likelihood(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean over the classes present of the mean ``log p(true class)`` of their rows."""
    logp = np.log(np.maximum(proba[np.arange(y.size), y], 1e-12))
    present = np.unique(y)
    return float(np.mean([logp[y == c].mean() for c in present])) if present.size else 0.0


def select(
    y, probas, metric: str, costs=None, rounds: int = SELECTION_ROUNDS, start=None, smooth=False
) -> np.ndarray:
    """Greedy forward selection with replacement (Caruana et al. 2004): the weight of each
    member (how often it was added, over ``rounds``).

    Parameters
    ----------
    y : array-like of shape (n_val,)
        Validation class codes.
    probas : array-like of shape (n_members, n_val, n_classes)
        Each member's validation class probabilities.
    metric : str
        The comparison's metric (``expected_cost``: lower is better, decided by ``costs``).
    costs : array-like of shape (n_classes, n_classes), default=None
        Cost matrix: the average is decided by least expected cost instead of argmax.
    rounds : int, default=SELECTION_ROUNDS
        Members added (with replacement).
    start : array-like of shape (n_members,) of int, default=None
        Counts the selection starts from (Caruana's "sorted initialisation"; e.g. one for
        each member of a fixed average); None: from nothing.
    smooth : bool, default=False
        Rank additions by the balanced log-likelihood first, the metric breaking ties.

    Returns
    -------
    ndarray of shape (n_members,)
        Weights summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> good = np.array([[.9, .1], [.8, .2], [.3, .7], [.4, .6]])
    >>> bad = good[:, ::-1]
    >>> select(y, [bad, good], "balanced_accuracy", rounds=4).tolist()
    [0.0, 1.0]
    """
    y = np.asarray(y, dtype=np.int64)
    probas = np.asarray(probas, dtype=np.float64)
    n_members, _, k = probas.shape
    matrix = None if costs is None else np.asarray(costs, dtype=np.float64)
    sign = -1.0 if metric == "expected_cost" else 1.0
    counts = np.zeros(n_members, dtype=np.int64)
    if start is not None:
        counts += np.asarray(start, dtype=np.int64)
    total = np.tensordot(counts.astype(np.float64), probas, axes=1)
    first = int(counts.sum())
    for t in range(first + 1, first + int(rounds) + 1):
        best, pick = None, 0
        for m in range(n_members):
            avg = (total + probas[m]) / t
            pred = np.argmax(avg, axis=1) if matrix is None else _bayes(avg, matrix)
            value = sign * score(metric, y, pred, avg, k, matrix)
            if not np.isfinite(value):
                value = -np.inf
            candidate = (value, balanced_log_likelihood(y, avg))
            if smooth:
                candidate = candidate[::-1]
            if best is None or candidate > best:  # strict: ties keep the first member
                best, pick = candidate, m
        counts[pick] += 1
        total += probas[pick]
    return counts / counts.sum()


def _bayes(proba, costs):
    from keras_imbalance import calibration

    return calibration.bayes_decision(proba, costs)


class Selector(Collector):
    """The ``ensemble`` row by ensemble selection over ``members`` (every copy of the fold's
    models): weights chosen on the members' validation predictions (:func:`select`), the
    weighted average scored on the test fold. Parameters as :class:`Collector`, plus the
    comparison's ``metric`` and the selection's ``rounds``."""

    def __init__(
        self,
        members,
        model,
        n_classes,
        max_scores,
        seeds,
        costs=None,
        *,
        metric,
        rounds=SELECTION_ROUNDS,
    ):
        super().__init__(members, model, n_classes, max_scores, seeds, costs)
        self.metric, self.rounds = metric, int(rounds)

    def _probas(self, parts, which) -> list:
        """Each member's probabilities (stored ``which`` scores), under the data's priors
        with costs (as the fixed average)."""
        out = []
        for row, scores in parts:
            p = proba_matrix(scores if which is None else row[which], self.k)
            if self.costs is not None:
                p = softmax(np.log(np.maximum(p, 1e-12)) + row["prior"])
            out.append(p)
        return out

    def _scored(self, fold, parts) -> dict:
        same_rows(fold, parts)
        missing = [f"{r['model']}:{r['strategy']}" for r, _ in parts if not r.get("validation")]
        if missing:
            raise RuntimeError(
                f"ensemble selection of fold {fold}: members without validation predictions "
                f"{missing} (a results file written with ensemble='average'?)"
            )
        first = parts[0][0]["validation"]
        for row, _ in parts[1:]:
            v = row["validation"]
            if v["rows"] != first["rows"] or v["y"] != first["y"]:
                raise RuntimeError(
                    f"ensemble members of fold {fold} were validated on different rows"
                )
        y_val = np.asarray(first["y"], dtype=np.int64)
        weights = select(
            y_val, self._probas(parts, "validation"), self.metric, self.costs, self.rounds
        )
        y = np.asarray(parts[0][1]["y"], dtype=np.int64)
        proba = np.tensordot(weights, np.stack(self._probas(parts, None)), axes=1)
        pred = np.argmax(proba, axis=1) if self.costs is None else _bayes(proba, self.costs)
        return self._summary(fold, y, pred, proba, weights=np.round(weights, 6).tolist())


def pool(strategies, models, costs=None) -> list:
    """Ensemble selection's members: every (model, strategy) that trains and decides by
    argmax (or by cost), i.e. every refitted copy."""
    return [
        (m, s.name)
        for m in models
        for s in strategies
        if s.trains and rule_of(s, costs) in REFITTED
    ]


def selectors(collectors, strategies, kind, settings) -> list:
    """``TrainingSettings.ensemble`` applied to the fixed-average ``collectors``: each becomes
    a :class:`Selector` over every copy of its models (``"both"``: the average stays too,
    as strategy :data:`AVERAGE_STRATEGY`)."""
    mode = settings.ensemble
    if mode == "average" or not collectors:
        return collectors
    if kind.name != "multiclass":
        raise invalid(
            "settings",
            f"TrainingSettings(ensemble='average') for a {kind.name} target (ensemble "
            "selection needs one class per row)",
            f"ensemble={mode!r}",
        )
    out = []
    for c in collectors:
        models = list(dict.fromkeys(m for m, _ in c.members))
        members = pool(strategies, models, settings.costs)
        out.append(
            Selector(
                members,
                c.model,
                c.k,
                c.max_scores,
                c.seeds,
                settings.costs,
                metric=settings.metric,
            )
        )
        if mode == "both":
            c.strategy = AVERAGE_STRATEGY
            out.append(c)
    return out
