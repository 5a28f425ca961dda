"""Cross-validated comparison of imbalance strategies: :func:`compare`.

Per (model, repeat, fold) one task trains every strategy together (:func:`~._fold.fit_fold`)
and scores each on the test fold; tasks run in parallel with joblib, rows are appended to the
results file as they finish, and the ensemble rows are built from their members' rows.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_imbalance import calibration
from keras_imbalance._validation import check_number, invalid
from keras_imbalance.comparison import _data, _stats
from keras_imbalance.comparison._comparison import ComparisonResult
from keras_imbalance.comparison._ensemble import Collector, model_label
from keras_imbalance.comparison._fit import training_settings
from keras_imbalance.comparison._fold import fit_fold, interpolation_problems, predict_logits
from keras_imbalance.comparison._models import DEFAULT_MODELS
from keras_imbalance.comparison._results import FORMAT, ResultsFile, folds_frame, row_key
from keras_imbalance.comparison._scoring import decide, fold_scores, softmax, stored_scores
from keras_imbalance.comparison._settings import METRICS
from keras_imbalance.comparison._strategies import ENSEMBLE_MEMBERS, Strategy, resolve_strategies


@dataclass
class Task:
    """One model on one fold: the strategies still missing from the results."""

    model_name: str
    model_fn: Any
    strategies: list
    repeat: int
    fold: int
    seed: int
    train_idx: np.ndarray
    test_idx: np.ndarray


class _Threads:
    """Pin BLAS/OpenMP and torch to one thread inside a worker; restore afterwards."""

    def __enter__(self):
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(1)
        self._torch = None
        import keras

        if keras.backend.backend() == "torch":
            import torch

            self._torch = torch.get_num_threads()
            torch.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self._torch is not None:
            import torch

            torch.set_num_threads(self._torch)
        self._limits.restore_original_limits()
        return False


_WATCHED = False


def _end_with_parent() -> None:
    """Exit this process as soon as its parent is gone: a joblib worker of a killed
    ``compare`` must not go on training for minutes (its parent changes when it is
    re-parented). Started once per worker process, never in the calling process."""
    global _WATCHED
    if _WATCHED:
        return
    _WATCHED = True
    parent = os.getppid()

    def watch():
        import time

        while os.getppid() == parent:
            time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, name="keras-imbalance-parent-watch", daemon=True).start()


def run_task(task: Task, x, codes, settings, backend: str, caller: int = -1, spec=None) -> list:
    """Train and score one :class:`Task`; one result row per (recipe, decision rule).
    ``caller`` is the process id of ``compare``'s process (a worker watches its parent)."""
    if os.getpid() != caller:
        _end_with_parent()
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", backend)
    k = int(codes.max()) + 1
    with _Threads():
        fitted = fit_fold(
            task.model_fn, task.strategies, x, codes, task.train_idx, settings, task.seed, k, spec
        )
        return _rows(task, fitted, x, codes, settings, k)


def _rows(task, fitted, x, codes, settings, k) -> list:
    y_test = codes[task.test_idx]
    x_test = _data.take(x, task.test_idx)
    share = fitted.seconds / max(1, len(fitted.deciders))
    rows = []
    for (i, rule), decider in fitted.deciders.items():
        names = fitted.recipes[i].names.get(rule, [])
        if not names:
            continue  # a rule trained only to serve another (e.g. argmax of a tuned recipe)
        logits = predict_logits(fitted, (i, rule), x_test)
        proba = softmax(logits)
        pred = decide(proba, logits, decider.threshold, decider.prior, decider.costs)
        threshold = decider.threshold
        rows.append(
            {
                "type": "fold",
                "key": row_key(task.model_name, names[0], task.repeat, task.fold),
                "model": task.model_name,
                "strategy": names[0],
                "aliases": names[1:],
                "repeat": task.repeat,
                "fold": task.fold,
                **fold_scores(y_test, pred, proba, k, settings.costs),
                "threshold": None if threshold is None else np.asarray(threshold).tolist(),
                "best_epoch": decider.best_epoch,
                "epochs_run": decider.epochs_run,
                "refit": decider.refit,
                "batch_size": int(decider.batch_size),
                "fit_seconds": round(share, 3),
                "copies": fitted.copies,
                "note": decider.note,
                "prior": None if decider.prior is None else decider.prior.tolist(),
                "n_fit": decider.n_fit,
                "n_val": fitted.n_val,
                "n_test": int(y_test.size),
                "scores": stored_scores(y_test, proba, settings.max_scores, task.seed),
                # every score, for the ensemble; removed before the row is stored
                "_all_scores": stored_scores(y_test, proba, math.inf, task.seed),
            }
        )
    return rows


