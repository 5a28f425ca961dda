"""What the recommendation adds to the winner: chance level, the best reference row, a summary
in numbers, and the leaderboard's order (numpy, scipy, pandas; no Keras).

Chance level (:func:`chance_level`) is the best score that a predictor ignoring the features
reaches in expectation: a constant prediction, or a random guess that predicts class ``c`` with
probability ``q_c`` whatever the row. With ``p_c`` the share of class ``c`` in the data (the
test folds are stratified, so each holds about these shares) and ``K`` classes:

- balanced accuracy: the recall of class ``c`` is ``q_c``; their mean is ``1/K`` for every
  guess (a constant prediction included).
- G-mean: the geometric mean of the recalls ``q_c`` is largest, ``1/K``, for the uniform guess
  (``q_c = 1/K``); a constant prediction scores 0.
- MCC: 0 for every prediction independent of the class.
- macro F1: class ``c`` has precision ``p_c`` and recall ``q_c``, F1 ``2 p_c q_c / (p_c +
  q_c)``, a concave function of ``q``; the mean over classes is largest where ``q = p``
  (predict each class as often as it occurs), and there it is ``mean(p_c) = 1/K``.
- PR-AUC: the average precision of random scores is the share of the positive class: binary,
  the minority class's share; more classes, the mean share ``1/K``.
- expected cost (lower is better): a random guess mixes constant predictions, so the cheapest
  constant prediction, ``min_j sum_i p_i costs[i, j]``.
- multi-label (the mean over labels of each label's 0/1 problem with positive share ``p_l``):
  balanced accuracy and G-mean ``1/2``, MCC 0, F1 of the positives ``2 p_l / (1 + p_l)``
  (predict every row positive), PR-AUC ``p_l``.
- segmentation metrics: no chance level here (None).

A candidate *beats chance beyond noise* when the 95 % corrected resampled t interval of its
fold scores (the leaderboard's ``ci_low``, ``ci_high``) lies above the chance level (below it
for a cost).
"""

from __future__ import annotations

import numpy as np

from keras_imbalance.comparison._references import PREFIX
from keras_imbalance.comparison._stats import (
    LOWER_IS_BETTER,
    _beyond_noise,
    _paired,
    corrected_interval,
)


def is_reference(models) -> np.ndarray:
    """Boolean mask of the reference rows of a column of model names."""
    return np.array([str(m).startswith(PREFIX) for m in models], dtype=bool)


def chance_level(metric: str, config: dict) -> tuple[float | None, str]:
    """``(chance level of metric, how a feature-blind predictor reaches it)``; ``(None, "")``
    where this module has none (see the module docstring for the derivations)."""
    counts = np.asarray(config["data"]["class_counts"], dtype=np.float64)
    kind = config.get("target", "multiclass")
    if counts.size == 0 or counts.sum() <= 0 or kind == "segmentation":
        return None, ""
    if kind == "multilabel":
        share = counts / max(float(config["data"].get("n_samples", counts.max())), 1.0)
        levels = {
            "balanced_accuracy": (0.5, "a random guess per label"),
            "geometric_mean": (0.5, "a fair coin per label"),
            "matthews_correlation": (0.0, "any guess that ignores the features"),
            "macro_f1": (float(np.mean(2 * share / (1 + share))), "every row predicted positive"),
            "pr_auc": (float(np.mean(share)), "random scores"),
        }
        return levels.get(metric, (None, ""))
    k = counts.size
    share = counts / counts.sum()
    if metric == "expected_cost":
        costs = config.get("settings", {}).get("costs")
        if costs is None:
            return None, ""
        per_prediction = share @ np.asarray(costs, dtype=np.float64)
        return float(per_prediction.min()), "the cheapest constant prediction"
    levels = {
        "balanced_accuracy": (1.0 / k, "any guess that ignores the features"),
        "geometric_mean": (1.0 / k, "a uniform random guess; a constant prediction scores 0"),
        "matthews_correlation": (0.0, "any guess that ignores the features"),
        "macro_f1": (1.0 / k, "a guess predicting each class as often as it occurs"),
        "pr_auc": (
            float(share.min()) if k == 2 else 1.0 / k,
            "random scores: the positive class's share",
        ),
    }
    return levels.get(metric, (None, ""))


