"""Real-size data in ``compare``: the search's sample of large classes (``subsample``), the
scores of a sampled search, the time budget's planner (``time_budget``), and their CLI flags.

The planner is tested on its arithmetic (a given cost model), never on the clock."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from keras_imbalance.cli import main
from keras_imbalance.comparison import _budget, _compare, _plan, _results, compare
from keras_imbalance.comparison._budget import (
    CostModel,
    ModelCost,
    Shape,
    draw_sample,
    estimate,
    fit_budget,
    folds_of,
    parse_budget,
)
from keras_imbalance.comparison._scoring import fold_scores, reweigh, stored_scores
from keras_imbalance.comparison.kinds import KINDS

# ------------------------------------------------------------------------------ the budget's text


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10m", 600.0), ("1h30m", 5400.0), ("90", 90.0), ("90s", 90.0), (" 2 min ", 120.0),
     ("1.5h", 5400.0), (45, 45.0), (0.5, 0.5)],
)  # fmt: skip
def test_parse_budget(text, seconds):
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("bad", ["10x", "-1", "0", "", "m", "10m x", -1, 0, math.inf, math.nan])
def test_parse_budget_refuses_one_line(bad):
    with pytest.raises(ValueError, match="time_budget") as info:
        parse_budget(bad)
    assert "\n" not in str(info.value) and "'10m'" in str(info.value)


def test_parse_budget_type():
    with pytest.raises(TypeError, match="time_budget"):
        parse_budget(True)
    with pytest.raises(TypeError, match="time_budget"):
        parse_budget([600])


# ------------------------------------------------------------------------------- the sample


def _codes(*counts):
    return np.repeat(np.arange(len(counts)), counts)


def test_auto_never_samples_small_tables():
    # yeast4 (1,433 : 51) and a 10,000-row table at 3 % keep every row
    assert draw_sample(_codes(1433, 51), 2, "auto", 0) is None
    assert draw_sample(_codes(9666, 334), 2, "auto", 0) is None
    assert draw_sample(_codes(999_000, 1000), 2, None, 0) is None


def test_auto_sample_of_a_million_rows_at_1_to_1000():
    codes = _codes(999_000, 1000)
    sample = draw_sample(codes, 2, "auto", 0)
    assert sample.cap == 50 * 1000  # 50 x the smallest class (above the 20,000 floor)
    assert sample.kept == (50_000, 1000) and sample.counts == (999_000, 1000)
    assert np.bincount(codes[sample.index]).tolist() == [50_000, 1000]
    assert np.all(np.diff(sample.index) > 0)  # sorted, no repeats
    assert np.isin(np.flatnonzero(codes == 1), sample.index).all()  # every positive kept
    np.testing.assert_allclose(sample.factors, [999_000 / 50_000, 1.0])
    again = draw_sample(codes, 2, "auto", 0)
    assert again.config() == sample.config()  # seeded: the same rows, the same record
    other = draw_sample(codes, 2, "auto", 1)
    assert other.config()["rows_hash"] != sample.config()["rows_hash"]


def test_int_cap_and_floor_of_auto():
    codes = _codes(5000, 300, 3)
    sample = draw_sample(codes, 3, 1000, 0)
    assert sample.kept == (1000, 300, 3)
    assert draw_sample(codes, 3, "auto", 0) is None  # cap max(50 * 3, 20000) = 20000


def test_folds_of():
    assert folds_of(None, None) == 5
    assert folds_of(None, (50_000, 1000)) == 3  # 333 test rows of each class per fold
    assert folds_of(None, (50_000, 299)) == 5  # 99 per fold of 3: not enough
    assert folds_of(4, (50_000, 1000)) == 4  # the user's folds are kept


def test_check_subsample():
    assert _budget.check_subsample("auto") == "auto"
    assert _budget.check_subsample(None) is None
    assert _budget.check_subsample(500) == 500
    for bad in ("all", 1, 0):
        with pytest.raises(ValueError, match="subsample"):
            _budget.check_subsample(bad)
    with pytest.raises(TypeError, match="subsample"):
        _budget.check_subsample(2.5)


# --------------------------------------------------------------------- scores of the sample


@pytest.mark.parametrize("k", [2, 3])
def test_reweighed_scores_equal_scores_of_the_rows_they_stand_for(k):
    # integer factors: a test row of class c counted factors[c] times must score exactly as
    # the data with each such row repeated factors[c] times (a mathematical identity)
    rng = np.random.default_rng(k)
    y = rng.integers(0, k, size=60)
    y[:k] = np.arange(k)
    proba = rng.dirichlet(np.ones(k), size=60)
    pred = proba.argmax(axis=1)
    factors = np.array([4.0, 1.0, 2.0][:k])
    costs = np.ones((k, k)) - np.eye(k)
    costs[-1, 0] = 7.0
    row = fold_scores(y, pred, proba, k, costs)
    scores = stored_scores(y, proba, math.inf, 0)
    reweigh(row, scores, factors, costs)
    times = factors[y].astype(int)
    big_proba = np.repeat(np.round(proba, 5), times, axis=0)
    expected = fold_scores(np.repeat(y, times), np.repeat(pred, times), big_proba, k, costs)
    for name, value in expected["metrics"].items():
        assert row["metrics"][name] == pytest.approx(value, abs=1e-9), name
    assert row["confusion"] == fold_scores(y, pred, proba, k)["confusion"]  # real counts kept


def test_sampled_ensemble_scores_use_every_test_row():
    # the ensemble stores only max_scores=5 of its 40 test rows; its PR-AUC must still be the
    # weighted average precision of all 40 averaged probabilities
    from sklearn.metrics import average_precision_score

    from keras_imbalance.comparison._ensemble import Collector

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(30, dtype=int), np.ones(10, dtype=int)]
    probas = [rng.dirichlet([1, 1], size=40) for _ in range(2)]
    factors = np.array([5.0, 1.0])
    collector = Collector([("m", "a"), ("m", "b")], "m", 2, 5, {(0, 0): 0})
    collector.factors = factors
    base = {"model": "m", "repeat": 0, "fold": 0, "refit": True, "fit_seconds": 1.0, "n_val": 4}
    assert (
        collector.add({**base, "strategy": "a"}, stored_scores(y, probas[0], math.inf, 0)) is None
    )
    row = collector.add({**base, "strategy": "b"}, stored_scores(y, probas[1], math.inf, 0))
    mean = np.mean([np.round(p, 5) for p in probas], axis=0)
    expected = average_precision_score(y == 1, mean[:, 1], sample_weight=factors[y])
    assert row["metrics"]["pr_auc"] == pytest.approx(expected)
    assert len(row["scores"]["y"]) == 5  # what it stores is unchanged


def test_recall_metrics_do_not_move_with_the_factors():
    y = np.array([0, 0, 0, 0, 1, 1])
    pred = np.array([0, 1, 0, 0, 1, 0])
    proba = np.eye(2)[pred] * 0.8 + 0.1
    row = fold_scores(y, pred, proba, 2)
    before = dict(row["metrics"])
    reweigh(row, stored_scores(y, proba, math.inf, 0), np.array([20.0, 1.0]))
    assert row["metrics"]["balanced_accuracy"] == pytest.approx(before["balanced_accuracy"])
    assert row["metrics"]["geometric_mean"] == pytest.approx(before["geometric_mean"])
    assert row["metrics"]["macro_f1"] != pytest.approx(before["macro_f1"])


# ------------------------------------------------------------------------- the cost model

COST = CostModel(startup=10.0, per_task=1.0, dense=1e-6, conv=1e-4)


def _shape(**changes):
    base = dict(
        kept=(800, 200),
        counts=(800, 200),
        cv=5,
        n_splits=5,
        repeats=1,
        epochs=100,
        patience=10,
        strategies=4,
        models=(ModelCost(None, 32), ModelCost(50, 32)),
    )
    return Shape(**{**base, **changes})


def test_estimate_by_hand():
    # 800 training rows per fold; early-stopped model: 30 epochs x 8 copies, per row
    # 1e-6 * (1 + 32 / 32) = 2e-6; fixed model: 50 epochs x 5 copies; 5 tasks each
    per_task_mlp = 1.0 + 8 * 800 * 30 * 2e-6
    per_task_linear = 1.0 + 5 * 800 * 50 * 2e-6
    expected = 10.0 + 5 * (per_task_mlp + per_task_linear)
    assert estimate(_shape(), COST) == pytest.approx(expected)
    assert estimate(_shape(workers=2), COST) == pytest.approx(10.0 + (expected - 10.0) / 2)
    conv = _shape(models=(ModelCost(None, 784, conv=True),))
    assert estimate(conv, COST) == pytest.approx(10.0 + 5 * (1.0 + 8 * 800 * 30 * 1e-4))


def test_budget_cuts_repeats_first_exactly_as_far_as_needed():
    shape = _shape(repeats=3)
    one = estimate(_shape(repeats=1), COST)
    two = estimate(_shape(repeats=2), COST)
    plan = fit_budget((one + two) / 2, shape, COST)  # 2 repeats do not fit, 1 does
    assert plan.cuts == ("repeats 3 -> 1",)
    assert plan.shape.repeats == 1 and plan.shape.cv == 5 and plan.shape.epochs == 100
    assert plan.after == pytest.approx(one) and plan.before == pytest.approx(estimate(shape, COST))


def test_budget_that_fits_cuts_nothing():
    shape = _shape(repeats=3)
    plan = fit_budget(estimate(shape, COST), shape, COST)
    assert plan.cuts == () and plan.shape == shape


def test_budget_too_small_is_refused_with_its_estimate():
    with pytest.raises(ValueError, match="time_budget") as info:
        fit_budget(5.0, _shape(), COST)  # below the fixed start-up alone
    assert "\n" not in str(info.value) and "at least" in str(info.value)


#: the benchmark cases of issue 21 as the planner sees them (rows per class, inputs, models)
DENSE = (ModelCost(50, 8), ModelCost(None, 8))
CASES = {
    "yeast4": dict(kept=(1433, 51), counts=(1433, 51), strategies=17, models=DENSE),
    "table10k": dict(
        kept=(9666, 334), counts=(9666, 334), strategies=17,
        models=(ModelCost(50, 10), ModelCost(None, 10)),
    ),
    "fraud1m": dict(
        kept=(50_000, 1000), counts=(999_000, 1000), cv=3, n_splits=3, strategies=17,
        models=(ModelCost(50, 30), ModelCost(None, 30)),
    ),
    "images745": dict(
        kept=(300, 180, 108, 65, 39, 23, 14, 8, 5, 3),
        counts=(300, 180, 108, 65, 39, 23, 14, 8, 5, 3), strategies=17,
        models=(ModelCost(None, 784, conv=True),),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("minutes", [0.5, 1, 3, 10, 60])
@pytest.mark.parametrize("repeats", [1, 3])
def test_planner_keeps_the_benchmark_cases_within_budget(case, minutes, repeats):
    cost = CostModel()  # the calibrated one
    shape = _shape(repeats=repeats, **CASES[case])
    seconds = 60 * minutes
    try:
        plan = fit_budget(seconds, shape, cost)
    except ValueError as exc:  # even the smallest plan is over: refused, never overrun
        smallest = _shape(
            **{**CASES[case], "repeats": 1, "cv": 3, "n_splits": 3, "epochs": 15}
        ).with_cap(max(1000, 2 * min(CASES[case]["counts"])))
        assert estimate(smallest, cost) > seconds
        assert "time_budget" in str(exc)
        return
    assert estimate(plan.shape, cost) <= 1.2 * seconds
    assert plan.after <= seconds
    if estimate(shape, cost) <= seconds:
        assert plan.cuts == ()
    else:
        assert plan.cuts  # it says what it cut
        # nothing is cut beyond need: the step before the last cut was over budget
        assert plan.before > seconds
    # only the sample's largest classes shrink; every row of the small ones stays
    smallest = min(plan.shape.counts)
    assert min(plan.shape.kept) == min(smallest, max(plan.shape.kept))


# ------------------------------------------------------------------- compare end to end


def _table(n_neg=600, n_pos=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n_neg, dtype=int), np.ones(n_pos, dtype=int)]
    x = rng.normal(size=(y.size, 3)) + y[:, None] * 1.5
    return x.astype("float32"), y


FAST = dict(
    strategies=["balanced"], epochs=2, patience=1, references=False, model_fn="linear", cv=2
)


def _fast(**kw):
    from keras_imbalance.comparison import DEFAULT_MODELS

    return {**FAST, "model_fn": {"linear": DEFAULT_MODELS["linear"]}, **kw}


def test_compare_sampled_search_says_what_it_sampled(tmp_path):
    x, y = _table()
    path = tmp_path / "r.jsonl"
    result = compare(x, y, subsample=100, results_path=path, **_fast())
    sample = result.config["subsample"]
    assert sample["kept"] == [100, 40] and sample["of"] == [600, 40] and sample["cap"] == 100
    assert result.config["data"]["n_samples"] == 640  # the config describes the whole data
    assert result.config["data"]["class_counts"] == [600, 40]
    assert "100 of 600" in result.leaderboard.attrs["subsample"]
    assert "100 of 600" in result.recommendation["text"]
    assert result.recommendation["subsample"]["kept"] == [100, 40]
    folds = result.folds
    assert folds.groupby(["model", "strategy"])["n_test"].sum().unique().tolist() == [140]
    # the stored rows are rescored: class 0's test rows count 6 times each
    from keras_imbalance.metrics import from_confusion

    for row in result.rows:
        cm = np.asarray(row["confusion"], dtype=float) * np.array([[6.0], [1.0]])
        assert row["metrics"]["matthews_correlation"] == pytest.approx(
            from_confusion(cm, "matthews_correlation")
        )
    result.to_html(tmp_path / "r.html")  # the report says it (in the recommendation)
    assert "100 of 600" in (tmp_path / "r.html").read_text()
    # the sample is fingerprinted, and it comes back with load_results
    again = _compare.load_results(path)
    assert "100 of 600" in again.leaderboard.attrs["subsample"]
    with pytest.raises(ValueError, match="subsample"):
        compare(x, y, subsample=None, results_path=path, **_fast())


def test_reference_rows_of_a_sampled_search_are_rescored_like_the_keras_rows():
    # the best reference is compared with the recommendation on one scale: its MCC and
    # PR-AUC are those of the whole class too (class 0's test rows count 6 times each)
    from sklearn.metrics import average_precision_score

    from keras_imbalance.metrics import from_confusion

    x, y = _table()
    result = compare(x, y, subsample=100, **_fast(references=["logistic"]))
    refs = [row for row in result.rows if row.get("reference")]
    assert len(refs) == 2
    for row in refs:
        cm = np.asarray(row["confusion"], dtype=float) * np.array([[6.0], [1.0]])
        assert row["metrics"]["matthews_correlation"] == pytest.approx(
            from_confusion(cm, "matthews_correlation")
        )
        scores = row["scores"]  # every test row is stored here (70 < max_scores)
        y_test = np.asarray(scores["y"])
        assert y_test.size == row["n_test"]
        weight = np.where(y_test == 0, 6.0, 1.0)
        positive = np.asarray(scores["proba"])  # binary: P(class 1) is stored
        assert row["metrics"]["pr_auc"] == pytest.approx(
            average_precision_score(y_test, positive, sample_weight=weight)
        )


def test_fit_recommended_trains_on_every_row():
    x, y = _table()
    result = compare(x, y, subsample=100, **_fast())
    model = result.fit_recommended(x, y, model_fn=_fast()["model_fn"])
    assert model.predict(x, verbose=0).shape == (640, 2)


def test_default_plan_of_small_data_is_unchanged():
    # the README job's plan: no sample, 5 folds, and the same fingerprinted config as the
    # explicit call before `subsample` and `cv=None` existed
    from keras_imbalance.datasets import load_dataset

    x, y = load_dataset("yeast4")
    kind = KINDS["multiclass"]
    settings = _compare._settings_of(
        kind,
        None,
        {"metric": None, "epochs": 100, "batch_size": "auto", "patience": 10,
         "validation_fraction": 0.2, "refit": True, "standardize": True, "random_state": 0,
         "max_scores": 2000, "jit_compile": "auto", "packed": True},
    )  # fmt: skip
    fixed = {"strategies": None, "model_fn": None, "repeats": 1, "settings": settings}
    default = _plan.plan(kind, x, y, **fixed, cv=None, subsample="auto")
    before = _plan.plan(kind, x, y, **fixed, cv=5, subsample=None)
    assert default.sample is None and default.budget is None and len(default.splits) == 5
    assert "subsample" not in default.config and "budget" not in default.config
    assert _results.fingerprint(default.config) == _results.fingerprint(before.config)


def test_compare_time_budget(tmp_path):
    x, y = _table()
    with pytest.raises(ValueError, match="time_budget"):
        compare(x, y, time_budget="10x", **_fast())
    with pytest.raises(ValueError, match="time_budget"):
        compare(x, y, time_budget=-1, **_fast())
    path = tmp_path / "r.jsonl"
    result = compare(x, y, time_budget="1h", results_path=path, **_fast(repeats=2))
    assert result.config["budget"]["cuts"] == [] and result.config["repeats"] == 2
    assert "Time budget 1h00m" in result.recommendation["text"]
    # the budget is not fingerprinted: the same plan resumes without it
    compare(x, y, results_path=path, **_fast(repeats=2))


def test_compare_time_budget_cuts_into_the_config(monkeypatch):
    x, y = _table()
    slow = CostModel(startup=1.0, per_task=1.0, dense=1e-3, conv=1e-3)
    monkeypatch.setattr(_budget, "CostModel", lambda: slow)
    shape = Shape(
        kept=(600, 40), counts=(600, 40), cv=2, n_splits=2, repeats=2, epochs=2, patience=1,
        strategies=3, models=(ModelCost(50, 3),),
    )  # fmt: skip
    budget = estimate(replace_repeats(shape, 1), slow) + 0.5
    result = compare(x, y, time_budget=budget, **_fast(repeats=2))
    assert result.config["budget"]["cuts"] == ["repeats 2 -> 1"]
    assert result.config["repeats"] == 1 and result.folds["repeat"].max() == 0
    assert "repeats 2 -> 1" in result.leaderboard.attrs["budget"]


def replace_repeats(shape, repeats):
    from dataclasses import replace

    return replace(shape, repeats=repeats)


def test_subsample_int_refused_for_given_splits():
    x, y = _table()
    splits = [(np.arange(0, 640, 2), np.arange(1, 640, 2))]
    with pytest.raises(ValueError, match="subsample"):
        compare(x, y, subsample=100, **{**_fast(), "cv": splits})


# ------------------------------------------------------------------------------- the CLI


@pytest.fixture()
def table_csv(tmp_path):
    import pandas as pd

    x, y = _table()
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["label"] = np.where(y == 1, "pos", "neg")
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    ("flag", "value"), [("--budget", "10x"), ("--budget", "-1"), ("--budget", "0"),
                        ("--subsample", "all"), ("--subsample", "1")],
)  # fmt: skip
def test_cli_bad_budget_one_line_exit_2(table_csv, tmp_path, capsys, monkeypatch, flag, value):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", table_csv, "--target", "label", flag, value]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and flag in err and repr(value) in err
    assert not list(tmp_path.glob("*-results.jsonl"))  # refused before any work


def test_cli_subsample_and_budget(table_csv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["compare", table_csv, "--target", "label", "--strategies", "balanced", "--cv", "2",
            "--epochs", "2", "--references", "none", "--subsample", "100", "--budget", "2h",
            "--save-model", "m.keras"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "100 of 600" in captured.err and "Time budget 2h00m" in captured.err
    assert "on all 640 rows" in captured.err
    header = json.loads((tmp_path / "t-results.jsonl").read_text().splitlines()[0])
    assert header["config"]["subsample"]["kept"] == [100, 40]
    assert header["config"]["budget"]["seconds"] == 7200
