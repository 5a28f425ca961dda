"""What the reference rows cost: the README job (``keras-imbalance compare``) with and without them.

Usage (2-core container; the README job's own backend, jax unless KERAS_BACKEND says otherwise):
    PYTHONPATH=src python benchmarks/bench_references.py --rounds 3 [--baseline OLD/src]

1. The three default references alone on the README job's 5 folds of yeast4, in this process
   (one thread), through the code ``compare`` runs (fit, predict, scoring), each timed in wall
   and CPU seconds.
2. ``--rounds`` rounds of the whole command, each variant in a fresh process and a fresh
   temporary folder (nothing to resume): ``keras-imbalance compare`` and ``keras-imbalance
   compare --references none``, the order swapped every other round. Per run: wall seconds,
   CPU seconds of the process (user + system, from ``getrusage`` of the children), the load
   average before, and the seconds the reference rows recorded themselves in the results file
   (their ``fit_seconds``). Then the medians and the ratio with / without, of the wall and CPU
   seconds, and the median of the rounds' own ratios (each round's runs ran back to back,
   under nearly the same load). ``--baseline DIR`` adds a third variant per round: with the
   references, the package imported from DIR (an older ``src``, e.g. from ``git archive``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="an older src folder: a third variant per round")
    args = parser.parse_args()

    print(f"load average before: {os.getloadavg()}", flush=True)
    _references_alone()
    if args.rounds == 0:
        return
    variants = {"without": (False, None), "with": (True, None)}
    if args.baseline:
        variants["baseline"] = (True, os.path.abspath(args.baseline))
    runs = {label: [] for label in variants}
    ratios = {"wall": [], "cpu": []}
    for i in range(args.rounds):
        order = list(variants) if i % 2 == 0 else list(variants)[::-1]
        pair = {}
        for label in order:
            pair[label] = run = _command(*variants[label])
            runs[label].append(run)
            print(
                f"round {i}: {label:8s}: {run['wall']:5.1f} s wall, "
                f"{run['cpu']:5.1f} CPU s, load {run['load']:.2f}; reference rows' own "
                f"seconds {run['references']:.2f}",
                flush=True,
            )
        for what in ratios:
            ratios[what].append(pair["with"][what] / pair["without"][what])
    print(f"load average after: {os.getloadavg()}")
    for what in ("wall", "cpu"):
        medians = {label: statistics.median(r[what] for r in runs[label]) for label in runs}
        without, with_ = medians["without"], medians["with"]
        paired = statistics.median(ratios[what])
        print(
            f"{what}: median without {without:.1f} s, with {with_:.1f} s: "
            f"{100 * (with_ / without - 1):+.1f} %; median of the rounds' ratios "
            f"{100 * (paired - 1):+.1f} %"
            + (
                f"; baseline {medians['baseline']:.1f} s "
                f"({100 * (medians['baseline'] / without - 1):+.1f} %)"
                if "baseline" in medians
                else ""
            )
        )


def _command(references: bool, src: str | None) -> dict:
    """One fresh ``keras-imbalance compare`` (``--references none`` unless ``references``;
    the package from ``src`` when given)."""
    command = [sys.executable, "-m", "keras_imbalance.cli", "compare"]
    if not references:
        command += ["--references", "none"]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    with tempfile.TemporaryDirectory() as tmp:
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = 0.0
        with open(os.path.join(tmp, "yeast4-results.jsonl")) as lines:
            for line in lines:
                row = json.loads(line)
                if row.get("reference"):
                    own += row["fit_seconds"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "load": load, "references": own}


def _references_alone():
    """Seconds of each default reference on the README job's 5 folds, in this process (one
    thread), through the same code the comparison runs (fit, predict, scoring)."""
    import numpy as np

    from keras_imbalance.comparison import _data, _references
    from keras_imbalance.comparison.kinds.multiclass import MulticlassTarget
    from keras_imbalance.datasets import load_dataset

    x, y = load_dataset("yeast4")
    xa, _ = _data.features(x)
    codes, names = _data.labels(y, xa.shape[0])
    splits, _ = _data.splits(5, 1, 0, xa, codes, names)
    target = MulticlassTarget(len(names), codes)

    class Settings:
        costs, max_scores, refit = None, 2000, True

    def folds(name, factory):
        wall, cpu = time.perf_counter(), time.process_time()
        scores = []
        for repeat, fold, train, test in splits:
            task = _references.ReferenceTask(name, "", factory, repeat, fold, 0, train, test)
            row = _references.run_reference(task, xa, codes, Settings, None, target)[0]
            scores.append(row["metrics"]["balanced_accuracy"])
        return time.perf_counter() - wall, time.process_time() - cpu, scores

    for name in _references.DEFAULT_REFERENCES:  # imports and first calls
        folds(name, _references.REFERENCES[name][1])
    total = [0.0, 0.0]
    for name in _references.DEFAULT_REFERENCES:
        wall, cpu, scores = folds(name, _references.REFERENCES[name][1])
        total = [total[0] + wall, total[1] + cpu]
        print(
            f"reference {name}: {wall:.2f} s wall, {cpu:.2f} CPU s for 5 folds (one thread), "
            f"balanced accuracy {np.mean(scores):.3f}"
        )
    print(f"references alone: {total[0]:.2f} s wall, {total[1]:.2f} CPU s", flush=True)


if __name__ == "__main__":
    main()
