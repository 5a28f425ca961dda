"""Replay selection rules on a finished nested run of ``bench_compare_nested.py``.

Each inner job of that benchmark stores every inner fold score of every (model, strategy), and
each outer job the outer test score of every (model, strategy) on every outer fold. So any rule
that picks a (model, strategy) from the inner fold scores can be scored on the outer folds
without training anything:

- ``joint ensemble``: always the ensemble of every model (a fixed recipe, no selection);
- ``top row``: the top row of the inner leaderboard (highest mean);
- ``best ensemble``: the ensemble row (joint or one model's own) with the highest inner mean;
- ``library rule``: ``keras_imbalance.comparison._stats.recommend`` of the installed package.

Prints the mean outer G-mean of each rule over the datasets whose 10 outer folds all have an
inner job, then per dataset.

Usage:
    python benchmarks/bench_nested_rules.py nested.jsonl
    python benchmarks/bench_nested_rules.py docs/data/nested-20.jsonl.gz   # the recorded run
"""

from __future__ import annotations

import argparse
import gzip
import json

METRIC = "geometric_mean"


def _picks(inner_folds: list, inner_cv: int) -> dict[str, str]:
    import pandas as pd

    from keras_imbalance.comparison import _stats

    folds = pd.DataFrame(inner_folds, columns=["model", "strategy", "repeat", "fold", METRIC])
    ratio = 1.0 / (inner_cv - 1)
    board = _stats.leaderboard(folds, METRIC, [METRIC], ratio)
    label = lambda row: f"{row['model']}:{row['strategy']}"  # noqa: E731
    ensembles = board[board["strategy"] == "ensemble"]
    singles = set(board.loc[board["strategy"] != "ensemble", "model"])
    joint = ensembles[~ensembles["model"].isin(singles)]
    rec = _stats.recommend(folds, board, METRIC, ratio)
    return {
        "joint ensemble": label(joint.iloc[0]),
        "top row": label(board.iloc[0]),
        "best ensemble": label(ensembles.iloc[0]),
        "library rule": f"{rec['winner_model']}:{rec['winner_strategy']}",
    }


def main(argv=None):
    import numpy as np

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("path", help="the --out file of bench_compare_nested.py")
    args = p.parse_args(argv)
    opener = gzip.open if args.path.endswith(".gz") else open
    with opener(args.path, "rt", encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle if line.strip()]
    header = next(r for r in lines if r.get("type") == "header")
    outer = {}
    for row in lines:
        if row.get("type") == "outer":
            for model, strategy, repeat, fold, value in row["rows"]:
                outer[(row["dataset"], f"{model}:{strategy}", repeat, fold)] = value
    scores: dict[str, dict[str, list]] = {}
    for row in lines:
        if row.get("type") != "inner":
            continue
        for rule, pick in _picks(row["inner_folds"], header["inner_cv"]).items():
            value = outer[(row["dataset"], pick, row["repeat"], row["fold"])]
            scores.setdefault(rule, {}).setdefault(row["dataset"], []).append(value)
    rules = list(scores)
    n_outer = 2 * header["outer_repeats"]
    names = [d for d in header["datasets"] if len(scores[rules[0]].get(d, [])) == n_outer]
    print(f"mean outer G-mean over the {len(names)} datasets with all {n_outer} inner jobs\n")
    print("| dataset | " + " | ".join(rules) + " |")
    print("|---|" + "---|" * len(rules))
    for d in names:
        print(f"| {d} | " + " | ".join(f"{np.mean(scores[r][d]):.3f}" for r in rules) + " |")
    means = [np.mean([np.mean(scores[r][d]) for d in names]) for r in rules]
    print("| **mean** | " + " | ".join(f"**{m:.3f}**" for m in means) + " |")


if __name__ == "__main__":
    main()
