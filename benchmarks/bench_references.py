"""What the reference rows cost: the README's ``compare`` on yeast4 with and without them.

Usage (2-core container):
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_references.py

Runs ``compare(x, y, n_jobs=2)`` (the README job: every default strategy, both default models,
5 folds) alternately without reference rows (``references=False``) and with the default ones
(the order swapped every other pair), ``--pairs`` times, each in a fresh results file; prints every wall time, the medians, their
ratio, the load average before and after, the seconds the reference rows recorded themselves
(their ``fit_seconds``: fit + predict per fold) and where the best reference stands against the
recommendation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="yeast4")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=2)
    args = parser.parse_args()

    from keras_imbalance.comparison import compare
    from keras_imbalance.datasets import load_dataset

    x, y = load_dataset(args.dataset)
    print(f"load average before: {os.getloadavg()}")
    _references_alone(x, y)
    if args.pairs == 0:
        return
    times = {"without": [], "with": []}
    last = None
    work = {"without": [], "with": []}
    for pair in range(args.pairs):
        order = (("without", False), ("with", None))
        for label, references in order if pair % 2 == 0 else order[::-1]:
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                result = compare(
                    x,
                    y,
                    n_jobs=args.n_jobs,
                    references=references,
                    results_path=os.path.join(tmp, "run.jsonl"),
                )
                wall = time.perf_counter() - start
            times[label].append(wall)
            # the seconds the rows recorded themselves (inside the workers): less sensitive
            # to the other processes' scheduling than the wall time
            own = result.folds.groupby(result.folds["model"].str.startswith("reference:"))[
                "fit_seconds"
            ].sum()
            work[label].append(own.to_dict())
            print(
                f"pair {pair}: {label} references {wall:.1f} s wall; rows' own seconds: Keras "
                f"{own.get(False, 0.0):.1f}, references {own.get(True, 0.0):.1f}",
                flush=True,
            )
            if references is None:
                last = result
    print(f"load average after: {os.getloadavg()}")
    without, with_ = statistics.median(times["without"]), statistics.median(times["with"])
    print(
        f"median without {without:.1f} s, with {with_:.1f} s: {100 * (with_ / without - 1):+.1f} %"
    )
    refs = last.folds[last.folds["model"].str.startswith("reference:")]
    print("reference rows' own seconds (fit + predict, summed over the folds):")
    print(refs.groupby("model")["fit_seconds"].sum().round(2).to_string())
    board = last.leaderboard
    print(
        board[
            ["rank", "model", "strategy", "reference", "recommended", "mean", "ci_low", "ci_high"]
        ]
        .head(12)
        .to_string(index=False, float_format="%.3f")
    )
    print(last.recommendation["text"])


def _references_alone(x, y):
    """Seconds of each default reference on the README job's 5 folds, in this process (one
    thread), through the same code the comparison runs (fit, predict, scoring)."""
    import numpy as np

    from keras_imbalance.comparison import _data, _references
    from keras_imbalance.comparison.kinds.multiclass import MulticlassTarget

    xa, _ = _data.features(x)
    codes, names = _data.labels(y, xa.shape[0])
    splits, _ = _data.splits(5, 1, 0, xa, codes, names)
    target = MulticlassTarget(len(names), codes)

    class Settings:
        costs, max_scores, refit = None, 2000, True

    total = 0.0
    for name in _references.DEFAULT_REFERENCES:
        text, factory = _references.REFERENCES[name]
        start = time.perf_counter()
        scores = []
        for repeat, fold, train, test in splits:
            task = _references.ReferenceTask(name, text, factory, repeat, fold, 0, train, test)
            row = _references.run_reference(task, xa, codes, Settings, None, target)[0]
            scores.append(row["metrics"]["balanced_accuracy"])
        seconds = time.perf_counter() - start
        total += seconds
        print(
            f"reference {name}: {seconds:.2f} s for 5 folds (one thread), "
            f"balanced accuracy {np.mean(scores):.3f}"
        )
    print(f"references alone: {total:.2f} s")


if __name__ == "__main__":
    main()
