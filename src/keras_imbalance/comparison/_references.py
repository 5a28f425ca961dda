"""Reference rows: classical pipelines scored on the same folds as the Keras candidates.

A comparison of one class per row on a table also fits a few scikit-learn / imbalanced-learn
pipelines (:data:`REFERENCES`; ``compare(references=...)``) on every training fold and scores
them on its test fold with the same scoring as the Keras rows (the kind's
:meth:`~._kind.FoldTarget.scores`; ``argmax`` of the predicted probabilities, or the decision
of least expected cost with ``costs``). They tell the user how good the recommended Keras
candidate is against a ten-second random forest: they appear in the leaderboard (model
``reference:<name>``, strategy ``classical``, column ``reference``), are never recommended, and
``recommendation["best_reference"]`` pairs the best of them with the recommendation fold by
fold.

Every reference trains on the rows the scored Keras copies train on (the whole training fold;
with ``refit=False`` its early-stopping fit part, the same split): the columns
standardised with the fold's own statistics (a raw table through the same
:class:`~keras_imbalance.tables.TableEncoder` as the Keras rows), then the pipeline. A training
fold of more than :data:`MAX_ROWS` rows is replaced by a stratified random sample of that size
(every class keeps at least ``min(its rows, 10)``); the row's ``note`` says so.

numpy, scikit-learn and imbalanced-learn only; no Keras.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_imbalance._validation import invalid
from keras_imbalance.comparison import _data
from keras_imbalance.comparison._results import row_key

#: The model-name prefix of a reference row (``reference:balanced_rf``).
PREFIX = "reference:"

#: The strategy column of a reference row.
STRATEGY = "classical"  # not "reference", a class-weight strategy of that name

#: At most this many training rows per fold for a reference (a stratified sample beyond).
MAX_ROWS = 20_000


def _logistic(seed: int, y):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(class_weight="balanced", max_iter=1000)


def _balanced_rf(seed: int, y):
    from imblearn.ensemble import BalancedRandomForestClassifier

    # imbalanced-learn 0.13's defaults spelled out (no FutureWarning); one thread: the
    # comparison runs its folds in parallel itself
    return BalancedRandomForestClassifier(
        n_estimators=100,
        sampling_strategy="all",
        replacement=True,
        bootstrap=False,
        n_jobs=1,
        random_state=seed,
    )


def _smote_knn(seed: int, y):
    from imblearn.over_sampling import SMOTE, RandomOverSampler
    from imblearn.pipeline import Pipeline
    from sklearn.neighbors import KNeighborsClassifier

    counts = np.bincount(y)
    fewest = int(counts[counts > 0].min())
    # SMOTE needs k_neighbors + 1 rows of each class it over-samples
    sampler = (
        SMOTE(k_neighbors=min(5, fewest - 1), random_state=seed)
        if fewest >= 2
        else RandomOverSampler(random_state=seed)
    )
    return Pipeline([("smote", sampler), ("knn", KNeighborsClassifier(n_neighbors=5))])


#: name -> (what it is, ``factory(seed, y_train) -> estimator``); every pipeline gets the
#: fold's standardised columns.
REFERENCES = {
    "logistic": (
        "LogisticRegression(class_weight='balanced', max_iter=1000)",
        _logistic,
    ),
    "balanced_rf": (
        "imblearn BalancedRandomForestClassifier(n_estimators=100, sampling_strategy='all', "
        "replacement=True, bootstrap=False, n_jobs=1)",
        _balanced_rf,
    ),
    "smote_knn": (
        "imblearn Pipeline(SMOTE(k_neighbors=min(5, fewest rows - 1)), "
        "KNeighborsClassifier(n_neighbors=5))",
        _smote_knn,
    ),
}

#: The references a comparison of one class per row on a table runs by default.
DEFAULT_REFERENCES = ("logistic", "balanced_rf", "smote_knn")


def resolve(references, kind: str, xa, spec) -> dict:
    """``{name: (description, factory)}`` of the references to run.

    ``references``: ``None`` (the defaults where they apply: one class per row, a 2-D table),
    ``False`` or an empty sequence (none), a sequence of names of :data:`REFERENCES`, or a dict
    ``{name: estimator}`` of scikit-learn classifiers with ``predict_proba`` (cloned per fold).
    Named references on data they do not apply to are refused; the defaults are left out.
    """
    if references is None:
        if kind != "multiclass" or (spec is None and np.ndim(xa) != 2):
            return {}
        return {name: REFERENCES[name] for name in DEFAULT_REFERENCES}
    if references is False or (isinstance(references, list | tuple) and not references):
        return {}
    allowed = f"None, False, names among {sorted(REFERENCES)} or a dict of scikit-learn classifiers"
    if isinstance(references, dict):
        out = {}
        bad = [
            n
            for n, est in references.items()
            if not isinstance(n, str) or not n or not hasattr(est, "predict_proba")
        ]
        if bad:
            raise invalid(
                "references",
                f"{allowed} (names are non-empty strings; estimators have predict_proba)",
                references,
                kind=TypeError,
            )
        for name, estimator in references.items():
            out[name] = (_describe(estimator), _cloner(estimator))
    else:
        if isinstance(references, str):
            references = [references]
        if not isinstance(references, list | tuple) or not all(
            isinstance(n, str) for n in references
        ):
            raise invalid("references", allowed, references, kind=TypeError)
        unknown = [n for n in references if n not in REFERENCES]
        if unknown:
            raise invalid("references", allowed, references)
        out = {name: REFERENCES[name] for name in dict.fromkeys(references)}
    if kind != "multiclass" or (spec is None and np.ndim(xa) != 2):
        what = "one class per row" if kind != "multiclass" else "a 2-D table"
        raise invalid(
            "references",
            f"None or False here (reference pipelines need {what})",
            references,
        )
    return out


def _describe(estimator) -> str:
    """A stable text of an estimator and its parameters (its scikit-learn repr)."""
    return " ".join(repr(estimator).split())


class _cloner:
    """A picklable factory of fresh clones of a user's estimator (seeded when it takes one)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def __call__(self, seed: int, y):
        from sklearn.base import clone

        est = clone(self.estimator)
        if "random_state" in est.get_params() and est.get_params()["random_state"] is None:
            est.set_params(random_state=seed)
        return est