def _collectors(resolved, models, k, max_scores, seeds, costs=None) -> list[Collector]:
    """The ensemble's :class:`Collector` s: one over every model's member fits and, with
    several models, one per model that has at least 2 member fits. Empty when ``ensemble`` is
    not requested."""
    if all(s.trains for s in resolved):
        return []
    members = [(m, s.name) for m in models for s in resolved if s.name in ENSEMBLE_MEMBERS]
    if len(members) < 2:
        raise invalid(
            "strategies",
            "'ensemble' with at least 2 fits to average (models x strategies among "
            f"{sorted(ENSEMBLE_MEMBERS)}); these give {len(members)}: "
            f"{[f'{m}:{s}' for m, s in members]}",
            [s.name for s in resolved],
        )
    label = model_label(models)
    if len(models) > 1 and label in models:
        raise invalid("model_fn", f"model names other than {label!r} (the ensemble's)", label)
    out = [Collector(members, label, k, max_scores, seeds, costs)]
    if len(models) > 1:
        for model in models:
            own = [m for m in members if m[0] == model]
            if len(own) >= 2:
                out.append(Collector(own, model, k, max_scores, seeds, costs))
    return out


def _resume_ensemble(collectors, splits, done) -> list[dict]:
    """The missing ensemble rows of folds whose members are all in a resumed file.

    A member row stored with a subset of its test scores (more test rows than ``max_scores``)
    cannot be averaged: it is dropped from ``done`` and fitted again.
    """
    out = []
    for collector in collectors:
        for repeat, fold, _, _ in splits:
            if collector.key(repeat, fold) in done:
                continue
            for model, strategy in collector.members:
                key = row_key(model, strategy, repeat, fold)
                row = done.get(key)
                if row is None:
                    continue
                if row["scores"].get("index") is not None:
                    for alias in _keys_of(row):
                        done.pop(alias, None)
                    continue
                combined = collector.add(row, row["scores"], strategy)
                if combined is not None:
                    out.append(combined)
    return out


def _keys_of(row: dict) -> list:
    """The row's key and the keys of the strategies it answers for (aliases)."""
    return [row["key"]] + [
        row_key(row["model"], a, row["repeat"], row["fold"]) for a in row.get("aliases") or []
    ]


def _skip_or_refuse(problems: dict, explicit: bool, trained: list) -> dict:
    """Strategies the data cannot run: an error when the user named them, else skipped."""
    if not problems:
        return {}
    if explicit:
        reason = next(iter(problems.values()))
        raise invalid(
            "strategies",
            f"strategies that interpolate within a class ({', '.join(problems)}) only when "
            f"every class has at least 2 rows in the rows they resample, but {reason}; use "
            "fewer folds (`cv`), more rows of that class, or 'random_over' instead",
            [s.name for s in trained],
        )
    return dict(problems)


