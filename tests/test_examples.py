"""The examples in examples/ (the documentation's gallery) run end to end on a small slice
(their --fast mode) and show what their text says."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples")


def _import(module):
    """An example as a module (its ``main(argv)`` returns what the test checks)."""
    sys.path.insert(0, EXAMPLES)
    try:
        return __import__(module)
    finally:
        sys.path.remove(EXAMPLES)


def _run(script, *args, cwd):
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "torch")}
    out = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.mark.slow
def test_fraud_table_example_compares_a_raw_table_by_cost(tmp_path):
    out = _run(
        "plot_fraud_table_cli.py",
        "--rows",
        "300",
        "--fast",
        "--folder",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert "numeric" in out.stdout and "categorical" in out.stdout  # inspect's column roles
    header = json.loads((tmp_path / "fraud-results.jsonl").read_text().splitlines()[0])
    config = header["config"]
    assert config["metric"] == "expected_cost"
    assert config["data"]["table"]["dropped"].keys() == {"transaction"}
    assert "Costs: per 1,000 rows" in (tmp_path / "fraud-report.html").read_text()


@pytest.mark.slow
def test_image_folder_example_compares_the_cnn(tmp_path):
    _run("plot_image_folder_cli.py", "--fast", "--folder", str(tmp_path), cwd=tmp_path)
    assert sorted(p.name for p in (tmp_path / "digits").iterdir())[:2] == ["digit0", "digit1"]
    assert (tmp_path / "digits-examples.png").exists()
    header = json.loads((tmp_path / "digits-results.jsonl").read_text().splitlines()[0])
    assert header["config"]["data"]["input_shape"] == [8, 8, 3]  # rgb, as Keras reads folders
    assert list(header["config"]["models"]) == ["cnn"]


def test_sequence_tagging_example_weights_the_rare_tags():
    recalls = _import("plot_sequence_tagging").main(["--fast"])
    # weighting by tag frequency raises the recall of the rarest tag
    assert recalls["balanced"][1] > recalls["unweighted"][1]


def test_multilabel_example_compares_per_label_strategies():
    out = _import("plot_multilabel").main(["--fast"])
    # MLSMOTE adds rows for the rare tags only: MeanIR falls, no tag loses rows
    assert out["after"]["mean_ir"] < out["before"]["mean_ir"]
    gained = np.subtract(out["after"]["label_counts"], out["before"]["label_counts"])
    assert gained.min() >= 0 and gained[3] > 0
    result = out["result"]
    assert result.config["target"] == "multilabel"
    assert {"balanced", "mlsmote", "label_batches"} <= set(result.leaderboard["strategy"])
    # per-tag weights raise the recall of the rarest tag on held-out rows
    assert out["recalls"]["balanced"][3] > out["recalls"]["unweighted"][3]


def test_credit_card_example_weights_the_fraud_rows_and_tunes_a_cost_threshold():
    out = _import("plot_credit_card_fraud").main(["--fast"])
    weights = out["weights"]
    assert weights[1] > 100 * weights[0]  # the rare class weighs more, not less
    unweighted, balanced = out["scores"]["unweighted"], out["scores"]["balanced"]
    # the unweighted model is "accurate" and useless; the weighted one finds frauds
    assert unweighted["accuracy"] > 0.99 and unweighted["balanced_accuracy"] < 0.6
    assert balanced["balanced_accuracy"] > unweighted["balanced_accuracy"] + 0.2
    assert 0.0 < out["threshold"] < 1.0


def test_resampling_example_balances_or_cleans_as_described():
    counts = _import("plot_resampling").main([])
    # 300 majority and 30 minority points: over-samplers reach 300 / 300, the under-sampler
    # keeps 30 of each, Tomek links only remove majority rows
    for method in ("random_over", "smote", "borderline_smote1"):
        assert counts[method] == {0: 300, 1: 300}
    assert counts["random_under"] == {0: 30, 1: 30}
    assert counts["tomek"][1] == 30 and counts["tomek"][0] < 300
