"""Reference rows (classical pipelines on the same folds), chance level, the recommendation's
summary in numbers and the leaderboard's order (keras_imbalance.comparison._references,
._verdict)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from keras_imbalance.comparison import _references, _verdict, compare, linear_model, load_results
from keras_imbalance.comparison._results import fingerprint

CV, REPEATS = 3, 2


def _data(n_neg=90, n_pos=24, seed=0):
    """A table whose positives lie beyond a threshold on x0 (with overlap from noise)."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n_neg, int), np.ones(n_pos, int)]
    x = rng.normal(size=(y.size, 3))
    x[:, 0] += 1.5 * y
    return x, y


def _quick(x, y, **kw):
    """The cheapest comparison: the linear model only, 2 epochs, no ensemble."""
    kw.setdefault("strategies", ["balanced"])
    return compare(
        x,
        y,
        model_fn={"linear": linear_model},
        cv=CV,
        repeats=REPEATS,
        epochs=2,
        n_jobs=1,
        **kw,
    )


@pytest.fixture(scope="module")
def with_lr(tmp_path_factory):
    """A comparison with a fixed classifier of our own as its only reference, and its file."""
    x, y = _data()
    path = tmp_path_factory.mktemp("ref") / "results.jsonl"
    result = _quick(x, y, references={"lr": LogisticRegression(max_iter=1000)}, results_path=path)
    return x, y, path, result


def test_reference_rows_are_scored_on_the_same_folds_as_scikit_learn_cross_validation(with_lr):
    x, y, _, result = with_lr
    folds = result.folds
    ref = folds[folds["model"] == "reference:lr"]
    keras = folds[folds["model"] == "linear"]
    assert len(ref) == CV * REPEATS
    # the same (repeat, fold) pairs and test rows per class as the Keras candidates
    pairs = {(r, f) for r, f in zip(ref["repeat"], ref["fold"], strict=True)}
    assert pairs == {(r, f) for r, f in zip(keras["repeat"], keras["fold"], strict=True)}
    splitter = RepeatedStratifiedKFold(n_splits=CV, n_repeats=REPEATS, random_state=0)
    for i, (train, test) in enumerate(splitter.split(x, y)):
        repeat, fold = divmod(i, CV)
        pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        pred = pipe.fit(x[train], y[train]).predict(x[test])
        row = ref[(ref["repeat"] == repeat) & (ref["fold"] == fold)].iloc[0]
        np.testing.assert_array_equal(np.asarray(row["confusion"]), confusion_matrix(y[test], pred))
        assert row["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y[test], pred))
        assert row["n_fit"] == train.size and row["n_test"] == test.size
        other = keras[(keras["repeat"] == repeat) & (keras["fold"] == fold)]
        assert all(np.asarray(c).sum() == test.size for c in other["confusion"])


def test_reference_rows_in_the_leaderboard_and_the_results_file(with_lr):
    _, _, path, result = with_lr
    board = result.leaderboard
    ref = board[board["model"] == "reference:lr"]
    assert len(ref) == 1 and ref["reference"].all() and ref["strategy"].iloc[0] == "classical"
    assert not board.loc[board["model"] != "reference:lr", "reference"].any()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    stored = [r for r in lines if r.get("model") == "reference:lr"]
    assert len(stored) == CV * REPEATS and all(r["reference"] for r in stored)
    assert "LogisticRegression(max_iter=1000)" in lines[0]["config"]["references"]["lr"]
    assert load_results(path).leaderboard["reference"].sum() == 1


def test_a_reference_is_never_recommended_even_when_it_is_best():
    # a tree finds the rule |x0| > 1.5 (a gap around it) exactly; a linear model cannot
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 2))
    x = x[np.abs(np.abs(x[:, 0]) - 1.5) > 0.2][:150]
    y = (np.abs(x[:, 0]) > 1.5).astype(int)
    result = _quick(x, y, references={"tree": DecisionTreeClassifier(random_state=0)})
    board, rec = result.leaderboard, result.recommendation
    top = board.sort_values("rank").iloc[0]
    assert top["model"] == "reference:tree" and top["mean"] == pytest.approx(1.0)
    assert not rec["winner_model"].startswith("reference:")
    assert board.iloc[0]["recommended"] and not board.iloc[0]["reference"]
    best = rec["best_reference"]
    assert best["name"] == "tree" and best["mean"] == pytest.approx(1.0)
    winner = board.iloc[0]
    assert best["mean_difference"] == pytest.approx(winner["mean"] - 1.0)
    assert best["standing"] in ("within noise", "the reference is better beyond noise")
    assert "Best reference: tree" in rec["text"]


