"""Train a strategy (or the ensemble) on all of the user's data, the way ``compare`` trains it.

The result is one ``keras.Model``: raw features ``(batch, *input_shape)`` in, class
probabilities ``(batch, n_classes)`` out (columns in the order of ``np.unique(y)``, as in
``ComparisonResult.classes``). Inside, per fit: ``Normalization`` with the training mean and
variance (2-D tables), the builder's model with the trained weights, a fixed offset for a tuned
threshold, ``Softmax``; the ensemble averages the fits' probabilities (``Average``). Only
built-in layers and the user's own: it saves and loads with ``model.save`` /
``keras.models.load_model``. A model with a ``to_functional()`` method (a
:class:`keras_imbalance.models.PackedEnsemble`, e.g. from ``easy_ensemble_model``) is replaced
by the built-in-layer model it returns, so loading needs no import of ``keras_imbalance``.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

from keras_imbalance import calibration
from keras_imbalance._validation import invalid
from keras_imbalance.comparison import _data
from keras_imbalance.comparison._fold import fit_fold
from keras_imbalance.comparison._models import DEFAULT_MODELS
from keras_imbalance.comparison._scoring import rule_of
from keras_imbalance.comparison._settings import TrainingSettings
from keras_imbalance.comparison._strategies import (
    DEFAULT_STRATEGIES,
    ENSEMBLE_MEMBERS,
    STRATEGIES,
    canonical_name,
)
from keras_imbalance.comparison.kinds.multiclass import interpolation_problems

_TRAINING = tuple(f.name for f in fields(TrainingSettings))


def training_settings(settings, training: dict) -> TrainingSettings:
    """``settings`` or ``TrainingSettings(**training)`` (not both), with one clear error for
    an unknown keyword."""
    unknown = sorted(set(training) - set(_TRAINING))
    if unknown:
        raise invalid(
            "training settings", f"keywords among {list(_TRAINING)}", unknown, kind=TypeError
        )
    if settings is None:
        return TrainingSettings(**training)
    if not isinstance(settings, TrainingSettings):
        raise invalid("settings", "a TrainingSettings or None", settings, kind=TypeError)
    if training:
        raise invalid("settings", "None when training keywords are given", sorted(training))
    return settings


def _model_builders(model_fn) -> dict:
    if isinstance(model_fn, str):
        if model_fn not in DEFAULT_MODELS:
            raise invalid("model_fn", f"a callable or one of {sorted(DEFAULT_MODELS)}", model_fn)
        return {model_fn: DEFAULT_MODELS[model_fn]}
    return _data.builders(model_fn, DEFAULT_MODELS)


def _offsets(decider, k: int):
    """Log-space offsets added to the logits so that their argmax is the decider's decision:
    a tuned threshold or offsets, or the Bayes rule of per-class costs (more than 2 classes:
    predicting ``j`` costs ``sum_{i != j} p_i c_i``, least for the largest ``p_j c_j``)."""
    threshold = decider.threshold
    if decider.costs is not None and k > 2:
        c = np.asarray(decider.costs, dtype=np.float64)
        per_class = c.max(axis=1)
        if not np.allclose(c, per_class[:, None] * (1 - np.eye(k))):
            raise invalid(
                "costs",
                "per-class costs ({class: cost}) to fold the decision into the model (a full "
                "matrix has no argmax form: apply calibration.bayes_decision to the "
                "prior-corrected probabilities)",
                c.tolist(),
            )
        return np.asarray(decider.prior, dtype=np.float64) + np.log(per_class)
    if threshold is None:
        return None
    if k == 2:  # p1 >= t  <=>  logit_1 + log((1 - t) / t) >= logit_0
        t = min(max(float(threshold), 1e-7), 1 - 1e-7)
        return np.array([0.0, math.log((1 - t) / t)])
    return np.asarray(threshold, dtype=np.float64)


def _fitted_model(keras, model_fn, weights, input_shape, k):
    """The builder's model holding ``weights``, in built-in layers where it has its own."""
    keras.utils.set_random_seed(0)
    model = _data.call_builder(model_fn, input_shape, k)
    model.set_weights(weights)
    export = getattr(model, "to_functional", None)
    if callable(export):  # the same prediction in built-in layers (models.PackedEnsemble)
        model = export()
    if getattr(model, "optimizer", None) is not None:
        # saved with the model: built, so that loading finds the variables it expects
        model.optimizer.build(model.trainable_variables)
    return model