def _above(row, level: float, metric: str) -> bool:
    """Whether a leaderboard row's interval lies beyond the chance level (the better side)."""
    if metric in LOWER_IS_BETTER:
        return bool(np.isfinite(row["ci_high"]) and row["ci_high"] < level)
    return bool(np.isfinite(row["ci_low"]) and row["ci_low"] > level)


def complete(rec: dict, folds, board, metric: str, ratio: float, config: dict) -> dict:
    """The recommendation with ``chance_level``, ``beats_chance``, ``winner_beats_chance``,
    ``best_reference`` and ``summary`` (at most five lines, also at the head of ``text``)."""
    if rec.get("winner_strategy") is None:
        rec.update(chance_level=None, beats_chance=None, best_reference=None, summary=[])
        return rec
    refs = is_reference(board["model"])
    candidates, references = board[~refs], board[refs]
    winner = (rec["winner_model"], rec["winner_strategy"])
    chosen = candidates[
        (candidates["model"] == winner[0]) & (candidates["strategy"] == winner[1])
    ].iloc[0]
    several = candidates["model"].nunique() > 1
    label = winner[1] if not several else f"{winner[1]} ({winner[0]} model)"
    cost = metric in LOWER_IS_BETTER
    lines = [
        f"Recommended: {label}: {metric} {chosen['mean']:.3f}"
        + (
            f", 95% interval {chosen['ci_low']:.3f} to {chosen['ci_high']:.3f}"
            if np.isfinite(chosen["ci_low"])
            else ""
        )
        + f" ({int(chosen['n_folds'])} folds)."
    ]

    # the gain over the baseline (computed by the recommendation rule)
    base = f"'{rec['baseline_strategy']}'"
    if several and rec.get("baseline_model") not in (None, winner[0]):
        base += f" ({rec['baseline_model']} model)"
    if rec["winner_strategy"] == rec["baseline_strategy"]:
        lines.append(f"Gain over {base}: none, it is {base} itself.")
    elif rec.get("n_pairs"):
        noise = "beyond noise" if rec["beats_baseline"] else "within noise"
        lines.append(
            f"{'Change from' if cost else 'Gain over'} {base}: {rec['mean_difference']:+.3f} "
            f"(95% interval {rec['ci_low']:+.3f} to {rec['ci_high']:+.3f}): {noise}."
        )
    else:  # the baseline was not run (or has no fold in common with the winner)
        lines.append(f"Gain over {base}: not measured ({base} has no paired fold).")

    # the best reference, paired fold by fold with the recommendation
    rec["best_reference"] = None
    if len(references):
        best = references.iloc[0]  # the board is sorted best first
        diff = _paired(folds, metric, winner, (best["model"], best["strategy"]))
        mean, _, low, high = corrected_interval(diff, ratio)
        if _beyond_noise(low, high, metric):
            standing = "the recommendation is better beyond noise"
        elif _beyond_noise(-high, -low, metric):
            standing = "the reference is better beyond noise"
        else:
            standing = "within noise"
        name = str(best["model"])[len(PREFIX) :]
        sampled = bool(best.get("note")) and "sample" in str(best.get("note"))
        rec["best_reference"] = {
            "name": name,
            "model": best["model"],
            "mean": float(best["mean"]),
            "ci_low": float(best["ci_low"]),
            "ci_high": float(best["ci_high"]),
            "mean_difference": float(mean),  # recommendation minus reference
            "difference_ci_low": float(low),
            "difference_ci_high": float(high),
            "n_pairs": int(diff.size),
            "standing": standing,
            "sampled": sampled,
        }
        interval = f", 95% interval {low:+.3f} to {high:+.3f}" if np.isfinite(low) else ""
        lines.append(
            f"Best reference: {name} {metric} {best['mean']:.3f}"
            + (" (trained on a sample of the rows)" if sampled else "")
            + f"; the recommendation {mean:+.3f} against it ({diff.size} paired folds"
            f"{interval}): {standing}."
        )

    else:
        lines.append(
            "Best reference: none run (classical pipelines run on tables with "
            "references=None or a list of names)."
        )

    # chance level
    level, how = chance_level(metric, config)
    rec["chance_level"] = level
    if level is None:
        rec["beats_chance"] = rec["winner_beats_chance"] = None
    else:
        rec["beats_chance"] = any(_above(r, level, metric) for _, r in candidates.iterrows())
        rec["winner_beats_chance"] = _above(chosen, level, metric)
        if not rec["beats_chance"]:
            standing = "no candidate beats it beyond noise"
        elif rec["winner_beats_chance"]:
            standing = "the recommendation beats it beyond noise"
        else:
            standing = "the recommendation does not beat it beyond noise"
        lines.append(f"Chance level: {metric} {level:.3f} ({how}); {standing}.")

    lines.append(f"Firmer evidence: {_firmer(rec, config)}.")
    rec["summary"] = lines
    prose = rec["text"]
    if level is not None and not rec["beats_chance"]:
        prose += (
            f" No candidate beats chance level beyond noise: a predictor that ignores the "
            f"features scores {metric} {level:.3f} in expectation ({how}), and every "
            "candidate's 95% interval reaches it. The features may not predict the classes, "
            "or there are too few rows to tell."
        )
    elif level is not None and not rec["winner_beats_chance"]:
        prose += (
            f" The recommendation itself does not beat chance level ({metric} {level:.3f}) "
            "beyond noise."
        )
    if rec["best_reference"] and rec["best_reference"]["standing"].startswith("the reference"):
        ref = rec["best_reference"]
        prose += (
            f" The classical pipeline {ref['name']} scores higher beyond noise "
            f"({ref['mean']:.3f}): consider it, or stronger Keras candidates."
        )
    rec["text"] = "\n".join(lines) + "\n" + prose
    return rec


