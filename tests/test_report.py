"""Tests of the HTML report (keras_imbalance.report): self-contained, complete, escaped."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

from keras_imbalance.comparison._compare import build_result
from keras_imbalance.comparison._results import row_key
from keras_imbalance.report import write_report


def _result(classes=("neg", "pos"), strategies=("none", "none+threshold", "smote"), cv=3):
    """A ComparisonResult built from hand-made fold rows (no Keras training)."""
    rng = np.random.default_rng(0)
    k = len(classes)
    counts = [60] + [12] * (k - 1)
    rows = []
    for s_i, strategy in enumerate(strategies):
        for fold in range(cv):
            y = np.repeat(np.arange(k), [c // cv for c in counts])
            proba = rng.dirichlet(np.ones(k), size=y.size)
            proba[np.arange(y.size), y] += 0.3 * s_i
            proba /= proba.sum(axis=1, keepdims=True)
            pred = proba.argmax(axis=1)
            cm = np.zeros((k, k), dtype=int)
            np.add.at(cm, (y, pred), 1)
            recall = (np.diag(cm) / cm.sum(axis=1)).tolist()
            ba = float(np.mean(recall))
            rows.append(
                {
                    "type": "fold",
                    "key": row_key("mlp", strategy, 0, fold),
                    "model": "mlp",
                    "strategy": strategy,
                    "repeat": 0,
                    "fold": fold,
                    "metrics": {
                        "balanced_accuracy": ba,
                        "geometric_mean": ba,
                        "macro_f1": ba,
                        "matthews_correlation": ba,
                        "pr_auc": ba,
                    },
                    "per_class_recall": recall,
                    "confusion": cm.tolist(),
                    "threshold": None,
                    "best_epoch": 3,
                    "epochs_run": 5,
                    "fit_seconds": 0.1,
                    "n_fit": 50,
                    "n_val": 10,
                    "n_test": int(y.size),
                    "scores": {
                        "index": None,
                        "y": y.tolist(),
                        "proba": (proba[:, 1] if k == 2 else proba).tolist(),
                    },
                }
            )
    config = {
        "data": {
            "classes": list(classes),
            "class_counts": counts,
            "n_features": 4,
            "n_samples": sum(counts),
            "hash": "x",
        },
        "strategies": list(strategies),
        "models": {"mlp": "m"},
        "cv": cv,
        "repeats": 1,
        "metric": "balanced_accuracy",
        "backend": "torch",
    }
    return build_result(rows, config)


def _images(text):
    return re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([^"]+)"', text)


@pytest.mark.parametrize("classes", [("neg", "pos"), ("a", "b", "c")])
def test_report_is_self_contained_with_every_section(tmp_path, classes):
    result = _result(classes)
    path = write_report(result, tmp_path / "report.html")
    text = open(path, encoding="utf-8").read()
    images = _images(text)
    assert [alt for alt, _ in images] == [
        "class distribution",
        "leaderboard",
        "per-class recall",
        "confusion matrices",
        "precision-recall curves",
    ]
    for _, data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing is fetched: no external URL in src/href attributes
    assert not re.search(r'(src|href)=["\'](?!data:)', text)
    for strategy in ("none", "none+threshold", "smote"):
        assert f">{strategy}</td>" in text
    assert result.recommendation["text"].split(":")[0] in text
    # the JSON written next to the report and the one embedded in it hold the same numbers
    side = json.loads(open(tmp_path / "report.json", encoding="utf-8").read())
    embedded = re.search(
        r"<script type='application/json' id='comparison-data'>(.*?)</script>", text, re.S
    ).group(1)
    # ... but for the per-row test scores, which only the file beside the report holds
    assert all("scores" in fold for fold in side["folds"])
    assert json.loads(embedded) == {
        **side,
        "folds": [{k: v for k, v in fold.items() if k != "scores"} for fold in side["folds"]],
    }
    assert "report.json</code> beside this report" in text
    assert side["leaderboard"][0]["strategy"] == "smote"
    assert len(side["folds"]) == 9


def test_report_escapes_class_and_strategy_text(tmp_path):
    result = _result(classes=("<b>x</b>", "</script><script>alert(1)</script>"))
    text = open(write_report(result, tmp_path / "r.html", json_path=None), encoding="utf-8").read()
    assert "<script>alert(1)" not in text
    assert not (tmp_path / "r.json").exists()


def test_write_report_rejects_other_objects(tmp_path):
    with pytest.raises(TypeError, match="`result`"):
        write_report({"leaderboard": None}, tmp_path / "r.html")
    with pytest.raises(ValueError, match="`top`"):
        write_report(_result(), tmp_path / "r.html", top=0)


def test_the_recommended_strategy_is_highlighted_and_detailed_below_the_top_rows():
    import pandas as pd
    from matplotlib.colors import to_hex

    from keras_imbalance.report._html import detail_keys
    from keras_imbalance.report._plots import _GREEN, leaderboard_chart

    board = pd.DataFrame(
        {
            "model": ["linear", "linear", "linear+mlp", "mlp"],
            "strategy": ["smote", "balanced", "ensemble", "none"],
            "mean": [0.83, 0.82, 0.81, 0.6],
            "ci_low": [0.7, 0.7, 0.75, 0.5],
            "ci_high": [0.9, 0.9, 0.87, 0.7],
        }
    )
    winner = ("linear+mlp", "ensemble")
    assert detail_keys(board, 2, winner, ("mlp", "none")) == [
        ("linear", "smote"),
        ("linear", "balanced"),
        winner,
        ("mlp", "none"),
    ]
    assert detail_keys(board, 3, winner, ("linear", "none")) == list(
        zip(board["model"][:3], board["strategy"][:3], strict=True)
    )
    fig = leaderboard_chart(board, "balanced_accuracy", lambda r: r["strategy"], winner)
    colors = [to_hex(p.get_facecolor()) for p in fig.axes[0].patches]
    # bars are drawn best first: only the recommended one (third) is green
    assert [c == to_hex(_GREEN) for c in colors] == [False, False, True, False]


def test_report_size_does_not_grow_with_the_test_rows(tmp_path):
    """A 0.47 MB table gave a 9.7 MB report: the page held every test score twice (once in
    base64). Now the scores live in the JSON beside the report only."""
    small = _result()
    large = _result()
    for row in large.rows:  # 400 times the test rows of each fold, same metrics
        scores = row["scores"]
        scores["y"] = scores["y"] * 400
        scores["proba"] = scores["proba"] * 400
    sizes = {}
    for name, result in (("small", small), ("large", large)):
        html = tmp_path / f"{name}.html"
        write_report(result, html)
        sizes[name] = (html.stat().st_size, (tmp_path / f"{name}.json").stat().st_size)
    assert sizes["large"][1] > 100 * sizes["small"][1] / 2  # the JSON holds the scores ...
    # ... the page does not: same numbers, same page, up to the curves' pixels
    assert sizes["large"][0] < 1.5 * sizes["small"][0]
    assert sizes["large"][0] < sizes["large"][1] / 10