def descriptions(planned: dict) -> dict:
    """``{name: description}``: what the results file's config records."""
    return {name: text for name, (text, _) in planned.items()}


@dataclass
class ReferenceTask:
    """One reference pipeline on one fold."""

    name: str
    description: str
    factory: Any
    repeat: int
    fold: int
    seed: int
    train_idx: np.ndarray
    test_idx: np.ndarray
    model_fn: Any = None  # no Keras builder (the runner sorts tasks by it)

    @property
    def model_name(self) -> str:
        return PREFIX + self.name


def tasks(planned: dict, splits, seeds, done) -> list[ReferenceTask]:
    """The reference tasks whose rows are not in ``done`` (keys of finished rows)."""
    out = []
    for repeat, fold, train_idx, test_idx in splits:
        for name, (text, factory) in planned.items():
            if row_key(PREFIX + name, STRATEGY, repeat, fold) not in done:
                out.append(
                    ReferenceTask(
                        name,
                        text,
                        factory,
                        repeat,
                        fold,
                        seeds[(repeat, fold)],
                        train_idx,
                        test_idx,
                    )
                )
    return out


def keys(planned: dict, splits) -> set:
    """Every reference row's key."""
    return {row_key(PREFIX + name, STRATEGY, r, f) for r, f, _, _ in splits for name in planned}


def is_reference(row: dict) -> bool:
    return bool(row.get("reference")) or str(row.get("model", "")).startswith(PREFIX)


def usable(row: dict, planned: dict) -> bool:
    """Whether a stored row belongs to this comparison: every Keras row does; a reference
    row only when its reference is planned with the same pipeline."""
    if not is_reference(row):
        return True
    name = str(row["model"])[len(PREFIX) :]
    return name in planned and row.get("pipeline") == planned[name][0]


def sample(y: np.ndarray, limit: int, seed: int) -> np.ndarray | None:
    """Positions of a stratified random sample of ``limit`` of the rows ``y`` (every class
    keeps at least ``min(its rows, 10)``); None when there are no more than ``limit``."""
    n = y.size
    if n <= limit:
        return None
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        take = min(rows.size, max(10, int(round(rows.size * limit / n))))
        keep.append(rng.choice(rows, size=take, replace=False))
    return np.sort(np.concatenate(keep))


