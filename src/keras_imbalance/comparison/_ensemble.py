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
"""

from __future__ import annotations

import numpy as np

from keras_imbalance import calibration
from keras_imbalance.comparison._results import row_key
from keras_imbalance.comparison._scoring import fold_scores, proba_matrix, softmax, stored_scores

STRATEGY = "ensemble"


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
        self._pending: dict[tuple, dict] = {}
        self._done: set = set()

    def is_member(self, row: dict, strategy: str | None = None) -> bool:
        return (row["model"], strategy or row["strategy"]) in self.members

    def key(self, repeat: int, fold: int) -> str:
        return row_key(self.model, STRATEGY, repeat, fold)

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
            "strategy": STRATEGY,
            "repeat": repeat,
            "fold": number,
            **{k: v for k, v in scored.items() if k not in ("scores", "n_test")},
            "threshold": None,
            "members": [f"{m}:{s}" for m, s in members],
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
        return {
            **fold_scores(y, pred, proba, self.k, self.costs),
            "n_test": int(y.size),
            "scores": stored_scores(y, proba, self.max_scores, self.seeds[fold]),
        }


def same_rows(fold, parts) -> None:
    """Refuse members whose stored scores are of different test rows."""
    y = np.asarray(parts[0][1]["y"])
    for _, scores in parts[1:]:
        if not np.array_equal(np.asarray(scores["y"]), y):
            raise RuntimeError(f"ensemble members of fold {fold} scored different rows")