def test_random_labels_say_chance_and_beats_chance_false():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(150, 4))
    y = rng.permutation(np.r_[np.zeros(100, int), np.ones(50, int)])
    result = _quick(x, y, references=False)
    rec = result.recommendation
    assert rec["chance_level"] == 0.5 and rec["beats_chance"] is False
    assert "No candidate beats chance level beyond noise" in rec["text"]
    assert "Chance level: balanced_accuracy 0.500" in rec["summary"][-2]
    assert rec["best_reference"] is None
    assert not result.leaderboard["reference"].any()


def test_summary_has_at_most_five_lines_before_the_prose(with_lr):
    rec = with_lr[3].recommendation
    lines = rec["text"].split("\n")
    assert 4 <= len(rec["summary"]) <= 5 and lines[: len(rec["summary"])] == rec["summary"]
    assert lines[len(rec["summary"])].startswith("Use ")
    assert rec["summary"][0].startswith("Recommended: ")
    assert rec["summary"][1].startswith("Gain over 'none'")
    assert rec["summary"][-1].startswith("Firmer evidence: ")


def test_summary_says_why_in_five_lines_without_references_and_without_none():
    x, y = _data()
    # no references, and no `none` row to pair with: each topic still has its line
    rec = _quick(x, y, references=False, strategies=["balanced", "random_under"]).recommendation
    starts = ("Recommended: ", "Gain over ", "Best reference: none run", "Chance level: ")
    assert len(rec["summary"]) == 5
    for line, start in zip(rec["summary"], (*starts, "Firmer evidence: "), strict=True):
        assert line.startswith(start), (line, start)
    assert rec["text"].split("\n")[:5] == rec["summary"]


@pytest.mark.parametrize("k", [2, 3, 5])
def test_chance_levels_match_a_feature_blind_predictor(k):
    rng = np.random.default_rng(k)
    counts = np.array([7, 2, 1, 4, 6][:k]) * 40_000
    y = np.repeat(np.arange(k), counts)
    config = {"data": {"class_counts": counts.tolist()}}
    x = np.zeros((y.size, 1))

    def level(metric):
        return _verdict.chance_level(metric, config)[0]

    def guess(strategy):
        return DummyClassifier(strategy=strategy, random_state=0).fit(x, y).predict(x)

    uniform, stratified = guess("uniform"), guess("stratified")
    recalls = np.diag(confusion_matrix(y, uniform, normalize="true"))
    assert level("balanced_accuracy") == pytest.approx(1 / k)
    assert balanced_accuracy_score(y, uniform) == pytest.approx(
        level("balanced_accuracy"), abs=0.01
    )
    assert np.exp(np.log(recalls).mean()) == pytest.approx(level("geometric_mean"), abs=0.01)
    assert f1_score(y, stratified, average="macro") == pytest.approx(level("macro_f1"), abs=0.01)
    assert level("matthews_correlation") == 0.0
    share = counts / counts.sum()
    assert level("pr_auc") == pytest.approx(share.min() if k == 2 else 1 / k)
    del rng


def test_chance_level_of_a_cost_is_the_cheapest_constant_prediction():
    costs = [[0.0, 1.0], [50.0, 0.0]]  # a missed positive costs 50
    config = {"data": {"class_counts": [90, 10]}, "settings": {"costs": costs}}
    # predict all negative: 0.1 * 50 = 5; all positive: 0.9 * 1 = 0.9
    assert _verdict.chance_level("expected_cost", config)[0] == pytest.approx(0.9)
    ml = {"target": "multilabel", "data": {"class_counts": [10, 30], "n_samples": 100}}
    assert _verdict.chance_level("macro_f1", ml)[0] == pytest.approx(
        np.mean([2 * 0.1 / 1.1, 2 * 0.3 / 1.3])
    )
    assert (
        _verdict.chance_level(
            "mean_iou", {"target": "segmentation", "data": {"class_counts": [5, 5]}}
        )[0]
        is None
    )


def test_the_recommended_row_is_first_ties_included():
    board = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "model": ["m", "m", "m"],
            "strategy": ["a", "b", "ensemble"],
            "mean": [0.8, 0.8, 0.8],  # a three-way tie
        }
    )
    out = _verdict.ordered(board, {"winner_model": "m", "winner_strategy": "ensemble"})
    assert list(out["strategy"]) == ["ensemble", "a", "b"] and list(out["rank"]) == [3, 1, 2]
    assert list(out["recommended"]) == [True, False, False]
    assert list(out.columns[:5]) == ["rank", "model", "strategy", "reference", "recommended"]