def compare(
    x,
    y,
    *,
    strategies=None,
    model_fn=None,
    cv=5,
    repeats=1,
    metric=None,
    epochs=100,
    batch_size="auto",
    patience=10,
    validation_fraction=0.2,
    refit=True,
    standardize=True,
    n_jobs=None,
    results_path=None,
    random_state=0,
    progress=None,
    max_scores=2000,
    jit_compile="auto",
    packed=True,
    costs=None,
):
    """Compare imbalance strategies by stratified (repeated) cross-validation.

    For every model, repeat and fold, every strategy is trained at once, in one Keras fit of a
    model holding an independent copy of the network per strategy (``packed=True``; see
    Notes). Per fold: the training fold is split into a *fit* part and a stratified, shuffled
    *validation* part (``validation_fraction``; taken **before** any resampling, so validation
    holds only real rows), features are standardised with the fit part's mean and std (2-D
    tables only), each strategy turns the fit part into its own rows and row weights (class
    weights, resampling, balanced batches) and loss, and each copy is early-stopped on its own
    ``metric`` measured on the validation part (not on the loss); then (``refit=True``) the
    copies are trained again, together, on the whole training fold, each for its own best
    epoch count, and scored on the test fold. ``none+threshold`` shares ``none``'s copy and
    tunes the decision threshold (binary) or per-class log offsets (multiclass) on the
    validation part only; it scores the early-stopped weights whose validation predictions
    chose the threshold.

    Every finished (model, strategy, repeat, fold) is appended to ``results_path`` at once, so
    an interrupted run resumes where it stopped: calling ``compare`` again with the same data
    and settings skips the finished folds (other settings are refused).

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features), (n_samples, ...) or DataFrame
        Numeric features: a table, or an array of any rank such as images ``(n, h, w, c)``
        or sequences ``(n, t, f)`` (then ``model_fn`` must take that shape; the default models
        flatten it). Only 2-D tables are standardised.
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels (ints, strings, bools) or one-hot rows.
    strategies : list of str, default=None
        Names from :data:`STRATEGIES` (aliases such as ``"none + tuned threshold"`` accepted);
        ``None`` runs :data:`DEFAULT_STRATEGIES`. ``none`` and ``none+threshold`` are always
        run (the baseline of the recommendation; the threshold reuses its fit). ``ensemble``
        fits nothing of its own: on each fold it averages the class probabilities of every
        model x every strategy of :data:`ENSEMBLE_MEMBERS` in the run (argmax decides); its
        rows carry the model name ``"a+b"`` (all models joined) or the single model's name.
        Strategies that train identically on the data are trained once and reported as one
        row whose ``aliases`` name the others (see Notes).
    model_fn : callable or dict of str to callable, default=None
        ``model_fn(input_shape, n_classes) -> keras.Model`` returning ``n_classes`` **logits**
        (no softmax) for inputs of shape ``(batch, *input_shape)``; any functional,
        sequential or subclassed model. It is called once per copy. A compiled model keeps
        its optimizer (else Adam 1e-3); the loss is set per strategy. ``None`` runs both
        default models (:data:`DEFAULT_MODELS`: a regularised linear model and a small MLP);
        a dict runs each named model. A builder with an int attribute ``fixed_epochs`` (the
        default linear model has 50) is not early-stopped: it trains ``min(fixed_epochs,
        epochs)`` epochs, on the whole training fold when refitted. A builder whose first
        parameter is named ``n_features`` (the contract before N-D inputs) still gets the
        number of columns, with a DeprecationWarning.
    cv : int, scikit-learn splitter or iterable of (train, test), default=5
        An int: stratified folds (every class needs at least ``cv`` samples). A splitter (any
        object with ``split(x, y)``, e.g. ``StratifiedShuffleSplit``) or a list of
        ``(train_indices, test_indices)`` (e.g. ``list(GroupKFold(5).split(x, y, groups))``):
        those folds, numbered as repeat 0 (``repeats`` must be 1; every class must be in every
        training fold; the indices are part of the results file's fingerprint).
    repeats : int, default=1
        Repetitions of the stratified K-fold split with different shuffles. The splits are
        ``RepeatedStratifiedKFold(n_splits=cv, n_repeats=repeats, random_state=random_state)``
        on the class codes (labels in sorted order), so they can be reproduced outside.
    metric : {"balanced_accuracy", "geometric_mean", "macro_f1", "matthews_correlation", \
"pr_auc", "expected_cost"}, default=None
        Ranking metric; also the early-stopping monitor and (mapped to ``balanced_accuracy``,
        ``g_mean`` or ``f1``) the target of the threshold tuning. ``None``:
        ``"balanced_accuracy"``, or ``"expected_cost"`` (the mean cost per row, lower is
        better) when ``costs`` are given.
    epochs : int, default=100
        Maximum epochs; early stopping usually ends training much sooner (see ``model_fn``
        for builders trained a fixed number of epochs).
    batch_size : int or "auto", default="auto"
        ``"auto"``: about 8 steps per epoch, between 16 and 256 rows, computed on the rows of
        the packed fit (the fit rows and every copy's synthetic rows).
    patience : int, default=10
        Epochs without improvement of a copy's validation ``metric`` before it stops.
    validation_fraction : float, default=0.2
        Share of each class of the training fold held out for early stopping and thresholds.
    refit : bool, default=True
        After early stopping has chosen each copy's epoch count on the validation part, train
        fresh copies on the *whole* training fold for those epoch counts and score them on the
        test fold, so the held-out rows are not lost to training (on small sets they are a
        large share of the minority class). ``none+threshold`` keeps the weights whose
        validation predictions tuned its threshold. ``False`` scores the early-stopped weights.
    standardize : bool, default=True
        Scale the columns of a 2-D table to zero mean and unit variance (statistics of the
        rows trained on). Arrays of higher rank are passed as they are.
    n_jobs : int, default=None
        Parallel (model, repeat, fold) tasks with joblib; ``None`` means joblib's active
        default (1 outside a ``joblib.parallel_config`` block). Each worker pins BLAS and
        torch to one thread and ends when the calling process dies. On a Dask cluster:
        ``with joblib.parallel_config(backend="dask"): compare(..., n_jobs=-1)`` after
        creating a ``distributed.Client``; on Ray: ``ray.util.joblib.register_ray()`` then
        ``joblib.parallel_config(backend="ray")``.
    results_path : str or path-like, default=None
        JSON-lines file to append every fold to (and resume from).
    random_state : int, default=0
        Seed of the splits, the resamplers, the batch order and the model initialisation
        (``keras.utils.set_random_seed`` per fold; every copy of a fold starts from the same
        weights).
    progress : callable, default=None
        Called as ``progress(done, total, row)`` after each finished fold row (``done`` counts
        rows already in a resumed file and the strategies a row answers for).
    max_scores : int, default=2000
        At most this many test-fold scores per row are kept for precision-recall curves.
    jit_compile : bool or "auto", default="auto"
        Passed to ``model.compile``; ``"auto"`` is ``False`` on torch (compiling tiny models
        costs more than it saves) and Keras' ``"auto"`` elsewhere.
    packed : bool, default=True
        ``False`` trains each strategy in a Keras fit of its own (the same rows, weights and
        losses; the cost before packing, kept for measurements).
    costs : dict {class: cost} or array-like of shape (n_classes, n_classes), default=None
        Misclassification costs (:func:`keras_imbalance.calibration.cost_matrix`):
        ``{"fraud": 50, "ok": 1}`` says a missed fraud costs 50 times a false alarm; a matrix
        gives ``costs[true][predicted]`` (rows and columns in the order of the sorted class
        labels). The ranking metric becomes the expected cost per row (lower is better) and
        every strategy decides by least expected cost: binary, a threshold tuned on the
        validation rows for these costs (applied to the refit model); more classes, the
        Bayes rule ``argmin_j sum_i p_i costs[i, j]`` on probabilities whose training prior
        (class weights, resampling, logit adjustment) is corrected back to the data's.
        ``none+threshold`` then answers with ``none``.

    Returns
    -------
    ComparisonResult
        ``.leaderboard`` (mean, std and 95 % interval of ``metric`` per model and strategy,
        best first), ``.recommendation``, ``.folds``, ``.settings``, ``.to_html(path)``,
        ``.to_json(path)``, ``.fit_recommended(x, y)`` (the winner trained on all rows:
        :func:`fit_strategy`).

    Notes
    -----
    Packed training (:mod:`keras_imbalance.comparison._packing`): copy ``c`` weighs the row
    ``r`` of the union of the fit rows and every copy's synthetic rows by
    ``w_rc = class_weight_r * multiplicity_r * N / size_c`` (0 for rows it does not train on),
    so its loss is scaled as if it were trained alone on its own ``size_c`` rows. Copies share
    no weight and an element-wise optimizer updates each as if alone: with one batch per epoch
    a copy ends with the weights of its lone fit (tested to 1e-5); with mini-batches a batch
    holds a random share of each copy's rows rather than a batch of its own. Not exact: a
    global gradient clipping, layers that mix the rows of a batch (BatchNormalization), and
    random draws (dropout). Identical candidates: strategies with the same loss and per-row
    weights (equal, or proportional when the optimizer is scale-free -- Adam, AdamW, RMSprop,
    ... without clipping -- and the model adds no regularisation loss) train one copy; its row
    lists the others in ``aliases``.

    Interval and recommendation rule: see :func:`keras_imbalance.comparison.corrected_interval`
    (Nadeau & Bengio's corrected resampled t interval, 95 %); the winner "beats none beyond
    noise" when the interval of its paired per-fold differences with ``none`` lies above 0.

    Examples
    --------
    >>> import keras_imbalance as ki
    >>> from keras_imbalance.datasets import load_dataset
    >>> x, y = load_dataset("ecoli3")
    >>> result = ki.compare(x, y, strategies=["balanced", "smote"], cv=2, epochs=3)  # doctest: +SKIP
    >>> result.leaderboard[["strategy", "mean", "ci_low", "ci_high"]]  # doctest: +SKIP
    """
    settings = training_settings(
        None,
        {
            "metric": "balanced_accuracy" if metric is None else metric,
            "epochs": epochs,
            "batch_size": batch_size,
            "patience": patience,
            "validation_fraction": validation_fraction,
            "refit": refit,
            "standardize": standardize,
            "random_state": random_state,
            "max_scores": max_scores,
            "jit_compile": jit_compile,
            "packed": packed,
        },
    )
    xa, spec = _data.features(x)
    codes, classes = _data.labels(y, xa.shape[0])
    k = len(classes)
    if costs is not None:
        if metric not in (None, "expected_cost"):
            raise invalid("metric", "None or 'expected_cost' when costs are given", metric)
        matrix = calibration.cost_matrix(costs, classes)
        settings = settings.replace(costs=matrix.tolist(), metric="expected_cost")
    resolved = resolve_strategies(strategies)
    trained = [s for s in resolved if s.trains]
    models = _data.builders(model_fn, DEFAULT_MODELS)
    repeats = check_number("repeats", repeats, low=1, integer=True)
    if progress is not None and not callable(progress):
        raise invalid(
            "progress", "a callable progress(done, total, row) or None", progress, kind=TypeError
        )
    counts = np.bincount(codes, minlength=k)
    splits, cv_config = _data.splits(cv, repeats, settings.random_state, xa, codes, classes)
    seeds = {(r, f): _data.fold_seed(settings.random_state, r, f) for r, f, _, _ in splits}
    fit_part = not settings.refit or any(
        _data.fixed_epochs(fn, settings.epochs) is None for fn in models.values()
    )
    problems = interpolation_problems(
        trained, splits, codes, classes, settings.validation_fraction, fit_part, seeds
    )
    skipped = _skip_or_refuse(problems, strategies is not None, trained)
    if skipped:
        warnings.warn(
            "default strategies skipped on this data: "
            + "; ".join(f"{name}: {reason}" for name, reason in skipped.items()),
            UserWarning,
            stacklevel=2,
        )
        resolved = [s for s in resolved if s.name not in skipped]
        trained = [s for s in trained if s.name not in skipped]
    collectors = _collectors(resolved, models, k, settings.max_scores, seeds, settings.costs)

    import keras

    from keras_imbalance import __version__

    backend = keras.backend.backend()
    config = {
        "format": FORMAT,
        "version": __version__,
        "data": {
            "hash": _data.data_hash(xa, codes),
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
            "class_counts": counts.tolist(),
        },
        "strategies": [s.name for s in resolved],
        "skipped": skipped,
        "models": {name: _data.describe_builder(fn) for name, fn in models.items()},
        "cv": cv_config,
        "repeats": repeats,
        "settings": settings.config(),
        "metric": settings.metric,
        "backend": backend,
    }

    store = ResultsFile(results_path, config) if results_path is not None else None
    try:
        done: dict[str, dict] = {}  # key of every strategy a stored row answers for -> the row
        for row in store.rows.values() if store is not None else ():
            for key in _keys_of(row):
                done[key] = row
        resumed = _resume_ensemble(collectors, splits, done)
        keys = {row_key(m, s.name, r, f) for r, f, _, _ in splits for m in models for s in trained}
        keys |= {c.key(r, f) for c in collectors for r, f, _, _ in splits}
        total = len(keys)
        count = len(keys & done.keys())

        def record(row):
            nonlocal count
            if store is not None:
                store.append(row)
            fresh = [key for key in _keys_of(row) if key not in done]
            for key in _keys_of(row):
                done[key] = row
            count += len(fresh)
            if progress is not None:
                progress(count, total, row)

        for row in resumed:
            record(row)

        tasks = []
        for repeat, fold, train_idx, test_idx in splits:
            for model_name, fn in models.items():
                missing = [
                    s for s in trained if row_key(model_name, s.name, repeat, fold) not in done
                ]
                if missing:
                    tasks.append(
                        Task(
                            model_name,
                            fn,
                            _with_partners(missing, trained),
                            repeat,
                            fold,
                            seeds[(repeat, fold)],
                            train_idx,
                            test_idx,
                        )
                    )

        if tasks:
            from joblib import Parallel, delayed

            # early-stopped models run longest: start them first, so no worker idles at the end
            tasks.sort(key=lambda t: _data.fixed_epochs(t.model_fn, settings.epochs) is not None)
            parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
            results = parallel(
                delayed(run_task)(t, xa, codes, settings, backend, os.getpid(), spec) for t in tasks
            )
            for rows in results:
                for row in rows:
                    all_scores = row.pop("_all_scores")
                    if all(key in done for key in _keys_of(row)):
                        continue  # answered by a stored row already (a resumed fold)
                    record(row)
                    for collector in collectors:
                        for name in [row["strategy"], *row["aliases"]]:
                            combined = collector.add(row, all_scores, name)
                            if combined is not None:
                                record(combined)
    finally:
        if store is not None:
            store.close()  # releases the lock on the results file

    unique = {id(row): row for row in done.values()}
    return build_result(list(unique.values()), config, results_path)


