"""Cost mode on yeast4: expected cost per 1,000 rows, outer cross-validation.

Usage (2-core container):

    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_costs.py --cost 28

yeast4 (1,484 rows, 51 positives, imbalance ratio 28); a missed positive costs ``--cost``
times a false alarm. Outer 5-fold stratified CV; on each outer training fold:

- ``recommended``: ``compare(x, y, costs={1: cost, 0: 1}, n_jobs=2)`` (default strategies and
  models, 5 inner folds), then ``fit_recommended`` on the outer training fold;
- ``none at 0.5``: ``fit_strategy(..., "none")`` per default model, argmax (threshold 0.5);
- ``none, threshold tuned for the cost``: ``fit_strategy(..., "none", costs=...)`` per
  default model (the threshold tuned on its validation split for these costs).

Each is scored on the outer test fold: expected cost per 1,000 rows (mean over the outer
folds, with the standard deviation).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cost", type=float, default=28.0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()

    import warnings

    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from keras_imbalance import calibration, compare
    from keras_imbalance.comparison import fit_strategy
    from keras_imbalance.datasets import load_dataset

    warnings.simplefilter("ignore", UserWarning)
    x, y = load_dataset("yeast4")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y)
    costs = {1: args.cost, 0: 1.0}
    matrix = calibration.cost_matrix(costs, [0, 1])
    table: dict = {}
    splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(splitter.split(x, y)):

        def cost(model, test=test):
            proba = np.asarray(model.predict(x[test].astype("float32"), verbose=0))
            return 1000 * calibration.expected_cost(y[test], proba.argmax(axis=1), matrix)

        result = compare(x[train], y[train], costs=costs, n_jobs=args.n_jobs)
        rec = result.recommendation
        name = f"recommended ({rec['winner_model']}:{rec['winner_strategy']})"
        entries = {name: cost(result.fit_recommended(x[train], y[train]))}
        for model in ("linear", "mlp"):
            entries[f"{model}:none at 0.5"] = cost(
                fit_strategy(x[train], y[train], "none", model_fn=model)
            )
            entries[f"{model}:none, threshold tuned for the cost"] = cost(
                fit_strategy(x[train], y[train], "none", model_fn=model, costs=costs)
            )
        for key, value in entries.items():
            table.setdefault(
                key.split(" (")[0] if key.startswith("recommended") else key, []
            ).append(value)
            print(f"fold {fold}: {key}: {value:.1f} per 1,000 rows", flush=True)
    print(f"\n| candidate (cost {args.cost:g}:1) | expected cost per 1,000 rows (mean +- std) |")
    print("|---|---|")
    for key, values in table.items():
        print(f"| {key} | {np.mean(values):.1f} +- {np.std(values):.1f} |")


if __name__ == "__main__":
    main()
