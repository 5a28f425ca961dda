"""
Over- and under-sampling side by side: random, SMOTE, Borderline-SMOTE, ADASYN, Tomek links
===========================================================================================

``ki.resample`` runs imbalanced-learn's samplers on any data shape and returns a result that
unpacks as ``x_res, y_res`` and remembers where each row came from (``sample_indices``: -1 for
a synthetic row). On two features the differences are visible: random over-sampling stacks
copies of the minority rows, SMOTE draws new rows on the segments between minority
neighbours, Borderline-SMOTE only from minority rows near the majority, ADASYN more where the
minority is hardest, random under-sampling throws majority rows away, and Tomek links remove
the majority rows that touch a minority row.

The pitfall it avoids: resample only the **training** rows of each fold. A synthetic row made
from a test row leaks it into training (``keras-imbalance compare`` does this for you).

Run it yourself with ``python examples/plot_resampling.py``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

import keras_imbalance as ki


def make_points(seed: int = 0):
    rng = np.random.default_rng(seed)
    majority = rng.normal(size=(300, 2))
    minority = rng.normal(loc=[1.6, 1.6], scale=0.55, size=(30, 2))
    x = np.vstack([majority, minority])
    y = np.r_[np.zeros(300, dtype=int), np.ones(30, dtype=int)]
    return x, y


def main(argv=None) -> dict:
    x, y = make_points()
    methods = ["random_over", "smote", "borderline_smote1", "adasyn", "random_under", "tomek"]
    fig, axes = plt.subplots(2, 3, figsize=(10, 6.6), sharex=True, sharey=True)
    counts = {}
    for ax, method in zip(axes.ravel(), methods, strict=True):
        res = ki.resample(x, y, method=method, random_state=0)
        synthetic = res.sample_indices < 0
        counts[method] = ki.class_counts(res.y)
        real = ~synthetic
        # size of a real point: how many times it was drawn (random over-sampling repeats rows)
        drawn = np.bincount(res.sample_indices[real], minlength=len(y))[res.sample_indices[real]]
        ax.scatter(*res.x[real & (res.y == 0)].T, s=6, c="lightgray", label="majority")
        minority = real & (res.y == 1)
        ax.scatter(*res.x[minority].T, s=8 * drawn[res.y[real] == 1], c="C0", label="minority")
        ax.scatter(*res.x[synthetic].T, s=8, c="C3", marker="x", label="synthetic")
        ax.set_title(f"{method}: {counts[method][0]} / {counts[method][1]}", fontsize=9)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    for method, c in counts.items():
        print(f"{method:>18}: {c}")
    return counts


if __name__ == "__main__":
    main()
