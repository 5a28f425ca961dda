"""
A fraud table from the command line: ``inspect``, then ``compare`` by cost
==========================================================================

A fraud-like CSV as users have it: 2 % fraud rows, a string target (``fraud`` / ``ok``),
categorical columns (channel, country), a bool, numeric columns with gaps and an id column.
Two commands do the whole job::

    keras-imbalance inspect fraud.csv --target label
    keras-imbalance compare fraud.csv --target label --cost fraud=50

``compare`` encodes the table inside each training fold (no hand encoding), drops the id
column with a warning, ranks the strategies by the expected cost of a missed fraud (50)
against a false alarm (1), and writes ``fraud-report.html`` with the costs per 1,000 rows.

Run it yourself with ``python examples/plot_fraud_table_cli.py [--rows 2000] [--folder DIR]``;
``--fast`` runs two strategies for a few epochs (what the tests run). The documentation runs
three strategies on 1,200 rows.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def make_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """A fraud-like table: ids, amounts and hours with gaps, categories, a bool, a string target."""
    rng = np.random.default_rng(seed)
    fraud = rng.random(rows) < 0.02
    fraud[:4] = True  # at least a few frauds in a small slice
    frame = pd.DataFrame(
        {
            "transaction": [f"t{i:06d}" for i in range(rows)],  # an id: dropped
            "amount": np.round(np.exp(rng.normal(3.5 + 1.2 * fraud, 0.8)), 2),
            "hour": np.where(fraud, rng.integers(0, 6, rows), rng.integers(6, 24, rows)),
            "channel": np.where(
                fraud, rng.choice(["web", "app"], rows), rng.choice(["shop", "web", "app"], rows)
            ),
            "country": rng.choice(["FR", "DE", "ES", "IT", "NL"], rows),
            "new_card": rng.random(rows) < np.where(fraud, 0.6, 0.1),
            "label": np.where(fraud, "fraud", "ok"),
        }
    )
    gaps = rng.choice(rows, size=min(45, rows // 4), replace=False)
    frame.loc[gaps[: len(gaps) // 2], "amount"] = np.nan
    frame.loc[gaps[len(gaps) // 2 :], "hour"] = np.nan
    return frame


def _cli(*args, cwd):
    """Run ``keras-imbalance ARGS`` and show what it printed (warnings included)."""
    cli = [sys.executable, "-m", "keras_imbalance.cli", *args]
    out = subprocess.run(cli, cwd=cwd, capture_output=True, text=True)
    print(out.stdout + out.stderr)
    if out.returncode:
        raise SystemExit(out.returncode)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1200)
    parser.add_argument(
        "--folder", default=None, help="where to write (default: a new temp folder)"
    )
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    folder = args.folder or tempfile.mkdtemp(prefix="ki-fraud-")
    path = os.path.join(folder, "fraud.csv")
    make_table(args.rows).to_csv(path, index=False)

    _cli("inspect", path, "--target", "label", cwd=folder)
    compare = ["compare", path, "--target", "label", "--cost", "fraud=50", "--force"]
    compare += ["--jobs", "1", "--cv", "2", "--random-state", "0"]
    if args.fast:
        compare += ["--strategies", "balanced,random_over", "--epochs", "3"]
    else:
        compare += ["--strategies", "none,balanced,random_over", "--epochs", "15"]
    _cli(*compare, cwd=folder)

    # the results file holds every fold: the leaderboard with its 95 % intervals, as a plot
    from keras_imbalance.comparison import load_results

    board = load_results(os.path.join(folder, "fraud-results.jsonl")).leaderboard
    labels = [f"{m}: {s}" for m, s in zip(board["model"], board["strategy"], strict=True)]
    per_1000 = 1000 * board[["mean", "ci_low", "ci_high"]].to_numpy()
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(board) + 1.2))
    ax.errorbar(
        per_1000[:, 0], range(len(board)), fmt="o",
        xerr=[per_1000[:, 0] - per_1000[:, 1], per_1000[:, 2] - per_1000[:, 0]],
    )  # fmt: skip
    ax.set_yticks(range(len(board)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("expected cost per 1,000 rows (missed fraud 50, false alarm 1), 95 % interval")
    fig.tight_layout()
    return 0


if __name__ == "__main__":
    main()
