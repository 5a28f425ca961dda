"""A fraud-like table as users have it, compared from the command line.

    python examples/fraud_table_cli.py [--rows 2000] [--folder DIR] [--fast]

Writes ``fraud.csv``: 2 % fraud rows, a string target (``fraud`` / ``ok``), categorical
columns (channel, country), a bool, numeric columns with gaps (45 blank cells) and an id
column, then runs

    keras-imbalance inspect fraud.csv --target label
    keras-imbalance compare fraud.csv --target label --cost fraud=50

The CLI encodes the table inside each training fold (no hand encoding), drops the id column
with a warning, ranks the strategies by the expected cost of a missed fraud (50) against a
false alarm (1), and writes ``fraud-report.html`` with the costs per 1,000 rows.
``--fast`` runs a few strategies for a couple of epochs (what the tests run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import numpy as np
import pandas as pd


def make_table(rows: int, seed: int = 0) -> pd.DataFrame:
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--folder", default=".")
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    path = os.path.join(args.folder, "fraud.csv")
    make_table(args.rows).to_csv(path, index=False)
    cli = [sys.executable, "-m", "keras_imbalance.cli"]
    subprocess.run([*cli, "inspect", path, "--target", "label"], check=True)
    compare = [*cli, "compare", path, "--target", "label", "--cost", "fraud=50", "--force"]
    if args.fast:
        compare += ["--strategies", "balanced,random_over", "--cv", "2", "--epochs", "3"]
        compare += ["--jobs", "1"]
    return subprocess.run(compare, check=True, cwd=args.folder).returncode


if __name__ == "__main__":
    sys.exit(main())