def _mean_logits(keras, models, h, k):
    """Logits whose softmax is the mean of ``models``' softmax probabilities on ``h`` (the
    averaged variants of ``with_variants(..., choose="average")``), in built-in layers:
    ``log sum_c p_c = a_0 - log_softmax_c(a)_0`` with ``a_c = log_softmax(z_c)`` (the
    log-sum-exp over the copies, read off a log-softmax across them); the ``log C`` it
    leaves out cancels in the softmax."""
    logs = []
    for c, model in enumerate(models):
        model.name = f"{model.name}_variant_{c}"  # one name per nested model
        logs.append(keras.layers.Activation("log_softmax", name=f"log_proba_{c}")(model(h)))
    stacked = keras.layers.Concatenate(axis=-1, name="variants")(
        [keras.layers.Reshape((k, 1))(a) for a in logs]
    )
    centred = keras.layers.Activation("log_softmax", name="across_variants")(stacked)
    first = keras.layers.Dense(1, use_bias=False, trainable=False, name="first_variant")
    picked = keras.layers.Reshape((k,))(first(centred))
    first.set_weights([np.eye(len(models), 1, dtype=np.float32)])
    return keras.layers.Subtract(name="mean_of_variants")([logs[0], picked])


def _member(keras, name, model_fn, decider, strategy, input_shape, k):
    """A functional model: raw features -> probabilities of one fitted recipe (of the mean
    of its variants' probabilities where they are averaged)."""
    weights = decider.members or [decider.weights]
    models = [_fitted_model(keras, model_fn, w, input_shape, k) for w in weights]
    inputs = keras.Input(input_shape, name="features")
    h = inputs
    scaler = decider.scaler
    if scaler.mean is not None:
        h = keras.layers.Normalization(
            mean=np.asarray(scaler.mean, dtype=np.float32),
            variance=np.asarray(scaler.scale, dtype=np.float32) ** 2,
            name="standardize",
        )(h)
    logits = models[0](h) if len(models) == 1 else _mean_logits(keras, models, h, k)
    offsets = _offsets(decider, k)
    if offsets is not None:
        shift = keras.layers.Dense(k, trainable=False, name="threshold_offsets")
        logits = shift(logits)
        shift.set_weights([np.eye(k, dtype=np.float32), offsets.astype(np.float32)])
    proba = keras.layers.Softmax(name="proba")(logits)
    return keras.Model(inputs, proba, name=f"{name}__{strategy.replace('+', '_')}")


