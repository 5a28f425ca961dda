"""Hyperparameter variants inside the pack (keras_imbalance.comparison.with_variants): a variant
packed with other variants and strategies ends with the weights of its lone fit with its own
optimizer (on the packed Keras fit here, in the compiled JAX fold when run on jax); each
strategy keeps the variant its validation rows prefer; bad variants are refused in one line;
the default models keep their results-file fingerprint.

Under a backend other than jax one test runs this file again with ``KERAS_BACKEND=jax``
(skipped when jax is not installed), so the compiled fold is checked too.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _jax_rerun import from_another_backend, rerun_on_jax  # noqa: E402
from keras_imbalance.comparison import (  # noqa: E402
    DEFAULT_MODELS,
    DEFAULT_VARIANTS,
    KINDS,
    TrainingSettings,
    _compiled,
    _fold,
    compare,
    linear_model,
    mlp_model,
    with_options,
    with_variants,
)
from keras_imbalance.comparison._data import describe_builder  # noqa: E402
from test_packing import EXACT, _fixed, _lone, _three_classes, assert_copies_match  # noqa: E402

STRATEGIES = KINDS["multiclass"].strategies
EPOCHS, SEED = 3, 7


def _backend() -> str:
    import keras

    return keras.backend.backend()


@from_another_backend
def test_the_variant_tests_pass_on_jax():
    done = rerun_on_jax(__file__)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _own_optimizer(builder, variant: dict):
    """``builder`` whose model is compiled with its optimizer's settings updated by
    ``variant`` (the lone fit of that variant, with an optimizer of its own)."""

    def fn(input_shape, n_classes):
        model = builder(input_shape, n_classes)
        config = {**model.optimizer.get_config(), **variant}
        model.compile(optimizer=model.optimizer.__class__.from_config(config), loss="mse")
        return model

    return fn


def _keep(v: int):
    """A stand-in for the validation choice: every (recipe, rule) keeps variant ``v``."""

    def chosen(fold, base):
        n = len(base)
        return {(i, rule): (v * n + i, rule) for i, r in enumerate(base) for rule in r.rules}

    return chosen


MLP_VARIANTS = ({"learning_rate": 1e-2}, {"weight_decay": 1e-2}, {"learning_rate": 3e-2})
LINEAR_VARIANTS = ({"weight_decay": 1e-1}, {"learning_rate": 1e-1, "weight_decay": 1e-2})


def _fit_keeping(monkeypatch, tuned, names, variant: int):
    """``(x, y, FoldFit)`` of one full-batch fold of the three-class table, the strategies
    ``names`` of the builder with variants ``tuned``, each keeping variant ``variant``
    (0: the builder's own)."""
    x, y = _three_classes()
    settings = TrainingSettings(batch_size=10_000, epochs=EPOCHS, random_state=0)
    monkeypatch.setattr(_fold, "_chosen_variants", _keep(variant))
    strategies = [STRATEGIES[s] for s in names]
    return x, y, _fold.fit_fold(tuned, strategies, x, y, np.arange(y.size), settings, SEED, 3)


@pytest.mark.parametrize(
    "name, variant",
    [("mlp", v) for v in range(4)] + [("linear", v) for v in range(3)],
)
def test_a_variant_packed_with_others_ends_with_the_weights_of_its_lone_fit(
    monkeypatch, name, variant
):
    # full batch: each copy's step is its lone fit's; the mlp without dropout (a packed
    # fit shares dropout masks between copies), the linear model with its L2 penalty plus
    # decoupled decay where a variant adds it (Adam(weight_decay=...) alone)
    if name == "mlp":
        base, variants = _fixed(with_options(mlp_model, dropout=0.0), EPOCHS), MLP_VARIANTS
    else:
        base, variants = _fixed(linear_model, EPOCHS), LINEAR_VARIANTS
    x, y, fitted = _fit_keeping(monkeypatch, with_variants(base, *variants), EXACT, variant)
    n = len(fitted.recipes)
    # one fit: every strategy x (the builder's own + each variant) x (fit part, whole fold)
    assert fitted.fits == 1 and fitted.copies == 2 * n * (len(variants) + 1)
    own = ({}, *variants)[variant]
    assert all(d.variant == (own or None) for d in fitted.deciders.values())
    scaled = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    lone = _own_optimizer(base, own)
    assert_copies_match(fitted, EPOCHS, lambda s: _lone(lone, s, scaled, y, SEED, EPOCHS))


def test_on_jax_the_variants_train_in_the_compiled_fold(monkeypatch):
    if _backend() != "jax":
        pytest.skip("the compiled fold runs on jax (test_the_variant_tests_pass_on_jax)")
    rates = []
    original = _compiled._Rated.stateless_apply

    def spy(self, ov, grads, tv):
        rates.append(ov[-1])
        return original(self, ov, grads, tv)

    monkeypatch.setattr(_compiled._Rated, "stateless_apply", spy)
    x, y = _three_classes()
    settings = TrainingSettings(batch_size=10_000, epochs=EPOCHS, random_state=0)
    tuned = with_variants(_fixed(linear_model, EPOCHS), *LINEAR_VARIANTS)
    _fold.fit_fold(tuned, [STRATEGIES["none"]], x, y, np.arange(y.size), settings, SEED, 3)
    assert rates  # traced into the compiled epoch


def test_variants_equal_to_the_builders_own_settings_change_nothing():
    # a variant with the builder's own learning rate trains the same weights: the tie keeps
    # the builder's own copy, so every decider equals the fit without variants (full batch:
    # a copy's mini-batches would depend on its place among the copies)
    x, y = _three_classes()
    settings = TrainingSettings(batch_size=10_000, epochs=8, patience=2, random_state=0)
    names = ["none", "none+threshold", "balanced"]
    strategies = [STRATEGIES[s] for s in names]
    model = with_options(mlp_model, dropout=0.0)
    plain = _fold.fit_fold(model, strategies, x, y, np.arange(y.size), settings, SEED, 3)
    same = with_variants(model, {"learning_rate": 3e-3}, {"weight_decay": 1e-3})
    tuned = _fold.fit_fold(same, strategies, x, y, np.arange(y.size), settings, SEED, 3)
    assert set(tuned.deciders) == set(plain.deciders)
    for key, d in plain.deciders.items():
        assert tuned.deciders[key].variant is None
        assert tuned.deciders[key].best_epoch == d.best_epoch
        for got, want in zip(tuned.deciders[key].weights, d.weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_each_strategy_keeps_the_variant_its_validation_rows_score_best(monkeypatch):
    # the scores of every variant's early-stopped copy on the validation rows, taken when
    # the choice is made: the kept variant (the decider says which) is the first best one
    seen = {}
    original = _fold._chosen_variants

    def recorded(fold, base):
        for i, recipe in enumerate(base):
            for rule in recipe.rules:
                scores = []
                for v in range(len(fold.variants)):
                    d = fold.early[(v * len(base) + i, rule)]
                    fold.lone.set_weights(d.weights)
                    logits = _fold._logits(fold.lone, fold.x_val, fold.model_fn)
                    metric = fold.settings.metric
                    scores.append(fold.target.rule_score(metric, fold.y_val, logits, rule))
                seen[(i, rule)] = scores
        return original(fold, base)

    monkeypatch.setattr(_fold, "_chosen_variants", recorded)
    variants = ({"learning_rate": 1e-9}, {"learning_rate": 1e-1}, {"weight_decay": 1e-1})
    tuned = with_variants(linear_model, *variants)
    x, y = _three_classes(3)
    settings = TrainingSettings(epochs=20, metric="balanced_accuracy", random_state=0)
    strategies = [STRATEGIES[s] for s in ("none", "none+threshold", "balanced")]
    fitted = _fold.fit_fold(tuned, strategies, x, y, np.arange(y.size), settings, SEED, 3)
    assert set(seen) == set(fitted.deciders)
    for key, scores in seen.items():
        kept = scores.index(max(scores))  # the first of the best
        assert fitted.deciders[key].variant == (({}, *variants)[kept] or None), (key, scores)


def test_with_variants_keeps_the_builder_and_names_its_variants():
    tuned = with_variants(mlp_model)
    assert tuned.variants == DEFAULT_VARIANTS["mlp"]
    assert tuned.packed is mlp_model.packed and tuned.__name__ == "mlp_model"
    assert with_variants(linear_model).fixed_epochs == linear_model.fixed_epochs
    # the fingerprint's builder text tells it apart from the builder alone
    assert describe_builder(tuned) != describe_builder(mlp_model)
    assert "variants=" in describe_builder(tuned)
    assert tuned((4,), 2).output_shape == (None, 2)


def test_the_default_models_keep_their_results_file_fingerprint():
    # the fingerprint hashes a builder's source: these are the hashes of the default models
    # before variants existed, so results files written then still resume
    found = {name: describe_builder(b) for name, b in DEFAULT_MODELS.items()}
    assert found == {
        "linear": "keras_imbalance.comparison._models.linear_model:84506a3f00d8a28a"
        ":fixed_epochs=50",
        "mlp": "keras_imbalance.comparison._models.mlp_model:fd6c3df7f97af0bf",
    }


@pytest.mark.parametrize(
    "variants, kind, words",
    [
        (({"momentum": 0.9},), TypeError, "variants[0]"),
        (({"learning_rate": 0.0},), ValueError, "variants[0]['learning_rate']"),
        (({}, {"weight_decay": -1.0}), TypeError, "variants[0]"),
        (({"weight_decay": -1.0},), ValueError, "variants[0]['weight_decay']"),
        (({"learning_rate": "fast"},), TypeError, "a number > 0"),
        ((0.01,), TypeError, "a non-empty dict"),
    ],
)
def test_bad_variants_are_refused_in_one_line(variants, kind, words):
    with pytest.raises(kind) as info:
        with_variants(mlp_model, *variants)
    message = str(info.value)
    assert words in message and "\n" not in message


def test_a_builder_without_a_measured_set_needs_its_variants():
    with pytest.raises(TypeError, match="variants"):
        with_variants(with_options(mlp_model, width=8))


def test_a_learning_rate_schedule_is_refused_by_name():
    import keras

    def scheduled(input_shape, n_classes):
        model = keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_classes)])
        rate = keras.optimizers.schedules.ExponentialDecay(1e-2, 10, 0.9)
        model.compile(optimizer=keras.optimizers.Adam(rate), loss="mse")
        return model

    x, y = _three_classes()
    with pytest.raises(ValueError, match="constant learning rate"):
        compare(
            x,
            y,
            model_fn=with_variants(scheduled, {"learning_rate": 1e-3}),
            strategies=["none"],
            cv=2,
            epochs=2,
            references=False,
        )


