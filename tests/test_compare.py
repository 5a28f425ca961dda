"""Tests of the comparison engine (keras_imbalance.comparison): ranking, resume, results file,
recommendation rule, validation split, threshold tuning on validation data only."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold

from keras_imbalance.comparison import (
    KINDS,
    Strategy,
    TrainingRows,
    TrainingSettings,
    _compare,
    _fold,
    _packing,
    _stats,
    compare,
    corrected_interval,
    load_results,
    validation_split,
)
from keras_imbalance.comparison._strategies import ClassWeightStrategy, resolve_strategies

STRATEGIES = KINDS["multiclass"].strategies

N_NEG, N_POS = 64, 16


def _data(seed=0):
    """80 rows, 2 features; x0 = 0.05 * row id (+ 1 for positives): unique per row, and the
    positives (the 16 largest ids) lie beyond a gap of 1.05 above every negative."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(N_NEG, dtype=int), np.ones(N_POS, dtype=int)]
    ids = np.arange(y.size)
    x = np.c_[ids * 0.05 + (y == 1), rng.normal(size=y.size)]
    perm = rng.permutation(y.size)
    return x[perm], y[perm], ids[perm]


def frozen_model(input_shape, n_classes):
    """Logits [0, x0 - 6]: ranks the rows of _data perfectly, but x0 < 5 so argmax predicts
    class 0 for every row. A zero learning rate keeps the model fixed whatever the loss."""
    import keras

    n_features = input_shape[0]
    inp = keras.Input(input_shape)
    fixed = keras.layers.Dense(
        2,
        trainable=False,
        kernel_initializer=keras.initializers.Constant([[0.0, 1.0], [0.0, 0.0]][:n_features]),
        bias_initializer=keras.initializers.Constant([0.0, -6.0]),
    )(inp)
    zero = keras.layers.Dense(2, kernel_initializer="zeros", bias_initializer="zeros")(inp)
    model = keras.Model(inp, keras.layers.Add()([fixed, zero]))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    return model


FAST = dict(cv=2, epochs=2, patience=1, standardize=False, model_fn=frozen_model, references=False)


def test_planted_best_strategy_ranks_first_and_beats_none():
    # With a fixed model only the decision rule differs: argmax (none, balanced,
    # random_under) predicts class 0 everywhere (BA 0.5); a threshold tuned on the validation
    # split falls in the gap between the classes and separates them perfectly (BA 1).
    x, y, _ = _data()
    # 4 folds: with 2, t(0.975, 1) = 12.7 makes any interval too wide to call
    result = compare(x, y, strategies=["balanced", "random_under"], **{**FAST, "cv": 4})
    board = result.leaderboard
    assert board.iloc[0]["strategy"] == "none+threshold"
    assert board.iloc[0]["mean"] == pytest.approx(1.0)
    assert set(board["strategy"]) == {"none", "none+threshold", "balanced", "random_under"}
    assert board.iloc[1:]["mean"].tolist() == pytest.approx([0.5] * 3)
    rec = result.recommendation
    assert rec["winner_strategy"] == "none+threshold"
    assert rec["beats_baseline"] is True
    assert rec["mean_difference"] == pytest.approx(0.5) and rec["ci_low"] > 0
    assert "none+threshold" in rec["text"] and "beyond noise" in rec["text"]


def test_threshold_is_tuned_on_validation_rows_only(monkeypatch):
    from sklearn.model_selection import RepeatedStratifiedKFold

    from keras_imbalance import calibration

    x, y, ids = _data()
    seen = []
    original = calibration.tune_threshold

    def spy(y_true, proba, **kwargs):
        p1 = np.asarray(proba, dtype=np.float64)[:, 1]
        x0 = np.log(p1) - np.log1p(-p1) + 6.0  # logit = x0 - 6
        seen.append(np.round((x0 - (np.asarray(y_true) == 1)) / 0.05).astype(int))
        return original(y_true, proba, **kwargs)

    monkeypatch.setattr(calibration, "tune_threshold", spy)
    result = compare(x, y, strategies=[], **FAST)
    assert seen, "tune_threshold was never called"
    row_of_id = np.argsort(ids)
    folds = list(RepeatedStratifiedKFold(n_splits=2, n_repeats=1, random_state=0).split(x, y))
    for call in seen:
        rows = row_of_id[call]
        # every call sees rows of one training fold, none of its test fold
        owners = [f for f, (tr, te) in enumerate(folds) if set(rows) <= set(tr)]
        assert len(owners) == 1
        train, test = folds[owners[0]]
        assert not set(rows) & set(test)
        # the validation split: 20 % of each class of the training fold
        assert len(rows) == round(0.2 * 32) + round(0.2 * 8)
    tuned = result.folds[result.folds["strategy"] == "none+threshold"]
    assert tuned["threshold"].notna().all()


def test_validation_split_is_stratified_and_taken_before_smote():
    x, y, _ = _data()
    train_idx = np.arange(60)
    settings = TrainingSettings(validation_fraction=0.25, standardize=False)
    fold = _fold._Fold(frozen_model, x, y, train_idx, settings, 3, 2)
    fit_pos = fold.fit_pos
    val_pos = np.setdiff1d(np.arange(60), fit_pos)
    # stratified: round(0.25 * n_c) of each class of the training fold
    for c in (0, 1):
        n_c = int(np.sum(y[train_idx] == c))
        assert np.sum(fold.y_val == c) == round(0.25 * n_c)
    # validation rows are the real rows of the held-out positions
    np.testing.assert_allclose(fold.x_val, x[train_idx][val_pos].astype(np.float32))
    # SMOTE balances the fit part only: every real fit row once, then synthetic rows of the
    # minority, none of which is a validation row
    x_fit, y_fit = x[train_idx][fit_pos].astype(np.float32), y[train_idx][fit_pos]
    rows = STRATEGIES["smote"].rows(x_fit, y_fit, 2, 3)
    assert rows.multiplicity.tolist() == [1.0] * fit_pos.size
    assert (rows.extra_y == 1).all()
    assert np.bincount(np.r_[y_fit, rows.extra_y]).tolist() == [np.sum(y_fit == 0)] * 2
    assert rows.size == 2 * np.sum(y_fit == 0)
    dist = np.abs(rows.extra_x[:, None, :] - fold.x_val[None, :, :]).sum(axis=2)
    assert dist.min() > 0