def fit_strategy(x, y, strategy, *, model_fn=None, members=None, settings=None, **training):
    """Train ``strategy`` on all of ``(x, y)`` as :func:`compare` trains it on a training fold.

    Stratified validation split (before any resampling) -> early stopping on ``metric`` ->
    (``refit=True``) a fresh model trained on all rows for the best epoch count. For
    ``none+threshold`` the threshold (binary) or per-class offsets are tuned on the validation
    split and folded into the output as logit offsets ``b`` (``softmax(logits + b)``: its argmax
    is the tuned decision; the probabilities are then not calibrated). ``ensemble`` trains every
    model x every strategy of ``members`` (each model's members in one packed fit) and averages
    their probabilities.

    Parameters
    ----------
    x : array-like of shape (n_samples, ...) or DataFrame
        Numeric features: a table or an array of any rank (images, sequences).
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
    settings : TrainingSettings, default=None
        All training settings at once (e.g. ``result.settings``); or give them as keywords:
    **training
        ``metric``, ``epochs``, ``batch_size``, ``patience``, ``validation_fraction``,
        ``refit``, ``standardize``, ``random_state``, ``jit_compile``, ``packed``, ``costs``:
        as in :func:`compare`. With ``costs`` the output's argmax is the decision of least
        expected cost (a binary threshold, or per-class costs, folded in as logit offsets; a
        full matrix of more than 2 classes has no such form and is refused).

    Returns
    -------
    keras.Model or TablePipeline
        Raw features ``(batch, *input_shape)`` -> class probabilities ``(batch, n_classes)``,
        columns in the order of ``np.unique(y)``. For a raw table (categorical columns or
        missing values) a :class:`TablePipeline`: the table's encoder fitted on every row and
        the Keras model on its output (``predict_proba(frame)``, ``save(folder)``).

    Examples
    --------
    >>> model = fit_strategy(x, y, "balanced", model_fn="linear")  # doctest: +SKIP
    >>> model.predict(x).argmax(axis=1)  # doctest: +SKIP
    """
    costs = training.pop("costs", None)
    settings = training_settings(settings, training)
    xa, spec = _data.features(x)
    codes, classes = _data.labels(y, xa.shape[0])
    k = len(classes)
    if costs is not None:
        matrix = calibration.cost_matrix(costs, classes)
        settings = settings.replace(costs=matrix.tolist(), metric="expected_cost")
    name = canonical_name(strategy, "strategy")
    chosen = STRATEGIES[name]
    models = _model_builders(model_fn)
    if not chosen.trains:
        names = [s for s in DEFAULT_STRATEGIES if s in ENSEMBLE_MEMBERS]
        if members is not None:
            names = [canonical_name(m, "members") for m in members]
            bad = [m for m in names if m not in ENSEMBLE_MEMBERS]
            if bad:
                raise invalid("members", f"names among {sorted(ENSEMBLE_MEMBERS)}", bad)
        names = list(dict.fromkeys(names))
        if len(models) * len(names) < 2:
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
        names = [name]
    everything = np.arange(xa.shape[0])
    seed = _data.fold_seed(settings.random_state, 0, 0)
    strategies = [STRATEGIES[s] for s in names]
    fit_part = not settings.refit or any(
        _data.fixed_epochs(fn, settings.epochs) is None for fn in models.values()
    )
    problems = interpolation_problems(
        strategies,
        [(0, 0, everything, everything[:0])],
        codes,
        classes,
        settings.validation_fraction,
        fit_part,
        {(0, 0): seed},
    )
    if problems:
        name, reason = next(iter(problems.items()))
        raise invalid(
            "strategy" if chosen.trains else "members",
            f"strategies the data can run; {name} cannot: {reason}",
            name,
        )

    import keras

    parts, encoder = [], None
    for model_name, fn in models.items():
        fitted = fit_fold(fn, strategies, xa, codes, everything, settings, seed, k, spec)
        for s in names:
            rule = rule_of(STRATEGIES[s], settings.costs)
            key = next(
                (i, rule) for i, r in enumerate(fitted.recipes) if s in r.names.get(rule, ())
            )
            decider = fitted.deciders[key]
            encoder = decider.scaler.encoder  # the same fit on all rows for every model
            shape = tuple(xa.shape[1:]) if encoder is None else (encoder.n_features_out,)
            parts.append(_member(keras, model_name, fn, decider, s, shape, k))
    if len(parts) == 1:
        model = parts[0]
    else:
        inputs = keras.Input(parts[0].input_shape[1:], name="features")
        proba = keras.layers.Average(name="proba")([p(inputs) for p in parts])
        model = keras.Model(inputs, proba, name="ensemble")
    return model if encoder is None else TablePipeline(encoder, model)


class TablePipeline:
    """A raw table's encoder and the Keras model on its output: raw rows -> probabilities.

    What :func:`fit_strategy` returns for a raw table (categorical columns or missing values):
    the :class:`~keras_imbalance.tables.TableEncoder` fitted on every row, and a Keras model
    from its output (``encoder.n_features_out`` numbers) to class probabilities.

    Attributes
    ----------
    encoder : keras_imbalance.tables.TableEncoder
    model : keras.Model
    """

    def __init__(self, encoder, model):
        self.encoder = encoder
        self.model = model

    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities ``(n_rows, n_classes)`` of the raw rows ``x`` (a DataFrame with
        the training columns)."""
        return np.asarray(self.model.predict(self.encoder.transform(x), verbose=0))

    def predict(self, x) -> np.ndarray:
        """Class ids (the argmax of :meth:`predict_proba`, which holds any tuned decision)."""
        return self.predict_proba(x).argmax(axis=1)

    def save(self, path) -> None:
        """Write ``path/model.keras`` and ``path/encoder.joblib`` (a new folder)."""
        import os

        import joblib

        os.makedirs(path, exist_ok=False)
        self.model.save(os.path.join(path, "model.keras"))
        joblib.dump(self.encoder, os.path.join(path, "encoder.joblib"))

    @classmethod
    def load(cls, path) -> TablePipeline:
        """Read a folder written by :meth:`save`."""
        import os

        import joblib
        import keras

        model = keras.models.load_model(os.path.join(path, "model.keras"))
        return cls(joblib.load(os.path.join(path, "encoder.joblib")), model)
