"""Replay probability-averaging ensembles offline from stored test-fold probabilities.

``bench_compare_nested.py --keep-folds DIR`` keeps each outer job's compare results file
(every test-fold probability of every (model, strategy) fit, 5 decimals). This script averages
any set of those fits per fold, exactly as ``compare``'s ``ensemble`` does (mean class
probability, argmax), and prints the mean test G-mean per dataset: what a different default
model set or member list would have scored on the same folds, with no fit.

A composition is ``+``-joined items; an item is a model (its fits of
``comparison.ENSEMBLE_MEMBERS``) or ``model@s1/s2`` (those strategies' fits). A single fit
(``mlp@balanced``) is scored as is. Examples::

    python benchmarks/bench_ensemble_replay.py benchmarks/results/devB-folds \\
        linear+mlp linear+mlp+ens_be linear+mlp+ens_be@none ens_be@none
"""

from __future__ import annotations

import argparse
import glob
import json
import os


def _load(path: str) -> dict:
    """``{(model, strategy): {(repeat, fold): (y, proba)}}`` of one results file."""
    import numpy as np

    out: dict = {}
    k = None
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("type") == "header":
                k = len(row["config"]["data"]["classes"])
                continue
            if row.get("type") != "fold" or "scores" not in row:
                continue
            s = row["scores"]
            p = np.asarray(s["proba"], dtype=np.float64)
            p = np.stack([1 - p, p], axis=1) if p.ndim == 1 else p.reshape(len(s["y"]), k)
            entry = (np.asarray(s["y"]), p)
            for name in [row["strategy"], *row.get("aliases", [])]:
                out.setdefault((row["model"], name), {})[(row["repeat"], row["fold"])] = entry
    return out


def _members(composition: str) -> list[tuple[str, str]]:
    from keras_imbalance.comparison import ENSEMBLE_MEMBERS

    members = []
    for item in composition.split("+"):
        model, _, strategies = item.partition("@")
        names = strategies.split("/") if strategies else sorted(ENSEMBLE_MEMBERS)
        members += [(model, s) for s in names]
    return members


def replay(fits: dict, composition: str) -> float | None:
    """Mean test G-mean over the folds of the averaged fits (None if one is missing)."""
    import numpy as np

    from keras_imbalance.metrics import geometric_mean

    members = _members(composition)
    if any(m not in fits for m in members):
        return None
    folds = sorted(set.intersection(*(set(fits[m]) for m in members)))
    scores = []
    for f in folds:
        y = fits[members[0]][f][0]
        proba = np.mean([fits[m][f][1] for m in members], axis=0)
        scores.append(geometric_mean(y, proba.argmax(axis=1)))
    return float(np.mean(scores)) if scores else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "folder",
        help="--keep-folds folder of bench_compare_nested.py; several, comma-separated, are "
        "merged (runs on the same splits, e.g. other models)",
    )
    p.add_argument("compositions", nargs="+")
    args = p.parse_args(argv)
    import numpy as np

    folders = args.folder.split(",")
    names = sorted(
        {os.path.basename(p)[: -len(".jsonl")] for p in glob.glob(f"{folders[0]}/*.jsonl")}
    )
    table = {}
    for name in names:
        fits = {}
        for folder in folders:
            path = os.path.join(folder, f"{name}.jsonl")
            if os.path.exists(path):
                fits.update(_load(path))
        table[name] = [replay(fits, c) for c in args.compositions]
    print("| dataset | " + " | ".join(args.compositions) + " |")
    print("|---|" + "---|" * len(args.compositions))
    for name, values in table.items():
        cells = ["–" if v is None else f"{v:.3f}" for v in values]
        print(f"| {name} | " + " | ".join(cells) + " |")
    means = []
    for i in range(len(args.compositions)):
        v = [row[i] for row in table.values()]
        means.append("–" if any(x is None for x in v) else f"**{np.mean(v):.3f}**")
    print(f"| **mean ({len(table)})** | " + " | ".join(means) + " |")


if __name__ == "__main__":
    main()