def _spy_fits(monkeypatch):
    """Record every packed fit: its copies (recipe, whole fold or fit part, training rows),
    the epochs it may run and its callbacks."""
    calls = []
    original = _fold._Fold.fit

    def spy(self, copies, known):
        real_fit = _packing.fit

        def fit(net, rows, epochs, callbacks):
            calls.append(
                {
                    "copies": [
                        (self.recipes[c.recipe].strategy.name, c.full, c.rows, c.scaler)
                        for c in copies
                    ],
                    "epochs": epochs,
                    "callbacks": [type(cb).__name__ for cb in callbacks],
                    "train": np.sort(self.y.size and np.arange(self.y.size)),
                    "fold": self,
                }
            )
            return real_fit(net, rows, epochs, callbacks)

        monkeypatch.setattr(_packing, "fit", fit)
        try:
            return original(self, copies, known)
        finally:
            monkeypatch.setattr(_packing, "fit", real_fit)

    monkeypatch.setattr(_fold._Fold, "fit", spy)
    return calls


def test_refit_trains_on_the_whole_training_fold_for_the_best_epoch(monkeypatch):
    from sklearn.model_selection import RepeatedStratifiedKFold

    x, y, _ = _data()
    calls = _spy_fits(monkeypatch)
    folds = list(RepeatedStratifiedKFold(n_splits=2, n_repeats=1, random_state=0).split(x, y))
    result = compare(x, y, strategies=["balanced"], **{**FAST, "epochs": 3, "standardize": True})
    # one packed fit per fold: the early-stopped copies on the fit part and, in lockstep, the
    # refit copies on the whole training fold (none+threshold shares none's copy)
    assert len(calls) == 2
    for call, (train, _) in zip(calls, folds, strict=True):
        copies = call["copies"]
        assert [(name, full) for name, full, _, _ in copies] == [
            ("none", False),
            ("balanced", False),
            ("none", True),
            ("balanced", True),
        ]
        assert call["callbacks"] == ["CopyMonitor"]
        fold = call["fold"]
        for name, full, rows, scaler in copies:
            n = rows.multiplicity.size
            assert n == (train.size if full else fold.fit_pos.size)
            # each part is standardised with its own statistics
            raw = x[train] if full else x[train][fold.fit_pos]
            np.testing.assert_allclose(scaler.mean, raw.mean(axis=0))
            np.testing.assert_allclose(scaler.scale, raw.std(axis=0))
            if name == "balanced":  # balanced weights of the rows the copy trains on
                labels = y[train] if full else y[train][fold.fit_pos]
                counts = np.bincount(labels)
                np.testing.assert_allclose(rows.weight, labels.size / (2 * counts[labels]))
    rows = result.folds
    plain = rows[rows["strategy"] != "none+threshold"]
    assert plain["refit"].all() and (plain["n_fit"] == y.size // 2).all()
    # the refit ran as many epochs as its early-stopped partner's best epoch
    assert (plain["best_epoch"] <= plain["epochs_run"]).all()
    tuned = rows[rows["strategy"] == "none+threshold"]
    assert (~tuned["refit"].astype(bool)).all() and (tuned["n_fit"] < y.size // 2).all()

    calls.clear()
    result = compare(x, y, strategies=["balanced"], refit=False, **FAST)
    assert len(calls) == 2 and all(not full for c in calls for _, full, _, _ in c["copies"])
    assert not result.folds["refit"].astype(bool).any()
    assert (result.folds["n_fit"] < y.size // 2).all()


def test_a_builder_without_early_stopping_trains_every_epoch(monkeypatch):
    from keras_imbalance.comparison import linear_model

    assert linear_model.fixed_epochs == 50  # the default linear model converges
    x, y, _ = _data()
    calls = _spy_fits(monkeypatch)

    def converging(input_shape, n_classes):
        return frozen_model(input_shape, n_classes)

    converging.fixed_epochs = 6  # capped by epochs=4
    options = {**FAST, "epochs": 4, "model_fn": converging}
    result = compare(x, y, strategies=["none", "none+threshold", "balanced"], **options)
    half = y.size // 2
    # per fold one fit of 4 epochs, no early-stopping callback: none on the fit part (the
    # tuned rule needs the validation part), none and balanced on the whole training fold
    assert len(calls) == 2
    for call in calls:
        assert call["epochs"] == 4 and call["callbacks"] == []
        assert sorted((n, r.multiplicity.size < half) for n, _, r, _ in call["copies"]) == [
            ("balanced", False),
            ("none", False),
            ("none", True),
        ]
    assert (result.folds["best_epoch"] == 4).all() and (result.folds["epochs_run"] == 4).all()

    converging.fixed_epochs = 0
    with pytest.raises(ValueError, match=r"`model_fn`.*`fixed_epochs` is an int >= 1.*0"):
        compare(x, y, **options)
    converging.fixed_epochs = 6
    calls.clear()
    compare(x, y, strategies=["balanced"], refit=False, **options)
    # without a refit: all epochs on the fit part, which also serves none+threshold
    assert len(calls) == 2
    for call in calls:
        assert sorted((n, r.multiplicity.size < half) for n, _, r, _ in call["copies"]) == [
            ("balanced", True),
            ("none", True),
        ]


def test_smote_on_a_one_row_class_is_refused_before_any_fit(monkeypatch):
    x, y, _ = _data()
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:4]]  # 4 positives: 2 per fold
    monkeypatch.setattr(_compare, "run_task", lambda *a: pytest.fail("nothing may be fitted"))
    # the validation part takes 1 of each training fold's 2 positives, leaving 1 to SMOTE
    with pytest.raises(
        ValueError,
        match=r"`strategies`.*\(smote\).*class '1' has 1 row in the early-stopping fit part "
        r"of repeat 0, fold 0 \(2 in its training fold\).*'random_over'.*'smote'\]",
    ):
        compare(x[keep], y[keep], strategies=["random_over", "smote"], **FAST)
    monkeypatch.undo()
    result = compare(x[keep], y[keep], strategies=["random_over"], **FAST)  # copies rows: fine
    assert len(result.folds) == 2 * 3


def test_validation_split_shuffles_and_keeps_one_per_class():
    y = np.r_[np.zeros(50, dtype=int), np.ones(2, dtype=int), 2]
    fit, val = validation_split(y, 0.2, seed=0)
    assert np.bincount(y[val], minlength=3).tolist() == [10, 1, 0]  # class 2 (1 row) stays
    assert not np.array_equal(val[:10], np.arange(40, 50))  # not the last rows
    fit2, val2 = validation_split(y, 0.2, seed=0)
    np.testing.assert_array_equal(val, val2)


def _lines(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()


def test_results_file_lines_are_complete_and_match_sklearn(tmp_path):
    from sklearn.metrics import (
        average_precision_score,
        balanced_accuracy_score,
        f1_score,
        matthews_corrcoef,
    )

    x, y, _ = _data()
    path = tmp_path / "run.jsonl"
    result = compare(x, y, strategies=["balanced"], results_path=path, **FAST)
    lines = [json.loads(line) for line in _lines(path)]
    header, rows = lines[0], lines[1:]
    assert header["type"] == "header" and len(header["fingerprint"]) == 64
    assert header["config"]["cv"] == 2 and header["config"]["strategies"][:2] == [
        "none",
        "none+threshold",
    ]
    assert len(rows) == 3 * 2 and len({r["key"] for r in rows}) == 6
    assert sum(r["n_test"] for r in rows if r["strategy"] == "none") == y.size
    for r in rows:
        cm = np.asarray(r["confusion"])
        assert cm.sum() == r["n_test"] == len(r["scores"]["y"])
        # rebuild labels from the confusion matrix and score them with scikit-learn
        true = np.repeat([0, 0, 1, 1], cm.ravel())
        pred = np.repeat([0, 1, 0, 1], cm.ravel())
        m = r["metrics"]
        assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(true, pred))
        assert m["matthews_correlation"] == pytest.approx(matthews_corrcoef(true, pred))
        assert m["macro_f1"] == pytest.approx(f1_score(true, pred, average="macro"))
        assert r["per_class_recall"] == pytest.approx((np.diag(cm) / cm.sum(axis=1)).tolist())
        # PR-AUC: average precision of the minority class (1) from the stored scores
        s = r["scores"]
        assert m["pr_auc"] == pytest.approx(
            average_precision_score(np.asarray(s["y"]) == 1, s["proba"]), abs=1e-4
        )
    assert len(result.folds) == 6


def test_resume_redoes_only_missing_folds(tmp_path):
    x, y, _ = _data()
    path = tmp_path / "run.jsonl"
    compare(x, y, strategies=["balanced"], results_path=path, **FAST)
    full = _lines(path)
    keys = [json.loads(line)["key"] for line in full[1:]]
    kept = full[:4]  # header + 3 finished rows
    # simulate a run killed mid-way, with a torn last line
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(kept) + "\n" + full[4][:25])
    redone = []
    result = compare(
        x,
        y,
        strategies=["balanced"],
        results_path=path,
        progress=lambda done, total, row: redone.append((done, total, row["key"])),
        **FAST,
    )
    missing = set(keys) - {json.loads(line)["key"] for line in kept[1:]}
    assert {k for _, _, k in redone} == missing
    assert [d for d, _, _ in redone] == [4, 5, 6] and {t for _, t, _ in redone} == {6}
    after = _lines(path)
    assert after[:4] == kept  # finished lines untouched
    assert sorted(json.loads(line)["key"] for line in after[1:]) == sorted(keys)
    assert len(result.folds) == 6
    # a finished file: nothing is run again
    again = []
    compare(
        x,
        y,
        strategies=["balanced"],
        results_path=path,
        progress=lambda *a: again.append(a),
        **FAST,
    )
    assert again == []
    assert load_results(path).leaderboard["mean"].tolist() == pytest.approx(
        result.leaderboard["mean"].tolist()
    )


