"""Shared by the Kovács-study benchmarks: the issue's 20 datasets and compare's 5x2 CV run."""

from __future__ import annotations

# the 20 sets of the issue's quality benchmark (comma-separated, as the scripts' --datasets)
DATASETS = (
    "pima,haberman,vehicle0,ecoli1,new-thyroid1,glass6,ecoli3,yeast-2_vs_4,vowel0,glass2,"
    "page-blocks-1-3_vs_4,abalone9-18,flare-F,yeast4,winequality-red-4,yeast6,"
    "winequality-red-8_vs_6-7,kr-vs-k-zero_vs_eight,poker-8-9_vs_6,abalone19"
)


def compare_5x2(name: str, model: str, strategies, **options):
    """``compare`` on one Kovács set with default models, one thread, 5x2 CV, G-mean.

    ``model`` names one model of ``_candidates.py`` (the default models and issue 14's) or
    several, comma-separated (``"linear,mlp"``).
    ``compare(cv=2, repeats=5, random_state=0, metric="geometric_mean", n_jobs=1)``, the outer
    splits of ``bench_compare_nested.py``; ``options`` adds or overrides compare's arguments.
    Returns ``(result, y)``.
    """
    import numpy as np
    import torch
    from _candidates import builders

    from keras_imbalance.comparison import compare
    from keras_imbalance.datasets import load_kovacs

    torch.set_num_threads(1)
    x, y = load_kovacs(name)
    y = np.asarray(y)
    settings = {
        "cv": 2,
        "repeats": 5,
        "random_state": 0,
        "metric": "geometric_mean",
        "n_jobs": 1,
        **options,
    }
    result = compare(
        np.asarray(x, dtype=np.float64),
        y,
        strategies=list(strategies),
        model_fn=builders(model),
        **settings,
    )
    return result, y


def _timed(job, name: str, kind: str) -> tuple[float, float]:
    import time

    start = time.perf_counter()
    value = job(name, kind)
    return value, time.perf_counter() - start


def dataset_grid(job, names, kinds, n_jobs: int, headers, *, core_seconds: bool = False):
    """Run ``job(name, kind) -> float`` on every (dataset, kind) in joblib workers and print the
    markdown table: one row per dataset, one column per kind (``headers``), the means, and
    (``core_seconds``) each kind's summed job time."""
    from joblib import Parallel, delayed

    jobs = [(n, k) for n in names for k in kinds]
    out = Parallel(n_jobs=n_jobs)(delayed(_timed)(job, n, k) for n, k in jobs)
    table = {key: value for key, (value, _) in zip(jobs, out, strict=True)}
    seconds = {
        k: sum(s for (_, kk), (_, s) in zip(jobs, out, strict=True) if kk == k) for k in kinds
    }
    print("| dataset | " + " | ".join(headers) + " |")
    print("|---|" + "---|" * len(kinds))
    for n in names:
        print(f"| {n} | " + " | ".join(f"{table[(n, k)]:.3f}" for k in kinds) + " |")
    means = [sum(table[(n, k)] for n in names) / len(names) for k in kinds]
    print("| **mean** | " + " | ".join(f"**{m:.3f}**" for m in means) + " |")
    if core_seconds:
        print("| core-seconds | " + " | ".join(f"{seconds[k]:.0f}" for k in kinds) + " |")


def raw_table(x, *, blank=0.03, seed=0):
    """A Kovács set as users have tables: the two numeric columns with the most distinct
    values binned into quartile labels ("q1".."q4", strings), and ``blank`` of all cells
    blanked (NaN / None) at random. Returns a DataFrame with columns ``x0..``."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    distinct = frame.nunique().sort_values(ascending=False)
    for column in distinct.index[:2]:
        frame[column] = pd.qcut(frame[column], 4, labels=False, duplicates="drop").map(
            lambda q: f"q{int(q) + 1}"
        )
    frame = frame.astype({c: object for c in distinct.index[:2]})
    rng = np.random.default_rng(seed)
    holes = rng.random(frame.shape) < blank
    return frame.mask(holes)


def hand_encoded(frame):
    """``raw_table``'s frame encoded by hand, once, on all rows (a control, not a method):
    one-hot for the binned columns (a missing value is a category of its own), the median
    for a blank numeric cell plus a 0/1 column saying it was blank. Returns float64 rows."""
    import numpy as np
    import pandas as pd

    categorical = [c for c in frame.columns if frame[c].dtype == object]
    parts = [pd.get_dummies(frame[categorical], dummy_na=True, dtype=float)]
    for column in frame.columns.difference(categorical, sort=False):
        values = frame[column].astype(float)
        parts.append(values.fillna(values.median()).to_frame())
        if values.isna().any():
            parts.append(values.isna().astype(float).rename(f"{column}_missing").to_frame())
    return np.asarray(pd.concat(parts, axis=1), dtype=np.float64)
