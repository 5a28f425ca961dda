"""Cross-validated comparison of imbalance strategies: :func:`compare` (the front door).

``compare`` reads what kind of target ``y`` is (:func:`target_kind`, one of
:data:`~.kinds.KINDS`), validates the settings once (:class:`~._settings.TrainingSettings`),
plans the comparison (:func:`~._plan.plan`) and runs it (:func:`~._run.execute`): per (model,
repeat, fold) one task trains every strategy together (:func:`~._fold.fit_fold`) and scores
each on the test fold; tasks run in parallel with joblib, rows are appended to the results file
as they finish, and the ensemble rows are built from their members' rows.
"""

from __future__ import annotations

import inspect
import os

import numpy as np

from keras_imbalance._validation import check_number, invalid
from keras_imbalance.comparison import _budget
from keras_imbalance.comparison._comparison import ComparisonResult
from keras_imbalance.comparison._fit import training_settings
from keras_imbalance.comparison._plan import Plan, collectors_of, make_config, plan, skip_or_refuse
from keras_imbalance.comparison._results import current_names
from keras_imbalance.comparison._run import Task, build_result, execute, fold_rows, run_task
from keras_imbalance.comparison.kinds import KINDS


def compare(
    x,
    y,
    *,
    strategies=None,
    model_fn=None,
    cv=None,
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
    settings=None,
    ignore_class=None,
    references=None,
    subsample="auto",
    time_budget=None,
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
    strategies : list of str or Strategy, default=None
        Names from ``KINDS[kind].strategies`` (aliases such as ``"none + tuned threshold"``
        accepted) or :class:`Strategy` objects of your own (their ``name`` must be new; a
        results file records names only, so give a changed strategy a new name);
        ``None`` runs ``KINDS[kind].default_strategies``. ``none`` and ``none+threshold`` are always
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
    cv : int, scikit-learn splitter, iterable of (train, test) or None, default=None
        ``None``: 5 stratified folds, or 3 when the search runs on a sample (``subsample``)
        whose every class keeps at least 100 rows in each test fold of 3 (fewer folds, still
        tight intervals). An int: stratified folds (every class needs at least ``cv`` samples). A splitter (any
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
        ``geometric_mean`` or ``f1``) the target of the threshold tuning. ``None``:
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
    settings : TrainingSettings, default=None
        All training settings at once (e.g. ``result.settings`` of an earlier run), as in
        :func:`fit_strategy`; then leave ``metric``, ``epochs``, ``batch_size``, ``patience``,
        ``validation_fraction``, ``refit``, ``standardize``, ``random_state``, ``max_scores``,
        ``jit_compile`` and ``packed`` at their defaults (a changed one is refused). Its
        ``target`` must be the kind of ``y`` and its ``costs`` (a matrix) take the place of
        ``costs``.
    ignore_class : int, default=None
        Segmentation masks only: the id of void pixels (e.g. 255: borders, unlabelled areas).
        They are left out of the training loss, the strata of the folds and every score, so
        they never become a class of their own.
    references : None, False, sequence of str or dict of str to estimator, default=None
        Classical pipelines fitted and scored on the same folds and rows as the Keras
        candidates (one class per row, tables only): names of :data:`~._references.REFERENCES`
        (``"logistic"``: logistic regression with balanced class weights; ``"balanced_rf"``:
        imbalanced-learn's BalancedRandomForestClassifier, 100 trees, one thread;
        ``"smote_knn"``: 5-nearest neighbours after SMOTE, an imbalanced-learn Pipeline) or
        ``{name: classifier}`` of your own (scikit-learn estimators with ``predict_proba``,
        cloned per fold). Each is trained on the rows the scored Keras copies train on (the
        whole training fold; its early-stopping fit part with ``refit=False``), columns
        standardised with their statistics (a stratified sample of 20,000 rows when there are
        more, said in the row's ``note``), and decides by ``argmax`` of its probabilities
        (least expected cost with ``costs``). ``None``: all three where they apply (one class
        per row, a 2-D table), none elsewhere; ``False`` or ``()``: none. Their rows (model
        ``reference:<name>``, strategy ``classical``, ``reference`` True in the leaderboard)
        are never recommended; ``recommendation["best_reference"]`` pairs the best of them with
        the recommendation. The results file resumes with or without them.
    subsample : "auto", int or None, default="auto"
        The strategy search on a sample of large classes (one class per row, stratified
        folds): every row of a class is kept up to a cap, a class with more rows keeps a
        seeded random sample of that many (fingerprinted in the results file). ``"auto"``:
        the cap is ``max(50 * rows of the smallest class, 20000)``, so a table whose
        classes all fit (e.g. yeast4, 10,000 rows) is never sampled, and a 1,000,000-row
        table at 1:1000 searches on its 1,000 positives and 50,000 negatives; an int: that
        cap; ``None``: every row. Candidates train on the sampled rows as they are (the same
        rows for every candidate); each test row of a sampled class counts for the rows it
        stands for (``count / kept``: balanced accuracy, G-mean and recall are unchanged; MCC,
        macro F1, PR-AUC and expected cost are those of the whole class).
        :meth:`ComparisonResult.fit_recommended` trains on every row it is given. What was
        sampled is in ``config["subsample"]``, ``leaderboard.attrs["subsample"]``, the
        recommendation and the report.
    time_budget : float, str or None, default=None
        Seconds (or ``"90s"``, ``"10m"``, ``"1h30m"``) the comparison should take: the plan
        is fitted into it on a calibrated cost model, cutting only as far as needed, in this
        order, the repeats (to 1), the folds of an int or ``None`` ``cv`` (to 3), the rows of
        the largest classes (``subsample`` not None; down to 1,000 per class or twice the
        smallest class) and the epochs (down to ``patience + 5``). A budget the smallest plan
        cannot meet is refused with that plan's estimate. What it cut is in
        ``config["budget"]``, ``leaderboard.attrs["budget"]``, the recommendation and the
        report. The estimate is of the comparison alone (not ``fit_recommended``) and only
        an estimate: the CLI prints the measured estimate after the first fold.

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
    When the run holds ``ensemble`` the recommendation keeps it unless the leaderboard's top
    row beats it beyond noise (paired folds, the same interval): in a nested benchmark (20
    Kovács sets of the package's datasets, 5 x 2 outer cross-validation, 200 outer folds),
    always using the ensemble scored a mean G-mean of 0.837 against 0.826 for picking the top
    row inside each outer training fold, which is often a single strategy that won by chance.

    Examples
    --------
    >>> import keras_imbalance as ki
    >>> from keras_imbalance.datasets import load_dataset
    >>> x, y = load_dataset("ecoli3")
    >>> result = ki.compare(x, y, strategies=["balanced", "smote"], cv=2, epochs=3)  # doctest: +SKIP
    >>> result.leaderboard[["strategy", "mean", "ci_low", "ci_high"]]  # doctest: +SKIP
    """
    kind = KINDS[target_kind(y, layout)]
    training = {
        "metric": metric,
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
    }
    settings = _settings_of(kind, settings, training)
    repeats = check_number("repeats", repeats, low=1, integer=True)
    if progress is not None and not callable(progress):
        raise invalid(
            "progress", "a callable progress(done, total, row) or None", progress, kind=TypeError
        )
    if ignore_class is not None:
        kind = kind.ignoring(ignore_class)
    planned = plan(
        kind,
        x,
        y,
        strategies=strategies,
        model_fn=model_fn,
        cv=cv,
        repeats=repeats,
        settings=settings,
        costs=costs,
        metric=metric,
        references=references,
        subsample=subsample,
        time_budget=time_budget,
        n_jobs=n_jobs,
    )
    told = getattr(progress, "planned", None)
    if callable(told):  # e.g. the CLI's progress lines: the plan's size, what was cut
        told(_plan_facts(planned))
    return described(execute(planned, results_path, progress, n_jobs, run=run_task))


def _plan_facts(planned) -> dict:
    """What a progress object's ``planned(facts)`` is told before training: the (model,
    repeat, fold) tasks and the sentences on the sample and the budget."""
    config = planned.config
    return {
        "model_folds": len(planned.models) * len(planned.splits),
        "sample": _budget.describe_sample(config, config["data"]["classes"]),
        "budget": _budget.describe_budget(config),
    }


def described(result: ComparisonResult) -> ComparisonResult:
    """``result`` with the sample and the budget said: ``leaderboard.attrs["subsample"]`` and
    ``["budget"]`` (sentences), ``recommendation["subsample"]`` (the config's record) and a
    line each at the end of ``recommendation["text"]``."""
    config = result.config
    said = {
        "subsample": _budget.describe_sample(config, result.classes),
        "budget": _budget.describe_budget(config),
    }
    lines = []
    for key, text in said.items():
        if text:
            result.leaderboard.attrs[key] = text
            lines.append(text)
    if config.get("subsample"):
        result.recommendation["subsample"] = dict(config["subsample"])
    if lines:
        rec = result.recommendation
        rec["text"] = "\n".join([rec.get("text", ""), *lines]).strip()
    return result


def _settings_of(kind, settings, training: dict):
    """The :class:`TrainingSettings` of a comparison of ``kind``: ``settings`` as given (the
    training keywords left at their defaults) or built from the keywords."""
    if settings is None:
        if training["metric"] is None:
            training["metric"] = kind.default_metric
        if kind.name != "multiclass":
            training["target"] = kind.name
        return training_settings(None, training)
    defaults = inspect.signature(compare).parameters
    changed = sorted(
        name for name, value in training.items() if not _same(value, defaults[name].default)
    )
    if changed:
        raise invalid("settings", "None when training keywords are given", changed)
    settings = training_settings(settings, {})
    if settings.target != kind.name:
        raise invalid(
            "settings",
            f"TrainingSettings(target={kind.name!r}) for this y (a {kind.name} target)",
            f"target={settings.target!r}",
        )
    return settings


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


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
    target = header["config"].get("target")
    unique = {r["key"]: current_names(r, target) for r in rows}
    config = current_names(header["config"], target)
    return described(build_result(list(unique.values()), config, path))


__all__ = [
    "Plan",
    "Task",
    "build_result",
    "collectors_of",
    "compare",
    "described",
    "execute",
    "fold_rows",
    "load_results",
    "make_config",
    "plan",
    "run_task",
    "skip_or_refuse",
    "target_kind",
]