def test_resume_with_other_settings_is_refused(tmp_path):
    x, y, _ = _data()
    path = tmp_path / "run.jsonl"
    compare(x, y, strategies=[], results_path=path, **FAST)
    with pytest.raises(ValueError, match=r"results_path.*different settings \(cv\)"):
        compare(x, y, strategies=[], results_path=path, **{**FAST, "cv": 3})
    with pytest.raises(ValueError, match=r"data"):
        compare(x[::-1], y[::-1], strategies=[], results_path=path, **FAST)


def test_cv_accepts_a_splitter_or_a_list_of_splits(tmp_path):
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedShuffleSplit

    x, y, _ = _data()
    # a list of the folds compare(cv=2) uses: the same rows, seeds and scores
    folds = list(RepeatedStratifiedKFold(n_splits=2, n_repeats=1, random_state=0).split(x, y))
    by_int = compare(x, y, strategies=["balanced"], **FAST).folds
    by_list = compare(x, y, strategies=["balanced"], **{**FAST, "cv": folds}).folds
    assert by_list[["model", "strategy", "repeat", "fold"]].equals(
        by_int[["model", "strategy", "repeat", "fold"]]
    )
    np.testing.assert_allclose(by_list["balanced_accuracy"], by_int["balanced_accuracy"])
    # a splitter: its folds, numbered as repeat 0; the interval uses their test/train ratio
    splitter = StratifiedShuffleSplit(n_splits=4, test_size=0.25, random_state=1)
    path = tmp_path / "sss.jsonl"
    result = compare(x, y, strategies=[], results_path=path, **{**FAST, "cv": splitter})
    assert sorted(result.folds["fold"].unique()) == [0, 1, 2, 3]
    assert (result.folds["repeat"] == 0).all() and (result.folds["n_test"] == 20).all()
    none = result.folds[result.folds["strategy"] == "none+threshold"]["balanced_accuracy"]
    mean, _, low, high = corrected_interval(none.to_numpy(), 20 / 60)
    row = result.leaderboard.set_index("strategy").loc["none+threshold"]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    assert result.config["cv"]["n_splits"] == 4
    result.to_html(tmp_path / "r.html")
    assert "4 user-given splits" in (tmp_path / "r.html").read_text(encoding="utf-8")
    # other splits, same file: refused
    other = StratifiedShuffleSplit(n_splits=4, test_size=0.25, random_state=2)
    with pytest.raises(ValueError, match=r"different settings \(cv\)"):
        compare(x, y, strategies=[], results_path=path, **{**FAST, "cv": other})


@pytest.mark.parametrize(
    ("cv", "kwargs", "match"),
    [
        ("five", {}, r"`cv`.*splitter.*Received: cv='five'"),
        ([], {}, r"`cv`.*no splits"),
        ([(np.arange(40), np.arange(30, 80))], {}, r"`cv`.*disjoint"),
        ([(np.arange(40), np.arange(40, 81))], {}, r"`cv`.*indices in \[0, 80\)"),
        ([(np.arange(40.0), np.arange(40, 80))], {}, r"`cv`.*train indices"),
        ([(np.arange(40), np.arange(40, 80))], {"repeats": 2}, r"`repeats`.*1 when cv"),
        (GroupKFold(2), {}, r"`cv`.*split\(x, y\) raised.*groups.*Received: cv=GroupKFold"),
    ],
)
def test_bad_splits_are_reported_clearly(cv, kwargs, match):
    x, y, _ = _data()
    with pytest.raises((TypeError, ValueError), match=match):
        compare(x, y, strategies=[], **{**FAST, "cv": cv, **kwargs})


def test_a_training_fold_without_a_class_is_refused():
    x, y, _ = _data()
    order = np.argsort(y, kind="stable")  # all 64 negatives first, then the 16 positives
    with pytest.raises(ValueError, match=r"`cv`.*every class in every training fold"):
        compare(x, y, strategies=[], **{**FAST, "cv": [(order[:64], order[64:])]})