def _firmer(rec: dict, config: dict) -> str:
    """What would make the evidence firmer, in a few words."""
    evidence = rec.get("evidence") or {}
    repeats = int(config.get("repeats", 1) or 1)
    more = f"repeats={max(3, 2 * repeats)}"
    out = []
    thin = evidence.get("thin_classes") or []
    if thin:
        out.append(
            f"more rows of {', '.join(repr(c) for c in thin[:3])}"
            f"{' and others' if len(thin) > 3 else ''} ({evidence.get('thin_below', 5)}+ test "
            "rows per repeat)"
        )
    if evidence.get("n_folds", 5) < 5:
        out.append("more folds or repeats (cv=5, repeats=3)")
    else:
        out.append(f"more repeats ({more}) narrow every interval")
    return "; ".join(out)


def ordered(board, rec: dict):
    """The leaderboard with boolean columns ``reference`` and ``recommended`` (after
    ``strategy``), the recommended row first (its ``rank`` kept), the others in rank order."""
    board = board.copy()
    refs = is_reference(board["model"]) if len(board) else np.zeros(0, dtype=bool)
    winner = (
        (
            (board["model"] == rec.get("winner_model"))
            & (board["strategy"] == rec.get("winner_strategy"))
        ).to_numpy(dtype=bool)
        if len(board)
        else np.zeros(0, dtype=bool)
    )
    at = list(board.columns).index("strategy") + 1 if "strategy" in board else len(board.columns)
    board.insert(at, "reference", refs)
    board.insert(at + 1, "recommended", winner)
    order = np.argsort(~winner, kind="stable")
    return board.iloc[order].reset_index(drop=True)
