"""Replay ensemble policies offline on the outer folds of a nested run (no training).

Reads the results files that ``bench_compare_nested.py --ensemble selection|both --keep-folds
DIR`` writes (one per dataset: every member row with its test-fold probabilities and its
validation-part predictions) and scores, per dataset and outer fold, the joint ensemble of
every model under several policies:

- ``average``: the uniform average of the ENSEMBLE_MEMBERS fits (the library's fixed average);
- ``select``: greedy selection with replacement over every refitted copy (the library's
  ``ensemble="selection"``, 25 rounds);
- ``select-balanced``: the same over the ENSEMBLE_MEMBERS fits only;
- ``select-10`` / ``select-50``: 10 or 50 rounds;
- ``best-member``: the single copy with the best validation score (round 1 of the selection).

Usage:
    python benchmarks/bench_selection_replay.py DIR [--metric geometric_mean]
"""

from __future__ import annotations

import argparse
import glob
import json
import os

import numpy as np


def _load(path):
    with open(path, encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle if line.strip()]
    header = lines[0].get("config", lines[0])
    return header, [r for r in lines[1:] if r.get("type") == "fold"]


def _policies(rows, k, metric, members_fixed):
    from keras_imbalance.comparison._ensemble import select
    from keras_imbalance.comparison._scoring import proba_matrix, score

    by_name = {}
    for r in rows:
        for name in [r["strategy"], *(r.get("aliases") or [])]:
            by_name[(r["model"], name)] = r
    pool = [key for key, r in by_name.items() if r.get("validation")]
    fixed = [key for key in pool if key[1] in members_fixed]
    y = np.asarray(next(iter(by_name.values()))["scores"]["y"], dtype=np.int64)

    def test(weights, keys):
        proba = sum(
            w * proba_matrix(by_name[m]["scores"], k) for w, m in zip(weights, keys, strict=True)
        )
        return score(metric, y, np.argmax(proba, axis=1), proba, k)

    def sel(keys, rounds, **kw):
        v = by_name[keys[0]]["validation"]
        probas = [proba_matrix(by_name[m]["validation"], k) for m in keys]
        return test(select(np.asarray(v["y"]), probas, metric, rounds=rounds, **kw), keys)

    start_fixed = [int(m in fixed) for m in pool]

    return {
        "average": test(np.full(len(fixed), 1 / len(fixed)), fixed),
        "select": sel(pool, 25),
        "select-balanced": sel(fixed, 25),
        "select-10": sel(pool, 10),
        "select-50": sel(pool, 50),
        "best-member": sel(pool, 1),
        "smooth": sel(pool, 25, smooth=True),
        "from-average": sel(pool, 25, start=start_fixed),
        "from-average-10": sel(pool, 10, start=start_fixed),
        "from-all": sel(pool, 25, start=[1] * len(pool)),
        "from-avg-smooth": sel(pool, 25, start=start_fixed, smooth=True),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder")
    p.add_argument("--metric", default="geometric_mean")
    args = p.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "jax")
    from keras_imbalance.comparison import ENSEMBLE_MEMBERS

    table = {}
    for path in sorted(glob.glob(os.path.join(args.folder, "*.jsonl"))):
        header, rows = _load(path)
        k = len(header["data"]["classes"])
        folds = sorted({(r["repeat"], r["fold"]) for r in rows})
        scores = []
        for fold in folds:
            part = [
                r
                for r in rows
                if (r["repeat"], r["fold"]) == fold
                and not r["model"].startswith("reference:")
                and r["strategy"] not in ("ensemble", "ensemble_average")
            ]
            scores.append(_policies(part, k, args.metric, ENSEMBLE_MEMBERS))
        name = os.path.basename(path)[: -len(".jsonl")]
        table[name] = {p: float(np.mean([s[p] for s in scores])) for p in scores[0]}
    policies = list(next(iter(table.values())))
    print("| dataset | " + " | ".join(policies) + " |")
    print("|---|" + "---|" * len(policies))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(f"{row[p]:.3f}" for p in policies) + " |")
    means = {p: np.mean([row[p] for row in table.values()]) for p in policies}
    print(f"| **mean ({len(table)})** | " + " | ".join(f"**{means[p]:.3f}**" for p in policies))


if __name__ == "__main__":
    main()