def test_keyboard_interrupt_leaves_a_valid_file(tmp_path):
    x, y, _ = _data()
    path = tmp_path / "run.jsonl"

    def stop(done, total, row):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compare(x, y, strategies=["balanced"], results_path=path, progress=stop, **FAST)
    lines = _lines(path)
    assert len(lines) == 3 and all(json.loads(line) for line in lines)
    result = compare(x, y, strategies=["balanced"], results_path=path, **FAST)
    assert len(result.folds) == 6


def test_strategy_names_aliases_and_errors():
    names = [s.name for s in resolve_strategies(["SMOTE", "none + tuned threshold", "smote"])]
    assert names == ["none", "none+threshold", "smote"]
    with pytest.raises(
        ValueError, match=r"`strategies`.*balanced_batches.*Received: strategies=\['smoot'\]"
    ):
        resolve_strategies(["smoot"])
    # every unknown name at once
    with pytest.raises(ValueError, match=r"Received: strategies=\['smoot', 'fockal'\]"):
        resolve_strategies(["smoot", "balanced", "fockal"])
    with pytest.raises(TypeError, match="strategies"):
        resolve_strategies([3])


def test_bad_arguments_are_reported_clearly():
    x, y, _ = _data()
    with pytest.raises(ValueError, match="`metric`"):
        compare(x, y, metric="accuracy", **FAST)
    # a class of one row can be trained on but never tested: one testable class is not enough
    with pytest.raises(ValueError, match=r"`y`.*at least 2 classes with 2 rows or more.*'1': 1"):
        compare(x[:70], np.r_[np.zeros(69, int), 1], **{**FAST, "cv": 3})
    # NaN in a 2-D table is imputed (a raw table); inf, or NaN in images, is refused
    with pytest.raises((ValueError, TypeError), match="`x`.*inf"):
        compare(np.where(x > 1, np.inf, x), y, **FAST)
    images = np.where(np.repeat(x[:, :, None], 2, axis=2) > 1, np.nan, 1.0)
    with pytest.raises(ValueError, match=r"`x`.*NaN only in a 2-D table.*rows with NaN"):
        compare(images, y, **FAST)

    def one_output(input_shape, n_classes):
        import keras

        return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(1)])

    with pytest.raises(ValueError, match="`model_fn`.*2 output logits"):
        compare(x, y, strategies=[], **{**FAST, "model_fn": one_output})


def test_corrected_interval_pins_the_nadeau_bengio_formula():
    d = [0.10, -0.05, 0.08, -0.02, 0.04]
    mean, std, low, high = corrected_interval(d, test_train_ratio=1 / 4)
    # mean 0.03, t(0.975, 4) = 2.776445, sqrt(1/5 + 1/4) = 0.670820
    assert mean == pytest.approx(0.03)
    assert std == pytest.approx(math.sqrt(0.0164 / 4))  # squared deviations sum to 0.0164
    assert high - mean == pytest.approx(2.7764451051977987 * 0.6708203932499369 * std)
    assert low < 0 < high
    # the correction only widens the naive interval
    _, _, naive_low, _ = corrected_interval(d, test_train_ratio=0.0)
    assert naive_low > low


def test_recommendation_within_noise_says_so():
    import pandas as pd

    rows = []
    for fold, (a, b) in enumerate([(0.80, 0.70), (0.70, 0.75), (0.78, 0.70), (0.71, 0.73)]):
        rows.append({"model": "m", "strategy": "smote", "repeat": 0, "fold": fold, "ba": a})
        rows.append({"model": "m", "strategy": "none", "repeat": 0, "fold": fold, "ba": b})
    folds = pd.DataFrame(rows)
    board = _stats.leaderboard(folds, "ba", ["ba"], 1 / 3)
    assert board["strategy"].tolist() == ["smote", "none"]
    rec = _stats.recommend(folds, board, "ba", 1 / 3)
    assert rec["winner_strategy"] == "smote" and rec["beats_baseline"] is False
    assert rec["mean_difference"] == pytest.approx(0.0275)
    assert "within noise" in rec["text"]
    assert math.isclose(rec["ci_low"] + rec["ci_high"], 2 * 0.0275)


def test_dask_backend_gives_the_sequential_results():
    distributed = pytest.importorskip("distributed")
    import joblib

    x, y, _ = _data()
    local = compare(x, y, strategies=["balanced"], **FAST)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        remote = compare(x, y, strategies=["balanced"], n_jobs=-1, **FAST)
    cols = ["model", "strategy", "repeat", "fold", "balanced_accuracy", "pr_auc"]
    assert remote.folds[cols].equals(local.folds[cols])


def shifted_model(input_shape, n_classes):
    """Like frozen_model with logits [0, x0 - 3.02]: predicts class 1 for x0 > 3.02."""
    model = frozen_model(input_shape, n_classes)
    fixed = model.layers[1]
    kernel, _ = fixed.get_weights()
    fixed.set_weights([kernel, np.array([0.0, -3.02], dtype="float32")])
    return model


ENSEMBLE = dict(FAST, model_fn={"low": frozen_model, "high": shifted_model})


def test_ensemble_averages_member_probabilities():
    # P(1) = sigmoid(x0 - 6) ("low") and sigmoid(x0 - 3.02) ("high"): their mean crosses 1/2
    # at x0 = 4.51, so the ensemble predicts class 1 for positives with id > 70 (9 of 16, x0 =
    # 4.55 ... 4.95) and for no negative (x0 <= 3.15). Alone, "low" predicts no positive and
    # "high" also flags the negatives with id 61-63 (x0 > 3.02).
    x, y, _ = _data()
    result = compare(x, y, strategies=["balanced", "ensemble"], **ENSEMBLE)
    folds = result.folds

    def pooled(model, strategy):
        part = folds[(folds["model"] == model) & (folds["strategy"] == strategy)]
        return np.sum([np.asarray(c) for c in part["confusion"]], axis=0).tolist()

    assert pooled("low+high", "ensemble") == [[64, 0], [7, 9]]
    assert pooled("low", "balanced") == [[64, 0], [16, 0]]
    assert pooled("high", "balanced") == [[61, 3], [0, 16]]
    rows = [r for r in result.rows if r["strategy"] == "ensemble"]
    assert len(rows) == 2 and all(r["members"] == ["low:balanced", "high:balanced"] for r in rows)
    # the stored ensemble scores are the mean of the members' stored probabilities
    for r in rows:
        members = [
            m
            for m in result.rows
            if m["strategy"] == "balanced" and (m["repeat"], m["fold"]) == (r["repeat"], r["fold"])
        ]
        mean = np.mean([m["scores"]["proba"] for m in members], axis=0)
        assert r["scores"]["proba"] == pytest.approx(mean.tolist(), abs=1e-5)
    board = result.leaderboard
    ens = board[board["strategy"] == "ensemble"].iloc[0]
    assert ens["mean"] == pytest.approx(np.mean([(1 + r["per_class_recall"][1]) / 2 for r in rows]))


