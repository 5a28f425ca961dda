"""Cross-validated comparison of imbalance strategies (the engine behind ``compare``)."""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_imbalance import calibration, metrics, resampling, weights
from keras_imbalance._validation import check_number, check_option, invalid
from keras_imbalance.comparison import _stats
from keras_imbalance.comparison._ensemble import Collector, model_label
from keras_imbalance.comparison._models import DEFAULT_MODELS
from keras_imbalance.comparison._results import (
    FORMAT,
    METRICS,
    ComparisonResult,
    ResultsFile,
    folds_frame,
    row_key,
)
from keras_imbalance.comparison._scoring import fold_scores, pr_auc, stored_scores
from keras_imbalance.comparison._strategies import (
    ENSEMBLE_MEMBERS,
    Strategy,
    resolve_strategies,
)

# ranking metric -> the metric `tune_threshold` maximises for `none+threshold`
_TUNE_FOR = {
    "balanced_accuracy": "balanced_accuracy",
    "geometric_mean": "g_mean",
    "macro_f1": "f1",
    "matthews_correlation": "balanced_accuracy",
    "pr_auc": "balanced_accuracy",
}
_METRIC_ALIASES = {
    "g_mean": "geometric_mean",
    "gmean": "geometric_mean",
    "mcc": "matthews_correlation",
    "f1": "macro_f1",
    "average_precision": "pr_auc",
}


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


def _features(x) -> tuple[np.ndarray, list[str]]:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(x, pd.DataFrame):
        bad = [
            c
            for c in x.columns
            if not (pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]))
        ]
        if bad:
            raise invalid(
                "x",
                "numeric columns only (encode categorical columns first)",
                f"non-numeric columns {bad}",
                kind=TypeError,
            )
        names = [str(c) for c in x.columns]
        arr = x.to_numpy(dtype=np.float64)
    else:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise invalid("x", "a numeric 2-D array or DataFrame", x, kind=TypeError) from None
        names = []
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise invalid("x", "a 2-D array of shape (n_samples, n_features)", arr)
    if not np.all(np.isfinite(arr)):
        raise invalid("x", "finite values (impute NaN and inf first)", arr)
    return arr, names or [f"x{i}" for i in range(arr.shape[1])]


def _labels(y, n: int) -> tuple[np.ndarray, list[str]]:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2:  # one-hot rows
        if not np.issubdtype(arr.dtype, np.number) or np.any(arr.sum(axis=1) != 1):
            raise invalid("y", "class labels of shape (n_samples,) or one-hot rows", arr)
        arr = np.argmax(arr, axis=1)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise invalid("y", f"class labels of shape ({n},) matching x", arr)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise invalid("y", "class labels without NaN", arr)
    classes, codes = np.unique(arr, return_inverse=True)
    if classes.size < 2:
        raise invalid("y", "at least 2 classes", f"only class {classes.tolist()}")
    return codes.astype(np.int64), [str(c) for c in classes.tolist()]


def _models(model_fn) -> dict[str, Any]:
    if model_fn is None:
        return dict(DEFAULT_MODELS)
    if isinstance(model_fn, dict):
        if not model_fn or not all(isinstance(k, str) and callable(v) for k, v in model_fn.items()):
            raise invalid(
                "model_fn",
                "a callable or a non-empty dict {name: callable}",
                model_fn,
                kind=TypeError,
            )
        models = dict(model_fn)
    elif not callable(model_fn):
        raise invalid(
            "model_fn", "a callable model_fn(n_features, n_classes)", model_fn, kind=TypeError
        )
    else:
        name = getattr(model_fn, "__name__", "model")
        models = {"model" if name == "<lambda>" else name: model_fn}
    for fn in models.values():
        fixed_epochs(fn, 1)  # a bad `fixed_epochs` attribute is reported before any fit
    return models


def _describe_fn(fn) -> str:
    """Stable text identifying a model builder (name + source hash) for the fingerprint."""
    import inspect

    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(type(fn)))}"
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = ""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    fixed = getattr(fn, "fixed_epochs", None)
    return f"{name}:{digest}" + ("" if fixed is None else f":fixed_epochs={fixed}")