def test_the_recommended_row_is_first_in_the_printed_table(with_lr):
    from rich.console import Console

    from keras_imbalance._cli._compare import print_leaderboard

    result = with_lr[3]
    console = Console(record=True, width=200)
    print_leaderboard(result, console, top=10)
    body = [line for line in console.export_text().splitlines() if "│" in line]
    assert "(recommended)" in body[0] and "(recommended)" not in "".join(body[1:])
    assert result.leaderboard.iloc[0]["recommended"]


def test_a_results_file_without_references_resumes_with_them(tmp_path):
    x, y = _data(seed=3)
    path = tmp_path / "r.jsonl"
    before = _quick(x, y, references=False, results_path=path)
    header = json.loads(path.read_text().splitlines()[0])
    assert "references" not in header["config"]
    old_rows = path.read_text().splitlines()[1:]
    old_file = tmp_path / "old.jsonl"
    old_file.write_text(path.read_text())
    calls = []
    after = _quick(
        x,
        y,
        references={"lr": LogisticRegression(max_iter=1000)},
        results_path=path,
        progress=lambda done, total, row: calls.append(row["model"]),
    )
    # only the reference rows were fitted; the Keras rows came from the file unchanged
    assert calls == ["reference:lr"] * (CV * REPEATS)
    assert path.read_text().splitlines()[1 : len(old_rows) + 1] == old_rows
    keras = after.folds[after.folds["model"] == "linear"].reset_index(drop=True)
    pd.testing.assert_frame_equal(keras, before.folds.reset_index(drop=True), check_dtype=False)
    # a file without reference rows loads: the column is there, all False
    old = load_results(old_file)
    assert len(old.leaderboard) == len(before.leaderboard)
    assert not old.leaderboard["reference"].any()
    assert fingerprint({"a": 1}) == fingerprint({"a": 1, "references": {"lr": "x"}})


def test_a_reference_whose_pipeline_changed_is_fitted_again(tmp_path):
    x, y = _data(seed=4)
    path = tmp_path / "r.jsonl"
    _quick(x, y, references={"lr": LogisticRegression(max_iter=1000)}, results_path=path)
    calls = []
    result = _quick(
        x,
        y,
        references={"lr": LogisticRegression(C=0.01, max_iter=1000)},
        results_path=path,
        progress=lambda done, total, row: calls.append(row["model"]),
    )
    assert calls == ["reference:lr"] * (CV * REPEATS)
    rows = [r for r in result.rows if r["model"] == "reference:lr"]
    assert len(rows) == CV * REPEATS and all("C=0.01" in r["pipeline"] for r in rows)


def test_large_training_folds_are_sampled_and_the_row_says_so(monkeypatch):
    y = np.repeat([0, 1, 2], [500, 60, 5])
    keep = _references.sample(y, 100, seed=0)
    counts = np.bincount(y[keep])
    # about 100 rows, in the data's shares, and every class keeps min(its rows, 10)
    assert counts.tolist() == [round(500 * 100 / 565), 11, 5]
    assert _references.sample(y, 1000, seed=0) is None
    monkeypatch.setattr(_references, "MAX_ROWS", 40)
    x, yy = _data()
    result = _quick(x, yy, references=["logistic"])
    rows = [r for r in result.rows if r["model"] == "reference:logistic"]
    assert all("stratified sample of" in r["note"] and r["n_fit"] < 50 for r in rows)
    assert "sample" in result.leaderboard.set_index("model").loc["reference:logistic", "note"]


def test_bad_references_get_one_clear_line():
    x, y = _data()
    with pytest.raises(ValueError, match=r"`references`.*'logistic'.*Received: references"):
        _quick(x, y, references=["forest"])
    with pytest.raises(TypeError, match="references"):
        _quick(x, y, references=3)
    with pytest.raises(TypeError, match="predict_proba"):
        _quick(x, y, references={"svm": object()})
    multilabel = (np.random.default_rng(0).random((60, 3)) < 0.4).astype(int)
    multilabel[0] = [1, 1, 0]
    with pytest.raises(ValueError, match="one class per row"):
        compare(np.zeros((60, 2)), multilabel, references=["logistic"], epochs=1)