def test_each_model_also_gets_its_own_ensemble():
    # the frozen models ignore the loss, so each model's balanced and logit_adjusted fits give
    # the same probabilities: a model's own ensemble predicts what that model predicts alone
    x, y, _ = _data()
    strategies = ["balanced", "logit_adjusted", "ensemble"]
    result = compare(x, y, strategies=strategies, **ENSEMBLE)
    folds = result.folds

    def pooled(model):
        part = folds[(folds["model"] == model) & (folds["strategy"] == "ensemble")]
        assert len(part) == 2
        return np.sum([np.asarray(c) for c in part["confusion"]], axis=0).tolist()

    assert pooled("low+high") == [[64, 0], [7, 9]]
    assert pooled("low") == [[64, 0], [16, 0]]
    assert pooled("high") == [[61, 3], [0, 16]]
    members = {r["model"]: r["members"] for r in result.rows if r["strategy"] == "ensemble"}
    assert members == {
        "low+high": [
            "low:balanced",
            "low:logit_adjusted",
            "high:balanced",
            "high:logit_adjusted",
        ],
        "low": ["low:balanced", "low:logit_adjusted"],
        "high": ["high:balanced", "high:logit_adjusted"],
    }
    # the top row (a tuned threshold separates the classes: 1.0 on both folds) is paired with
    # the joint ensemble (folds [[32, 0], [1, 7]] and [[32, 0], [6, 2]]: 0.9375 and 0.625),
    # not with "high"'s own ensemble; two folds cannot show +0.219 beyond noise
    rec = result.recommendation
    assert rec["top_strategy"] == "none+threshold"
    assert rec["top_minus_preferred"] == pytest.approx(1 - (0.9375 + 0.625) / 2)
    assert (rec["winner_model"], rec["winner_strategy"]) == ("low+high", "ensemble")


def test_ensemble_resumes_from_stored_members_or_refits_them(tmp_path, monkeypatch):
    x, y, _ = _data()
    path = tmp_path / "run.jsonl"
    first = compare(x, y, strategies=["balanced", "ensemble"], results_path=path, **ENSEMBLE)
    lines = _lines(path)
    kept = [line for line in lines if json.loads(line).get("strategy") != "ensemble"]
    assert len(kept) == len(lines) - 2
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(kept) + "\n")
    calls = []
    real = _compare.run_task
    monkeypatch.setattr(
        _compare, "run_task", lambda task, *a: calls.append(task.model_name) or real(task, *a)
    )
    again = compare(x, y, strategies=["balanced", "ensemble"], results_path=path, **ENSEMBLE)
    assert calls == []  # every member's test scores were stored: nothing is fitted again
    assert [r["key"] for r in load_results(path).rows if r["strategy"] == "ensemble"] == [
        "low+high|ensemble|0|0",
        "low+high|ensemble|0|1",
    ]
    pick = lambda res: res.folds[res.folds["strategy"] == "ensemble"]["balanced_accuracy"]  # noqa: E731
    assert pick(again).tolist() == pick(first).tolist()

    # stored scores cut to max_scores=5 cannot be averaged: the members are fitted again
    small = tmp_path / "small.jsonl"
    options = dict(strategies=["balanced", "ensemble"], max_scores=5, **ENSEMBLE)
    compare(x, y, results_path=small, **options)
    lines = _lines(small)
    cut = "low+high|ensemble|0|1"
    with open(small, "w", encoding="utf-8") as handle:
        handle.write("\n".join(x for x in lines if json.loads(x).get("key") != cut) + "\n")
    calls.clear()
    resumed = compare(x, y, results_path=small, **options)
    assert sorted(calls) == ["high", "low"]  # fold 1's two member fits, nothing else
    assert pick(resumed).tolist() == pick(first).tolist()


def test_ensemble_needs_two_balanced_prior_fits():
    x, y, _ = _data()
    with pytest.raises(ValueError, match=r"`strategies`.*'ensemble' with at least 2 fits"):
        compare(x, y, strategies=["ensemble"], **FAST)
    with pytest.raises(
        ValueError, match=r"`strategies`.*give 1: \['frozen_model:balanced'\].*Received.*'sqrt'"
    ):
        compare(x, y, strategies=["sqrt", "balanced", "ensemble"], **FAST)


def _planted(scores):
    """Fold rows (one repeat, metric "ba") of {(model, strategy): per-fold scores}, and their
    leaderboard with the 2-fold test/train ratio of 1/3."""
    import pandas as pd

    folds = pd.DataFrame(
        [
            {"model": m, "strategy": s, "repeat": 0, "fold": f, "ba": v}
            for (m, s), values in scores.items()
            for f, v in enumerate(values)
        ]
    )
    return folds, _stats.leaderboard(folds, "ba", ["ba"], 1 / 3)


@pytest.mark.parametrize(
    "own, expected",
    [
        # b's own ensemble - joint = +0.03, -0.01, +0.04, -0.02: higher mean, within noise
        ([0.83, 0.80, 0.84, 0.78], ("a+b", "ensemble")),
        # +0.10, +0.11, +0.09, +0.10: beyond noise
        ([0.90, 0.92, 0.89, 0.90], ("b", "ensemble")),
    ],
)
def test_a_models_own_ensemble_must_beat_the_joint_one_beyond_noise(own, expected):

    scores = {
        ("b", "ensemble"): own,
        ("a+b", "ensemble"): [0.80, 0.81, 0.80, 0.80],
        ("a", "ensemble"): [0.70, 0.71, 0.70, 0.72],
        ("a", "none"): [0.60, 0.60, 0.61, 0.60],
        ("b", "none"): [0.50, 0.52, 0.51, 0.50],
    }
    folds, board = _planted(scores)
    assert (board.iloc[0]["model"], board.iloc[0]["strategy"]) == ("b", "ensemble")
    rec = _stats.recommend(folds, board, "ba", 1 / 3)
    assert (rec["winner_model"], rec["winner_strategy"]) == expected
    assert rec["top_model"] == "b" and rec["top_strategy"] == "ensemble"


