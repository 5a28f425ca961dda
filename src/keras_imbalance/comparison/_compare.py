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
from keras_imbalance.comparison._feasible import infeasible_resamplers, refuse_or_skip_infeasible
from keras_imbalance.comparison._fit import training_settings
from keras_imbalance.comparison._fold import fit_fold, interpolation_problems, predict_logits
from keras_imbalance.comparison._models import DEFAULT_MODELS
from keras_imbalance.comparison._results import FORMAT, ResultsFile, folds_frame, row_key
from keras_imbalance.comparison._scoring import decide, fold_scores, softmax, stored_scores
from keras_imbalance.comparison._settings import METRICS, TARGETS
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


def run_task(
    task: Task, x, codes, settings, backend: str, caller: int = -1, spec=None, target=None
) -> list:
    """Train and score one :class:`Task`; one result row per (recipe, decision rule).
    ``caller`` is the process id of ``compare``'s process (a worker watches its parent);
    ``target``: None (one class per row, ``codes``) or a multi-label / segmentation target,
    which scores the rows itself (``target.scores``)."""
    if os.getpid() != caller:
        _end_with_parent()
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", backend)
    k = int(codes.max()) + 1 if target is None else target.k
    with _Threads():
        fitted = fit_fold(
            task.model_fn,
            task.strategies,
            x,
            codes,
            task.train_idx,
            settings,
            task.seed,
            k,
            spec,
            target,
        )
        return fold_rows(task, fitted, x, codes, settings, k, target)


def fold_rows(task, fitted, x, codes, settings, k, target=None) -> list:
    """One result row per (recipe, rule) of a fitted fold: the bookkeeping shared by every
    target, and the scores of its test rows (``target.scores`` for other targets)."""
    y_test = codes[task.test_idx]
    x_test = _data.take(x, task.test_idx)
    share = fitted.seconds / max(1, len(fitted.deciders))
    rows = []
    for (i, rule), decider in fitted.deciders.items():
        names = fitted.recipes[i].names.get(rule, [])
        if not names:
            continue  # a rule trained only to serve another (e.g. argmax of a tuned recipe)
        logits = predict_logits(fitted, (i, rule), x_test)
        threshold = decider.threshold
        row = {
            "type": "fold",
            "key": row_key(task.model_name, names[0], task.repeat, task.fold),
            "model": task.model_name,
            "strategy": names[0],
            "aliases": names[1:],
            "repeat": task.repeat,
            "fold": task.fold,
        }
        if target is None:
            proba = softmax(logits)
            pred = decide(proba, logits, decider.threshold, decider.prior, decider.costs)
            row.update(fold_scores(y_test, pred, proba, k, settings.costs))
        else:
            scored = target.scores(y_test, logits, threshold, settings.max_scores, task.seed)
            row.update(scored)
        row.update(
            {
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
                "n_test": int(len(y_test)),
            }
        )
        if target is None:
            row["scores"] = stored_scores(y_test, proba, settings.max_scores, task.seed)
            # every score, for the ensemble; removed before the row is stored
            row["_all_scores"] = stored_scores(y_test, proba, math.inf, task.seed)
        else:
            row["scores"] = row.pop("scores", None)
            row["_all_scores"] = row.pop("_all_scores", None)
        rows.append(row)
    return rows