def fit_predict(task: ReferenceTask, x, labels, spec, target, settings):
    """``(probabilities of the test rows (n_test, k), rows trained on, note)``: trained on the
    rows the scored Keras copies train on (the whole training fold; its early-stopping fit part
    with ``refit=False``)."""
    from sklearn.preprocessing import StandardScaler

    train_idx, note = task.train_idx, ""
    if not settings.refit:  # the same split as the fold engine's (_fold._Fold)
        fit_pos, _ = _data.validation_split(
            target.strata[train_idx], settings.validation_fraction, task.seed
        )
        train_idx = train_idx[fit_pos]
    y_train = labels[train_idx]
    chosen = sample(y_train, MAX_ROWS, task.seed)
    if chosen is not None:
        note = (
            f"trained on a stratified sample of {chosen.size} of the {y_train.size} training "
            f"rows (references are capped at {MAX_ROWS} rows)"
        )
        train_idx, y_train = train_idx[chosen], y_train[chosen]
    x_train, x_test = _data.take(x, train_idx), _data.take(x, task.test_idx)
    if spec is not None:  # a raw table: the Keras rows' encoder (standardises, one-hot)
        scaler = _data.Scaler.fit(x_train, True, spec)
    else:
        scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    estimator = task.factory(task.seed, y_train)
    estimator.fit(x_train, y_train)
    proba = np.zeros((len(task.test_idx), target.k))
    proba[:, np.asarray(estimator.classes_, dtype=np.int64)] = estimator.predict_proba(x_test)
    return proba, int(y_train.size), note


_CONTROLLER = []


def controller():
    """This process's threadpoolctl controller, found once: ``threadpool_limits`` searches the
    loaded libraries anew on every call (8 ms each with jax and torch loaded, 15 calls on
    the README job)."""
    if not _CONTROLLER:
        import sklearn.linear_model  # noqa: F401  (BLAS and OpenMP of the pipelines loaded
        import sklearn.neighbors  # noqa: F401  before the search)
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def run_reference(task: ReferenceTask, x, labels, settings, spec, target, limit=True) -> list:
    """The result row of one reference on one fold (scored like the Keras rows);
    ``limit=False``: the caller holds this process's thread limit (:func:`controller`)."""
    start = time.perf_counter()
    with controller().limit(limits=1) if limit else contextlib.nullcontext():
        proba, n_fit, note = fit_predict(task, x, labels, spec, target, settings)
    seconds = time.perf_counter() - start
    y_test = labels[task.test_idx]
    with np.errstate(divide="ignore"):
        logits = np.log(proba)  # softmax(log p) = p; argmax(log p) = argmax p
    logits = np.where(np.isfinite(logits), logits, -1e9)
    costs = None if settings.costs is None else np.asarray(settings.costs)
    row = {
        "type": "fold",
        "key": row_key(task.model_name, STRATEGY, task.repeat, task.fold),
        "model": task.model_name,
        "strategy": STRATEGY,
        "aliases": [],
        "repeat": task.repeat,
        "fold": task.fold,
        "reference": True,
        "pipeline": task.description,
    }
    row.update(target.scores(y_test, logits, None, settings.max_scores, task.seed, costs=costs))
    row.update(
        {
            "threshold": None,
            "best_epoch": None,
            "epochs_run": None,
            "refit": bool(settings.refit),
            "batch_size": None,
            "fit_seconds": round(seconds, 3),
            "copies": None,
            "note": note,
            "prior": None,
            "n_fit": n_fit,
            "n_val": 0,
            "n_test": int(len(y_test)),
        }
    )
    row["scores"] = row.pop("scores", None)
    # every test row's scores (a sampled search rescores from them); never an ensemble member
    row["_all_scores"] = row.pop("_all_scores", None)
    return [row]


def check_model_names(planned: dict, models: dict) -> None:
    """Refuse a Keras model named like a reference row."""
    clash = [m for m in models if str(m).startswith(PREFIX)]
    if planned and clash:
        raise invalid("model_fn", f"model names that do not start with {PREFIX!r}", clash)