def test_recommendation_pairs_an_ensemble_with_the_best_baseline():
    import pandas as pd

    rows = []
    scores = {
        ("a+b", "ensemble"): [0.90, 0.85, 0.88, 0.91],
        ("b", "none"): [0.70, 0.72, 0.69, 0.71],
        ("a", "none"): [0.50, 0.55, 0.52, 0.51],
    }
    for (model, strategy), values in scores.items():
        for fold, v in enumerate(values):
            rows.append({"model": model, "strategy": strategy, "repeat": 0, "fold": fold, "ba": v})
    folds = pd.DataFrame(rows)
    board = _stats.leaderboard(folds, "ba", ["ba"], 1 / 3)
    rec = _stats.recommend(folds, board, "ba", 1 / 3)
    assert rec["winner_model"] == "a+b" and rec["baseline_model"] == "b"
    # differences 0.20, 0.13, 0.19, 0.20
    assert rec["mean_difference"] == pytest.approx(0.18) and rec["n_pairs"] == 4
    assert rec["beats_baseline"] is True
    assert "'none' (b model)" in rec["text"]


@pytest.mark.parametrize(
    ("top_scores", "expected"),
    [
        # smote - ensemble = +0.02, -0.01, +0.03, -0.02: mean +0.005, interval around 0
        ([0.82, 0.79, 0.83, 0.78], "ensemble"),
        # smote - ensemble = +0.10, +0.11, +0.09, +0.10: beyond noise
        ([0.90, 0.91, 0.89, 0.90], "smote"),
    ],
)
def test_the_top_row_must_beat_the_ensemble_beyond_noise(top_scores, expected):

    scores = {
        ("m", "smote"): top_scores,
        ("m", "ensemble"): [0.80, 0.80, 0.80, 0.80],
        ("m", "none"): [0.60, 0.62, 0.58, 0.60],
    }
    folds, board = _planted(scores)
    assert board.iloc[0]["strategy"] == "smote"  # the board still ranks by mean
    rec = _stats.recommend(folds, board, "ba", 1 / 3)
    assert rec["winner_strategy"] == expected and rec["top_strategy"] == "smote"
    diff = np.subtract(top_scores, 0.80)
    assert rec["top_minus_preferred"] == pytest.approx(diff.mean())
    # corrected interval: t(0.975, 3) = 3.182446, sqrt(1/4 + 1/3)
    half = 3.182446305284263 * math.sqrt(1 / 4 + 1 / 3) * diff.std(ddof=1)
    assert rec["top_ci_low"] == pytest.approx(diff.mean() - half)
    assert rec["top_beats_preferred"] is (expected == "smote")
    # the winner is then compared with 'none' as before
    winner = np.asarray(scores[("m", expected)])
    assert rec["mean_difference"] == pytest.approx(np.mean(winner - [0.60, 0.62, 0.58, 0.60]))
    kept = expected == "ensemble"
    assert ("does not beat it beyond noise" in rec["text"]) is kept
    # cites what an installed package has (compare's docstring holds the benchmark's numbers)
    assert ("in the nested benchmark of help(keras_imbalance.compare)" in rec["text"]) is kept
    assert "docs/" not in rec["text"]
    from keras_imbalance.comparison._stats import NESTED_EVIDENCE as e

    assert f"{e['ensemble']:.3f} against {e['top_row']:.3f}" in compare.__doc__
    assert ("It is the top row and beats the ensemble beyond noise" in rec["text"]) is not kept


def _rare_classes():
    """4 classes of 40, 20, 3 and 1 rows, each shifted along x0."""
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(40, int), np.ones(20, int), np.full(3, 2), 3]
    x = np.c_[y * 2.0 + rng.normal(size=y.size) * 0.3, rng.normal(size=y.size)]
    return x, y


def four_logits(input_shape, n_classes):
    import keras

    model = keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_classes)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


four_logits.fixed_epochs = 3


def test_a_default_run_on_classes_of_one_and_three_rows_finishes(tmp_path):
    DEFAULT_STRATEGIES = KINDS["multiclass"].default_strategies

    x, y = _rare_classes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = compare(x, y, model_fn=four_logits, cv=3, results_path=tmp_path / "r.jsonl")
    messages = " | ".join(str(w.message) for w in caught if w.category is UserWarning)
    # the classes with fewer rows than cv are named; the 1-row class is never tested
    assert "fewer rows than cv=3: {'3': 1}" in messages and "never tested" in messages
    # SMOTE-like defaults cannot interpolate within the 1-row class: skipped, with the reason
    assert set(result.skipped) == {"smote", "borderline_smote1"}
    for name, reason in result.skipped.items():
        assert "class '3' has 1 row in the" in reason and name in messages
    board = result.leaderboard
    ran = board[board["rank"] > 0]
    expected = {s for s in DEFAULT_STRATEGIES if s not in result.skipped}
    assert expected <= set(ran["strategy"]) | {a for v in ran["aliases"] for a in v.split(", ")}
    listed = board[board["rank"] == 0].set_index("strategy")
    assert set(listed.index) == {"smote", "borderline_smote1"}
    assert listed.loc["smote", "note"].startswith("skipped: class '3' has 1 row")
    # the 1-row class stays in every training fold and is never tested
    for row in result.rows:
        assert row["confusion"][3] == [0, 0, 0, 0] and math.isnan(row["per_class_recall"][3])
    for row in load_results(tmp_path / "r.jsonl").rows:  # no recall: null in the file
        assert row["per_class_recall"][3] is None
    # every interval rests on fewer than 5 test rows of a class: marked
    assert ran["thin"].all() and (ran["test_rows_min"] == 0).all()
    rec = result.recommendation
    assert rec["thin_evidence"] is True
    assert rec["evidence"]["test_rows_per_class"] == [40.0, 20.0, 3.0, 0.0]
    assert (
        "The evidence is thin: the test folds hold 3 of '2' and none of '3' per repeat"
        in (rec["text"])
    )
    assert "more rows of those classes" in rec["text"] and "repeats=3" in rec["text"]
    html = tmp_path / "r.html"
    result.to_html(html)
    text = html.read_text(encoding="utf-8")
    assert "&dagger;" in text and "2 (3 test rows), 3 (never tested)" in text
    assert "Skipped strategies" in text and "<b>smote</b>: class &#x27;3&#x27; has 1 row" in text


@pytest.mark.filterwarnings("ignore:classes with fewer rows than cv")
def test_an_explicit_strategy_the_data_cannot_run_is_an_error():
    x, y = _rare_classes()
    with pytest.raises(ValueError, match=r"`strategies`.*\(smote\).*class '3' has 1 row") as info:
        compare(x, y, model_fn=four_logits, cv=3, strategies=["balanced", "smote"])
    assert "\n" not in str(info.value)


def test_evidence_is_firm_with_enough_rows_and_folds():
    x, y, _ = _data()
    result = compare(x, y, strategies=["balanced"], **{**FAST, "cv": 5})
    assert result.recommendation["thin_evidence"] is False
    assert "thin" not in result.recommendation["text"]
    assert not result.leaderboard["thin"].any()