def _data_hash(x: np.ndarray, codes: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str(x.shape).encode())
    h.update(np.ascontiguousarray(x).tobytes())
    h.update(np.ascontiguousarray(codes).tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# one fold
# --------------------------------------------------------------------------------------------


@dataclass
class _Settings:
    metric: str
    epochs: int
    batch_size: Any
    patience: int
    validation_fraction: float
    standardize: bool
    n_classes: int
    backend: str
    max_scores: int
    jit_compile: Any
    refit: bool = True


@dataclass
class _Task:
    model_name: str
    model_fn: Any
    strategies: list
    repeat: int
    fold: int
    seed: int
    train_idx: np.ndarray
    test_idx: np.ndarray


def validation_split(y_train: np.ndarray, fraction: float, seed: int):
    """Stratified, shuffled split of training-fold positions into (fit, validation).

    Each class with ``n_c >= 2`` rows sends ``max(1, round(fraction * n_c))`` of them (at most
    ``n_c - 1``) to validation, drawn at random; a class with one row stays in the fit part.
    Returns two sorted arrays of positions into ``y_train``.
    """
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(y_train):
        members = np.flatnonzero(y_train == c)
        n_c = members.size
        if n_c < 2:
            continue
        k = min(n_c - 1, max(1, int(round(fraction * n_c))))
        val.append(rng.choice(members, size=k, replace=False))
    val_pos = np.sort(np.concatenate(val)) if val else np.zeros(0, dtype=np.int64)
    fit_pos = np.setdiff1d(np.arange(y_train.size), val_pos)
    return fit_pos, val_pos


def _auto_batch(n_rows: int) -> int:
    # about 8 steps per epoch: few optimizer steps of Python overhead, still some noise
    return int(min(256, max(16, 2 ** round(math.log2(max(n_rows, 1) / 8)))))


def _neighbor_params(method: str, y_fit: np.ndarray) -> dict:
    """Shrink SMOTE-family neighbour counts when a class has too few training rows."""
    counts = np.bincount(y_fit)
    smallest = int(counts[counts > 0].min())
    if method in ("smote", "smote_tomek", "borderline_smote1", "borderline_smote2"):
        params = {"k_neighbors": max(1, min(5, smallest - 1))}
        if method.startswith("borderline"):
            params["m_neighbors"] = max(1, min(10, y_fit.size - 1))
        return params
    if method == "adasyn":
        return {"n_neighbors": max(1, min(5, smallest - 1))}
    return {}


def prepare_fold(x, codes, train_idx, strategy: Strategy, settings: _Settings, seed: int):
    """The training inputs of one strategy on one fold (no Keras).

    The validation split is taken from the training fold first (stratified, shuffled), the
    scaler is fitted on the remaining *fit* rows, and only then are the fit rows resampled:
    validation rows are real rows never seen in training, and no synthetic row reaches them.
    Returns a dict with ``x_fit, y_fit, x_val, y_val, val_idx, fit_idx`` (row indices into
    ``x``), ``mean, scale`` and ``class_weight`` (or None).
    """
    y_train = codes[train_idx]
    fit_pos, val_pos = validation_split(y_train, settings.validation_fraction, seed)
    fit_idx, val_idx = train_idx[fit_pos], train_idx[val_pos]
    data = _fit_inputs(x, codes, fit_idx, strategy, settings, seed)
    data["x_val"] = ((x[val_idx] - data["mean"]) / data["scale"]).astype(np.float32)
    data["y_val"] = codes[val_idx]
    data["val_idx"] = val_idx
    return data


def _fit_inputs(x, codes, fit_idx, strategy: Strategy, settings: _Settings, seed: int):
    """Standardise the rows ``fit_idx`` (their own mean and std), then apply the strategy."""
    x_fit, y_fit = x[fit_idx], codes[fit_idx]
    if settings.standardize:
        mean = x_fit.mean(axis=0)
        scale = x_fit.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
    else:
        mean, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
    x_fit = ((x_fit - mean) / scale).astype(np.float32)
    class_weight = None
    if strategy.kind == "class_weight":
        class_weight = weights.class_weights(y_fit, strategy.param)
        class_weight = {int(k): float(v) for k, v in class_weight.items()}
    elif strategy.kind == "resample":
        x_fit, y_fit = resampling.resample(
            x_fit,
            y_fit,
            method=strategy.param,
            random_state=seed,
            **_neighbor_params(strategy.param, y_fit),
        )
        x_fit = np.asarray(x_fit, dtype=np.float32)
        y_fit = np.asarray(y_fit, dtype=np.int64)
    return {
        "x_fit": x_fit,
        "y_fit": y_fit,
        "fit_idx": fit_idx,
        "mean": mean,
        "scale": scale,
        "class_weight": class_weight,
    }


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _score(metric: str, y: np.ndarray, pred: np.ndarray, proba: np.ndarray, k: int) -> float:
    if metric == "pr_auc":
        return pr_auc(y, proba)
    cm = metrics.confusion_matrix(y, pred, num_classes=k)
    return metrics.from_confusion(cm, metric)


def _tuned(y_val, proba_val, metric):
    try:
        return calibration.tune_threshold(y_val, proba_val, metric=_TUNE_FOR[metric])
    except ValueError:  # a class missing from validation: fall back to argmax
        return None


def _decide(proba, logits, threshold):
    if threshold is None:
        return np.argmax(logits, axis=1)
    if proba.shape[1] == 2:
        return calibration.apply_threshold(proba, float(threshold))
    return calibration.apply_threshold(proba, threshold)


def _make_monitor(keras, x_val, y_val, rules, metric, patience, k):
    """Early stopping on the balanced ``metric`` of the validation split, one track per rule.

    ``rules`` are decision rules ("argmax", "tuned"); each keeps its own best weights. Ties move
    the best epoch forward (plateaus of balanced accuracy are common on small validation
    sets) but only a strict improvement resets the patience. Training stops when every track
    has waited ``patience`` epochs.
    """

    class _Monitor(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best = {r: -math.inf for r in rules}
            self.best_epoch = dict.fromkeys(rules, 0)
            self.best_weights = dict.fromkeys(rules)
            self.wait = dict.fromkeys(rules, 0)
            self.epochs_run = 0

        def on_epoch_end(self, epoch, logs=None):
            self.epochs_run = epoch + 1
            logits = _logits(keras, self.model, x_val)
            proba = _softmax(logits)
            snapshot = None
            for rule in rules:
                threshold = _tuned(y_val, proba, metric) if rule == "tuned" else None
                score = _score(metric, y_val, _decide(proba, logits, threshold), proba, k)
                if not np.isfinite(score):
                    score = -math.inf
                if score > self.best[rule] + 1e-9:
                    self.wait[rule] = 0
                else:
                    self.wait[rule] += 1
                if score >= self.best[rule]:
                    self.best[rule] = score
                    self.best_epoch[rule] = epoch + 1
                    if snapshot is None:
                        snapshot = self.model.get_weights()
                    self.best_weights[rule] = snapshot
            if all(w >= patience for w in self.wait.values()):
                self.model.stop_training = True

    return _Monitor()


def _loss(keras_losses, strategy: Strategy, y_fit: np.ndarray, k: int):
    counts = np.bincount(y_fit, minlength=k).astype(np.float64)
    counts = np.maximum(counts, 1.0)
    if strategy.kind != "loss":
        return keras_losses.SparseCategoricalCrossentropy(from_logits=True)
    from keras_imbalance import losses

    balanced = weights.class_weights(y_fit, "balanced")
    balanced = [float(balanced.get(c, 1.0)) for c in range(k)]
    name = strategy.param
    if name == "weighted_ce":
        return losses.WeightedSparseCategoricalCrossentropy(balanced, from_logits=True)
    if name == "focal":
        return losses.SparseCategoricalFocalCrossentropy(
            alpha=balanced, gamma=2.0, from_logits=True
        )
    if name == "logit_adjusted":
        return losses.LogitAdjustedCrossentropy(
            class_counts=counts.tolist(), tau=1.0, sparse=True, from_logits=True
        )
    if name == "balanced_softmax":
        return losses.BalancedSoftmaxCrossentropy(counts.tolist(), sparse=True, from_logits=True)
    if name == "ldam":
        return losses.LDAMCrossentropy(counts.tolist(), sparse=True, from_logits=True)
    raise AssertionError(name)  # pragma: no cover - the registry lists every loss


class _Threads:
    """Pin BLAS/OpenMP and torch to one thread inside a worker; restore afterwards."""

    def __enter__(self):
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(1)
        self._torch = None
        try:
            import keras

            if keras.backend.backend() == "torch":
                import torch

                self._torch = torch.get_num_threads()
                torch.set_num_threads(1)
        except Exception:  # pragma: no cover - no torch
            self._torch = None
        return self

    def __exit__(self, *exc):
        if self._torch is not None:
            import torch

            torch.set_num_threads(self._torch)
        self._limits.restore_original_limits()
        return False


def run_task(task: _Task, x: np.ndarray, codes: np.ndarray, settings: _Settings) -> list[dict]:
    """Train one model on one fold for one training recipe; one result row per strategy."""
    if "keras" not in __import__("sys").modules:
        os.environ.setdefault("KERAS_BACKEND", settings.backend)
    import keras

    with _Threads():
        return _run_task(keras, task, x, codes, settings)


def _build(keras, task, n_features, k):
    keras.utils.set_random_seed(task.seed)
    model = task.model_fn(n_features, k)
    if not isinstance(model, keras.Model):
        raise invalid("model_fn", "a function returning a keras.Model", model, kind=TypeError)
    out_shape = tuple(model.outputs[0].shape) if getattr(model, "outputs", None) else None
    if out_shape is not None and out_shape[-1] != k:
        raise invalid(
            "model_fn",
            f"a model with {k} output logits (one per class, no softmax)",
            f"a model with output shape {out_shape}",
        )
    return model


def _train(keras, task, data, settings, epochs, callbacks):
    """Build, compile and fit a fresh model on ``data``; returns (model, batch size)."""
    k = settings.n_classes
    head = task.strategies[0]
    x_fit, y_fit = data["x_fit"], data["y_fit"]
    model = _build(keras, task, x_fit.shape[1], k)
    optimizer = getattr(model, "optimizer", None) or keras.optimizers.Adam(1e-3)
    jit = settings.jit_compile
    if jit == "auto":
        jit = False if keras.backend.backend() == "torch" else "auto"
    model.compile(optimizer=optimizer, loss=_loss(keras.losses, head, y_fit, k), jit_compile=jit)
    batch = settings.batch_size
    if batch == "auto":
        batch = _auto_batch(y_fit.size)
    if head.kind == "batches":
        from keras_imbalance.sampling import BalancedBatches

        # one epoch = as many draws as fit rows, so an epoch costs what the other recipes' do
        dataset = BalancedBatches(
            x_fit,
            y_fit,
            batch_size=batch,
            strategy=head.param,
            epoch_size=int(y_fit.size),
            random_state=task.seed,
        )
        model.fit(dataset, epochs=epochs, callbacks=callbacks, verbose=0)
    else:
        model.fit(
            x_fit,
            y_fit,
            batch_size=batch,
            epochs=epochs,
            class_weight=data["class_weight"],
            callbacks=callbacks,
            shuffle=True,
            verbose=0,
        )
    return model, batch


def _logits(keras, model, x):
    return np.asarray(keras.ops.convert_to_numpy(model(x, training=False)), dtype=np.float64)


@dataclass
class _Fitted:
    """One training recipe fitted on one training fold (see :func:`fit_recipe`)."""

    data: dict  # prepare_fold's output: fit / validation parts and their scaler
    monitor: Any  # the early-stopping callback: best epoch and weights per decision rule
    model: Any  # the early-stopped model (weights of the last epoch run)
    batch: int
    refit: tuple | None  # (model, batch size, _fit_inputs of the whole training fold)
    seconds: float
    rules: list  # decision rule of each strategy of the task ("argmax" or "tuned")

    def decider(self, keras, rule: str, metric: str):
        """``(model, scaler, threshold, batch)`` that decides for ``rule``.

        ``argmax``: the refit model and the whole training fold's scaler when there is a
        refit, else the early-stopped model at the rule's best weights. ``tuned``: that
        early-stopped model and the threshold (or offsets) tuned on the validation part.
        ``scaler`` is the dict of the rows the model was fitted on (``mean``, ``scale``,
        ``y_fit``).
        """
        if rule == "argmax" and self.refit is not None:
            model, batch, full = self.refit
            return model, full, None, batch
        if self.monitor.best_weights[rule] is not None:
            self.model.set_weights(self.monitor.best_weights[rule])
        threshold = None
        if rule == "tuned":
            proba = _softmax(_logits(keras, self.model, self.data["x_val"]))
            threshold = _tuned(self.data["y_val"], proba, metric)
        return self.model, self.data, threshold, self.batch


@dataclass
class _AllEpochs:
    """Stands in for the monitor of a model trained without early stopping: every decision
    rule ends at the last of ``epochs`` epochs, with the final weights."""

    rules: list
    epochs_run: int

    def __post_init__(self):
        self.best_epoch = dict.fromkeys(self.rules, self.epochs_run)
        self.best_weights = dict.fromkeys(self.rules)


def fixed_epochs(model_fn, epochs: int) -> int | None:
    """Epochs of a builder trained without early stopping: ``min(model_fn.fixed_epochs,
    epochs)``; None (early stopping) when the builder has no ``fixed_epochs`` attribute."""
    value = getattr(model_fn, "fixed_epochs", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise invalid("model_fn", "a builder whose `fixed_epochs` is an int >= 1 or None", value)
    return min(int(value), int(epochs))


def fit_recipe(keras, task, x, codes, settings) -> _Fitted:
    """Early-stopped fit of ``task``'s recipe on its training fold, then the refit (if any).

    Early stopping watches ``settings.metric`` on the validation part, one track per decision
    rule of ``task.strategies``; with ``settings.refit`` and an argmax rule, a fresh model is
    trained on the whole training fold for the argmax track's best epoch count.

    A builder with a ``fixed_epochs`` attribute (a convex model that converges rather than
    over-fits, like :func:`linear_model`) is not early-stopped: it trains that many epochs (at
    most ``settings.epochs``) on the fit part when a tuned rule needs the validation part or
    there is no refit, and (refit, argmax rule) on the whole training fold.
    """
    k = settings.n_classes
    head = task.strategies[0]
    data = prepare_fold(x, codes, task.train_idx, head, settings, task.seed)
    rules = ["tuned" if s.tuned else "argmax" for s in task.strategies]
    tracks = list(dict.fromkeys(rules))
    fixed = fixed_epochs(task.model_fn, settings.epochs)
    start = time.perf_counter()
    model = batch = None
    if fixed is None:
        monitor = _make_monitor(
            keras, data["x_val"], data["y_val"], tracks, settings.metric, settings.patience, k
        )
        model, batch = _train(keras, task, data, settings, settings.epochs, [monitor])
        refit_epochs = max(1, monitor.best_epoch["argmax"]) if "argmax" in rules else None
    else:
        monitor = _AllEpochs(tracks, fixed)
        if "tuned" in rules or not settings.refit:
            model, batch = _train(keras, task, data, settings, fixed, [])
        refit_epochs = fixed
    refit = None
    if settings.refit and "argmax" in rules:
        # the validation split chose the epoch count; train again on the whole training fold
        full = _fit_inputs(x, codes, task.train_idx, head, settings, task.seed)
        refit_model, refit_batch = _train(keras, task, full, settings, refit_epochs, [])
        refit = (refit_model, refit_batch, full)
    return _Fitted(data, monitor, model, batch, refit, time.perf_counter() - start, rules)


def _run_task(keras, task, x, codes, settings):
    k = settings.n_classes
    fitted = fit_recipe(keras, task, x, codes, settings)
    y_val = fitted.data["y_val"]
    y_test = codes[task.test_idx]
    rows = []
    for strategy, rule in zip(task.strategies, fitted.rules, strict=True):
        model, scaler, threshold, row_batch = fitted.decider(keras, rule, settings.metric)
        x_test = ((x[task.test_idx] - scaler["mean"]) / scaler["scale"]).astype(np.float32)
        logits = _logits(keras, model, x_test)
        proba = _softmax(logits)
        pred = _decide(proba, logits, threshold)
        scored = fold_scores(y_test, pred, proba, k)
        rows.append(
            {
                "type": "fold",
                "key": row_key(task.model_name, strategy.name, task.repeat, task.fold),
                "model": task.model_name,
                "strategy": strategy.name,
                "repeat": task.repeat,
                "fold": task.fold,
                **scored,
                "threshold": None if threshold is None else np.asarray(threshold).tolist(),
                "best_epoch": fitted.monitor.best_epoch[rule],
                "epochs_run": fitted.monitor.epochs_run,
                "refit": rule == "argmax" and fitted.refit is not None,
                "batch_size": int(row_batch),
                "fit_seconds": round(fitted.seconds, 3),
                "n_fit": int(scaler["y_fit"].size),
                "n_val": int(y_val.size),
                "n_test": int(y_test.size),
                "scores": stored_scores(y_test, proba, settings.max_scores, task.seed),
                # every score, for the ensemble; removed before the row is stored
                "_all_scores": stored_scores(y_test, proba, math.inf, task.seed),
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# the public function
# --------------------------------------------------------------------------------------------


def _splits(cv, repeats, random_state, x, codes, classes):
    """The folds as ``[(repeat, fold, train_idx, test_idx)]`` and the ``cv`` entry of the config:
    the int, or a description of the given splits (a hash of every index and the mean test/train
    size ratio that the corrected interval needs)."""
    k = len(classes)
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        cv = check_number("cv", cv, low=2, integer=True)
        counts = np.bincount(codes, minlength=k)
        if counts.min() < cv:
            small = {classes[i]: int(c) for i, c in enumerate(counts) if c < cv}
            raise invalid(
                "cv",
                f"at most the size of the smallest class ({counts.min()})",
                f"{cv} (classes {small})",
            )
        from sklearn.model_selection import RepeatedStratifiedKFold

        splitter = RepeatedStratifiedKFold(
            n_splits=cv, n_repeats=repeats, random_state=random_state
        )
        splits = [
            (*divmod(i, cv), train, test)
            for i, (train, test) in enumerate(splitter.split(x, codes))
        ]
        return splits, int(cv)
    expected = (
        "an int >= 2 (stratified folds), a scikit-learn splitter with split(x, y) or an "
        "iterable of (train_indices, test_indices)"
    )
    if repeats != 1:
        raise invalid("repeats", "1 when cv is a splitter or a list of splits", repeats)
    if isinstance(cv, (str, bytes, bool)):
        raise invalid("cv", expected, cv, kind=TypeError)
    if hasattr(cv, "split"):
        try:
            pairs = list(cv.split(x, codes))
        except (TypeError, ValueError) as exc:  # e.g. a group splitter called without groups
            raise invalid(
                "cv",
                "a splitter whose split(x, y) needs only x and the labels (pass a list of "
                f"(train, test) pairs otherwise); its split(x, y) raised: {exc}",
                cv,
            ) from None
    else:
        try:
            pairs = list(cv)
        except TypeError:
            raise invalid("cv", expected, cv, kind=TypeError) from None
    if not pairs:
        raise invalid("cv", expected, "no splits")
    n = codes.size
    digest = hashlib.sha256()
    splits = []
    for i, pair in enumerate(pairs):
        try:
            train, test = (np.asarray(part) for part in pair)
        except (TypeError, ValueError):
            raise invalid("cv", expected, f"split {i}: {pair!r:.80}", kind=TypeError) from None
        for name, part in (("train", train), ("test", test)):
            if part.ndim != 1 or part.size == 0 or part.dtype.kind not in "iu":
                raise invalid("cv", expected, f"split {i}: {name} indices {part!r:.80}")
            if part.min() < 0 or part.max() >= n:
                raise invalid("cv", f"indices in [0, {n})", f"split {i}: {name} {part!r:.80}")
        if np.intersect1d(train, test).size:
            raise invalid("cv", "disjoint train and test indices", f"split {i} shares rows")
        missing = [classes[c] for c in range(k) if not np.any(codes[train] == c)]
        if missing:
            raise invalid(
                "cv", "every class in every training fold", f"split {i} lacks classes {missing}"
            )
        train, test = train.astype(np.int64), test.astype(np.int64)
        digest.update(train.tobytes() + b"|" + test.tobytes() + b";")
        splits.append((0, i, train, test))
    config = {
        "splitter": type(cv).__name__,
        "n_splits": len(splits),
        "hash": digest.hexdigest(),
        "test_train_ratio": float(np.mean([t.size / tr.size for _, _, tr, t in splits])),
    }
    return splits, config


def check_training(metric, epochs, batch_size, patience, validation_fraction, random_state):
    """The training arguments shared by ``compare`` and ``fit_strategy``, validated."""
    metric = _METRIC_ALIASES.get(metric, metric) if isinstance(metric, str) else metric
    check_option("metric", metric, METRICS)
    epochs = check_number("epochs", epochs, low=1, integer=True)
    if batch_size != "auto":
        batch_size = check_number("batch_size", batch_size, low=1, integer=True)
    patience = check_number("patience", patience, low=1, integer=True)
    validation_fraction = check_number(
        "validation_fraction", validation_fraction, low=0.0, high=0.5, low_inclusive=False
    )
    random_state = check_number("random_state", random_state, low=0, integer=True)
    return metric, epochs, batch_size, patience, validation_fraction, random_state


def _collectors(resolved, models, k, max_scores, seeds) -> list[Collector]:
    """The ensemble's :class:`Collector` s: one over every model's member fits and, with
    several models, one per model that has at least 2 member fits. Empty when ``ensemble`` is
    not requested."""
    if not any(s.kind == "ensemble" for s in resolved):
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
    out = [Collector(members, label, k, max_scores, seeds)]
    if len(models) > 1:
        for model in models:
            own = [m for m in members if m[0] == model]
            if len(own) >= 2:
                out.append(Collector(own, model, k, max_scores, seeds))
    return out


def _resume_ensemble(collectors, splits, done_rows) -> list[dict]:
    """The missing ensemble rows of folds whose members are all in a resumed file.

    A member row stored with a subset of its test scores (more test rows than ``max_scores``)
    cannot be averaged: it is dropped from ``done_rows`` and fitted again.
    """
    out = []
    for collector in collectors:
        for repeat, fold, _, _ in splits:
            if collector.key(repeat, fold) in done_rows:
                continue
            for model, strategy in collector.members:
                key = row_key(model, strategy, repeat, fold)
                row = done_rows.get(key)
                if row is None:
                    continue
                if row["scores"].get("index") is not None:
                    del done_rows[key]
                    continue
                combined = collector.add(row, row["scores"])
                if combined is not None:
                    out.append(combined)
    return out


def _check_interpolation(trained, splits, codes, classes, fraction, fit_part, seeds):
    """Refuse, before any fit, a SMOTE-like strategy that would meet a class with one row.

    SMOTE, SMOTE-NC, SMOTE-Tomek, Borderline-SMOTE-1 and ADASYN interpolate between rows of the
    class they over-sample, so every non-majority class needs 2 rows in the rows they resample:
    the early-stopping fit part of each training fold (``fit_part``), else the training fold.
    """
    from keras_imbalance.resampling._core import _NEIGHBOR_PARAMS

    names = [
        s.name
        for s in trained
        if s.kind == "resample"
        and any(scope == "class" for _, scope in _NEIGHBOR_PARAMS.get(s.param, {}).values())
    ]
    if not names:
        return
    for repeat, fold, train_idx, _ in splits:
        y_train = codes[train_idx]
        rows = y_train
        if fit_part:
            fit_pos, _ = validation_split(y_train, fraction, seeds[(repeat, fold)])
            rows = y_train[fit_pos]
        n = np.bincount(rows, minlength=len(classes))
        thin = [c for c in range(len(classes)) if n[c] == 1 and n[c] < n.max()]
        if thin:
            c = thin[0]
            part = "early-stopping fit part" if fit_part else "training fold"
            raise invalid(
                "strategies",
                f"strategies that interpolate within a class ({', '.join(names)}) only when "
                f"every class has at least 2 rows in each {part}, but class {classes[c]!r} has 1 "
                f"in the {part} of repeat {repeat}, fold {fold} ({int(np.sum(y_train == c))} "
                "in its training fold); use fewer folds (`cv`), more rows of that class, or "
                "'random_over' instead",
                [s.name for s in trained],
            )


def _seed(random_state: int, repeat: int, fold: int) -> int:
    return int(np.random.SeedSequence([random_state, repeat, fold]).generate_state(1)[0] % 2**31)


def compare(
    x,
    y,
    *,
    strategies=None,
    model_fn=None,
    cv=5,
    repeats=1,
    metric="balanced_accuracy",
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
):
    """Compare imbalance strategies by stratified (repeated) cross-validation.

    For every model, strategy, repeat and fold: the training fold is split into a *fit* part
    and a stratified, shuffled *validation* part (``validation_fraction``; taken **before** any
    resampling, so validation holds only real rows), features are standardised with the fit
    part's mean and std, the strategy is applied to the fit part (class weights, a loss,
    resampling, balanced batches), the model is trained with early stopping on ``metric``
    measured on the validation part (not on the loss); then (``refit=True``) a fresh model is
    trained on the whole training fold for the best epoch count and scored on the test fold.
    ``none+threshold`` reuses the ``none`` fit and tunes the decision threshold (binary) or
    per-class log offsets (multiclass) on the validation part only; it scores the early-stopped
    model whose validation predictions chose the threshold.

    Every finished (model, strategy, repeat, fold) is appended to ``results_path`` at once, so
    an interrupted run resumes where it stopped: calling ``compare`` again with the same data
    and settings skips the finished folds (other settings are refused).

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features) or DataFrame
        Numeric features (encode categorical columns first).
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels (ints, strings, bools) or one-hot rows.
    strategies : list of str, default=None
        Names from :data:`STRATEGIES` (aliases such as ``"none + tuned threshold"`` accepted);
        ``None`` runs :data:`DEFAULT_STRATEGIES`. ``none`` and ``none+threshold`` are always
        run (the baseline of the recommendation; the threshold reuses its fit). ``ensemble``
        fits nothing of its own: on each fold it averages the class probabilities of every
        model x every strategy of :data:`ENSEMBLE_MEMBERS` in the run (argmax decides); its
        rows carry the model name ``"a+b"`` (all models joined) or the single model's name.
    model_fn : callable or dict of str to callable, default=None
        ``model_fn(n_features, n_classes) -> keras.Model`` returning ``n_classes`` **logits**
        (no softmax). A compiled model keeps its optimizer (else Adam 1e-3); the loss is set per
        strategy. ``None`` runs both default models (:data:`DEFAULT_MODELS`: a regularised
        linear model and a small MLP); a dict runs each named model. A builder with an int
        attribute ``fixed_epochs`` (the default linear model has 50) is not early-stopped: it
        trains ``min(fixed_epochs, epochs)`` epochs, on the whole training fold when refitted.
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
"pr_auc"}, default="balanced_accuracy"
        Ranking metric; also the early-stopping monitor and (mapped to ``balanced_accuracy``,
        ``g_mean`` or ``f1``) the target of the threshold tuning.
    epochs : int, default=100
        Maximum epochs; early stopping usually ends training much sooner (see ``model_fn``
        for builders trained a fixed number of epochs).
    batch_size : int or "auto", default="auto"
        ``"auto"``: about 8 steps per epoch, between 16 and 256 rows (computed on the data the
        model is fitted on, so under-sampled sets get smaller batches).
    patience : int, default=10
        Epochs without improvement of the validation ``metric`` before stopping.
    validation_fraction : float, default=0.2
        Share of each class of the training fold held out for early stopping and thresholds.
    refit : bool, default=True
        After early stopping has chosen the epoch count on the validation part, train a fresh
        model (same seed) on the *whole* training fold for that many epochs and score it on
        the test fold, so the held-out rows are not lost to training (on small sets they are
        a large share of the minority class). ``none+threshold`` keeps the model whose
        validation predictions tuned its threshold. ``False`` scores the early-stopped model.
    standardize : bool, default=True
        Scale features to zero mean and unit variance (statistics of the fit part).
    n_jobs : int, default=None
        Parallel folds with joblib; ``None`` means joblib's active default (1 outside a
        ``joblib.parallel_config`` block). Each worker pins BLAS and torch to one thread. On a
        Dask cluster: ``with joblib.parallel_config(backend="dask"): compare(..., n_jobs=-1)``
        after creating a ``distributed.Client``; on Ray: ``ray.util.joblib.register_ray()`` then
        ``joblib.parallel_config(backend="ray")``.
    results_path : str or path-like, default=None
        JSON-lines file to append every fold to (and resume from).
    random_state : int, default=0
        Seed of the splits, the resamplers and the model initialisation (``keras.utils.
        set_random_seed`` per fold; all strategies of a fold share the same seed).
    progress : callable, default=None
        Called as ``progress(done, total, row)`` after each finished fold row (``done`` counts
        rows already in a resumed file).
    max_scores : int, default=2000
        At most this many test-fold scores per row are kept for precision-recall curves.
    jit_compile : bool or "auto", default="auto"
        Passed to ``model.compile``; ``"auto"`` is ``False`` on torch (compiling tiny models
        costs more than it saves) and Keras' ``"auto"`` elsewhere.

    Returns
    -------
    ComparisonResult
        ``.leaderboard`` (mean, std and 95 % interval of ``metric`` per model and strategy,
        best first), ``.recommendation``, ``.folds``, ``.to_html(path)``, ``.to_json(path)``,
        ``.fit_recommended(x, y)`` (the winner trained on all rows: :func:`fit_strategy`).

    Notes
    -----
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
    xa, feature_names = _features(x)
    codes, classes = _labels(y, xa.shape[0])
    k = len(classes)
    resolved = resolve_strategies(strategies)
    trained = [s for s in resolved if s.kind != "ensemble"]
    models = _models(model_fn)
    repeats = check_number("repeats", repeats, low=1, integer=True)
    metric, epochs, batch_size, patience, validation_fraction, random_state = check_training(
        metric, epochs, batch_size, patience, validation_fraction, random_state
    )
    max_scores = check_number("max_scores", max_scores, low=1, integer=True)
    if progress is not None and not callable(progress):
        raise invalid(
            "progress", "a callable progress(done, total, row) or None", progress, kind=TypeError
        )
    counts = np.bincount(codes, minlength=k)
    splits, cv_config = _splits(cv, repeats, random_state, xa, codes, classes)
    seeds = {(r, f): _seed(random_state, r, f) for r, f, _, _ in splits}
    fit_part = not refit or any(fixed_epochs(fn, epochs) is None for fn in models.values())
    _check_interpolation(trained, splits, codes, classes, validation_fraction, fit_part, seeds)

    import keras

    backend = keras.backend.backend()
    config = {
        "format": FORMAT,
        "data": {
            "hash": _data_hash(xa, codes),
            "n_samples": int(xa.shape[0]),
            "n_features": int(xa.shape[1]),
            "classes": classes,
            "class_counts": counts.tolist(),
        },
        "strategies": [s.name for s in resolved],
        "models": {name: _describe_fn(fn) for name, fn in models.items()},
        "cv": cv_config,
        "repeats": repeats,
        "random_state": random_state,
        "metric": metric,
        "epochs": epochs,
        "batch_size": batch_size,
        "patience": patience,
        "validation_fraction": validation_fraction,
        "refit": bool(refit),
        "standardize": bool(standardize),
        "max_scores": max_scores,
        "backend": backend,
    }
    settings = _Settings(
        metric=metric,
        epochs=epochs,
        batch_size=batch_size,
        patience=patience,
        validation_fraction=validation_fraction,
        standardize=bool(standardize),
        n_classes=k,
        backend=backend,
        max_scores=max_scores,
        jit_compile=jit_compile,
        refit=bool(refit),
    )

    store = ResultsFile(results_path, config) if results_path is not None else None
    done_rows: dict[str, dict] = dict(store.rows) if store is not None else {}
    collectors = _collectors(resolved, models, k, max_scores, seeds)
    resumed = _resume_ensemble(collectors, splits, done_rows)
    keys = {row_key(m, s.name, r, f) for r, f, _, _ in splits for m in models for s in trained}
    keys |= {c.key(r, f) for c in collectors for r, f, _, _ in splits}
    total = len(keys)
    done = len(keys & done_rows.keys())

    def record(row):
        nonlocal done
        if store is not None:
            store.append(row)
        done_rows[row["key"]] = row
        done += 1
        if progress is not None:
            progress(done, total, row)

    for row in resumed:
        record(row)

    groups: dict[str, list[Strategy]] = {}
    for s in trained:
        groups.setdefault(s.group, []).append(s)
    tasks = []
    for repeat, fold, train_idx, test_idx in splits:
        for model_name, fn in models.items():
            for members in groups.values():
                missing = [
                    s for s in members if row_key(model_name, s.name, repeat, fold) not in done_rows
                ]
                if missing:
                    tasks.append(
                        _Task(
                            model_name,
                            fn,
                            missing,
                            repeat,
                            fold,
                            seeds[(repeat, fold)],
                            train_idx,
                            test_idx,
                        )
                    )

    if tasks:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        results = parallel(delayed(run_task)(t, xa, codes, settings) for t in tasks)
        for rows in results:
            for row in rows:
                all_scores = row.pop("_all_scores")
                record(row)
                for collector in collectors:
                    combined = collector.add(row, all_scores)
                    if combined is not None:
                        record(combined)

    return build_result(list(done_rows.values()), config, results_path)


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
    board = _stats.leaderboard(folds, metric, METRICS, ratio)
    rec = _stats.recommend(folds, board, metric, ratio)
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
