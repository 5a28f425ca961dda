"""Size of the HTML report of a small table (issue 20: a 0.47 MB CSV gave a 9.7 MB report).

Writes a synthetic table shaped like the one in the issue (5,000 rows x 10 columns, about
0.47 MB as CSV, 5 % positives), runs ``keras-imbalance compare`` on it once (default models,
the standard strategies, 5 folds, few epochs: the size depends on the rows and the
strategies, not on the training), then renders the report of that results file with the
``keras_imbalance`` found first on the path. Run it twice on the same folder, with the old
and the new sources first, to compare:

    PYTHONPATH=/work/main/src python benchmarks/bench_report_size.py --folder /tmp/rs
    PYTHONPATH=src python benchmarks/bench_report_size.py --folder /tmp/rs
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "table.csv"
    results = folder / "table-results.jsonl"
    if not data.exists():
        rng = np.random.default_rng(0)
        n = 5000
        y = (rng.random(n) < 0.05).astype(int)
        x = rng.normal(size=(n, 10)) + 0.8 * y[:, None]
        frame = pd.DataFrame(np.round(x, 4), columns=[f"x{i}" for i in range(10)])
        frame["y"] = y
        frame.to_csv(data, index=False)
    if not results.exists():
        command = [sys.executable, "-m", "keras_imbalance.cli", "compare", str(data)]
        command += ["--target", "y", "--epochs", str(args.epochs), "--results", str(results)]
        command += ["--report", str(folder / "first.html"), "--jobs", "2"]
        subprocess.run(command, check=True, env={**os.environ, "KERAS_BACKEND": "torch"})
    from keras_imbalance import __file__ as where
    from keras_imbalance.comparison import load_results
    from keras_imbalance.report import write_report

    result = load_results(results)
    html = folder / "report.html"
    write_report(result, html)
    print(f"sources: {Path(where).parent}")
    print(f"table: {data.stat().st_size / 1e6:.2f} MB, {len(result.rows)} fold rows")
    print(f"report: {html.stat().st_size / 1e6:.2f} MB HTML")
    print(f"JSON beside it: {html.with_suffix('.json').stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