def test_the_recommendation_text_quotes_the_leaderboard_and_the_metric_winners():
    import re

    x, y, _ = _data()
    result = compare(x, y, strategies=["balanced", "random_under"], **{**FAST, "cv": 4})
    rec, board = result.recommendation, result.leaderboard.set_index(["model", "strategy"])
    row = board.loc[(rec["winner_model"], rec["winner_strategy"])]
    # "rank r of n, mean m, 95% interval lo to hi": the leaderboard's own numbers
    match = re.search(
        r"rank (\d+) of (\d+), mean ([\d.]+), 95% interval ([\d.]+) to ([\d.]+)", rec["text"]
    )
    assert match is not None
    rank, n, mean, low, high = match.groups()
    assert (int(rank), int(n)) == (row["rank"], len(board))
    assert float(mean) == pytest.approx(row["mean"], abs=5e-4)
    assert (float(low), float(high)) == pytest.approx((row["ci_low"], row["ci_high"]), abs=5e-4)
    # the winner under each metric: the top row of a leaderboard ranked by that metric
    assert set(rec["by_metric"]) == {
        "balanced_accuracy",
        "geometric_mean",
        "matthews_correlation",
        "macro_f1",
    }
    for metric, top in rec["by_metric"].items():
        best = result.folds.groupby(["model", "strategy"])[metric].mean().max()
        assert top["mean"] == pytest.approx(best)
    assert "The top row is none+threshold under each of" in rec["text"]


def test_costs_rank_by_expected_cost_and_decide_by_least_cost(tmp_path):
    from keras_imbalance import calibration

    x, y, _ = _data()
    costs = {1: 20, 0: 1}  # a missed positive costs 20 false alarms
    result = compare(x, y, strategies=["balanced", "ensemble"], costs=costs, **ENSEMBLE)
    matrix = np.array([[0.0, 1.0], [20.0, 0.0]])
    assert result.metric == "expected_cost" and result.settings.costs == ((0, 1), (20, 0))
    folds = result.folds
    # every row's expected cost is its confusion matrix weighted by the costs, per row
    for _, row in folds.iterrows():
        cm = np.asarray(row["confusion"])
        assert row["expected_cost"] == pytest.approx((cm * matrix).sum() / cm.sum())
    board = result.leaderboard[result.leaderboard["rank"] > 0]
    assert board["mean"].is_monotonic_increasing  # lower cost first
    # none+threshold decides by cost too: it answers with none
    none = board[board["strategy"] == "none"]
    assert (none["aliases"] == "none+threshold").all()
    # the frozen "low" model ranks rows perfectly: a threshold tuned on the validation rows
    # for these costs separates the classes, so its none / balanced rows cost nothing
    low = folds[(folds["model"] == "low") & (folds["strategy"] != "ensemble")]
    assert (low["expected_cost"] == 0).all() and low["threshold"].notna().all()
    # the ensemble averages prior-corrected probabilities, then takes the least-cost class
    ens = [r for r in result.rows if r["model"] == "low+high" and r["strategy"] == "ensemble"]
    for r in ens:
        members = [
            m
            for m in result.rows
            if m["strategy"] == "balanced" and (m["repeat"], m["fold"]) == (r["repeat"], r["fold"])
        ]
        p = np.mean(
            [
                calibration.correct_priors(
                    np.c_[1 - np.asarray(m["scores"]["proba"]), m["scores"]["proba"]],
                    np.exp(-np.asarray(m["prior"])) / np.exp(-np.asarray(m["prior"])).sum(),
                    [0.5, 0.5],
                )
                for m in members
            ],
            axis=0,
        )
        pred = calibration.bayes_decision(p, matrix)
        y_true = np.asarray(r["scores"]["y"])
        assert r["metrics"]["expected_cost"] == pytest.approx(
            calibration.expected_cost(y_true, pred, matrix), abs=1e-3
        )
    result.to_html(tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Costs: per 1,000 rows" in text and "total cost" in text


def test_bad_costs_are_one_line():
    x, y, _ = _data()
    with pytest.raises(ValueError, match=r"`costs`.*do not exist \[7\]") as info:
        compare(x, y, costs={7: 5}, **FAST)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match=r"`costs`.*not positive"):
        compare(x, y, costs={1: 0}, **FAST)
    with pytest.raises(ValueError, match=r"`metric`.*'expected_cost' when costs"):
        compare(x, y, costs={1: 5}, metric="geometric_mean", **FAST)


def test_beyond_noise_means_lower_for_a_cost():
    folds, board = _planted(
        {("m", "smote"): [0.20, 0.21, 0.19, 0.20], ("m", "none"): [0.50, 0.52, 0.49, 0.51]}
    )
    folds = folds.rename(columns={"ba": "expected_cost"})
    board = _stats.leaderboard(folds, "expected_cost", ["expected_cost"], 1 / 3)
    assert board["strategy"].tolist() == ["smote", "none"]
    rec = _stats.recommend(folds, board, "expected_cost", 1 / 3)
    assert rec["winner_strategy"] == "smote" and rec["beats_baseline"] is True
    assert rec["mean_difference"] == pytest.approx(-0.305)


def _raw_table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n - 16, int), np.ones(16, int)]
    frame = pd.DataFrame(
        {
            "amount": np.where(rng.random(n) < 0.08, np.nan, rng.normal(size=n) + 2 * y),
            "channel": np.where(
                y == 1, rng.choice(["web", "app"], n), rng.choice(["shop", "web"], n)
            ),
            "flag": rng.random(n) < 0.5,
            "ref": [f"id{i}" for i in range(n)],  # an id: dropped with a warning
        }
    )
    return frame, np.where(y == 1, "fraud", "ok")


