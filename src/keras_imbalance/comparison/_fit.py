"""Train a strategy (or the ensemble) on all of the user's data, the way ``compare`` trains it.

The result is one ``keras.Model``: raw features ``(batch, n_features)`` in, class
probabilities ``(batch, n_classes)`` out (columns in the order of ``np.unique(y)``, as in
``ComparisonResult.classes``). Inside, per fit: ``Normalization`` with the training mean and
variance, the trained model's logits, a fixed offset for a tuned threshold, ``Softmax``; the
ensemble averages the fits' probabilities (``Average``). Only built-in layers: it saves and
loads with ``model.save`` / ``keras.models.load_model``.
"""

from __future__ import annotations

import math

import numpy as np

from keras_imbalance._validation import invalid
from keras_imbalance.comparison import _engine
from keras_imbalance.comparison._models import DEFAULT_MODELS
from keras_imbalance.comparison._strategies import (
    DEFAULT_STRATEGIES,
    ENSEMBLE_MEMBERS,
    STRATEGIES,
    canonical_name,
)


def _model_builders(model_fn) -> dict:
    if isinstance(model_fn, str):
        if model_fn not in DEFAULT_MODELS:
            raise invalid("model_fn", f"a callable or one of {sorted(DEFAULT_MODELS)}", model_fn)
        return {model_fn: DEFAULT_MODELS[model_fn]}
    return _engine._models(model_fn)


def _offsets(threshold, k: int):
    """Log-space offsets added to the logits so that argmax applies a tuned threshold."""
    if threshold is None:
        return None
    if k == 2:  # p1 >= t  <=>  logit_1 + log((1 - t) / t) >= logit_0
        t = min(max(float(threshold), 1e-7), 1 - 1e-7)
        return np.array([0.0, math.log((1 - t) / t)])
    return np.asarray(threshold, dtype=np.float64)


def _member(keras, name, fitted, strategy, settings, n_features):
    """A functional model: raw features -> probabilities of one fitted recipe."""
    k = settings.n_classes
    rule = "tuned" if strategy.tuned else "argmax"
    model, scaler, threshold, _ = fitted.decider(keras, rule, settings.metric)
    inputs = keras.Input((n_features,), name="features")
    h = inputs
    if settings.standardize:
        h = keras.layers.Normalization(
            mean=np.asarray(scaler["mean"], dtype=np.float32),
            variance=np.asarray(scaler["scale"], dtype=np.float32) ** 2,
            name="standardize",
        )(h)
    logits = model(h)
    offsets = _offsets(threshold, k)
    if offsets is not None:
        shift = keras.layers.Dense(k, trainable=False, name="threshold_offsets")
        logits = shift(logits)
        shift.set_weights([np.eye(k, dtype=np.float32), offsets.astype(np.float32)])
    proba = keras.layers.Softmax(name="proba")(logits)
    return keras.Model(inputs, proba, name=f"{name}__{strategy.name.replace('+', '_')}")


