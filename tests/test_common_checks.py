"""Common checks over every registry (as scikit-learn's ``check_estimator`` does):

- every public loss class: its config is exactly its constructor's arguments, and it saves
  (serialises) and reloads to the same loss values;
- every Keras metric class: batches accumulate to its numpy twin on all the data, and it
  reloads from its config;
- every strategy of every target kind runs in a tiny ``compare``; the multiclass weight and
  loss strategies (whose copy should be exact) end a packed fit with the weights of their lone
  Keras fit, built from the public loss's config.

A new loss, metric or strategy is picked up here automatically (a loss without inputs below
fails, naming itself).
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest

import keras_imbalance as ki
from keras_imbalance import losses, metrics
from keras_imbalance.comparison import KINDS, TrainingSettings, _fold, compare
from keras_imbalance.comparison._strategies import ClassWeightStrategy, LossStrategy

K = 3
SPARSE = np.array([0, 1, 2, 2, 1, 0])
LOGITS = np.random.default_rng(1).normal(size=(6, K)).astype("float32")
MASKS = np.random.default_rng(2).integers(0, K, size=(2, 4, 4))
MASK_LOGITS = np.random.default_rng(3).normal(size=(2, 4, 4, K)).astype("float32")
BINARY = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], dtype="float32")
BINARY_LOGITS = np.random.default_rng(4).normal(size=(2, 3)).astype("float32")

#: per public loss class: constructor arguments and (y_true, y_pred)
CASES = {
    "WeightedCategoricalCrossentropy": (
        dict(class_weight=[1.0, 2.0, 3.0], from_logits=True),
        (np.eye(K)[SPARSE], LOGITS),
    ),
    "WeightedSparseCategoricalCrossentropy": (
        dict(class_weight=[1.0, 2.0, 3.0], from_logits=True, ignore_class=None),
        (SPARSE, LOGITS),
    ),
    "CategoricalFocalCrossentropy": (
        dict(alpha=[0.5, 1.0, 2.0], gamma=1.5, from_logits=True),
        (np.eye(K)[SPARSE], LOGITS),
    ),
    "SparseCategoricalFocalCrossentropy": (
        dict(alpha=[0.5, 1.0, 2.0], gamma=1.5, from_logits=True),
        (SPARSE, LOGITS),
    ),
    "LogitAdjustedCrossentropy": (
        dict(class_counts=[10, 5, 1], tau=0.5, sparse=True, from_logits=True),
        (SPARSE, LOGITS),
    ),
    "BalancedSoftmaxCrossentropy": (
        dict(class_counts=[10, 5, 1], sparse=True, from_logits=True),
        (SPARSE, LOGITS),
    ),
    "LDAMCrossentropy": (
        dict(class_counts=[10, 5, 1], max_margin=0.4, scale=10.0, sparse=True, from_logits=True),
        (SPARSE, LOGITS),
    ),
    "WeightedBinaryCrossentropy": (
        dict(pos_weight=3.0, neg_weight=0.5, from_logits=True),
        (BINARY, BINARY_LOGITS),
    ),
    "BinaryFocalCrossentropy": (
        dict(alpha=0.25, gamma=2.0, from_logits=True),
        (BINARY, BINARY_LOGITS),
    ),
    "BatchBalancedBinaryCrossentropy": (dict(from_logits=True), (BINARY, BINARY_LOGITS)),
    "DiceLoss": (dict(from_logits=True), (MASKS, MASK_LOGITS)),
    "TverskyLoss": (dict(alpha=0.3, beta=0.7, from_logits=True), (MASKS, MASK_LOGITS)),
    "FocalTverskyLoss": (dict(gamma=2.0, from_logits=True), (MASKS, MASK_LOGITS)),
    "CombinedLoss": (
        dict(
            losses=[
                keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                losses.DiceLoss(from_logits=True),
            ],
            weights=[1.0, 0.5],
        ),
        (MASKS, MASK_LOGITS),
    ),
}

LOSS_CLASSES = sorted(
    n
    for n in losses.__all__
    if inspect.isclass(getattr(losses, n)) and issubclass(getattr(losses, n), keras.losses.Loss)
)


def test_every_public_loss_class_has_a_case():
    assert sorted(CASES) == LOSS_CLASSES


@pytest.mark.parametrize("name", LOSS_CLASSES)
def test_every_loss_saves_and_reloads_to_the_same_values(name):
    kwargs, (y_true, y_pred) = CASES[name]
    loss = getattr(losses, name)(**kwargs)
    config = loss.get_config()
    params = [
        p
        for p, v in inspect.signature(type(loss).__init__).parameters.items()
        if p != "self" and v.kind is v.POSITIONAL_OR_KEYWORD
    ]
    assert sorted(config) == sorted(params)  # exactly the constructor's arguments
    want = float(loss(y_true, y_pred))
    again = type(loss).from_config(config)
    assert float(again(y_true, y_pred)) == pytest.approx(want, rel=1e-6)
    # by its registered name, as load_model finds it
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(revived) is type(loss)
    assert float(revived(y_true, y_pred)) == pytest.approx(want, rel=1e-6)


#: Keras metric class -> its numpy twin and the inputs it is checked on
TWINS = {
    "BalancedAccuracy": metrics.balanced_accuracy,
    "GeometricMean": metrics.geometric_mean,
    "MatthewsCorrelation": metrics.matthews_correlation,
    "MacroF1": metrics.macro_f1,
    "PerClassRecall": metrics.per_class_recall,
    "PerClassIoU": metrics.per_class_iou,
    "MeanDice": metrics.mean_dice,
}
METRIC_CLASSES = sorted(
    n
    for n in metrics.__all__
    if inspect.isclass(getattr(metrics, n))
    and issubclass(getattr(metrics, n), keras.metrics.Metric)
)


def test_every_metric_class_has_a_numpy_twin():
    assert sorted(TWINS) == METRIC_CLASSES


@pytest.mark.parametrize("name", METRIC_CLASSES)
def test_every_metric_accumulates_to_its_numpy_twin_and_reloads(name):
    rng = np.random.default_rng(5)
    y = rng.choice(K, size=90, p=[0.6, 0.3, 0.1])
    scores = rng.random((90, K)).astype("float32")
    scores[np.arange(90), y] += 0.5
    metric = getattr(metrics, name)(num_classes=K)
    for part in (slice(0, 40), slice(40, 90)):
        metric.update_state(y[part], scores[part])
    want = TWINS[name](y, scores.argmax(axis=1), num_classes=K)
    np.testing.assert_allclose(np.asarray(metric.result()), want, rtol=1e-5, atol=1e-6)
    again = type(metric).from_config(metric.get_config())
    again.update_state(y, scores)
    np.testing.assert_allclose(np.asarray(again.result()), want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------ strategies


def _tiny(input_shape, n_classes):
    """A linear model on the flattened input, plain SGD: quick and trainable."""
    inputs = keras.Input(input_shape)
    flat = keras.layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    model = keras.Model(inputs, keras.layers.Dense(n_classes)(flat))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


def _per_pixel(input_shape, n_classes):
    inputs = keras.Input(input_shape)
    model = keras.Model(inputs, keras.layers.Conv2D(n_classes, 1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


def _data(kind):
    rng = np.random.default_rng(6)
    if kind == "multiclass":
        y = np.r_[np.zeros(36, int), np.ones(16, int), np.full(12, 2)]
        return rng.normal(size=(y.size, 3)) + y[:, None], y
    if kind == "multilabel":
        y = (rng.random((64, 3)) < [0.5, 0.3, 0.2]).astype(int)
        y[:4] = [[1, 1, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]]  # enough label combinations
        y = np.r_[y, y[:8]]
        return rng.normal(size=(len(y), 3)) + y, y
    masks = np.zeros((12, 6, 6), int)
    masks[:, 1:4, 1:4] = 1
    masks[::2, 4:, 4:] = 2  # the rare class, in half of the images
    return (masks[..., None] + rng.normal(size=(12, 6, 6, 1))).astype("float32"), masks


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_strategy_of_every_kind_runs_in_a_tiny_compare(kind):
    x, y = _data(kind)
    names = list(KINDS[kind].strategies)
    model = _per_pixel if kind == "segmentation" else _tiny
    result = compare(x, y, strategies=names, model_fn=model, cv=2, epochs=2, patience=1)
    answered = set(result.folds["strategy"])
    for row in result.rows:
        answered |= set(row.get("aliases") or [])
    missing = [n for n in names if n not in answered and n not in result.skipped]
    assert not missing, f"{kind}: no fold row for {missing}"
    assert np.isfinite(result.folds[result.metric]).any()


EXACT = [
    s.name
    for s in KINDS["multiclass"].strategies.values()
    if isinstance(s, (ClassWeightStrategy, LossStrategy))
]


def _lone(strategy, x, y, seed, epochs):
    """``strategy`` trained alone the plain Keras way: its public loss built from
    ``loss_config`` (or plain cross-entropy with Keras' ``class_weight``), full batch."""
    keras.utils.set_random_seed(seed)
    model = _tiny(tuple(x.shape[1:]), K)
    fit = dict(x=x, y=y)
    if isinstance(strategy, LossStrategy):
        loss = getattr(losses, strategy.loss_class)(**strategy.loss_config(y, K))
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        fit["class_weight"] = ki.class_weights(y, strategy.weight_strategy)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss)
    model.fit(**fit, batch_size=y.size, epochs=epochs, shuffle=False, verbose=0)
    return model.get_weights()


def test_every_weight_and_loss_strategy_equals_its_lone_fit():
    x, y = _data("multiclass")
    seed, epochs = 3, 3

    def builder(input_shape, n_classes):
        return _tiny(input_shape, n_classes)

    builder.fixed_epochs = epochs
    strategies = [KINDS["multiclass"].strategies[n] for n in EXACT]
    settings = TrainingSettings(batch_size=10_000, epochs=epochs, standardize=False)
    fitted = _fold.fit_fold(builder, strategies, x, y, np.arange(y.size), settings, seed, K)
    checked = set()
    for i, recipe in enumerate(fitted.recipes):
        for name in recipe.names["argmax"]:
            lone = _lone(KINDS["multiclass"].strategies[name], x.astype("float32"), y, seed, epochs)
            for got, want in zip(fitted.deciders[(i, "argmax")].weights, lone, strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=name)
            checked.add(name)
    assert checked == set(EXACT)
