"""fit_strategy / ComparisonResult.fit_recommended: the trained model of a strategy on all rows."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from keras_imbalance.comparison import compare, fit_strategy
from test_compare import ENSEMBLE, FAST, _data, frozen_model

FROZEN = dict(epochs=2, patience=1, standardize=False, model_fn=frozen_model)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_single_strategy_outputs_the_probabilities_of_the_trained_logits():
    x, y, _ = _data()
    model = fit_strategy(x, y, "balanced", **FROZEN)
    proba = np.asarray(model.predict(x.astype("float32"), verbose=0))
    assert proba.shape == (80, 2)
    # frozen logits [0, x0 - 6]: softmax gives P(1) = sigmoid(x0 - 6)
    np.testing.assert_allclose(proba[:, 1], _sigmoid(x[:, 0] - 6), atol=1e-5)


def test_standardisation_is_part_of_the_model():
    x, y, _ = _data()
    model = fit_strategy(x, y, "balanced", **{**FROZEN, "standardize": True})
    proba = np.asarray(model.predict(x.astype("float32"), verbose=0))
    # refit on all rows: the model sees (x - mean) / std of all 80 rows (population std)
    z0 = (x[:, 0] - x[:, 0].mean()) / x[:, 0].std()
    np.testing.assert_allclose(proba[:, 1], _sigmoid(z0 - 6), atol=1e-5)


def test_ensemble_averages_its_members():
    x, y, ids = _data()
    model = fit_strategy(
        x,
        y,
        "ensemble",
        members=["balanced", "smote"],
        **{**FROZEN, "model_fn": ENSEMBLE["model_fn"]},
    )
    proba = np.asarray(model.predict(x.astype("float32"), verbose=0))
    # two strategies x (sigmoid(x0 - 6), sigmoid(x0 - 3.02)): the mean of the two sigmoids
    expected = (_sigmoid(x[:, 0] - 6) + _sigmoid(x[:, 0] - 3.02)) / 2
    np.testing.assert_allclose(proba[:, 1], expected, atol=1e-5)
    # class 1 exactly for the positives with id > 70 (see test_compare's ensemble test)
    assert np.array_equal(proba.argmax(axis=1), ((y == 1) & (ids > 70)).astype(int))


def test_tuned_threshold_is_folded_into_the_output():
    # the frozen model ranks every row correctly but argmax says 0 everywhere; the threshold
    # tuned on the validation split falls in the gap between the classes
    x, y, _ = _data()
    plain = fit_strategy(x, y, "none", **FROZEN)
    tuned = fit_strategy(x, y, "none+threshold", **FROZEN)
    xf = x.astype("float32")
    assert np.asarray(plain.predict(xf, verbose=0)).argmax(axis=1).tolist() == [0] * 80
    assert np.array_equal(np.asarray(tuned.predict(xf, verbose=0)).argmax(axis=1), y)


def test_fit_recommended_trains_the_winner():
    x, y, _ = _data()
    result = compare(x, y, strategies=["balanced"], **{**FAST, "cv": 4})
    assert result.recommendation["winner_strategy"] == "none+threshold"
    with pytest.raises(ValueError, match=r"`model_fn`.*custom models \['frozen_model'\]"):
        result.fit_recommended(x, y)
    model = result.fit_recommended(x, y, model_fn=frozen_model)
    assert np.array_equal(np.asarray(model.predict(x.astype("float32"), verbose=0)).argmax(1), y)


def test_fit_recommended_trains_only_the_winning_models_own_ensemble():
    import dataclasses

    x, y, _ = _data()
    strategies = ["balanced", "logit_adjusted", "ensemble"]
    result = compare(x, y, strategies=strategies, **ENSEMBLE)
    builders = ENSEMBLE["model_fn"]
    joint = result.fit_recommended(x, y, model_fn=builders)  # the joint ensemble won
    own = dataclasses.replace(
        result,
        recommendation={**result.recommendation, "winner_model": "high"},
    ).fit_recommended(x, y, model_fn=builders)
    xf = x.astype("float32")
    both = (_sigmoid(x[:, 0] - 6) + _sigmoid(x[:, 0] - 3.02)) / 2
    np.testing.assert_allclose(np.asarray(joint.predict(xf, verbose=0))[:, 1], both, atol=1e-5)
    # "high" alone: the frozen logits [0, x0 - 3.02] of its two member fits
    np.testing.assert_allclose(
        np.asarray(own.predict(xf, verbose=0))[:, 1], _sigmoid(x[:, 0] - 3.02), atol=1e-5
    )


def test_default_model_and_bad_arguments():
    x, y, _ = _data()
    model = fit_strategy(x, y, "logit_adjustment", model_fn="linear", epochs=2)
    proba = np.asarray(model.predict(x.astype("float32"), verbose=0))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match=r"`model_fn`.*one model for strategy 'smote'"):
        fit_strategy(x, y, "smote")
    with pytest.raises(ValueError, match=r"`strategy`.*Received: strategy='smoot'"):
        fit_strategy(x, y, "smoot", model_fn="mlp")
    with pytest.raises(ValueError, match=r"`members`.*Received: members=\['sqrt'\]"):
        fit_strategy(x, y, "ensemble", members=["sqrt", "balanced"])
    with pytest.raises(ValueError, match=r"`members`.*only 'ensemble'"):
        fit_strategy(x, y, "balanced", model_fn="mlp", members=["smote"])
    with pytest.raises(ValueError, match=r"`model_fn`.*Received: model_fn='cnn'"):
        fit_strategy(x, y, "balanced", model_fn="cnn")


def test_trained_ensemble_saves_and_loads_in_a_fresh_process(tmp_path):
    x, y, _ = _data()
    model = fit_strategy(x, y, "ensemble", members=["balanced", "random_under"], epochs=2)
    path = tmp_path / "ensemble.keras"
    model.save(path)
    xf = x.astype("float32")
    np.save(tmp_path / "x.npy", xf)
    expected = np.asarray(model.predict(xf, verbose=0))
    code = (
        "import os, sys, numpy as np; os.environ.setdefault('KERAS_BACKEND', 'torch');"
        "import keras; m = keras.models.load_model(sys.argv[1]);"
        "np.save(sys.argv[3], np.asarray(m.predict(np.load(sys.argv[2]), verbose=0)))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(path), str(tmp_path / "x.npy"), str(tmp_path / "p.npy")],
        check=True,
    )
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, atol=1e-6)


def test_a_class_of_one_row_trains_but_cannot_be_interpolated():
    from test_compare import _rare_classes, four_logits

    x, y = _rare_classes()
    model = fit_strategy(x, y, "balanced", model_fn=four_logits, epochs=3)
    assert np.asarray(model.predict(x.astype("float32"), verbose=0)).shape == (64, 4)
    with pytest.raises(
        ValueError, match=r"`strategy`.*smote cannot: class '3' has 1 row in the .* of all rows"
    ):
        fit_strategy(x, y, "smote", model_fn=four_logits, epochs=3)


def test_per_class_costs_are_folded_into_the_saved_decision():
    from test_compare import four_logits
    from test_packing import _three_classes

    x, y = _three_classes()
    xs = x.astype("float32")
    options = dict(model_fn=four_logits, epochs=3)
    plain = fit_strategy(x, y, "balanced", costs={0: 1, 1: 1, 2: 1}, **options)
    heavy = fit_strategy(x, y, "balanced", costs={2: 100}, **options)
    p_plain = np.asarray(plain.predict(xs, verbose=0))
    p_heavy = np.asarray(heavy.predict(xs, verbose=0))
    # same training (the costs change the decision only): folding log(100) onto class 2's
    # logit multiplies its probability by 100 before normalising
    expected = p_plain * np.array([1.0, 1.0, 100.0])
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p_heavy, expected, rtol=1e-4, atol=1e-6)
    assert (p_heavy.argmax(axis=1) == 2).sum() > (p_plain.argmax(axis=1) == 2).sum()
    with pytest.raises(ValueError, match=r"`costs`.*per-class costs"):
        fit_strategy(x, y, "balanced", costs=[[0, 1, 1], [5, 0, 1], [1, 9, 0]], **options)