def test_a_run_with_variants_resumes_its_own_file_and_refuses_one_without(tmp_path):
    x, y = _three_classes()
    fast = dict(strategies=["balanced"], cv=2, epochs=2, references=False, random_state=0)
    path = tmp_path / "run.jsonl"
    tuned = {"mlp": with_variants(mlp_model)}
    first = compare(x, y, model_fn=tuned, results_path=path, **fast)
    again = []
    resumed = compare(
        x, y, model_fn=tuned, results_path=path, progress=lambda *a: again.append(a), **fast
    )
    assert again == []  # every fold read back, none trained again
    assert resumed.leaderboard["mean"].tolist() == pytest.approx(first.leaderboard["mean"].tolist())
    # the fingerprint tells the builder with variants from the builder alone
    with pytest.raises(ValueError, match=r"results_path.*different settings"):
        compare(x, y, model_fn={"mlp": mlp_model}, results_path=path, **fast)


def test_the_rates_follow_their_copy_when_stopped_copies_are_packed_out(monkeypatch):
    # copy 0 (the optimizer's own rate) stops after epoch 3; copy 1 (3x the rate) trains to
    # epoch 6: frozen by a mask, or alone in the program once a compilation is free (copy 1
    # then sits in slot 0). Its weights are the same either way only if its factors moved
    # with it.
    if _backend() != "jax":
        pytest.skip("the compiled fold runs on jax (test_the_variant_tests_pass_on_jax)")
    from keras_imbalance.comparison import _packing
    from keras_imbalance.comparison._rates import copy_rates
    from keras_imbalance.comparison._strategies import LossSpec
    from test_compiled import _tanh_adam

    x, y = _three_classes()
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    n = y.size

    def run(compile_s):
        monkeypatch.setattr(_compiled, "_COMPILE_S", [compile_s])
        net = _packing.build_net(_tanh_adam, (3,), 3, 2, 5, np.repeat(x[:8, None], 2, axis=1))
        _packing.compile_net(net, [LossSpec(), LossSpec()], 3, TrainingSettings())
        net.rates = copy_rates(net.model.optimizer, [{}, {"learning_rate": 3e-2}])
        rows = _packing.PackedRows(x, y, [np.arange(n)] * 2, [np.ones(n)] * 2, 3, 0)
        state = {}

        def score(copy, rule, logits):
            epoch = state["monitor"].epochs_run
            return -abs(epoch - 2) if copy == 0 else epoch

        val = np.repeat(x[:5, None], 2, axis=1)
        monitor = _packing.CopyMonitor(net, val, {0: ["argmax"], 1: ["argmax"]}, score, 1)
        state["monitor"] = monitor
        _packing.fit(net, rows, 6, [monitor])
        assert monitor.stopped == [3, None]
        return net.model.slots, net.all_copy_weights([1])[1]

    slots, masked = run(1e9)
    assert slots == [0, 1]
    slots, repacked = run(0.0)
    assert slots == [1]
    for got, want in zip(repacked, masked, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_mean_logits_average_the_probabilities_by_hand():
    # softmax: (0.5, 0.5) and (0.75, 0.25) average to (0.625, 0.375); sigmoid: 0.5 and 0.75
    # average to 0.625, whose logit is log(0.625 / 0.375) = log(5 / 3)
    z = [np.array([[0.0, 0.0]]), np.array([[np.log(3.0), 0.0]])]
    got = _fold.mean_logits(z)
    np.testing.assert_allclose(np.exp(got) / np.exp(got).sum(), [[0.625, 0.375]], rtol=1e-12)
    labels = [np.array([[0.0]]), np.array([[np.log(3.0)]])]
    np.testing.assert_allclose(_fold.mean_logits(labels, "sigmoid"), [[np.log(5 / 3)]])
    # finite at logits of +-100 (log space throughout)
    far = _fold.mean_logits([np.array([[100.0, -100.0]]), np.array([[-100.0, 100.0]])])
    assert np.isfinite(far).all() and np.allclose(far[0, 0], far[0, 1])


def test_averaged_variants_predict_the_mean_of_their_lone_fits_probabilities():
    # choose="average": a strategy's probabilities are the mean of its variant copies'; each
    # copy (full batch, fixed epochs) ends with its lone fit's weights, so the prediction is
    # the mean of the lone fits' probabilities
    from keras_imbalance.comparison._scoring import softmax

    base = _fixed(linear_model, EPOCHS)
    x, y = _three_classes()
    settings = TrainingSettings(batch_size=10_000, epochs=EPOCHS, random_state=0)
    names = ["none", "balanced"]
    tuned = with_variants(base, *LINEAR_VARIANTS, choose="average")
    fitted = _fold.fit_fold(
        tuned, [STRATEGIES[s] for s in names], x, y, np.arange(y.size), settings, SEED, 3
    )
    assert [r.names["argmax"][0] for r in fitted.recipes] == names
    scaled = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    import keras

    for i, name in enumerate(names):
        decider = fitted.deciders[(i, "argmax")]
        assert decider.variant == "average" and len(decider.members) == 3
        want = []
        for own in ({}, *LINEAR_VARIANTS):
            weights = _lone(_own_optimizer(base, own), name, scaled, y, SEED, EPOCHS)
            keras.utils.set_random_seed(0)
            model = base((3,), 3)
            model.set_weights(weights)
            want.append(softmax(np.asarray(model.predict(scaled, verbose=0), np.float64)))
        got = softmax(_fold.predict_logits(fitted, (i, "argmax"), x))
        np.testing.assert_allclose(got, np.mean(want, axis=0), rtol=1e-4, atol=1e-5)
        # not the builder's own copy alone: the variants moved the average
        assert not np.allclose(got, want[0], atol=1e-4)


def test_choose_is_checked_and_named_in_the_fingerprint():
    average = with_variants(mlp_model, choose="average")
    assert average.choose == "average" and with_variants(mlp_model).choose == "best"
    assert describe_builder(average) != describe_builder(with_variants(mlp_model))
    assert "choose='average'" in describe_builder(average)
    with pytest.raises(ValueError, match=r"choose.*'best', 'average'.*'mean'"):
        with_variants(mlp_model, choose="mean")
    with pytest.raises(TypeError, match="choose"):
        with_variants(mlp_model, choose=1)


def test_the_cli_flag_trains_the_variants_and_shows_who_decided(tmp_path, capsys, monkeypatch):
    import json

    from keras_imbalance.cli import main

    monkeypatch.chdir(tmp_path)
    fast = ["--strategies", "balanced", "--cv", "2", "--epochs", "2", "--jobs", "1"]
    fast += ["--references", "none", "--report", "r.html"]
    assert main(["compare", "ecoli3", *fast, "--results", "plain.jsonl"]) == 0
    plain_out = capsys.readouterr().err  # the leaderboard goes to stderr
    assert (
        main(["compare", "ecoli3", *fast, "--results", "avg.jsonl", "--variants", "average"]) == 0
    )
    out = capsys.readouterr().err

    def read(name):
        lines = [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
        return lines[0], lines[1:]

    (plain_head, plain_rows), (head, rows) = read("plain.jsonl"), read("avg.jsonl")
    # the fingerprint tells the runs apart; every trained row was averaged over its variants
    assert head["fingerprint"] != plain_head["fingerprint"]
    assert {r["variant"] for r in rows} == {"average"}
    assert {r["variant"] for r in plain_rows} == {""}
    assert "variant" in out and "average" in out and "variant" not in plain_out
    assert "(variant: average)" in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize("value", ["mean", ""])
def test_the_cli_flag_refuses_a_bad_policy_in_one_line(tmp_path, capsys, monkeypatch, value):
    from keras_imbalance.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["compare", "ecoli3", "--variants", value]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "--variants" in err[0] and "best, average" in err[0]
    assert not list(tmp_path.iterdir())  # refused before anything was written


def test_the_leaderboard_names_the_variant_that_decided(monkeypatch):
    # choose="best" with the choice scripted: every (recipe, rule) keeps variant 1, so every
    # trained row's variant column reads its settings; the builder alone leaves it empty
    monkeypatch.setattr(_fold, "_chosen_variants", _keep(1))
    x, y = _three_classes()
    fast = dict(strategies=["none", "balanced"], cv=2, epochs=2, references=False)
    tuned = with_variants(linear_model, {"learning_rate": 1e-2}, {"weight_decay": 1e-1})
    board = compare(x, y, model_fn={"linear": tuned}, random_state=0, **fast).leaderboard
    assert dict(zip(board["strategy"], board["variant"], strict=True)) == {
        "none": "learning_rate=0.01",
        "none+threshold": "learning_rate=0.01",
        "balanced": "learning_rate=0.01",
    }
    plain = compare(x, y, model_fn={"linear": linear_model}, random_state=0, **fast)
    assert set(plain.leaderboard["variant"]) == {""}


@pytest.mark.parametrize("threshold", [None, 0.3], ids=["argmax", "tuned"])
def test_a_saved_averaged_member_predicts_the_mean_of_its_variants(tmp_path, threshold):
    # fit_strategy's Keras model of an averaged decider: built-in layers whose softmax is
    # the mean of the variants' probabilities (then the tuned threshold as logit offsets);
    # it saves and loads without keras_imbalance's own objects in its graph
    import keras

    from keras_imbalance.comparison import _fit
    from keras_imbalance.comparison._data import Scaler
    from keras_imbalance.comparison._scoring import softmax

    x, _ = _three_classes()
    x = x[:, :2].astype(np.float32)
    scaler = Scaler.fit(x, True)
    members = []
    for seed in (1, 2, 3):
        keras.utils.set_random_seed(seed)
        members.append([w * 3 for w in mlp_model((2,), 2).get_weights()])  # far from uniform
    decider = _fold.Decider(members[0], scaler, threshold, 1, 1, True, 60, 60)
    decider.members, decider.variant = members, "average"
    built = _fit._member(keras, "mlp", mlp_model, decider, "balanced", (2,), 2)
    each = []
    for weights in members:
        model = mlp_model((2,), 2)
        model.set_weights(weights)
        logits = model.predict(scaler.transform(x).astype(np.float32), verbose=0)
        each.append(softmax(np.asarray(logits, np.float64)))
    want = np.mean(each, axis=0)
    if threshold is not None:  # p1 >= t  <=>  logit_1 + log((1 - t) / t) >= logit_0
        shifted = np.log(want) + np.array([0.0, np.log((1 - threshold) / threshold)])
        want = softmax(shifted)
    got = np.asarray(built.predict(x, verbose=0), np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert not np.allclose(got, each[0], atol=1e-3)
    path = tmp_path / "averaged.keras"
    built.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), got, rtol=1e-5, atol=1e-7)


def test_the_choice_reads_the_monitors_scores_without_predicting_again(monkeypatch):
    # an early-stopped (monitored) copy's validation score is the monitor's at its best
    # epoch: choosing a variant makes no forward pass, and keeps the first best score
    calls = []
    choosing = []
    original_logits, original_choice = _fold._logits, _fold._chosen_variants

    def counted(*args, **kwargs):
        if choosing:
            calls.append(1)
        return original_logits(*args, **kwargs)

    def watched(fold, base):
        choosing.append(True)
        try:
            return original_choice(fold, base)
        finally:
            choosing.clear()

    monkeypatch.setattr(_fold, "_logits", counted)
    monkeypatch.setattr(_fold, "_chosen_variants", watched)
    variants = ({"learning_rate": 1e-9}, {"learning_rate": 3e-2})
    x, y = _three_classes(3)
    settings = TrainingSettings(epochs=12, patience=3, metric="balanced_accuracy", random_state=0)
    strategies = [STRATEGIES[s] for s in ("none", "none+threshold", "balanced")]
    model = with_variants(with_options(mlp_model, dropout=0.0), *variants)
    fitted = _fold.fit_fold(model, strategies, x, y, np.arange(y.size), settings, SEED, 3)
    assert calls == []
    tuned = fitted.deciders[(0, "tuned")]  # none+threshold: decided by its fit-part copy
    assert not tuned.refit and np.isfinite(tuned.score)
    assert all(d.variant in (None, *variants) for d in fitted.deciders.values())


SMOOTHING_VARIANTS = ({"label_smoothing": 0.1}, {"learning_rate": 1e-2, "label_smoothing": 0.3})


@pytest.mark.parametrize("variant", [1, 2])
def test_a_label_smoothing_variant_ends_with_the_weights_of_its_lone_fit(monkeypatch, variant):
    # label smoothing is a per-copy constant of the packed loss: the kept variant's copy,
    # packed with the builder's own and the other variant, holds the weights of its lone
    # Keras fit with CategoricalCrossentropy(label_smoothing=e) (and its own optimizer)
    import keras

    import keras_imbalance as ki
    from test_packing import fit_alone

    base = _fixed(with_options(mlp_model, dropout=0.0), EPOCHS)
    names = ["none", "balanced"]
    tuned = with_variants(base, *SMOOTHING_VARIANTS)
    x, y, fitted = _fit_keeping(monkeypatch, tuned, names, variant)
    own = SMOOTHING_VARIANTS[variant - 1]
    scaled = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    one_hot = np.eye(3, dtype=np.float32)[y]

    def lone(name):
        keras.utils.set_random_seed(SEED)
        model = _own_optimizer(base, {k: v for k, v in own.items() if k != "label_smoothing"})(
            (3,), 3
        )
        loss = keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=own["label_smoothing"]
        )
        fit = dict(x=scaled, y=one_hot)
        if name == "balanced":
            fit["class_weight"] = ki.class_weights(y, "balanced")
        return fit_alone(model, loss, fit, EPOCHS)

    assert_copies_match(fitted, EPOCHS, lone)
    # and the smoothing mattered: the builder's own copy ends elsewhere
    plain = _fit_keeping(monkeypatch, tuned, names, 0)[2]
    got, other = fitted.deciders[(0, "argmax")].weights, plain.deciders[(0, "argmax")].weights
    assert not all(np.allclose(a, b, atol=1e-4) for a, b in zip(got, other, strict=True))


def test_label_smoothing_is_refused_out_of_its_range_and_on_labels():
    with pytest.raises(ValueError, match=r"variants\[0\]\['label_smoothing'\].*\[0, 1\)"):
        with_variants(mlp_model, {"label_smoothing": 1.0})
    from keras_imbalance.comparison.kinds.multilabel import BinaryLossSpec

    spec = BinaryLossSpec.__new__(BinaryLossSpec)
    with pytest.raises(ValueError, match="label_smoothing only where each row has one class"):
        _fold._Fold._smoothed(spec, {"label_smoothing": 0.1})
