"""Wall time and leaderboard of the README's ``compare`` on a bundled dataset.

Usage (2-core container):
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_compare.py --dataset yeast4 --n-jobs 2
    KERAS_BACKEND=jax PYTHONPATH=src /work/venv-alt/bin/python benchmarks/bench_compare.py ...

Prints the wall time, the per-fit times recorded in the results file and the leaderboard, and
writes the HTML report (``--report``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="yeast4")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--strategies", default=None, help="comma-separated; default: all")
    parser.add_argument(
        "--models", default=None, help="comma-separated names (benchmarks/_candidates.py)"
    )
    parser.add_argument("--report", default=None)
    args = parser.parse_args()

    import keras
    from _candidates import builders

    from keras_imbalance.comparison import compare
    from keras_imbalance.datasets import load_dataset

    x, y = load_dataset(args.dataset)
    strategies = args.strategies.split(",") if args.strategies else None
    models = None
    if args.models:
        models = builders(args.models)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = compare(
            x,
            y,
            strategies=strategies,
            model_fn=models,
            cv=args.cv,
            repeats=args.repeats,
            n_jobs=args.n_jobs,
            results_path=os.path.join(tmp, "run.jsonl"),
        )
        wall = time.perf_counter() - start
    folds = result.folds
    print(
        f"backend={keras.backend.backend()} dataset={args.dataset} n_jobs={args.n_jobs} "
        f"cv={args.cv} repeats={args.repeats}"
    )
    print(f"wall time: {wall:.1f} s for {len(folds)} fold rows")
    fits = folds.drop_duplicates(["model", "repeat", "fold", "fit_seconds"])
    print(
        f"fits: {len(fits)}, fit seconds mean {fits['fit_seconds'].mean():.2f}, "
        f"sum {fits['fit_seconds'].sum():.1f}; epochs run mean {folds['epochs_run'].mean():.1f}"
    )
    cols = [
        "rank",
        "model",
        "strategy",
        "mean",
        "std",
        "ci_low",
        "ci_high",
        "geometric_mean",
        "pr_auc",
    ]
    print(result.leaderboard[cols].to_string(index=False, float_format="%.3f"))
    print(result.recommendation["text"])
    if args.report:
        result.to_html(args.report)
        print("report:", args.report)


if __name__ == "__main__":
    main()
