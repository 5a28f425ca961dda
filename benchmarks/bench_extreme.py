"""``compare`` on extreme imbalance: long-tailed digits with classes of a handful of rows.

Usage (2-core container):

    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_extreme.py --ratios 100,50

For each imbalance ratio, ``load_digits_lt(imbalance_ratio=r)`` (64 pixel features; training
counts 120 ... 1 for r = 100, 120 ... 2 for r = 50; a balanced test split of 50 images per
class): the default ``compare`` (every default strategy, both default models, 5 folds, 2
jobs) runs on the training split; then the recommended strategy (``fit_recommended``),
``none`` and ``logit_adjusted`` (each default model) are trained on the whole training split
and scored by balanced accuracy on the balanced test split. Prints the skipped candidates,
the warnings, the recommendation and a markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratios", default="100,50")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()

    import numpy as np
    from sklearn.metrics import balanced_accuracy_score

    from keras_imbalance import compare
    from keras_imbalance.comparison import fit_strategy
    from keras_imbalance.datasets import load_digits_lt

    rows = []
    for ratio in [int(r) for r in args.ratios.split(",")]:
        x, y, x_test, y_test = load_digits_lt(imbalance_ratio=ratio)
        print(f"\nimbalance ratio {ratio}: training counts {np.bincount(y).tolist()}")
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            result = compare(x, y, n_jobs=args.n_jobs)
        seconds = time.perf_counter() - start
        for w in caught:
            if issubclass(w.category, UserWarning):
                print("warning:", w.message)
        print(f"compare: {seconds:.0f} s; skipped: {result.skipped or 'none'}")
        print(result.recommendation["text"])
        rec = result.recommendation

        def score(model, x_test=x_test, y_test=y_test):
            proba = np.asarray(model.predict(x_test, verbose=0))
            return balanced_accuracy_score(y_test, proba.argmax(axis=1))

        entries = [
            (
                f"recommended ({rec['winner_model']}:{rec['winner_strategy']})",
                score(result.fit_recommended(x, y)),
            )
        ]
        for model in ("linear", "mlp"):
            for strategy in ("none", "logit_adjusted"):
                entries.append(
                    (f"{model}:{strategy}", score(fit_strategy(x, y, strategy, model_fn=model)))
                )
        board = result.leaderboard
        for name, value in entries:
            rows.append((ratio, name, value))
            print(f"  {name}: balanced accuracy on the balanced test split {value:.3f}")
        ran = board[board["rank"] > 0]
        print(f"  leaderboard: {len(ran)} rows, thin: {bool(ran['thin'].all())}")

    print("\n| imbalance ratio | candidate | balanced accuracy (balanced test split) |")
    print("|---|---|---|")
    for ratio, name, value in rows:
        print(f"| {ratio} | {name} | {value:.3f} |")


if __name__ == "__main__":
    main()
