"""Ensemble selection (keras_imbalance.comparison._ensemble.select / Selector): greedy forward
selection with replacement on the validation rows, scored on the test fold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from keras_imbalance.comparison import TrainingSettings, compare
from keras_imbalance.comparison._ensemble import (
    AVERAGE_STRATEGY,
    balanced_log_likelihood,
    rows_digest,
    select,
)
from keras_imbalance.comparison._scoring import proba_matrix
from keras_imbalance.metrics import geometric_mean

# --------------------------------------------------------------------------------------------
# select: hand-computed values, identities, properties
# --------------------------------------------------------------------------------------------

Y = np.array([0, 0, 1, 1])
GOOD = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])  # every row right


def test_a_perfect_member_takes_every_round():
    weights = select(Y, [GOOD[:, ::-1], GOOD], "balanced_accuracy", rounds=5)
    assert weights.tolist() == [0.0, 1.0]


def test_two_members_that_err_on_different_rows_are_averaged():
    # a is wrong on row 3 only (barely), b on row 2 only (barely): each scores a balanced
    # accuracy of 0.75; their average is right on all four rows (hand-computed below)
    a = np.array([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.55, 0.45]])
    b = np.array([[0.9, 0.1], [0.9, 0.1], [0.55, 0.45], [0.1, 0.9]])
    avg = (a + b) / 2  # rows 2, 3: P(1) = 0.675
    assert np.argmax(avg, axis=1).tolist() == Y.tolist()
    # round 1: tie on the metric (0.75); the balanced log-likelihood decides:
    # a: class 1 mean(log .9, log .45); b: the same for class 1 -> tie again -> a (first)
    # round 2: a + b is perfect (1.0), a + a stays at 0.75
    weights = select(Y, [a, b], "balanced_accuracy", rounds=2)
    assert weights.tolist() == [0.5, 0.5]


def test_a_start_is_counted_and_smooth_ranks_by_log_likelihood_first():
    a = np.array([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.55, 0.45]])
    b = np.array([[0.9, 0.1], [0.9, 0.1], [0.55, 0.45], [0.1, 0.9]])
    # from one a, one round: a + b is perfect, a + a is not -> counts (1, 1)
    assert select(Y, [a, b], "balanced_accuracy", rounds=1, start=[1, 0]).tolist() == [0.5, 0.5]
    assert select(Y, [a, b], "balanced_accuracy", rounds=0, start=[2, 1]).tolist() == [
        pytest.approx(2 / 3),
        pytest.approx(1 / 3),
    ]
    # c is right on every row but barely (balanced accuracy 1, log-likelihood log .51);
    # d is wrong on row 3 only, confidently right elsewhere: (log .99 * 2 / 2 + (log .99
    # + log .4) / 2) / 2 = -0.239 > log .51 = -0.673. The metric takes c, smooth takes d
    c = np.array([[0.51, 0.49], [0.51, 0.49], [0.49, 0.51], [0.49, 0.51]])
    d = np.array([[0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.6, 0.4]])
    assert select(Y, [c, d], "balanced_accuracy", rounds=1).tolist() == [1.0, 0.0]
    assert select(Y, [c, d], "balanced_accuracy", rounds=1, smooth=True).tolist() == [0.0, 1.0]


def test_one_member_gets_weight_one_and_weights_sum_to_one():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 40)
    probas = rng.dirichlet(np.ones(3), size=(5, 40))
    assert select(y, probas[:1], "macro_f1", rounds=7).tolist() == [1.0]
    w = select(y, probas, "geometric_mean", rounds=25)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w * 25, np.round(w * 25), atol=1e-9)  # counts over 25 rounds
    # deterministic: the same call gives the same weights
    assert np.array_equal(w, select(y, probas, "geometric_mean", rounds=25))


def test_the_selected_average_is_no_worse_than_the_best_member_on_validation():
    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(30, int), np.ones(8, int)]
    probas = rng.dirichlet(np.ones(2), size=(6, y.size))
    probas[:, y == 1] = 0.5 * probas[:, y == 1] + 0.5 * np.array([0.2, 0.8])
    w = select(y, probas, "geometric_mean", rounds=10)
    avg = np.tensordot(w, probas, axes=1)

    def gmean(p):
        return geometric_mean(y, np.argmax(p, axis=1))

    # the first round picks the best member; later rounds keep the score >= that (greedy
    # may accept a lower one only when no addition keeps it: check on this data)
    assert gmean(avg) >= max(gmean(p) for p in probas) - 1e-12


def test_expected_cost_is_minimised_with_the_cost_matrix():
    # costs: missing a positive costs 10, a false alarm 1 (Bayes rule: predict 1 when
    # 10 p1 > p0). a = (.97, .03) predicts 0 everywhere: cost 2 * 10 / 4 = 5; b = (.4, .6)
    # predicts 1 everywhere: cost 2 * 1 / 4 = 0.5. Round 1 takes b; round 2: a + b
    # (.685, .315) still predicts 1 (same cost 0.5), b + b too: the tie-break, the balanced
    # log-likelihood, is (log .4 + log .6) / 2 = -0.714 for b + b against
    # (log .685 + log .315) / 2 = -0.767 for a + b: b again
    a = np.tile([0.97, 0.03], (4, 1))
    b = np.tile([0.4, 0.6], (4, 1))
    costs = [[0.0, 1.0], [10.0, 0.0]]
    assert select(Y, [a, b], "expected_cost", costs=costs, rounds=2).tolist() == [0.0, 1.0]
    # without the costs (G-mean of argmax) a and b tie at 0; the tie-break takes b
    # (-0.714 against (log .97 + log .03) / 2 = -1.77); two equal members: the first
    assert select(Y, [a, b], "geometric_mean", rounds=1).tolist() == [0.0, 1.0]
    assert select(Y, [b, b], "geometric_mean", rounds=1).tolist() == [1.0, 0.0]


def test_balanced_log_likelihood_by_hand():
    # class 0 rows: log .9, log .8; class 1 rows: log .7, log .6
    expected = 0.5 * (np.log(0.9) + np.log(0.8)) / 2 + 0.5 * (np.log(0.7) + np.log(0.6)) / 2
    assert balanced_log_likelihood(Y, GOOD) == pytest.approx(expected)


def test_settings_refuse_an_unknown_ensemble_in_one_line():
    with pytest.raises(ValueError, match=r"`ensemble`.*'average', 'selection', 'both'.*'best'"):
        TrainingSettings(ensemble="best")
    assert "ensemble" not in TrainingSettings().config()  # old results files still resume
    assert TrainingSettings(ensemble="both").config()["ensemble"] == "both"


# --------------------------------------------------------------------------------------------
# in compare: validation rows, weights, test scores, resume
# --------------------------------------------------------------------------------------------


def _data(seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(80, int), np.ones(20, int)]
    x = rng.normal(size=(y.size, 4))
    x[:, 0] += 1.5 * y
    return x, y


def _run(path=None, ensemble="both", **kw):
    x, y = _data()
    settings = TrainingSettings(
        metric="geometric_mean", epochs=4, patience=2, ensemble=ensemble, max_scores=10**6
    )
    return compare(
        x,
        y,
        strategies=["none", "none+threshold", "balanced", "random_under", "ensemble"],
        cv=2,
        settings=settings,
        n_jobs=1,
        references=False,
        results_path=path,
        **kw,
    )


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    path = tmp_path_factory.mktemp("sel") / "results.jsonl"
    return _run(path), path


def test_selection_members_are_every_refitted_copy_validated_on_the_same_rows(both):
    result, _ = both
    rows = result.rows
    selected = [r for r in rows if r["strategy"] == "ensemble"]
    assert {r["model"] for r in selected} == {"linear", "mlp", "linear+mlp"}
    joint = [r for r in selected if r["model"] == "linear+mlp"]
    for r in joint:
        # none+threshold decides by a tuned threshold: not a member; none, balanced are
        assert r["members"] == [
            f"{m}:{s}" for m in ("linear", "mlp") for s in ("none", "balanced", "random_under")
        ]
        assert sum(r["weights"]) == pytest.approx(1.0)
    for fold in {(r["repeat"], r["fold"]) for r in rows}:
        members = [
            r
            for r in rows
            if (r["repeat"], r["fold"]) == fold
            and r["strategy"] in ("none", "balanced", "random_under")
        ]
        assert len({r["validation"]["rows"] for r in members}) == 1
        assert len({tuple(r["validation"]["y"]) for r in members}) == 1
        assert len(members[0]["validation"]["y"]) == members[0]["n_val"]


def test_the_selection_row_is_the_weighted_average_of_its_members_test_probabilities(both):
    result, _ = both
    rows = {(r["model"], r["strategy"], r["repeat"], r["fold"]): r for r in result.rows}
    for r in result.rows:
        if r["strategy"] != "ensemble":
            continue
        parts = [rows[(*m.split(":"), r["repeat"], r["fold"])] for m in r["members"]]
        proba = sum(
            w * proba_matrix(p["scores"], 2) for w, p in zip(r["weights"], parts, strict=True)
        )
        y = np.asarray(r["scores"]["y"])
        pred = np.argmax(proba, axis=1)
        assert r["metrics"]["geometric_mean"] == pytest.approx(geometric_mean(y, pred))
        np.testing.assert_allclose(proba_matrix(r["scores"], 2), proba, atol=1e-5)


def test_both_keeps_the_fixed_average_as_its_own_row(both):
    result, _ = both
    average = [r for r in result.rows if r["strategy"] == AVERAGE_STRATEGY]
    assert len(average) == 3 * 2  # 3 ensembles (joint, each model's) x 2 folds
    assert all("weights" not in r for r in average)
    reference = _run(ensemble="average")
    assert all("validation" not in r for r in reference.rows)
    # the mlp's copies are the same fits with or without selection (the same pack; the
    # linear model's pack holds more fit-part copies, whose sums differ in the last bits)
    old = {r["key"]: r for r in reference.rows}
    for r in result.rows:
        if r["model"] == "mlp" and r["strategy"] in ("none", "balanced", "random_under"):
            assert r["metrics"] == pytest.approx(old[r["key"]]["metrics"], abs=1e-6)
    # and the average row of "both" is the "ensemble" row of "average" (mlp's own)
    for r in average:
        if r["model"] != "mlp":
            continue
        twin = old[r["key"].replace(f"|{AVERAGE_STRATEGY}|", "|ensemble|")]
        assert r["metrics"] == pytest.approx(twin["metrics"], abs=1e-6)


def test_a_resumed_run_builds_the_same_selection_from_the_file(both, tmp_path):
    result, path = both
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    kept = [r for r in lines if r.get("strategy") != "ensemble"]
    copy = tmp_path / "resumed.jsonl"
    copy.write_text("".join(json.dumps(r) + "\n" for r in kept))
    resumed = _run(copy)
    first = {r["key"]: r for r in result.rows if r["strategy"] == "ensemble"}
    again = {r["key"]: r for r in resumed.rows if r["strategy"] == "ensemble"}
    assert first.keys() == again.keys()
    for key, r in first.items():
        assert again[key]["weights"] == r["weights"]
        assert again[key]["metrics"] == r["metrics"]


def test_rows_digest_tells_row_sets_apart():
    assert rows_digest([1, 2, 3]) == rows_digest(np.array([1, 2, 3]))
    assert rows_digest([1, 2, 3]) != rows_digest([1, 2, 4])


def test_selection_is_refused_for_a_multilabel_target():
    rng = np.random.default_rng(0)
    y = (rng.random((60, 3)) < 0.3).astype(int)
    y[:3] = 1
    with pytest.raises(ValueError, match="ensemble"):
        compare(
            rng.normal(size=(60, 4)),
            y,
            cv=2,
            settings=TrainingSettings(target="multilabel", epochs=2, ensemble="selection"),
            n_jobs=1,
        )
