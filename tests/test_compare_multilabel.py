"""compare on multi-label targets (keras_imbalance.comparison.kinds.multilabel): a packed copy trains
as its lone Keras fit, scores are macro over labels (checked against scikit-learn), one-hot
stays multiclass, resume, bad targets and models in one line, the packed losses reload."""

from __future__ import annotations

import json
import textwrap

import keras
import numpy as np
import pytest

import keras_imbalance as ki
from fresh_process import run_fresh
from keras_imbalance import losses
from keras_imbalance.comparison import (
    KINDS,
    TrainingSettings,
    _fold,
    compare,
    linear_model,
)
from keras_imbalance.comparison.kinds.multilabel import (
    MultilabelTarget,
    label_scores,
    rarest_label,
)
from test_packing import _fixed, assert_copies_match, fit_alone, tiny_sgd

MULTILABEL_STRATEGIES = KINDS["multilabel"].strategies
MULTILABEL_DEFAULT_STRATEGIES = KINDS["multilabel"].default_strategies


def tags(n=240, seed=0):
    """Three labels of falling frequency (about 45 %, 15 %, 7 %), each readable from x."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    y = np.stack(
        [
            x[:, 0] + rng.normal(scale=0.5, size=n) > 0.1,
            x[:, 1] + rng.normal(scale=0.5, size=n) > 1.2,
            x[:, 2] - x[:, 3] + rng.normal(scale=0.5, size=n) > 2.0,
        ],
        axis=1,
    ).astype(int)
    return x, y


FAST = dict(cv=2, epochs=4, patience=2)


EXACT = ["none", "balanced", "focal", "logit_adjusted", "ml_ros", "mlsmote", "label_batches"]


def _lone(model_fn, name, x, y, seed, epochs):
    """The strategy trained alone the plain Keras way: full batch, no shuffling."""
    keras.utils.set_random_seed(seed)
    model = model_fn(tuple(x.shape[1:]), y.shape[1])
    n, pos = len(y), y.sum(axis=0)
    loss, fit = keras.losses.BinaryCrossentropy(from_logits=True), dict(x=x, y=y)
    if name == "balanced":
        loss = losses.WeightedBinaryCrossentropy(
            pos_weight=(n / (2 * pos)).tolist(),
            neg_weight=(n / (2 * (n - pos))).tolist(),
            from_logits=True,
        )
    elif name == "focal":
        loss = losses.BinaryFocalCrossentropy(alpha=((n - pos) / n).tolist(), from_logits=True)
    elif name == "logit_adjusted":
        offsets = np.log(pos / (n - pos)).astype("float32")

        def loss(y_true, y_pred):
            shifted = y_pred + keras.ops.convert_to_tensor(offsets)
            return keras.losses.binary_crossentropy(y_true, shifted, from_logits=True)

    elif name in ("ml_ros", "mlsmote"):
        res = ki.resample(x, y, method=name, random_state=seed)
        fit = dict(x=res.x, y=res.y)
    batches = None
    if name == "label_batches":
        from keras_imbalance.sampling import BalancedBatches

        batches = BalancedBatches(
            x, y, batch_size=n, epoch_size=n, random_state=seed, mode="labels"
        )
    return fit_alone(model, loss, fit, epochs, batches)


@pytest.mark.parametrize("model_fn", [tiny_sgd, linear_model], ids=["per-copy", "vectorised"])
def test_a_packed_multilabel_copy_ends_with_the_weights_of_its_lone_fit(model_fn):
    x, y = tags(n=120)
    seed, epochs = 7, 3
    settings = TrainingSettings(batch_size=10_000, epochs=epochs, target="multilabel")
    everything = np.arange(len(y))
    target = MultilabelTarget(3, rarest_label(y, ["a", "b", "c"])[0])
    model_fn = model_fn if model_fn is tiny_sgd else _fixed(linear_model, epochs)
    fitted = _fold.fit_fold(
        model_fn,
        [MULTILABEL_STRATEGIES[s] for s in EXACT],
        x,
        y,
        everything,
        settings,
        seed,
        3,
        target=target,
    )
    assert fitted.fits == 1 and len(fitted.recipes) == len(EXACT)  # one Keras fit for all
    scaled = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    assert_copies_match(fitted, epochs, lambda name: _lone(model_fn, name, scaled, y, seed, epochs))


def test_compare_scores_each_label_and_averages_them():
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, f1_score

    x, y = tags()
    result = compare(x, y, model_fn={"mlp": ki.comparison.mlp_model}, **FAST)
    board = result.leaderboard
    assert set(board["strategy"]) == set(MULTILABEL_DEFAULT_STRATEGIES)
    assert result.config["target"] == "multilabel" and result.classes == ["0", "1", "2"]
    assert result.class_counts == y.sum(axis=0).tolist()
    for row in result.rows:
        scores = row["scores"]
        truth, proba = np.asarray(scores["y"]), np.asarray(scores["proba"])
        cut = 0.5 if row["threshold"] is None else np.asarray(row["threshold"])
        pred = proba >= cut
        m = row["metrics"]
        want_ba = np.mean([balanced_accuracy_score(truth[:, j], pred[:, j]) for j in range(3)])
        want_f1 = f1_score(truth, pred, average="macro", zero_division=0)
        # proba is stored to 5 decimals: the ties it makes can move AP either way, so the AP
        # of the unrounded scores lies between the rounded ones with ties broken against and
        # for the positives (plus 1e-4 for near-ties the float32 scores order otherwise: 1.8e-5
        # seen on torch; the ties alone moved AP by 0.0035 on tensorflow)
        nudge = 1e-7 * (2 * truth - 1)
        ap_low, ap_high = (
            np.mean([average_precision_score(truth[:, j], p[:, j]) for j in range(3)])
            for p in (proba - nudge, proba + nudge)
        )
        assert m["balanced_accuracy"] == pytest.approx(want_ba, abs=1e-9), row["key"]
        assert m["macro_f1"] == pytest.approx(want_f1, abs=1e-9), row["key"]
        assert ap_low - 1e-4 <= m["pr_auc"] <= ap_high + 1e-4, (row["key"], ap_low, ap_high)
        recall = (pred & (truth == 1)).sum(axis=0) / truth.sum(axis=0)
        np.testing.assert_allclose(row["per_label"]["recall"], recall)
        assert row["test_counts"] == truth.sum(axis=0).tolist()
    tuned = [r for r in result.rows if r["strategy"] == "none+threshold"]
    assert all(len(r["threshold"]) == 3 for r in tuned)  # one threshold per label
    ens = [r for r in result.rows if r["strategy"] == "ensemble"]
    assert ens and all(
        sorted(r["members"])
        == sorted(f"mlp:{s}" for s in ("balanced", "logit_adjusted", "mlsmote", "label_batches"))
        for r in ens
    )


def test_stratified_on_each_rows_rarest_label():
    y = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [0, 1, 1], [0, 0, 0], [1, 1, 0]])
    codes, names = rarest_label(y, ["a", "b", "c"])  # positives a 4, b 3, c 2
    assert [names[c] for c in codes] == ["a", "b", "c", "c", "(no label)", "b"]


def test_one_hot_stays_multiclass_and_layout_says_multilabel():
    x, y = tags(n=120)
    one_hot = np.eye(3, dtype=int)[np.argmax(y + [0, 0.5, 0.7], axis=1)]
    assert "target" not in compare(x, one_hot, strategies=[], **FAST).config
    forced = compare(x, one_hot, strategies=[], layout="multilabel", **FAST)
    assert forced.config["target"] == "multilabel"
    assert set(forced.leaderboard["strategy"]) == {"none", "none+threshold"}


def test_label_scores_by_hand():
    y = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    proba = np.array([[0.9, 0.2], [0.4, 0.8], [0.6, 0.1], [0.1, 0.7]])
    out = label_scores(y, proba)  # label 0: TP 1 FN 1 FP 1 TN 1; label 1: all right
    assert out["metrics"]["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)
    assert out["metrics"]["macro_f1"] == pytest.approx((0.5 + 1.0) / 2)
    assert out["per_label"]["recall"] == [0.5, 1.0]
    assert out["per_label"]["precision"] == [0.5, 1.0]
    assert out["test_counts"] == [2, 2]
    tuned = label_scores(y, proba, [0.35, 0.5])  # label 0 cut below 0.4: TP 2, FP 1
    assert tuned["per_label"]["recall"] == [1.0, 1.0]


def test_resume_finishes_a_killed_multilabel_run(tmp_path):
    x, y = tags(n=160)
    path = tmp_path / "run.jsonl"
    chosen = ["balanced", "label_batches", "ensemble"]
    kwargs = dict(strategies=chosen, model_fn={"mlp": ki.comparison.mlp_model}, **FAST)
    full = compare(x, y, results_path=path, **kwargs)
    lines = path.read_text().splitlines()
    kept = [ln for ln in lines if json.loads(ln).get("fold") != 1]  # fold 1 killed
    path.write_text("\n".join(kept) + "\n")
    redone = []
    again = compare(
        x, y, results_path=path, progress=lambda d, t, row: redone.append(row["key"]), **kwargs
    )
    assert redone and all(key.endswith("|1") for key in redone)
    assert len(again.folds) == len(full.folds)
    assert set(again.leaderboard["strategy"]) == {"none", "none+threshold", *chosen}
    assert again.config["target"] == "multilabel"
    assert len(ki.comparison.load_results(path).folds) == len(full.folds)


def test_bad_multilabel_inputs_get_one_line():
    x, y = tags(n=120)
    bad = np.c_[y, np.zeros(len(y), int)]
    with pytest.raises(ValueError, match=r"`y`.*no positive row for labels \['3'\]") as err:
        compare(x, bad, **FAST)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="`layout`"):
        compare(x, y, layout="tags", **FAST)
    with pytest.raises(ValueError, match="`strategies`.*smote"):
        compare(x, y, strategies=["smote"], **FAST)

    def wrong(input_shape, n_labels):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_labels + 1)])

    with pytest.raises(ValueError, match=r"`model_fn`.*3 output logits per row \(one per label"):
        compare(x, y, model_fn=wrong, **FAST)

    def squashed(input_shape, n_labels):
        return keras.Sequential(
            [keras.Input(input_shape), keras.layers.Dense(n_labels, activation="sigmoid")]
        )

    with pytest.raises(ValueError, match="no sigmoid on the last layer"):
        compare(x, y, model_fn=squashed, **FAST)
    with pytest.raises(ValueError, match="fit_recommended does not train multilabel"):
        compare(x, y, strategies=[], **FAST).fit_recommended(x, y)


def test_packed_losses_save_and_load_in_a_fresh_process(tmp_path):
    from keras_imbalance.comparison._packed_losses import (
        PackedBinaryCrossentropy,
        PackedSegmentationLoss,
    )

    rng = np.random.default_rng(0)
    binary = PackedBinaryCrossentropy(
        [[2.0, 1.0, 3.0], [1.0, 1.0, 1.0]],
        [[0.5, 1.0, 0.7], [1.0] * 3],
        [0.0, 2.0],
        [[0.0] * 3, [-1.0, 0.2, -2.0]],
    )
    seg = PackedSegmentationLoss(
        [1.0, 0.0, 1.0], [[0.5, 2.0], [1.0, 1.0], [1.0, 3.0]], [None, "focal_tversky", "dice"]
    )
    cases = {
        "binary": (binary, (2, 4), rng.integers(0, 2, size=(6, 2, 3)).astype("float32"), 3),
        "seg": (seg, (3, 4, 4, 1), rng.integers(0, 2, size=(6, 3, 4, 4)).astype("float32"), 2),
    }
    expected = {}
    for name, (loss, shape, labels, k) in cases.items():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input(shape), keras.layers.Dense(k)])
        model.compile("adam", loss)
        x = rng.normal(size=(6, *shape)).astype("float32")
        weight = np.broadcast_to(
            np.r_[1.5, 1.5, 0, 1.5, 1.5, 0.0].reshape((6,) + (1,) * (labels.ndim - 1)), labels.shape
        )
        y = np.stack([labels, weight], axis=-1).astype("float32")
        model.fit(x, y, epochs=1, batch_size=6, verbose=0)
        model.save(tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}_x.npy", x)
        np.save(tmp_path / f"{name}_y.npy", y)
        expected[name] = (float(model.evaluate(x, y, verbose=0)), loss.get_config())
    code = textwrap.dedent(
        """
        import json, sys
        import keras, numpy as np
        import keras_imbalance.comparison._packed_losses
        out = {}
        for name in ("binary", "seg"):
            model = keras.models.load_model(f"{sys.argv[1]}/{name}.keras")
            x = np.load(f"{sys.argv[1]}/{name}_x.npy"); y = np.load(f"{sys.argv[1]}/{name}_y.npy")
            out[name] = [float(model.evaluate(x, y, verbose=0)), model.loss.get_config()]
        print("RESULT" + json.dumps(out))
        """
    )
    got = run_fresh(code, str(tmp_path))
    for name, (value, config) in expected.items():
        assert got[name][0] == pytest.approx(value, rel=1e-5)
        assert got[name][1] == json.loads(json.dumps(config))


def test_a_raw_table_with_a_multilabel_target():
    import pandas as pd

    x, y = tags(n=160)
    frame = pd.DataFrame(x[:, :4], columns=list("abcd"))
    frame["b"] = frame["b"].mask(np.arange(len(y)) % 17 == 0)  # gaps
    frame["e"] = pd.Categorical(np.where(x[:, 4] > 0, "hi", "lo"))
    result = compare(
        frame,
        y,
        strategies=["mlsmote", "ml_ros"],
        model_fn={"mlp": ki.comparison.mlp_model},
        **FAST,
    )
    assert result.config["data"]["table"]["categorical"] == ["e"]
    assert set(result.leaderboard["strategy"]) == {"none", "none+threshold", "mlsmote", "ml_ros"}
    assert result.folds["balanced_accuracy"].notna().all()


def test_a_loss_strategy_builds_its_loss_from_the_public_losss_config():
    """``balanced`` and ``focal`` are public losses with options of the fit labels; the packed
    copy's spec is read from that loss (``family()``), not from the strategy's name."""
    from keras_imbalance.comparison.kinds.multilabel import BinaryLossSpec

    y = np.array([[1, 0], [0, 0], [0, 1], [0, 1]])  # label 0: 1 of 4, label 1: 2 of 4
    registry = KINDS["multilabel"].strategies
    balanced = registry["balanced"].public_loss(y, 2)
    assert isinstance(balanced, losses.WeightedBinaryCrossentropy) and balanced.from_logits
    assert balanced.pos_weight == [2.0, 1.0] and balanced.neg_weight == [4 / 6, 1.0]
    focal = registry["focal"].public_loss(y, 2)
    assert isinstance(focal, losses.BinaryFocalCrossentropy)
    assert focal.alpha == [0.75, 0.5] and focal.gamma == 2.0
    assert registry["focal"].loss_spec(y, 2) == BinaryLossSpec((0.75, 0.5), (0.25, 0.5), 2.0)
    assert registry["balanced"].loss_spec(y, 2) == BinaryLossSpec((2.0, 1.0), (4 / 6, 1.0))
