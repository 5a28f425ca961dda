"""Options the earlier tests never ran (issue 20): weights --normalize / --option / --indent,
compare --metric / --top / --repeats, compare without DATA, and a successful --cost run."""

import json

import numpy as np
import pandas as pd
import pytest

from keras_imbalance.cli import main
from keras_imbalance.comparison import DEFAULT_MODELS

FAST = ["--strategies", "none,balanced", "--cv", "2", "--epochs", "2", "--jobs", "1"]


@pytest.fixture
def labels_csv(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"f": np.arange(40) % 3, "y": [0] * 30 + [1] * 10}).to_csv(path, index=False)
    return str(path)


def _weights(capsys, *args):
    assert main(["weights", *args, "--json"]) == 0
    return {int(k): v for k, v in json.loads(capsys.readouterr().out)["class_weight"].items()}


def test_weights_normalize_by_hand(labels_csv, capsys):
    # balanced: n / (k * count) = 40 / 60 and 40 / 20
    assert _weights(capsys, labels_csv, "--target", "y") == pytest.approx({0: 2 / 3, 1: 2.0})
    assert _weights(capsys, labels_csv, "--target", "y", "--normalize", "max") == pytest.approx(
        {0: 1 / 3, 1: 1.0}
    )
    # mean over samples 1: (30 w0 + 10 w1) / 40 = 1 with w1 = 3 w0
    mean = _weights(capsys, labels_csv, "--target", "y", "--normalize", "mean")
    assert mean == pytest.approx({0: 2 / 3, 1: 2.0})
    assert 30 * mean[0] + 10 * mean[1] == pytest.approx(40)


def test_weights_option_by_hand(labels_csv, capsys):
    # effective number, beta 0.9: w_c ~ (1 - beta) / (1 - beta ** n_c), summing to k = 2
    raw = {c: 0.1 / (1 - 0.9**n) for c, n in ((0, 30), (1, 10))}
    expected = {c: 2 * w / sum(raw.values()) for c, w in raw.items()}
    args = [labels_csv, "--target", "y", "--strategy", "effective_number"]
    assert _weights(capsys, *args, "--option", "beta=0.9") == pytest.approx(expected)
    assert _weights(capsys, *args) != pytest.approx(expected)  # the default beta is 0.999
    assert main(["weights", *args, "--option", "beta"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert main(["weights", *args, "--option", "beta=0.9", "--option", "beta=0.5"]) == 2
    assert "'beta' is given twice" in capsys.readouterr().err


def test_weights_indent(labels_csv, capsys):
    assert main(["weights", labels_csv, "--target", "y", "--json"]) == 0
    flat = capsys.readouterr().out
    assert main(["weights", labels_csv, "--target", "y", "--json", "--indent"]) == 0
    indented = capsys.readouterr().out
    assert len(flat.strip().splitlines()) == 1 and '\n  "format"' in indented
    assert json.loads(flat) == json.loads(indented)


def test_compare_without_data_metric_top_and_repeats(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["compare", *FAST, "--repeats", "2", "--metric", "macro_f1", "--top", "1"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert err.startswith("yeast4: 1484 samples")  # no DATA: the bundled yeast4
    lines = (tmp_path / "yeast4-results.jsonl").read_text().splitlines()
    header, rows = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    assert header["config"]["metric"] == "macro_f1"
    folds = [r for r in rows if r.get("type", "fold") == "fold" and r["strategy"] == "balanced"]
    assert sorted({(r["repeat"], r["fold"]) for r in folds}) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert len(folds) == 2 * 2 * len(DEFAULT_MODELS)
    assert "leaderboard: macro_f1" in err
    table = [line for line in err.splitlines() if line.startswith("│")]
    ranks = [int(line.split("│")[1]) for line in table]
    # the recommended row is printed first (test_references), even below a rank-1 reference
    # (seen on tensorflow); every other row is rank 1
    assert ranks[0] == 1 or "(recommended)" in table[0]
    assert all(r == 1 or "(recommended)" in line for r, line in zip(ranks, table, strict=True))
    assert len(table) <= 2  # --top 1, plus the recommended row when it ranks lower


def test_compare_with_costs_ranks_by_expected_cost(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "ecoli3", *FAST, "--cost", "1=20", "--cost", "0=1"]) == 0
    err = capsys.readouterr().err
    assert "leaderboard: expected_cost" in err
    lines = (tmp_path / "ecoli3-results.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    assert header["config"]["metric"] == "expected_cost"
    assert header["config"]["settings"]["costs"] == [[0.0, 1.0], [20.0, 0.0]]  # [true][decided]
    rows = [json.loads(line) for line in lines[1:]]
    # expected cost per row of a fold: (cost of each mistaken row) / rows, from its confusion
    for row in rows:
        cm = np.asarray(row["confusion"], dtype=float)
        by_hand = (cm[0, 1] * 1.0 + cm[1, 0] * 20.0) / cm.sum()
        assert row["metrics"]["expected_cost"] == pytest.approx(by_hand)
    assert "Costs: per 1,000 rows" in (tmp_path / "ecoli3-report.html").read_text()
