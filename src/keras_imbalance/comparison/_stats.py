"""Leaderboard statistics and the recommendation rule (numpy, scipy, pandas; no Keras).

Cross-validation folds share most of their training rows, so fold scores are positively
correlated and the naive ``std / sqrt(n)`` understates the uncertainty of their mean. Every
interval here is the *corrected resampled t* interval of Nadeau & Bengio (2003), as recommended
by Bouckaert & Frank (2004) for (repeated) cross-validation::

    mean +- t_{0.975, n - 1} * sqrt(1 / n + n_test / n_train) * std

with ``n`` the number of fold scores (``cv * repeats``), ``std`` their sample standard
deviation (ddof = 1) and ``n_test / n_train = 1 / (cv - 1)``. The leaderboard clips each
interval to the range of its metric ([0, 1]; [-1, 1] for MCC).
"""

from __future__ import annotations

import math

import numpy as np

LEVEL = 0.95

#: The nested benchmark behind the rule that prefers the joint ensemble (docs/benchmarks.md,
#: "Packed training", data in docs/data/nested-20-packed.jsonl.gz): mean G-mean over 20
#: Kovács sets, 5x2 outer CV, of always using the joint ensemble and of picking the
#: leaderboard's top row inside each outer training fold.
NESTED_EVIDENCE = {"sets": 20, "outer_folds": 200, "ensemble": 0.837, "top_row": 0.826}

#: The metrics whose winners the recommendation lists (how much the choice depends on them).
COMPARED_METRICS = ("balanced_accuracy", "geometric_mean", "matthews_correlation", "macro_f1")
_SHORT = {
    "balanced_accuracy": "balanced accuracy",
    "geometric_mean": "G-mean",
    "matthews_correlation": "MCC",
    "macro_f1": "macro-F1",
    "pr_auc": "PR-AUC",
}

#: Metrics where a lower value is better (the leaderboard ranks them ascending).
LOWER_IS_BETTER = ("expected_cost",)

#: Fewer test rows of a class than this (per repeat) make a per-class recall, and every
#: interval that averages it, rest on too little: marked "thin".
THIN_TEST_ROWS = 5


