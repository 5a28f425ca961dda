"""Benchmark of keras_imbalance.resample against imbalanced-learn.

1. Adapter overhead: ``resample(method="smote")`` vs ``SMOTE().fit_resample`` (same data).
2. Neighbour backends for SMOTE and BorderlineSMOTE-1: scikit-learn (imbalanced-learn's
   default) vs ``neighbors="exact"`` (same output checked) vs ``neighbors="approximate"``
   (recall@k measured against scikit-learn's neighbours on 2000 minority queries).

Two data sets of ``--rows`` x 20 float rows, 10 % minority:
- ``noise``: ``make_classification(n_features=20)`` (2 informative, 2 redundant and
  16 pure-noise Gaussian features: intrinsic dimension about 18);
- ``lowrank``: 5 latent ``make_classification`` features (4 clusters per class) mapped to 20
  columns by a random linear map, plus Gaussian noise of scale 0.05 (correlated features).

Usage: OMP_NUM_THREADS=1 python benchmarks/bench_resample.py --rows 200000 --overhead-rows 100000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from imblearn.over_sampling import SMOTE, BorderlineSMOTE
from sklearn.datasets import make_classification
from sklearn.neighbors import NearestNeighbors

from keras_imbalance.resampling import ApproximateNeighbors, resample


def make_data(kind, rows, seed=0):
    if kind == "noise":
        return make_classification(n_samples=rows, n_features=20, weights=[0.9], random_state=seed)
    latent, y = make_classification(
        n_samples=rows,
        n_features=5,
        n_informative=5,
        n_redundant=0,
        n_clusters_per_class=4,
        weights=[0.9],
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    x = latent @ rng.normal(size=(5, 20)) + 0.05 * rng.normal(size=(rows, 20))
    return x, y


def timed(fn, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def overhead(rows, repeat):
    x, y = make_data("noise", rows)
    SMOTE(random_state=0).fit_resample(x, y)  # warm-up (thread pools, first allocations)
    resample(x, y, "smote", random_state=0)
    t_ref, ref = timed(lambda: SMOTE(random_state=0).fit_resample(x, y), repeat)
    t_ours, ours = timed(lambda: resample(x, y, "smote", random_state=0), repeat)
    assert np.array_equal(ref[0], ours[0]) and np.array_equal(ref[1], ours[1])
    print(
        f"overhead rows={rows}: imblearn SMOTE {t_ref:.2f}s  resample {t_ours:.2f}s  "
        f"ratio {t_ours / t_ref:.3f}"
    )


def recall(x_class, approx, k, n_queries=2000, seed=0):
    rng = np.random.default_rng(seed)
    q = x_class[rng.choice(len(x_class), size=min(n_queries, len(x_class)), replace=False)]
    ref = NearestNeighbors(n_neighbors=k).fit(x_class).kneighbors(q, return_distance=False)
    got = approx.fit(x_class).kneighbors(q, n_neighbors=k, return_distance=False)
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(ref, got, strict=True)])


def backends(kind, rows, methods):
    x, y = make_data(kind, rows)
    print(f"\n{kind} rows={rows} minority={int((y == 1).sum())}")
    for method in methods:
        cls = {"smote": SMOTE, "borderline_smote1": BorderlineSMOTE}[method]
        t_ref, ref = timed(lambda cls=cls: cls(random_state=0).fit_resample(x, y))
        print(f"  {method:18s} imblearn default   {t_ref:7.2f}s")
        for backend in ("exact", "approximate"):
            t, out = timed(
                lambda b=backend, m=method: resample(x, y, m, random_state=0, neighbors=b)
            )
            same = np.array_equal(out[0], ref[0]) and np.array_equal(out[1], ref[1])
            extra = "same output" if same else "output differs"
            if backend == "approximate":
                k = 6  # SMOTE: k_neighbors=5 + self
                r = recall(x[y == 1], ApproximateNeighbors(), k)
                extra += f", recall@{k} (minority vs minority) {r:.4f}"
                if method == "borderline_smote1":
                    r_all = recall(x, ApproximateNeighbors(), 11, n_queries=2000)
                    extra += f", recall@11 (all rows) {r_all:.4f}"
            print(f"  {method:18s} {backend:17s} {t:7.2f}s  speed-up {t_ref / t:5.2f}x  {extra}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--overhead-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--data", nargs="*", default=["lowrank", "noise"], choices=["lowrank", "noise"]
    )
    parser.add_argument("--methods", nargs="+", default=["smote", "borderline_smote1"])
    args = parser.parse_args()
    if args.overhead_rows:
        overhead(args.overhead_rows, args.repeat)
    for kind in args.data:
        backends(kind, args.rows, args.methods)


if __name__ == "__main__":
    main()
