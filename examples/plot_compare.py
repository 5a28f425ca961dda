"""
Choosing a strategy: ``compare`` on your data, and how to read its answer
=========================================================================

No strategy wins everywhere. ``ki.compare`` (and ``keras-imbalance compare`` on a file)
cross-validates strategies with your model on your data, in stratified folds that resample
only training rows, and answers three questions:

* **the leaderboard**: mean score over the folds with a 95 % interval per (model, strategy);
  rows whose interval rests on few rows of a class are marked ``thin``;
* **the recommendation**: the top row only when it beats the averaged ``ensemble`` beyond
  noise (on the benchmark sets, picking the top row by its mean overfits the folds), and
  whether it beats ``none`` beyond noise;
* **which metric**: the top row under balanced accuracy, G-mean, MCC and macro-F1.

This runs the bundled ``yeast4`` set (1,484 rows, imbalance ratio 28) with ``none``, the five
members of the ensemble and the ensemble itself, in five folds; the command line's default
runs all 17 strategies. The intervals are wide: 51 positive rows spread over five test folds
are little evidence, and the recommendation says so.

Run it yourself with ``python examples/plot_compare.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import matplotlib.pyplot as plt
import numpy as np


def main(argv=None):
    import keras_imbalance as ki
    from keras_imbalance.comparison import ENSEMBLE_MEMBERS
    from keras_imbalance.datasets import load_dataset

    x, y = load_dataset("yeast4")[:2]
    print("classes:", ki.class_counts(y))
    result = ki.compare(
        x, y, strategies=["none", *ENSEMBLE_MEMBERS, "ensemble"], cv=5, epochs=30, n_jobs=1,
        random_state=0,
    )  # fmt: skip
    board = result.leaderboard
    print(board[["rank", "model", "strategy", "mean", "ci_low", "ci_high", "thin"]].to_string())
    print()
    print(result.recommendation["text"])

    labels = [f"{m}: {s}" for m, s in zip(board["model"], board["strategy"], strict=True)]
    mean = board["mean"].to_numpy()
    err = [mean - board["ci_low"].to_numpy(), board["ci_high"].to_numpy() - mean]
    fig, ax = plt.subplots(figsize=(6.5, 0.38 * len(board) + 1.2))
    ax.errorbar(mean, np.arange(len(board)), xerr=err, fmt="o")
    ax.set_yticks(range(len(board)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("balanced accuracy, mean over 5 folds and 95 % interval")
    fig.tight_layout()
    return result


if __name__ == "__main__":
    main()