def test_a_raw_table_is_encoded_inside_each_training_fold(monkeypatch, tmp_path):
    import warnings

    from sklearn.model_selection import RepeatedStratifiedKFold

    from keras_imbalance import resampling, tables
    from keras_imbalance.comparison import TablePipeline

    frame, y = _raw_table()
    fitted_on, methods = [], []
    real_fit, real_resample = tables.TableEncoder.fit, resampling.resample

    def fit(self, rows):
        fitted_on.append(np.asarray(rows.index))
        return real_fit(self, rows)

    def resample(x, y, method="smote", **kwargs):
        methods.append((method, kwargs.get("categorical_features")))
        return real_resample(x, y, method=method, **kwargs)

    monkeypatch.setattr(tables.TableEncoder, "fit", fit)
    monkeypatch.setattr(resampling, "resample", resample)
    options = dict(strategies=["balanced", "smote"], cv=2, epochs=2, patience=1, references=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = compare(frame, y, model_fn=four_logits, **options)
    assert any("ref" in str(w.message) for w in caught)  # the id column is dropped, by name
    folds = list(RepeatedStratifiedKFold(n_splits=2, n_repeats=1, random_state=0).split(frame, y))
    # one encoder per training fold, fitted on that fold's rows only (never its test rows)
    assert len(fitted_on) == 2
    for rows, (train, test) in zip(fitted_on, folds, strict=True):
        assert sorted(rows) == sorted(train) and not set(rows) & set(test)
    # SMOTE on mixed columns is SMOTE-NC on the category codes (channel, flag)
    assert {m for m, _ in methods} == {"smotenc"}
    assert all(len(c) == 2 for _, c in methods)
    assert result.config["data"]["table"]["categorical"] == ["channel", "flag"]
    assert set(result.leaderboard["strategy"]) == {"none", "none+threshold", "balanced", "smote"}
    # the trained recommendation takes raw rows: the encoder and the Keras model together
    monkeypatch.undo()
    pipe = result.fit_recommended(frame, y, model_fn=four_logits)
    assert isinstance(pipe, TablePipeline)
    proba = pipe.predict_proba(frame)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    pipe.save(tmp_path / "pipe")
    again = TablePipeline.load(tmp_path / "pipe")
    np.testing.assert_allclose(again.predict_proba(frame), proba, atol=1e-6)


def test_every_problem_of_a_raw_table_is_one_line():
    frame, y = _raw_table()
    frame["one"] = "same"  # a categorical column with a single value
    frame["nested"] = [[1, 2]] * len(frame)
    with pytest.raises((TypeError, ValueError), match=r"`x`.*one.*nested|`x`.*nested.*one") as info:
        compare(frame, y, model_fn=four_logits, cv=2, epochs=1)
    assert "\n" not in str(info.value)


def test_borderline_smote2_trains_on_imbalanced_learns_rows(monkeypatch):
    """The rows compare trains borderline_smote2 on (the fit part of each fold plus its
    synthetic rows) equal imbalanced-learn's BorderlineSMOTE(kind="borderline-2") with its
    defaults (k_neighbors=5 searched over every row, not within the class: a fit part with
    3 minority rows keeps k=5)."""
    from imblearn.over_sampling import BorderlineSMOTE

    rng = np.random.default_rng(4)
    y = np.r_[np.zeros(60, dtype=int), np.ones(8, dtype=int)]
    x = rng.normal(size=(y.size, 2)) + 0.8 * y[:, None]
    checked = []
    original = _fold._Fold.fit

    def spy(self, copies, known):
        # the rows drawn for the fit (its synthetic rows move into the packed store in it)
        for c in copies:
            if self.recipes[c.recipe].strategy.name != "borderline_smote2":
                continue
            pos = self.part(c.full)[0]
            x_part, y_part = self.raw[pos].astype(np.float32), self.y[pos]
            smote = BorderlineSMOTE(kind="borderline-2", random_state=self.seed)
            want_x, want_y = smote.fit_resample(x_part, y_part)
            assert c.rows.multiplicity.tolist() == [1.0] * y_part.size
            assert c.rows.n_extra == len(want_y) - y_part.size > 0
            np.testing.assert_allclose(c.rows.extra_x, want_x[y_part.size :], rtol=1e-6)
            np.testing.assert_array_equal(c.rows.extra_y, want_y[y_part.size :])
            checked.append(int(np.sum(y_part == 1)))
        return original(self, copies, known)

    monkeypatch.setattr(_fold._Fold, "fit", spy)
    compare(x, y, strategies=["borderline_smote2"], **{**FAST, "epochs": 1})
    assert checked and min(checked) < 6  # old table: k lowered to the class size - 1


@dataclass(frozen=True)
class _DoubledPositives(Strategy):
    """A user-built strategy: loss weight 2 on class 1, 1 elsewhere."""

    def rows(self, x, y, n_classes, seed, space=None):
        return TrainingRows(np.ones(len(y)), np.where(y == 1, 2.0, 1.0), len(y))


def _trainable(input_shape, n_classes):
    import keras

    inp = keras.Input(input_shape)
    model = keras.Model(inp, keras.layers.Dense(n_classes)(inp))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


def test_user_built_strategies_run_in_compare(monkeypatch):
    """Strategy objects of the user's own run under their names: a subclass with its own rows
    trains on them (seen by the fold), and a user-built ClassWeightStrategy equals the registry's
    'balanced' fold for fold (same rows, same seeds)."""
    x, y, _ = _data()
    seen = []
    original = _DoubledPositives.rows

    def spy(self, x_fit, y_fit, *args, **kwargs):
        rows = original(self, x_fit, y_fit, *args, **kwargs)
        seen.append((np.bincount(y_fit), rows.weight.sum()))
        return rows

    monkeypatch.setattr(_DoubledPositives, "rows", spy)
    doubled = _DoubledPositives("doubled", "weight 2 on positives")
    result = compare(x, y, strategies=[doubled, "balanced"], **FAST)
    assert {"none", "none+threshold", "doubled", "balanced"} <= set(result.leaderboard["strategy"])
    assert len(result.folds[result.folds["strategy"] == "doubled"]) == 2
    assert seen and all(w == counts[0] + 2 * counts[1] for counts, w in seen)

    options = dict(FAST, model_fn=_trainable, epochs=3, standardize=True)
    mine = ClassWeightStrategy("my_balanced", "balanced class weights", weight_strategy="balanced")
    ours = compare(x, y, strategies=["balanced"], **options).folds
    theirs = compare(x, y, strategies=[mine], **options).folds
    a = ours[ours["strategy"] == "balanced"]["balanced_accuracy"].to_numpy()
    b = theirs[theirs["strategy"] == "my_balanced"]["balanced_accuracy"].to_numpy()
    np.testing.assert_array_equal(a, b)

    with pytest.raises(ValueError, match="names of their own"):
        compare(x, y, strategies=[_DoubledPositives("balanced", "clash")], **FAST)


def test_compare_takes_one_settings_object_like_fit_strategy():
    x, y, _ = _data()
    settings = TrainingSettings(epochs=2, patience=1, standardize=False)
    by_object = compare(
        x,
        y,
        strategies=["balanced"],
        cv=2,
        model_fn=frozen_model,
        settings=settings,
        references=False,  # as FAST
    )
    by_keywords = compare(x, y, strategies=["balanced"], **FAST)
    assert by_object.config == by_keywords.config  # the same fingerprint
    assert by_object.settings == settings
    with pytest.raises(ValueError, match=r"`settings`.*None when training keywords.*'epochs'"):
        compare(x, y, strategies=[], cv=2, model_fn=frozen_model, settings=settings, epochs=3)
    with pytest.raises(ValueError, match=r"`settings`.*target='multiclass'"):
        compare(x, y, strategies=[], cv=2, settings=TrainingSettings(target="multilabel"))