def collectors_of(
    resolved, models, k, max_scores, seeds, costs=None, member_names=ENSEMBLE_MEMBERS, make=None
) -> list[Collector]:
    """The ensemble's :class:`Collector` s: one over every model's member fits and, with
    several models, one per model that has at least 2 member fits. Empty when ``ensemble`` is
    not requested. ``member_names`` and ``make(members, label)`` (a collector) serve another
    target's ensemble."""
    if all(s.trains for s in resolved):
        return []
    if make is None:

        def make(members, label):
            return Collector(members, label, k, max_scores, seeds, costs)

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
    layout=None,
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
    y : array-like of shape (n_samples,), (n_samples, n_classes) or (n_samples, h, w)
        Class labels (ints, strings, bools) or one-hot rows; a multi-label 0/1 matrix
        ``(n_samples, n_labels)`` (or DataFrame) with rows of several (or no) 1s; or
        segmentation masks of class ids ``(n_samples, h, w)`` (``(..., 1)`` too) for images
        ``x`` of shape ``(n_samples, h, w[, channels])``. See ``layout`` and Notes.
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
"pr_auc", "expected_cost", "mean_iou", "rare_iou", "mean_dice"}, default=None
        Ranking metric; also the early-stopping monitor and (mapped to ``balanced_accuracy``,
        ``g_mean`` or ``f1``) the target of the threshold tuning. ``None``:
        ``"balanced_accuracy"``, or ``"expected_cost"`` (the mean cost per row, lower is
        better) when ``costs`` are given, or ``"mean_iou"`` for segmentation masks (the last
        three are for masks only).
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
    layout : {"binary", "sparse", "onehot", "multilabel", "dense"}, default=None
        How to read ``y`` when its shape is ambiguous (as in :func:`keras_imbalance.describe`):
        a 0/1 matrix with exactly one 1 per row is one-hot (one class per row) unless
        ``layout="multilabel"``; ``"dense"`` (or ``"segmentation"``) reads masks. ``None``:
        masks for 3 axes or more, multi-label for a 0/1 matrix with a row that does not hold
        exactly one 1, one class per row otherwise.
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

    Multi-label targets (:mod:`keras_imbalance.comparison._multilabel`): the model returns one
    logit per label; strategies :data:`MULTILABEL_STRATEGIES` (default
    :data:`MULTILABEL_DEFAULT_STRATEGIES`: ``none``, ``none+threshold`` with a threshold per
    label, per-label ``balanced`` weights, ``focal``, ``logit_adjusted``, ``ml_ros``,
    ``mlsmote``, ``label_batches`` and their ``ensemble``; ``powerset_ros`` and
    ``powerset_smote`` on request). ``metric`` (any of :data:`MULTILABEL_METRICS`) is the mean
    over the labels of the label's own binary metric; each fold row also holds every label's
    recall, precision and PR-AUC (``per_label``). The recommendation is the top row (the
    ensemble is not preferred: that rule rests on a benchmark of one class per row). Folds, validation rows and early stopping
    are stratified on each row's rarest positive label. Every label needs positive and
    negative rows.

    Segmentation masks (:mod:`keras_imbalance.comparison._segmentation`): ``model_fn`` is
    required and returns per-pixel logits ``(batch, h, w, n_classes)``; strategies
    :data:`SEGMENTATION_STRATEGIES` (``ce``, the baseline; ``weighted_ce_balanced``,
    ``weighted_ce_median_frequency``, ``dice``, ``ce+dice``, ``focal_tversky``); ranked by
    ``mean_iou`` (default), ``rare_iou`` (the class with the fewest pixels) or ``mean_dice``
    over every test pixel, with the per-class IoU and the pixel confusion matrix in each fold
    row; folds are stratified on each image's rarest class. Neither target takes ``costs``,
    and :meth:`ComparisonResult.fit_recommended` is for one class per row only.

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
    kind = target_kind(y, layout)
    settings = training_settings(
        None,
        {
            "metric": TARGETS[kind][1] if metric is None else metric,
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
            **({} if kind == "multiclass" else {"target": kind}),
        },
    )
    repeats = check_number("repeats", repeats, low=1, integer=True)
    if progress is not None and not callable(progress):
        raise invalid(
            "progress", "a callable progress(done, total, row) or None", progress, kind=TypeError
        )
    if kind == "multiclass":
        plan = _multiclass_plan(x, y, strategies, model_fn, cv, repeats, settings, costs, metric)
    else:
        if costs is not None:
            raise invalid("costs", f"None for a {kind} target (costs are per class)", costs)
        if kind == "multilabel":
            from keras_imbalance.comparison._multilabel import plan as kind_plan
        else:
            from keras_imbalance.comparison._segmentation import plan as kind_plan
        plan = kind_plan(x, y, strategies, model_fn, cv, repeats, settings, layout)
    return execute(plan, results_path, progress, n_jobs)