def _with_partners(missing: list[Strategy], trained: list[Strategy]) -> list[Strategy]:
    """``missing`` plus the strategies sharing a recipe with one of them (``none`` and
    ``none+threshold`` train one copy: a resumed fold missing one retrains both)."""
    groups = {s.group for s in missing}
    return [s for s in trained if s.group in groups]


def build_result(rows, config, results_path=None) -> ComparisonResult:
    """The :class:`ComparisonResult` of a list of result rows (e.g. a results file's lines)."""
    metric = config["metric"]
    order = {name: i for i, name in enumerate(config["strategies"])}
    rows = sorted(
        rows, key=lambda r: (r["model"], order.get(r["strategy"], 99), r["repeat"], r["fold"])
    )
    folds = folds_frame(rows)
    cv = config["cv"]
    ratio = cv["test_train_ratio"] if isinstance(cv, dict) else 1.0 / (cv - 1)
    scored = [m for m in (*METRICS, "expected_cost") if m in folds]
    board = _stats.leaderboard(folds, metric, scored, ratio)
    rec = _stats.recommend(folds, board, metric, ratio, classes=config["data"]["classes"])
    board = _stats.with_skipped(board, config.get("skipped") or {})
    return ComparisonResult(
        leaderboard=board,
        recommendation=rec,
        folds=folds,
        config=config,
        metric=metric,
        classes=list(config["data"]["classes"]),
        class_counts=list(config["data"]["class_counts"]),
        rows=rows,
        results_path=None if results_path is None else os.fspath(results_path),
    )


def load_results(path) -> ComparisonResult:
    """Rebuild a :class:`ComparisonResult` from a results file (finished folds only).

    Parameters
    ----------
    path : str or path-like
        A JSON-lines file written by :func:`compare` (``results_path``).

    Returns
    -------
    ComparisonResult
    """
    import json

    with open(path, encoding="utf-8") as handle:
        lines = [line for line in handle.read().split("\n") if line.strip()]
    rows, header = [], None
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break  # a torn last line
            raise ValueError(
                f"Results file {os.fspath(path)!r} is corrupt at line {i + 1}"
            ) from None
        if obj.get("type") == "header":
            header = obj
        elif obj.get("type") == "fold":
            rows.append(obj)
    if header is None:
        raise invalid("path", "a results file written by keras_imbalance.compare", path)
    unique = {r["key"]: r for r in rows}
    return build_result(list(unique.values()), header["config"], path)