def test_default_references_run_on_tables_only():
    x, y = _data()
    assert list(_references.resolve(None, "multiclass", x, None)) == [
        "logistic",
        "balanced_rf",
        "smote_knn",
    ]
    assert _references.resolve(None, "multiclass", np.zeros((4, 2, 2)), None) == {}
    assert _references.resolve(None, "multilabel", x, None) == {}
    assert _references.resolve((), "multiclass", x, None) == {}


def test_cli_references_flag(tmp_path, capsys, monkeypatch):
    from keras_imbalance.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["compare", "ecoli3", "--references", "forest"]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "references" in errors[0] and "balanced_rf" in errors[0]
    fast = ["--strategies", "balanced", "--cv", "2", "--epochs", "2", "--jobs", "1"]
    assert main(["compare", "ecoli3", *fast, "--references", "logistic"]) == 0
    captured = capsys.readouterr()
    assert "Best reference: logistic" in captured.out
    assert "reference:logistic" in captured.out + captured.err  # the leaderboard's table
    lines = [
        json.loads(line) for line in (tmp_path / "ecoli3-results.jsonl").read_text().splitlines()
    ]
    assert sum(r.get("model") == "reference:logistic" for r in lines) == 2
    assert "reference:logistic" in (tmp_path / "ecoli3-report.html").read_text()


def test_references_with_costs_and_on_a_raw_table():
    x, y = _data(seed=6)
    result = _quick(x, y, costs={1: 5.0}, references=["logistic"])
    rows = [r for r in result.rows if r["model"] == "reference:logistic"]
    assert len(rows) == CV * REPEATS and all("expected_cost" in r["metrics"] for r in rows)
    # chance: the cheaper constant prediction, all negative (24/114 * 5) or all positive (90/114)
    assert result.recommendation["chance_level"] == pytest.approx(min(24 * 5.0, 90.0) / 114)
    # a raw table (a category, gaps): the references see the Keras rows' encoding
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "blue", "green"], 80),
            "size": np.where(rng.random(80) < 0.1, np.nan, rng.normal(size=80)),
        }
    )
    labels = np.r_[np.zeros(60, int), np.ones(20, int)]
    table = _quick(frame, labels, references=["logistic", "smote_knn"])
    refs = table.folds[table.folds["model"].str.startswith("reference:")]
    assert len(refs) == 2 * CV * REPEATS and refs["balanced_accuracy"].notna().all()


def test_without_refit_references_train_on_the_same_fit_part():
    x, y = _data(seed=7)
    result = _quick(x, y, refit=False, references=["logistic"])
    folds = result.folds
    for _, part in folds.groupby(["repeat", "fold"]):
        n_fit = dict(zip(part["model"], part["n_fit"], strict=True))
        keras = part[part["strategy"] == "balanced"]["n_fit"].iloc[0]
        assert n_fit["reference:logistic"] == keras < part["n_test"].iloc[0] * (CV - 1)
    assert not any(r["refit"] for r in result.rows if r["model"] == "reference:logistic")


def _stored(path) -> list:
    """The results file's rows without their timings."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        row.pop("fit_seconds", None)
    return rows


def test_references_in_a_thread_beside_the_keras_folds_write_the_same_rows(tmp_path, monkeypatch):
    from keras_imbalance.comparison import _run

    x, y = _data(seed=5)
    refs = {"lr": LogisticRegression(max_iter=1000), "tree": DecisionTreeClassifier()}
    assert _run._side_thread([_references.ReferenceTask(*[None] * 8), object()], 1)
    threaded = _quick(x, y, references=refs, results_path=tmp_path / "a.jsonl")
    monkeypatch.setattr(_run, "_side_thread", lambda tasks, n_jobs: False)
    queued = _quick(x, y, references=refs, results_path=tmp_path / "b.jsonl")
    # the same lines in the same order (reference rows last), the same leaderboard
    assert _stored(tmp_path / "a.jsonl") == _stored(tmp_path / "b.jsonl")
    pd.testing.assert_frame_equal(threaded.leaderboard, queued.leaderboard)


class _Broken(LogisticRegression):
    def fit(self, x, y):
        raise RuntimeError("broken reference")


def test_a_reference_that_fails_in_its_thread_raises_in_the_caller(tmp_path):
    x, y = _data(seed=6)
    with pytest.raises(RuntimeError, match="broken reference"):
        _quick(x, y, references={"bad": _Broken()}, results_path=tmp_path / "r.jsonl")
    # the Keras rows that finished are kept; no reference row was written
    rows = _stored(tmp_path / "r.jsonl")[1:]
    assert rows and all(r["model"] == "linear" for r in rows)