def target_kind(y, layout) -> str:
    """``"multiclass"``, ``"multilabel"`` or ``"segmentation"``: what ``compare`` reads ``y``
    as. ``layout`` (as in :func:`keras_imbalance.describe`) decides when given:
    ``"multilabel"``; ``"dense"`` (or ``"segmentation"``) for masks; ``"binary"``,
    ``"sparse"`` or ``"onehot"`` for one class per row. Otherwise: masks ``(N, H, W)`` or
    ``(N, H, W, 1)`` (3 axes or more) are segmentation; an ``(N, K)`` 0/1 matrix with a row
    that does not hold exactly one 1 is multi-label (one 1 in every row: one-hot, one class
    per row)."""
    if layout is not None:
        kinds = {
            "multilabel": "multilabel",
            "dense": "segmentation",
            "segmentation": "segmentation",
            "binary": "multiclass",
            "sparse": "multiclass",
            "onehot": "multiclass",
        }
        if not isinstance(layout, str) or layout not in kinds:
            raise invalid("layout", f"None or one of {tuple(kinds)}", layout)
        return kinds[layout]
    shape = np.shape(y)
    if len(shape) >= 3:
        return "segmentation"
    if len(shape) == 2 and shape[1] > 1:
        arr = np.asarray(y)
        if arr.dtype.kind in "biuf" and np.isin(arr, (0, 1)).all():
            if np.any(arr.sum(axis=1) != 1):
                return "multilabel"
    return "multiclass"


@dataclass
class Plan:
    """Everything a comparison runs, checked before any fit: the rows, the labels (class
    codes, label rows or masks), the target (None: one class per row), the builders, the
    strategies trained, the folds and their seeds, the ensemble collectors, the results-file
    config."""

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


def _multiclass_plan(x, y, strategies, model_fn, cv, repeats, settings, costs, metric) -> Plan:
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
    counts = np.bincount(codes, minlength=k)
    splits, cv_config = _data.splits(cv, repeats, settings.random_state, xa, codes, classes)
    seeds = {(r, f): _data.fold_seed(settings.random_state, r, f) for r, f, _, _ in splits}
    fit_part = not settings.refit or any(
        _data.fixed_epochs(fn, settings.epochs) is None for fn in models.values()
    )
    problems = interpolation_problems(
        trained, splits, codes, classes, settings.validation_fraction, fit_part, seeds
    )
    skipped = skip_or_refuse(problems, strategies is not None, trained)
    left = [s for s in trained if s.name not in skipped]  # issue 20: ADASYN on separated classes
    infeasible = infeasible_resamplers(
        left, splits, xa, codes, classes, spec, settings, seeds, fit_part, models
    )
    skipped.update(refuse_or_skip_infeasible(infeasible, strategies is not None, trained))
    if skipped:
        resolved = [s for s in resolved if s.name not in skipped]
        trained = [s for s in trained if s.name not in skipped]
    collectors = collectors_of(resolved, models, k, settings.max_scores, seeds, settings.costs)
    config = make_config(
        xa, codes, spec, classes, counts, resolved, skipped, models, cv_config, repeats, settings
    )
    return Plan(xa, codes, spec, None, models, trained, splits, seeds, collectors, config, settings)


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


def execute(plan: Plan, results_path, progress, n_jobs) -> ComparisonResult:
    """Run the missing (model, repeat, fold) tasks of ``plan`` (in parallel with joblib),
    append every row to the results file as it arrives, and build the result."""
    settings, splits, models, trained = plan.settings, plan.splits, plan.models, plan.trained
    collectors, config, backend = plan.collectors, plan.config, plan.config["backend"]
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
                            plan.seeds[(repeat, fold)],
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
                delayed(run_task)(
                    t, plan.x, plan.y, settings, backend, os.getpid(), plan.spec, plan.target
                )
                for t in tasks
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
    metrics = tuple(config.get("metrics", METRICS))
    folds = folds_frame(rows, metrics, tuple(config.get("fold_columns", ())))
    cv = config["cv"]
    ratio = cv["test_train_ratio"] if isinstance(cv, dict) else 1.0 / (cv - 1)
    scored = [m for m in (*metrics, "expected_cost") if m in folds]
    board = _stats.leaderboard(folds, metric, scored, ratio)
    rec = _stats.recommend(
        folds,
        board,
        metric,
        ratio,
        baseline=config.get("baseline", "none"),
        prefer=config.get("prefer", "ensemble"),
        classes=config["data"]["classes"],
    )
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
