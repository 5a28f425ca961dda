"""Which strategies should ``ensemble`` average? Replays member sets on one compare run.

Runs the README's comparison (``compare(x, y, n_jobs=2)`` on a bundled dataset: every default
strategy, both default models, 5 folds, balanced accuracy) once, keeping the results file, then
averages the stored test-fold probabilities of several member sets per fold (every test fold of
yeast4 has fewer rows than ``max_scores``, so the stored scores are complete) and scores the
argmax with scikit-learn's ``balanced_accuracy_score`` and imbalanced-learn's
``geometric_mean_score``.

Usage:
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_ensemble_members.py \\
        --dataset yeast4 --results members.jsonl
Re-running with the same ``--results`` reuses the finished folds.
"""

from __future__ import annotations

import argparse
import json
import os

FIVE = ["balanced", "logit_adjusted", "smote", "random_under", "balanced_batches"]
SETS = {
    "ENSEMBLE_MEMBERS (5)": FIVE,
    "+ reference, weighted_ce, balanced_softmax, random_over, borderline_smote1": FIVE
    + ["reference", "weighted_ce", "balanced_softmax", "random_over", "borderline_smote1"],
    "+ those and focal, effective_number (every balanced default)": FIVE
    + [
        "reference",
        "weighted_ce",
        "balanced_softmax",
        "random_over",
        "borderline_smote1",
        "focal",
        "effective_number",
    ],
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="yeast4")
    p.add_argument("--results", default="members.jsonl")
    p.add_argument("--n-jobs", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import numpy as np
    from imblearn.metrics import geometric_mean_score
    from sklearn.metrics import balanced_accuracy_score

    from keras_imbalance.comparison import compare
    from keras_imbalance.datasets import load_dataset

    x, y = load_dataset(args.dataset)
    result = compare(x, y, n_jobs=args.n_jobs, results_path=args.results)
    with open(args.results, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()][1:]
    assert all(r["scores"]["index"] is None for r in rows), "stored scores are a subset"
    print(f"{args.dataset}: compare's own ensemble row (members {sorted(FIVE)}):")
    board = result.leaderboard
    ens = board[board["strategy"] == "ensemble"].iloc[0]
    print(f"  balanced accuracy {ens['mean']:.3f}, rank {int(ens['rank'])} of {len(board)}")
    print("| models | members | balanced accuracy | G-mean |")
    print("|---|---|---|---|")
    for models in (["linear", "mlp"], ["linear"], ["mlp"]):
        for label, members in SETS.items():
            ba, gm = [], []
            for fold in sorted({r["fold"] for r in rows}):
                part = [r for r in rows if r["fold"] == fold]
                probs = [
                    np.asarray(r["scores"]["proba"])
                    for r in part
                    if r["strategy"] in members and r["model"] in models
                ]
                truth = np.asarray(part[0]["scores"]["y"])
                pred = (np.mean(probs, axis=0) > 0.5).astype(int)  # binary: P(class 1)
                ba.append(balanced_accuracy_score(truth, pred))
                gm.append(geometric_mean_score(truth, pred))
            print(f"| {'+'.join(models)} | {label} | {np.mean(ba):.3f} | {np.mean(gm):.3f} |")


if __name__ == "__main__":
    main()