def fit_strategy(
    x,
    y,
    strategy,
    *,
    model_fn=None,
    members=None,
    metric="balanced_accuracy",
    epochs=100,
    batch_size="auto",
    patience=10,
    validation_fraction=0.2,
    refit=True,
    standardize=True,
    random_state=0,
    jit_compile="auto",
):
    """Train ``strategy`` on all of ``(x, y)`` as :func:`compare` trains it on a training fold.

    Stratified validation split (before any resampling) -> early stopping on ``metric`` ->
    (``refit=True``) a fresh model trained on all rows for the best epoch count. For
    ``none+threshold`` the threshold (binary) or per-class offsets are tuned on the validation
    split and folded into the output as logit offsets ``b`` (``softmax(logits + b)``: its argmax
    is the tuned decision; the probabilities are then not calibrated). ``ensemble`` trains every
    model x every strategy of ``members`` and averages their probabilities.

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features) or DataFrame
        Numeric features.
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels or one-hot rows.
    strategy : str
        A name of :data:`STRATEGIES` (aliases accepted), e.g. ``result.recommendation
        ["winner_strategy"]``.
    model_fn : callable, str, dict of str to callable or None, default=None
        As in :func:`compare`, or a name of :data:`DEFAULT_MODELS`. ``None``: the default
        models. A single strategy needs exactly one model; ``ensemble`` uses all of them.
    members : list of str, default=None
        ``ensemble`` only: the strategies averaged (names in :data:`ENSEMBLE_MEMBERS`);
        ``None``: those among :data:`DEFAULT_STRATEGIES`.
    metric, epochs, batch_size, patience, validation_fraction, refit, standardize, \
random_state, jit_compile
        As in :func:`compare`.

    Returns
    -------
    keras.Model
        Raw features ``(batch, n_features)`` -> class probabilities ``(batch, n_classes)``,
        columns in the order of ``np.unique(y)``.

    Examples
    --------
    >>> model = fit_strategy(x, y, "balanced", model_fn="linear")  # doctest: +SKIP
    >>> model.predict(x).argmax(axis=1)  # doctest: +SKIP
    """
    xa, _ = _engine._features(x)
    codes, classes = _engine._labels(y, xa.shape[0])
    k = len(classes)
    name = canonical_name(strategy, "strategy")
    chosen = STRATEGIES[name]
    models = _model_builders(model_fn)
    metric, epochs, batch_size, patience, validation_fraction, random_state = (
        _engine.check_training(
            metric, epochs, batch_size, patience, validation_fraction, random_state
        )
    )
    if chosen.kind == "ensemble":
        names = [s for s in DEFAULT_STRATEGIES if s in ENSEMBLE_MEMBERS]
        if members is not None:
            names = [canonical_name(m, "members") for m in members]
            bad = [m for m in names if m not in ENSEMBLE_MEMBERS]
            if bad:
                raise invalid("members", f"names among {sorted(ENSEMBLE_MEMBERS)}", bad)
        fits = [(m, STRATEGIES[s]) for m in models for s in dict.fromkeys(names)]
        if len(fits) < 2:
            raise invalid("members", "at least 2 fits (models x members) to average", names)
    else:
        if members is not None:
            raise invalid(
                "members", f"None for strategy {name!r} (only 'ensemble' has members)", members
            )
        if len(models) != 1:
            raise invalid(
                "model_fn",
                f"one model for strategy {name!r} (a callable, a name among "
                f"{sorted(DEFAULT_MODELS)} or a dict with one entry)",
                sorted(models),
            )
        fits = [(next(iter(models)), chosen)]
    for c in range(k):
        if np.count_nonzero(codes == c) < 2:
            raise invalid("y", "at least 2 rows of every class", f"class {classes[c]!r}: 1 row")

    import keras

    settings = _engine._Settings(
        metric=metric,
        epochs=epochs,
        batch_size=batch_size,
        patience=patience,
        validation_fraction=validation_fraction,
        standardize=bool(standardize),
        n_classes=k,
        backend=keras.backend.backend(),
        max_scores=1,
        jit_compile=jit_compile,
        refit=bool(refit),
    )
    everything = np.arange(xa.shape[0])
    seed = _engine._seed(random_state, 0, 0)
    parts = []
    for model_name, strat in fits:
        task = _engine._Task(
            model_name, models[model_name], [strat], 0, 0, seed, everything, everything[:0]
        )
        fitted = _engine.fit_recipe(keras, task, xa, codes, settings)
        parts.append(_member(keras, model_name, fitted, strat, settings, xa.shape[1]))
    if len(parts) == 1:
        return parts[0]
    inputs = keras.Input((xa.shape[1],), name="features")
    proba = keras.layers.Average(name="proba")([p(inputs) for p in parts])
    return keras.Model(inputs, proba, name="ensemble")