def corrected_interval(values, test_train_ratio: float, level: float = LEVEL):
    """``(mean, std, low, high)`` of the corrected resampled t interval (NaN when n < 2)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(v.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    from scipy.stats import t as student_t

    std = float(v.std(ddof=1))
    half = float(student_t.ppf(0.5 + level / 2, n - 1)) * math.sqrt(1 / n + test_train_ratio) * std
    return mean, std, mean - half, mean + half


def _joined(part, column: str) -> str:
    """The distinct values of a fold column (lists flattened), comma-joined, in order."""
    if column not in part:
        return ""
    seen: list = []
    for value in part[column]:
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str) and item and item not in seen:
                seen.append(item)
    return ", ".join(seen)


def test_rows(part) -> np.ndarray:
    """Test rows of each class per repeat (mean over repeats) in a fold-rows frame: the row
    sums of the confusion matrices, or a ``test_counts`` column (rows holding each label, images
    holding each class) where the rows have one."""
    if not len(part):
        return np.zeros(0)
    if "test_counts" in part:
        totals = np.sum([np.asarray(c, dtype=np.float64) for c in part["test_counts"]], axis=0)
    elif "confusion" in part:
        totals = np.sum([np.asarray(c).sum(axis=1) for c in part["confusion"]], axis=0)
    else:
        return np.zeros(0)
    return totals / max(1, part["repeat"].nunique())


def leaderboard(folds, metric: str, metrics, test_train_ratio: float):
    """One row per (model, strategy), best mean ``metric`` first. ``test_rows_min`` is the
    number of test rows (per repeat) of the class with the fewest; ``thin`` marks rows whose
    interval rests on fewer than :data:`THIN_TEST_ROWS` of them."""
    import pandas as pd

    rows = []
    if len(folds) == 0:
        return pd.DataFrame(
            columns=[
                "rank",
                "model",
                "strategy",
                "aliases",
                "note",
                "mean",
                "std",
                "ci_low",
                "ci_high",
                "n_folds",
                "test_rows_min",
                "thin",
                "variant",
            ]
        )
    lowest = -1.0 if metric == "matthews_correlation" else 0.0
    highest = math.inf if metric in LOWER_IS_BETTER else 1.0
    for (model, strategy), part in folds.groupby(["model", "strategy"], sort=False):
        mean, std, low, high = corrected_interval(part[metric], test_train_ratio)
        # every metric is bounded (MCC in [-1, 1], the others in [0, 1]): clip the interval
        low, high = max(low, lowest), min(high, highest)
        row = {
            "model": model,
            "strategy": strategy,
            "aliases": _joined(part, "aliases"),
            "note": _joined(part, "note"),
            "mean": mean,
            "std": std,
            "ci_low": low,
            "ci_high": high,
            "n_folds": int(part[metric].notna().sum()),
        }
        rows_per_class = test_rows(part)
        if rows_per_class.size:
            fewest = float(rows_per_class.min())
            row["test_rows_min"] = fewest
            row["thin"] = bool(fewest < THIN_TEST_ROWS)
        for m in metrics:
            if m != metric:
                row[m] = float(part[m].mean())
        # last (the columns before it keep their places): the hyperparameter variants that
        # decided across the folds (with_variants), empty without them
        row["variant"] = _joined(part, "variant")
        rows.append(row)
    table = pd.DataFrame(rows)
    # best first; ties broken by the smaller std, then by name (stable, reproducible)
    table = table.sort_values(
        ["mean", "std", "model", "strategy"],
        ascending=[metric in LOWER_IS_BETTER, True, True, True],
        kind="stable",
    ).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def with_skipped(board, skipped: dict):
    """The leaderboard with one last row per skipped strategy: no score, ``rank`` 0 and the
    reason in ``note`` (after the recommendation, which only ranks what ran)."""
    if not skipped:
        return board
    import pandas as pd

    extra = pd.DataFrame(
        [
            {"rank": 0, "model": "", "strategy": name, "note": f"skipped: {reason}", "n_folds": 0}
            for name, reason in skipped.items()
        ]
    )
    return pd.concat([board, extra], ignore_index=True)


def _paired(folds, metric, first, second) -> np.ndarray:
    """Per-fold ``metric`` differences ``first - second`` over the (repeat, fold) both have."""
    keys = ["repeat", "fold"]
    parts = [
        folds[(folds["model"] == m) & (folds["strategy"] == s)][keys + [metric]]
        for m, s in (first, second)
    ]
    paired = parts[0].merge(parts[1], on=keys, suffixes=("_a", "_b"))
    return (paired[f"{metric}_a"] - paired[f"{metric}_b"]).to_numpy()


def recommend(
    folds,
    board,
    metric: str,
    test_train_ratio: float,
    baseline: str = "none",
    prefer: str | None = "ensemble",
    classes=None,
):
    """The recommendation: the winner, and whether it beats ``baseline`` beyond noise.

    Rule:

    1. The candidate is the top row of the leaderboard. When the board also holds ``prefer``
       (the ensemble) and the top row is another row, their per-fold scores are paired (same
       repeat and fold) with those of the joint ensemble of every model; the top row (another
       strategy, or one model's own ensemble) is recommended only if it beats the joint
       ensemble beyond noise, otherwise the joint ensemble is. Reason: the maximum of many
       noisy means is usually a single strategy that won by chance, while the ensemble's
       average of several fits varies less (docs/benchmarks.md: in nested CV on 20 sets,
       picking the top row, or the best ensemble row, scored below always using the joint
       ensemble).
    2. The winner's per-fold scores are paired with the baseline's (same model, repeat and
       fold: same training rows and initial weights; for a winner without its own baseline
       rows, such as the ensemble of several models, the baseline of the model whose
       baseline ranks highest).

    "Beyond noise": the 95 % corrected resampled t interval (Nadeau & Bengio 2003) of the
    paired differences lies above 0.
    """
    if len(board) == 0:
        return {
            "winner_model": None,
            "winner_strategy": None,
            "baseline_strategy": baseline,
            "metric": metric,
            "beats_baseline": False,
            "text": "No finished folds: nothing to recommend.",
        }
    several = board["model"].nunique() > 1

    def name(row):
        return row["strategy"] if not several else f"{row['strategy']} ({row['model']} model)"

    top = chosen = board.iloc[0]
    challenge = None
    preferred = board[board["strategy"] == prefer] if prefer else board.iloc[:0]
    if len(preferred) > 1:
        # the joint ensemble of every model (its label is no single model's name) is preferred
        # to each model's own, which must beat it beyond noise like any other row
        singles = set(board.loc[board["strategy"] != prefer, "model"])
        joint = preferred[~preferred["model"].isin(singles)]
        preferred = joint if len(joint) else preferred
    if len(preferred) and (top["model"], top["strategy"]) != (
        preferred.iloc[0]["model"],
        preferred.iloc[0]["strategy"],
    ):
        pref = preferred.iloc[0]
        diff = _paired(
            folds, metric, (top["model"], top["strategy"]), (pref["model"], pref["strategy"])
        )
        mean, _, low, high = corrected_interval(diff, test_train_ratio)
        beats = _beyond_noise(low, high, metric)
        if not beats:
            chosen = pref
        challenge = {
            "top_model": top["model"],
            "top_strategy": top["strategy"],
            "top_beats_preferred": beats,
            "top_minus_preferred": mean,
            "top_ci_low": low,
            "top_ci_high": high,
        }
    model, strategy = chosen["model"], chosen["strategy"]
    label = name(chosen)
    prefix = ""
    if challenge is not None:
        gap = (
            f"paired difference {challenge['top_minus_preferred']:+.3f}, 95% interval "
            f"{challenge['top_ci_low']:+.3f} to {challenge['top_ci_high']:+.3f}"
        )
        if challenge["top_beats_preferred"]:
            prefix = f"It is the top row and beats the {prefer} beyond noise ({gap}). "
        else:
            e = NESTED_EVIDENCE
            prefix = (
                f"The top row, {name(top)} ({_stats_of(top)}), does not beat it beyond noise "
                f"({gap}). The rule keeps the {prefer} unless the top row beats it beyond "
                "noise: in the nested benchmark of help(keras_imbalance.compare) "
                f"({e['sets']} sets, "
                f"{e['outer_folds']} outer folds), always using the {prefer} scored G-mean "
                f"{e['ensemble']:.3f} against {e['top_row']:.3f} for picking the top row, "
                "which is often a single strategy that won by chance. "
            )
    base_model = model
    own = (board["model"] == model) & (board["strategy"] == baseline)
    others = board[board["strategy"] == baseline]
    if not own.any() and len(others):
        base_model = others.iloc[0]["model"]  # the board is sorted best first
    base_name = f"'{baseline}'" + ("" if base_model == model else f" ({base_model} model)")
    out = {
        "winner_model": model,
        "winner_strategy": strategy,
        "winner_mean": float(chosen["mean"]),
        "baseline_strategy": baseline,
        "baseline_model": base_model,
        "metric": metric,
        "rule": (
            "the top-ranked strategy"
            + (f", unless it does not beat the {prefer} beyond noise" if len(preferred) else "")
            + "; it beats the baseline beyond noise when the 95% corrected resampled t interval "
            "(Nadeau & Bengio 2003) of the paired per-fold differences lies above 0 (below 0 for "
            "a cost)"
        ),
        **(challenge or {}),
    }
    if strategy == baseline:
        out.update(
            beats_baseline=False,
            mean_difference=0.0,
            ci_low=0.0,
            ci_high=0.0,
            n_pairs=int(chosen["n_folds"]),
            text=(
                f"Use {label} ({_place(chosen, board)}): no strategy scored a higher mean "
                f"{metric} than training on the data as it is."
            ),
        )
        _evidence(out, folds, model, strategy, classes)
        _by_metric(out, folds, metric, test_train_ratio, several)
        return out
    diff = _paired(folds, metric, (model, strategy), (base_model, baseline))
    mean, _, low, high = corrected_interval(diff, test_train_ratio)
    beats = _beyond_noise(low, high, metric)
    out.update(
        beats_baseline=beats,
        mean_difference=mean,
        ci_low=low,
        ci_high=high,
        n_pairs=int(diff.size),
    )
    if diff.size == 0:
        verdict = f"it cannot be compared with {base_name} (no paired folds)."
    elif beats:
        verdict = (
            f"it beats {base_name} beyond noise: {metric} {mean:+.3f} "
            f"(95% interval of the paired difference {low:+.3f} to {high:+.3f}, "
            f"{diff.size} folds)."
        )
    else:
        verdict = (
            f"its {'change from' if metric in LOWER_IS_BETTER else 'gain over'} {base_name} "
            f"({mean:+.3f} {metric}, 95% interval "
            f"{low:+.3f} to {high:+.3f}, {diff.size} folds) is within noise; "
            "more repeats (repeats=...) would tell them apart."
        )
    verdict = verdict[0].upper() + verdict[1:]
    out["text"] = f"Use {label} ({_place(chosen, board)}). {prefix}{verdict}"
    _evidence(out, folds, model, strategy, classes)
    _by_metric(out, folds, metric, test_train_ratio, several)
    return out


def _beyond_noise(low, high, metric) -> bool:
    """Whether the interval of paired differences (first - second) shows the first better."""
    if metric in LOWER_IS_BETTER:
        return bool(np.isfinite(high) and high < 0)
    return bool(np.isfinite(low) and low > 0)


def _stats_of(row) -> str:
    """``mean 0.812, 95% interval 0.75 to 0.87`` of a leaderboard row."""
    text = f"mean {row['mean']:.3f}"
    if np.isfinite(row["ci_low"]):
        text += f", 95% interval {row['ci_low']:.3f} to {row['ci_high']:.3f}"
    return text


def _place(row, board) -> str:
    """``rank 3 of 32, mean ..., 95% interval ...`` of a leaderboard row."""
    total = board.attrs.get("rows", len(board))  # reference rows are ranked too
    return f"rank {int(row['rank'])} of {total}, {_stats_of(row)}"


def _by_metric(out: dict, folds, metric: str, ratio: float, several: bool) -> None:
    """The top row under each of :data:`COMPARED_METRICS`: how much the choice depends on the
    metric (``out["by_metric"]`` and one sentence)."""
    tops = {}
    for m in COMPARED_METRICS:
        if m not in folds:
            continue
        board = leaderboard(folds, m, [], ratio)
        if len(board):
            row = board.iloc[0]
            tops[m] = {"model": row["model"], "strategy": row["strategy"], "mean": row["mean"]}
    out["by_metric"] = tops
    if not tops:
        return

    def label(t):
        return t["strategy"] if not several else f"{t['strategy']} ({t['model']})"

    names = {label(t) for t in tops.values()}
    if len(names) == 1:
        out["text"] += (
            f" The top row is {names.pop()} under each of "
            + ", ".join(_SHORT[m] for m in tops)
            + "."
        )
    else:
        out["text"] += (
            " The top row depends on the metric: "
            + "; ".join(f"{_SHORT[m]} {label(t)} ({t['mean']:.3f})" for m, t in tops.items())
            + "."
        )


def _evidence(out: dict, folds, model, strategy, classes) -> None:
    """Say in the recommendation when its evidence is thin, and what would make it firmer:
    classes with fewer than :data:`THIN_TEST_ROWS` test rows per repeat (never tested ones
    included), or fewer than 5 folds."""
    part = folds[(folds["model"] == model) & (folds["strategy"] == strategy)]
    per_class = test_rows(part)
    names = list(classes) if classes is not None else [str(c) for c in range(per_class.size)]
    few = [(names[c], n) for c, n in enumerate(per_class) if n < THIN_TEST_ROWS]
    n_folds = len(part)
    reasons, firmer = [], []
    if few:
        listed = [f"none of {name!r}" if n == 0 else f"{n:g} of {name!r}" for name, n in few]
        listed = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        reasons.append(f"the test folds hold {listed} per repeat")
        firmer.append(
            f"more rows of {'that class' if len(few) == 1 else 'those classes'} (a class needs "
            f"{THIN_TEST_ROWS} or more test rows for a recall worth comparing; a class of one "
            "row is never tested)"
        )
    if n_folds < 5:
        reasons.append(f"only {n_folds} folds")
        firmer.append("more folds or repeats (cv=5, repeats=3)")
    elif few:
        firmer.append("more repeats (repeats=3), which test the rare rows in new splits")
    out["thin_evidence"] = bool(reasons)
    out["evidence"] = {
        "test_rows_per_class": per_class.tolist(),
        "n_folds": int(n_folds),
        "thin_classes": [name for name, _ in few],
        "thin_below": THIN_TEST_ROWS,
    }
    if reasons:
        out["text"] += (
            f" The evidence is thin: {' and '.join(reasons)}; {' and '.join(firmer)} would "
            "make it firmer."
        )
